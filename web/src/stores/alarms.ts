import { defineStore } from 'pinia'
import { api } from '../api'
import type { AlarmEvent, AlarmView } from '../api/types'
import { ALARM_CAPACITY, mergeAlarms, reduceAlarms } from '../lib/alarms'

/**
 * Live alarms of the city screen: a snapshot of the active alarms (`GET /alarms?active=true`)
 * kept current by `alarm` stream events, newest raised first. Events are buffered and applied
 * at each `flush`, so a storm re-renders the ticker once per tick.
 */
export const useAlarms = defineStore('alarms', {
  state: () => ({
    items: [] as AlarmView[],
    buffer: [] as AlarmEvent[],
    loaded: false,
    error: null as string | null,
    /** Bumped at each change, for listeners (e.g. refreshing counts). */
    revision: 0,
  }),
  actions: {
    push(ev: AlarmEvent) {
      if (ev && ev.alarm && typeof ev.alarm.id === 'string') this.buffer.push(ev)
    },
    flush() {
      if (!this.buffer.length) return
      this.items = reduceAlarms(this.items, this.buffer.splice(0), ALARM_CAPACITY)
      this.revision++
    },
    /** Merge a snapshot (it may be older or newer than events already applied: the later reading wins). */
    merge(list: AlarmView[]) {
      this.items = mergeAlarms(this.items, list, ALARM_CAPACITY)
      this.revision++
    },
    /** Load the newest active alarms (of an area, or of the whole jurisdiction). */
    async load(area?: string, limit = 50) {
      try {
        this.merge(await api.alarms({ active: true, area, limit }))
        this.loaded = true
        this.error = null
      } catch (e) {
        this.error = (e as Error).message
      }
    },
    clear() {
      this.items = []
      this.buffer = []
      this.loaded = false
    },
  },
})
