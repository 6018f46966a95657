// The names the administration tables show beside codes: areas (a scope) and units. Units are
// asked for once, retired ones too; areas are the city's districts (asked for once by the city
// store) and, for other codes, each asked for once when first shown.
import { ref } from 'vue'
import { api, ApiError } from '../api'
import { useCity } from '../stores/city'

export function useNames() {
  const city = useCity()
  const areas = ref(new Map<string, string>())
  const units = ref(new Map<string, string>())
  /** Area codes the server answered 404 for: no area of the city. */
  const unknownAreas = ref(new Set<string>())
  const asked = new Set<string>()
  let unitsAsked = false

  async function learnUnits() {
    if (unitsAsked) return
    unitsAsked = true
    try {
      const list = await api.units({ status: 'all' })
      units.value = new Map(list.map((u) => [u.code, u.name]))
    } catch {
      unitsAsked = false
    }
  }

  async function learnAreas(codes: Iterable<string>) {
    if (!asked.has('districts')) {
      asked.add('districts')
      try {
        for (const d of await city.loadDistricts()) areas.value.set(d.code, d.name)
      } catch {
        asked.delete('districts')
      }
    }
    const missing = [...new Set(codes)].filter((c) => c && !areas.value.has(c) && !asked.has(c))
    await Promise.all(missing.map(async (code) => {
      asked.add(code)
      try {
        areas.value.set(code, (await api.area(code)).name)
      } catch (e) {
        /* shown by its code */
        if (e instanceof ApiError && e.status === 404) unknownAreas.value.add(code)
      }
    }))
  }

  return {
    area: (code: string | null | undefined) => (code ? areas.value.get(code) ?? null : null),
    unit: (code: string | null | undefined) => (code ? units.value.get(code) ?? null : null),
    /** Whether the server said there is no such area (a code not asked about yet is not known to be unknown). */
    areaUnknown: (code: string | null | undefined) => !!code && unknownAreas.value.has(code),
    learnAreas,
    learnUnits,
  }
}
