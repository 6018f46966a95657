import { defineStore } from 'pinia'
import { api } from '../api'
import type { Indicator, VitalSignsView } from '../api/types'
import { ingestView, type VitalsIndex } from '../lib/vitals'
import { isDirectChild } from '../lib/areaCode'

/**
 * Digital vital signs: the indicator catalogue and the newest aggregates per area, from
 * `GET /vital-signs` and the `vital_signs` stream events (the caller's jurisdiction, every ~2 s).
 */
export const useVitals = defineStore('vitals', {
  state: () => ({
    indicators: [] as Indicator[],
    index: {} as VitalsIndex,
    /** The area of the stream's views: the caller's jurisdiction. */
    home: null as string | null,
    /** Bumped at each view taken in. */
    revision: 0,
    /** The areas views were taken in for (they speak for their direct children too), with when. */
    covered: {} as Record<string, number>,
    /** When the last stream view came (ms), to fall back to polling when the stream has none. */
    lastStreamAt: 0,
    error: null as string | null,
  }),
  getters: {
    /** Is anything known of `code` (a view of it or of its parent)? Unknown areas show '—', known ones without an entry 0. */
    knows: (s) => (code: string | null | undefined): boolean =>
      !!code && (code in s.covered || Object.keys(s.covered).some((p) => isDirectChild(code, p))),
  },
  actions: {
    ingest(view: VitalSignsView, fromStream = false) {
      if (!view || typeof view.area !== 'string') return
      if (fromStream) {
        this.home = view.area
        this.lastStreamAt = Date.now()
      }
      this.index = ingestView(this.index, view)
      this.covered = { ...this.covered, [view.area]: Date.now() }
      this.revision++
    },
    async loadIndicators() {
      if (this.indicators.length) return
      try {
        this.indicators = await api.indicators()
      } catch {
        /* tiles fall back to indicator keys */
      }
    },
    /** Fetch an area's view (default: the caller's jurisdiction, which becomes `home`). */
    async load(area?: string) {
      try {
        const v = await api.vitalSigns(area)
        if (!area) this.home = v.area
        this.ingest(v)
        this.error = null
      } catch (e) {
        this.error = (e as Error).message
      }
    },
  },
})
