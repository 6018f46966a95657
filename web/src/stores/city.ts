import { defineStore } from 'pinia'
import { api } from '../api'
import type { Area } from '../api/types'
import { cityOf, isAreaCode } from '../lib/areaCode'
import { useAuth } from './auth'

// Districts being fetched, per store and city, so pages opening at once share one request.
const inflight = new WeakMap<object, Map<string, Promise<Area[]>>>()

/**
 * The city the signed-in user works in, and its districts. The city is the city of the user's
 * scope as the server sent it (`/me`, `POST /sessions`), read by the server's own rule
 * (`AreaCode::city`, lib/areaCode.ts): every role has a scope, so every signed-in page knows its
 * city without asking again, and no page names one. The citizen pages need none.
 */
export const useCity = defineStore('city', {
  state: () => ({
    /** The districts of each city asked for, by city code. */
    districtsByCity: {} as Record<string, Area[]>,
  }),
  getters: {
    /** The city code (e.g. `310000`), or null when nobody is signed in. */
    code(): string | null {
      const scope = useAuth().user?.scope
      return isAreaCode(scope) ? cityOf(scope) : null
    },
    /** The city's districts once loaded (see `loadDistricts`), else none. */
    districts(): Area[] {
      return (this.code && this.districtsByCity[this.code]) || []
    },
  },
  actions: {
    /** The city's districts, asked for once per city; a failure is not kept, so the next call asks again. */
    async loadDistricts(): Promise<Area[]> {
      const city = this.code
      if (!city) return []
      const known = this.districtsByCity[city]
      if (known) return known
      let requests = inflight.get(this)
      if (!requests) inflight.set(this, (requests = new Map()))
      let request = requests.get(city)
      if (!request) {
        request = api.areas({ parent: city, level: 'district' }).finally(() => requests.delete(city))
        requests.set(city, request)
      }
      const list = await request
      this.districtsByCity = { ...this.districtsByCity, [city]: list }
      return list
    },
  },
})
