import { defineStore } from 'pinia'
import type { Patrol, PatrolPosition, ReportRequest } from '../api/types'
import { Outbox, apiSender, type FlushResult, type ReportEntry } from '../lib/outbox'
import { useAuth } from './auth'

/** How often what waits is tried again while the phone is online (ms). */
export const RETRY_MS = 20_000

let outbox: Outbox | null = null

/** The phone's one outbox (the API's requests); tests put their own. */
export function fieldOutbox(): Outbox {
  if (!outbox) outbox = new Outbox({ sender: apiSender() })
  return outbox
}
export function setFieldOutbox(o: Outbox | null) {
  outbox?.close()
  outbox = o
}

/** A report the outbox got through, as the page lists it. */
export interface SentReport {
  key: string
  number: string
  id: string
  description: string
  photos: number
}

/**
 * The inspector's phone (城管通): whether it is online, what waits in its outbox (reports and
 * patrol positions), the reports sent while the page was open, and the sending, started on a
 * submit, when the network comes back, when the page opens and every `RETRY_MS` while online.
 */
export const useField = defineStore('field', {
  state: () => ({
    online: typeof navigator === 'undefined' ? true : navigator.onLine,
    /** The signed-in user's reports on the phone, oldest first. */
    reports: [] as ReportEntry[],
    positionsWaiting: 0,
    /** The key of the report being sent now. */
    sendingKey: null as string | null,
    flushing: false,
    sent: [] as SentReport[],
    /** The phone cannot keep an outbox (IndexedDB refused): why. */
    storeError: null as string | null,
    /** The latest answer about each patrol the positions went to. */
    patrols: {} as Record<string, Patrol>,
    lastFlush: null as FlushResult | null,
  }),
  getters: {
    user: (): string | null => useAuth().user?.username ?? null,
    waiting: (s): number => s.reports.filter((r) => r.status === 'waiting').length,
    failed: (s): number => s.reports.filter((r) => r.status === 'failed').length,
  },
  actions: {
    /** Reads the outbox again (after a change here or in another tab). */
    async refresh() {
      const user = this.user
      if (!user) {
        this.reports = []
        this.positionsWaiting = 0
        return
      }
      try {
        const box = fieldOutbox()
        const [reports, positions] = await Promise.all([box.reports(user), box.pendingPositions(user)])
        this.reports = reports
        this.positionsWaiting = positions
        this.sendingKey = box.sending
        this.storeError = null
      } catch (e) {
        this.storeError = (e as Error).message || String(e)
      }
    },
    /** Sends what waits, if the phone is online; the result of the flush, or null when nothing was tried. */
    async flush(): Promise<FlushResult | null> {
      if (!this.user || !this.online) return null
      // working offline with the remembered account: the server first says whether its session
      // still holds (on a 401 the page goes to the login page, and what waits stays for after)
      const auth = useAuth()
      if (auth.offline && !(await auth.reconnect())) return null
      const user = this.user
      if (!user) return null
      this.flushing = true
      try {
        const result = await fieldOutbox().flush(user)
        this.lastFlush = result
        for (const entry of result.sent) {
          if (!entry.case_number || !entry.case_id) continue
          this.sent = [
            { key: entry.key, number: entry.case_number, id: entry.case_id, description: entry.body.description, photos: entry.photos.length },
            ...this.sent.filter((s) => s.key !== entry.key),
          ].slice(0, 10)
        }
        this.patrols = { ...this.patrols, ...result.patrols }
        return result
      } catch (e) {
        this.storeError = (e as Error).message || String(e)
        return null
      } finally {
        this.flushing = false
        await this.refresh()
      }
    },
    /** Stores a report (nothing is sent before it is on the phone), then sends it if online. */
    async submit(body: ReportRequest, photos: { name: string; type: string; data: ArrayBuffer }[]): Promise<ReportEntry> {
      const user = this.user
      if (!user) throw new Error('not signed in')
      const entry = await fieldOutbox().addReport(user, body, photos)
      await this.refresh()
      void this.flush()
      return entry
    },
    async retry(key: string) {
      await fieldOutbox().retry(key)
      await this.refresh()
      void this.flush()
    },
    async discard(key: string) {
      await fieldOutbox().discard(key)
      await this.refresh()
    },
    /** Positions of a patrol, stored, then sent if online. */
    async record(patrol: string, positions: PatrolPosition[]) {
      const user = this.user
      if (!user) return
      await fieldOutbox().addPositions(user, patrol, positions)
      await this.refresh()
      void this.flush()
    },
    /** Going off duty without network: sent after the positions. */
    async queueEnd(patrol: string) {
      const user = this.user
      if (!user) return
      await fieldOutbox().queueEnd(user, patrol)
      await this.refresh()
    },
    /**
     * Watches the network and the outbox and sends: at once, on `online`, every `RETRY_MS`.
     * Returns what stops it (the page leaving).
     */
    start(): () => void {
      const setOnline = () => {
        this.online = true
        void this.flush()
      }
      const setOffline = () => {
        this.online = false
      }
      window.addEventListener('online', setOnline)
      window.addEventListener('offline', setOffline)
      this.online = navigator.onLine
      const unsubscribe = fieldOutbox().subscribe(() => {
        void this.refresh()
      })
      const timer = setInterval(() => {
        // working offline with the remembered account, the server is asked (by the flush) even with nothing to send
        if (this.online && (this.waiting || this.positionsWaiting || useAuth().offline)) void this.flush()
      }, RETRY_MS)
      void this.refresh().then(() => this.flush())
      return () => {
        window.removeEventListener('online', setOnline)
        window.removeEventListener('offline', setOffline)
        unsubscribe()
        clearInterval(timer)
      }
    },
  },
})
