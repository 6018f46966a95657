import { API_BASE } from '../api/client'
import { defineStore } from 'pinia'
import { api } from '../api'
import type { CaseSource, CaseState, CaseView, User } from '../api/types'
import { areaLevel } from '../lib/areaCode'
import { OPEN_STATES } from '../lib/vocabulary'
import { ASSISTED_STATES, viewerPart } from '../lib/assists'

/** One tab of a role's queue. */
export interface Queue {
  key: string
  states?: readonly CaseState[]
  source?: CaseSource
  overdue?: boolean
  unit?: string
  /** The coordination queue of this center (a district or the city code). */
  coordination?: string
  /** Only the cases reported in the caller's responsibility grids (an inspector's own). */
  mine?: boolean
  /** Filter applied to fetched rows when the API has no parameter for it. */
  keep?: (c: CaseView) => boolean
  /**
   * No CSV export: the narrowing is all done here (`keep`) and the file would hold other cases
   * (the assisting queue's would hold the unit's own cases too).
   */
  noExport?: boolean
}

export interface CaseFilters {
  state?: string
  source?: string
  overdue?: '' | 'true' | 'false'
  q?: string
  district?: string
  /** A small-class code or a prefix of one (1 to 5 digits). */
  category?: string
}

/** A scope that runs a coordination queue: a district or the city; streets do not. */
export function coordinationCenter(scope: string | null | undefined): string | null {
  const level = areaLevel(scope)
  return level === 'district' || level === 'city' ? scope! : null
}

/** The queue tabs of each role (see domain.md "Case workflow"). */
export function queuesFor(user: (Pick<User, 'role' | 'unit'> & Partial<Pick<User, 'scope'>>) | null): Queue[] {
  switch (user?.role) {
    case 'operator':
      return [
        { key: 'to_accept', states: ['reported'] },
        { key: 'to_send_check', states: ['handled'] },
        { key: 'to_callback', states: ['checked'], source: 'hotline' },
      ]
    case 'shift_lead':
      return [
        { key: 'to_file', states: ['accepted'] },
        { key: 'to_close', states: ['checked'] },
        { key: 'pending_requests', states: ['handling'], keep: (c) => !!c.pending },
      ]
    case 'dispatcher': {
      const center = coordinationCenter(user.scope)
      return [
        { key: 'to_dispatch', states: ['filed'] },
        ...(center ? [{ key: 'coordination', coordination: center }] : []),
      ]
    }
    case 'unit_handler':
      return [
        { key: 'to_sign', states: ['dispatched'], unit: user.unit ?? undefined },
        { key: 'handling', states: ['handling'], unit: user.unit ?? undefined },
        // 协办: the cases another unit leads that the handler's unit has a part of (the server lists
        // a handler the cases their unit leads or assists on; `unit` is the lead only)
        { key: 'assisting', states: ASSISTED_STATES, keep: (c) => viewerPart(c, user) !== null, noExport: true },
      ]
    case 'inspector':
      return [
        { key: 'to_verify', states: ['verifying'] },
        { key: 'to_check', states: ['checking'] },
        // the tasks of the grids they patrol, apart from those any inspector of the area may take
        { key: 'my_grid_tasks', states: ['verifying', 'checking'], mine: true },
      ]
    case 'center_leader':
      return [
        { key: 'overdue', states: OPEN_STATES, overdue: true },
        { key: 'supervised', states: OPEN_STATES, keep: (c) => c.supervised },
      ]
    default:
      return [{ key: 'all' }]
  }
}

/** The query string parameters for one page of a queue with the user's filters. */
export function buildCaseQuery(
  queue: Queue,
  filters: CaseFilters = {},
  cursor?: string | null,
  limit = 50,
): Record<string, string> {
  const q: Record<string, string> = { limit: String(limit) }
  const state = filters.state?.trim()
  if (state) q.state = state
  else if (queue.states?.length) q.state = queue.states.join(',')
  const source = filters.source?.trim() || queue.source
  if (source) q.source = source
  if (filters.overdue === 'true' || filters.overdue === 'false') q.overdue = filters.overdue
  else if (queue.overdue !== undefined) q.overdue = String(queue.overdue)
  if (queue.unit) q.unit = queue.unit
  if (queue.coordination) q.coordination = queue.coordination
  if (queue.mine) q.mine = 'true'
  const text = filters.q?.trim()
  if (text) q.q = text
  const district = filters.district?.trim()
  if (district) q.area = district
  const category = filters.category?.trim()
  if (category) q.category = category
  if (cursor) q.cursor = cursor
  return q
}

/**
 * Where the queue with the user's filters downloads as CSV (`GET /cases.csv`: every case they
 * select, not a page; with one small class, a column per extra field). The session cookie goes
 * with a plain link. A queue's own narrowing done here in the browser (`keep`) is not applied.
 * None for a queue of one's own grids: the export does not take `mine` (it refuses what it does
 * not know), and without it the file would hold every inspector's tasks.
 */
export function exportCasesHref(queue: Queue, filters: CaseFilters = {}): string | null {
  if (queue.mine || queue.noExport) return null
  const q = buildCaseQuery(queue, filters)
  delete q.limit
  return `${API_BASE}/cases.csv?${new URLSearchParams(q).toString()}`
}

export const useCases = defineStore('cases', {
  state: () => ({
    items: [] as CaseView[],
    cursor: null as string | null,
    loading: false,
    error: null as string | null,
    done: false,
    /** Bumped on every new query so late answers to an old one are dropped. */
    generation: 0,
  }),
  actions: {
    /** Reads one listed case again (its deadline's mark changed): the row shows it at once. */
    async refresh(id: string): Promise<boolean> {
      if (!this.items.some((c) => c.id === id)) return false
      const fresh = await api.case(id)
      this.items = this.items.map((c) => (c.id === id ? fresh : c))
      return true
    },
    async load(queue: Queue, filters: CaseFilters, more = false) {
      const gen = more ? this.generation : ++this.generation
      if (!more) {
        this.items = []
        this.cursor = null
        this.done = false
      }
      this.loading = true
      this.error = null
      try {
        const page = await api.cases(buildCaseQuery(queue, filters, more ? this.cursor : null))
        if (gen !== this.generation) return
        const rows = queue.keep ? page.items.filter(queue.keep) : page.items
        this.items = more ? [...this.items, ...rows] : rows
        this.cursor = page.next_cursor ?? null
        this.done = !this.cursor
      } catch (e) {
        if (gen === this.generation) this.error = (e as Error).message
      } finally {
        if (gen === this.generation) this.loading = false
      }
    },
  },
})
