import { defineStore } from 'pinia'
import { api } from '../api'
import type { IncidentChangeEvent, IncidentView, WarningEvent, WarningView } from '../api/types'
import { sortIncidents, sortWarnings, upsertIncident, upsertWarning } from '../lib/emergency'

/**
 * What the city screen's banner shows: the warnings in force (`GET /warnings`) and the active
 * incidents (`GET /incidents`), kept current by the stream's `warning` and `incident` events.
 */
export const useEmergency = defineStore('emergency', {
  state: () => ({
    warnings: [] as WarningView[],
    incidents: [] as IncidentView[],
    loaded: false,
  }),
  actions: {
    /** Both lists afresh; one the caller may not read stays empty. */
    async load() {
      const [w, i] = await Promise.allSettled([api.warnings(), api.incidents()])
      if (w.status === 'fulfilled') this.warnings = sortWarnings(w.value)
      if (i.status === 'fulfilled') this.incidents = sortIncidents(i.value.filter((x) => x.state === 'active'))
      this.loaded = true
    },
    onWarning(ev: WarningEvent) {
      if (ev?.warning && typeof ev.warning.id === 'string') this.warnings = upsertWarning(this.warnings, ev.warning)
    },
    onIncident(ev: IncidentChangeEvent) {
      if (ev?.incident && typeof ev.incident.id === 'string') this.incidents = upsertIncident(this.incidents, ev.incident)
    },
    clear() {
      this.warnings = []
      this.incidents = []
      this.loaded = false
    },
  },
})
