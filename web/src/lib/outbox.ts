/**
 * The inspector's phone's outbox (城管通): what waits on the phone until the network takes it,
 * kept in IndexedDB so that neither a dead zone nor a closed tab loses it.
 *
 * A report is stored whole, its photos' bytes included (in a store of their own, so that listing
 * the reports reads no photo), with the `Idempotency-Key` it was given when it was made, before
 * any request goes out. The sender then opens its case (`POST /cases`
 * with that key: a retry after a lost answer answers the same case, never a second), keeps the
 * case's id in the entry, uploads each photo not yet uploaded (the server answers a photo sent
 * again with the one attached), and removes the entry only once all of it is through. A network
 * error, a 5xx, a 429 or a 401 leaves it waiting for the next try; any other refusal marks it
 * failed with the server's words, for the inspector to correct or discard.
 *
 * A patrol's positions are stored as they are taken and sent in batches of at most 500; a
 * position the server refuses (outside the city, a time the patrol did not run) is dropped by its
 * index in the refusal and the rest go again. Going off duty without network is stored too and
 * sent after the positions.
 *
 * One flush runs at a time: a flush asked for while one runs is that one (and it looks again
 * when it is done), and tabs of the same phone take turns through a Web Lock where the browser
 * has them. Nothing here depends on the page: the requests come from the `OutboxSender` given.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb'
import { api } from '../api'
import { ApiError } from '../api/client'
import type { Patrol, PatrolPosition, PositionsAccepted, ReportRequest } from '../api/types'
import { newIdempotencyKey } from './intake'
import { MAX_BATCH, batchesOf, positionIndexOf } from './patrols'

// ---- what is stored

/** A photo of a report; its bytes are kept beside it (`PhotoBytes`) until it is uploaded. */
export interface StoredPhoto {
  id: string
  name: string
  /** The image's type as its bytes say (`image/jpeg`, `image/png`, `image/webp`). */
  type: string
  size: number
  uploaded: boolean
  /** The attachment's id once uploaded. */
  attachment?: string | null
}

/** Why a send was refused or did not get through, as the server said it. */
export interface OutboxError {
  /** 0 for no answer (network). */
  status: number
  code: string
  message: string
  field?: string | null
  /** The photo (its file name) the refusal was about, when it was one. */
  photo?: string | null
}

export type ReportStatus = 'waiting' | 'failed'

export interface ReportEntry {
  /** The `Idempotency-Key` of its `POST /cases`, made with the report. */
  key: string
  /** Who made it (a username): only their session sends it. */
  user: string
  created_at: string
  body: ReportRequest
  photos: StoredPhoto[]
  status: ReportStatus
  /** The case once opened; its photos then go to it. */
  case_id?: string | null
  case_number?: string | null
  /** The case version the next upload sends. */
  case_version?: number | null
  /** Sends tried. */
  attempts: number
  /** Why the last try did not get through (it will be tried again). */
  last_error?: OutboxError | null
  /** Why it failed (status `failed`): it waits for the inspector. */
  error?: OutboxError | null
}

/** A photo's bytes (an ArrayBuffer, not a Blob: every IndexedDB stores those), until it is uploaded. */
export interface PhotoBytes {
  id: string
  /** The report's key. */
  report: string
  data: ArrayBuffer
}

export interface QueuedPosition extends PatrolPosition {
  user: string
  patrol: string
}

/** Going off duty, asked for while the network was away. */
export interface QueuedEnd {
  patrol: string
  user: string
  at: string
}

interface FieldDB extends DBSchema {
  reports: { key: string; value: ReportEntry; indexes: { user: string } }
  photos: { key: string; value: PhotoBytes; indexes: { report: string } }
  positions: { key: [string, string]; value: QueuedPosition; indexes: { user: string; patrol: string } }
  ends: { key: string; value: QueuedEnd }
}

export const DB_NAME = 'cityops-field'
export const LOCK_NAME = 'cityops-field-outbox'
const CHANNEL = 'cityops-field-outbox'

// ---- the requests

/** The requests the outbox makes; the page gives the API's (`apiSender`), tests their own. */
export interface OutboxSender {
  report: (body: ReportRequest, key: string) => Promise<{ id: string; number: string; version: number }>
  upload: (caseId: string, version: number, data: Blob, name: string) => Promise<{ id: string; case_version: number }>
  /** The case's version now (after an upload was refused as stale). */
  caseVersion: (caseId: string) => Promise<number>
  positions: (patrol: string, positions: PatrolPosition[]) => Promise<PositionsAccepted>
  end: (patrol: string) => Promise<Patrol>
}

/** The outbox's requests through the API client (the page's session and its CSRF header). */
export function apiSender(): OutboxSender {
  return {
    report: (body, key) => api.report(body, key),
    upload: (caseId, version, data, name) => api.upload(caseId, version, data, name),
    caseVersion: async (caseId) => (await api.case(caseId)).version,
    positions: (patrol, positions) => api.addPositions(patrol, positions),
    end: (patrol) => api.goOffDuty(patrol),
  }
}

/**
 * Whether a failed request is to be tried again later rather than shown as refused: no answer
 * (network, a timeout), the server's own trouble (5xx), too many requests (429), a session that
 * ended (401: the inspector signs in again and it goes). Anything else is an answer about the
 * request itself.
 */
export function retryable(e: unknown): boolean {
  if (!(e instanceof ApiError)) return true
  return e.status === 0 || e.status === 401 || e.status === 408 || e.status === 429 || e.status >= 500
}

export function errorOf(e: unknown, photo?: string): OutboxError {
  if (e instanceof ApiError) return { status: e.status, code: e.code, message: e.message, field: e.field ?? null, photo: photo ?? null }
  return { status: 0, code: 'network', message: (e as Error)?.message || String(e), field: null, photo: photo ?? null }
}

/** Runs `fn` holding the outbox's Web Lock where the browser has them (one tab's flush at a time), else as is. */
export type LockRunner = <T>(fn: () => Promise<T>) => Promise<T>

export const webLock: LockRunner = (fn) => {
  const locks = typeof navigator !== 'undefined' ? (navigator as Navigator & { locks?: LockManager }).locks : undefined
  return locks?.request ? (locks.request(LOCK_NAME, fn) as Promise<Awaited<ReturnType<typeof fn>>>) : fn()
}

/** What a flush did. */
export interface FlushResult {
  /** Reports whose case and photos all went through. */
  sent: ReportEntry[]
  /** Reports refused this time (now `failed`). */
  failed: ReportEntry[]
  /** Positions the server took (new or already held). */
  positions: number
  /** Positions it refused, dropped. */
  dropped: number
  /** It stopped on a try to be made again (no network, a 5xx...): what is left waits. */
  stopped: boolean
  /** The server's latest answer about each patrol positions or an end went to. */
  patrols: Record<string, Patrol>
}

export interface OutboxOptions {
  sender: OutboxSender
  dbName?: string
  lock?: LockRunner
  newKey?: () => string
  now?: () => Date
}

export class Outbox {
  private dbp: Promise<IDBPDatabase<FieldDB>> | null = null
  private running: Promise<FlushResult> | null = null
  private again = false
  private listeners = new Set<() => void>()
  private channel: BroadcastChannel | null = null
  /** The report being sent now, if any. */
  sending: string | null = null

  constructor(private opts: OutboxOptions) {
    if (typeof BroadcastChannel !== 'undefined') {
      this.channel = new BroadcastChannel(CHANNEL)
      this.channel.onmessage = () => this.emit(false)
    }
  }

  private db(): Promise<IDBPDatabase<FieldDB>> {
    if (!this.dbp) {
      this.dbp = openDB<FieldDB>(this.opts.dbName ?? DB_NAME, 1, {
        upgrade(db) {
          const reports = db.createObjectStore('reports', { keyPath: 'key' })
          reports.createIndex('user', 'user')
          db.createObjectStore('photos', { keyPath: 'id' }).createIndex('report', 'report')
          const positions = db.createObjectStore('positions', { keyPath: ['patrol', 'at'] })
          positions.createIndex('user', 'user')
          positions.createIndex('patrol', 'patrol')
          db.createObjectStore('ends', { keyPath: 'patrol' })
        },
      })
      this.dbp.catch(() => {
        this.dbp = null
      })
    }
    return this.dbp
  }

  /** Called after every change (here or, through a BroadcastChannel, in another tab). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private emit(broadcast = true) {
    for (const l of this.listeners) l()
    if (broadcast) this.channel?.postMessage('changed')
  }

  close() {
    this.channel?.close()
    this.dbp?.then((db) => db.close()).catch(() => {})
    this.dbp = null
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date()
  }

  // ---- reports

  /** Stores a new report with its photos and a fresh key; nothing is sent. */
  async addReport(user: string, body: ReportRequest, photos: { name: string; type: string; data: ArrayBuffer }[]): Promise<ReportEntry> {
    const newKey = this.opts.newKey ?? newIdempotencyKey
    const key = newKey()
    const bytes: PhotoBytes[] = photos.map((p) => ({ id: newKey(), report: key, data: p.data }))
    const entry: ReportEntry = {
      key,
      user,
      created_at: this.now().toISOString(),
      body,
      photos: photos.map((p, i) => ({ id: bytes[i].id, name: p.name, type: p.type, size: p.data.byteLength, uploaded: false, attachment: null })),
      status: 'waiting',
      case_id: null,
      case_number: null,
      case_version: null,
      attempts: 0,
      last_error: null,
      error: null,
    }
    // the report and its photos together, or neither
    const tx = (await this.db()).transaction(['reports', 'photos'], 'readwrite')
    await Promise.all([tx.objectStore('reports').put(entry), ...bytes.map((b) => tx.objectStore('photos').put(b)), tx.done])
    this.emit()
    return entry
  }

  /** The bytes of a report's photos not uploaded yet, by photo id (a refused report back in the form). */
  async photoBytes(key: string): Promise<Record<string, ArrayBuffer>> {
    const all = await (await this.db()).getAllFromIndex('photos', 'report', key)
    return Object.fromEntries(all.map((p) => [p.id, p.data]))
  }

  /** The user's reports on the phone, oldest first. */
  async reports(user: string): Promise<ReportEntry[]> {
    const all = await (await this.db()).getAllFromIndex('reports', 'user', user)
    return all.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.key.localeCompare(b.key))
  }

  async report(key: string): Promise<ReportEntry | undefined> {
    return (await this.db()).get('reports', key)
  }

  /** A failed report made to wait again (after the cause went away). */
  async retry(key: string): Promise<void> {
    await this.update(key, (e) => ({ ...e, status: 'waiting', error: null }))
  }

  /** Removes a report and its photos from the phone; a case it opened stays. */
  async discard(key: string): Promise<void> {
    const db = await this.db()
    const tx = db.transaction(['reports', 'photos'], 'readwrite')
    const photos = await tx.objectStore('photos').index('report').getAllKeys(key)
    await Promise.all([tx.objectStore('reports').delete(key), ...photos.map((id) => tx.objectStore('photos').delete(id)), tx.done])
    this.emit()
  }

  /** Changes an entry in one transaction; nothing when it is gone (discarded meanwhile). */
  private async update(key: string, change: (e: ReportEntry) => ReportEntry): Promise<ReportEntry | null> {
    const db = await this.db()
    const tx = db.transaction('reports', 'readwrite')
    const now = await tx.store.get(key)
    let next: ReportEntry | null = null
    if (now) {
      next = change(now)
      await tx.store.put(next)
    }
    await tx.done
    this.emit()
    return next
  }

  // ---- patrol positions

  /** Stores positions of a patrol (one of the same time is kept once). */
  async addPositions(user: string, patrol: string, positions: PatrolPosition[]): Promise<void> {
    if (!positions.length) return
    const db = await this.db()
    const tx = db.transaction('positions', 'readwrite')
    await Promise.all([...positions.map((p) => tx.store.put({ ...p, user, patrol })), tx.done])
    this.emit()
  }

  /** Positions waiting (of one patrol, or all the user's). */
  async pendingPositions(user: string, patrol?: string): Promise<number> {
    const db = await this.db()
    if (patrol) return (await db.getAllFromIndex('positions', 'patrol', patrol)).filter((p) => p.user === user).length
    return db.countFromIndex('positions', 'user', user)
  }

  /** Going off duty, to be sent once the positions are through. */
  async queueEnd(user: string, patrol: string): Promise<void> {
    await (await this.db()).put('ends', { patrol, user, at: this.now().toISOString() })
    this.emit()
  }

  async pendingEnd(user: string, patrol: string): Promise<boolean> {
    const end = await (await this.db()).get('ends', patrol)
    return !!end && end.user === user
  }

  // ---- sending

  /**
   * Sends what the user has waiting: reports oldest first, then positions and ends. A flush asked
   * for while one runs is that one, which looks once more when it is done.
   */
  flush(user: string): Promise<FlushResult> {
    if (this.running) {
      this.again = true
      return this.running
    }
    const lock = this.opts.lock ?? webLock
    const run = (async () => {
      const total: FlushResult = { sent: [], failed: [], positions: 0, dropped: 0, stopped: false, patrols: {} }
      try {
        do {
          this.again = false
          const r = await lock(() => this.flushOnce(user))
          total.sent.push(...r.sent)
          total.failed.push(...r.failed)
          total.positions += r.positions
          total.dropped += r.dropped
          total.stopped = r.stopped
          Object.assign(total.patrols, r.patrols)
        } while (this.again && !total.stopped)
      } finally {
        this.running = null
        this.sending = null
        this.emit(false)
      }
      return total
    })()
    this.running = run
    return run
  }

  /** Whether a flush is running in this tab. */
  get busy(): boolean {
    return !!this.running
  }

  private async flushOnce(user: string): Promise<FlushResult> {
    const result: FlushResult = { sent: [], failed: [], positions: 0, dropped: 0, stopped: false, patrols: {} }
    for (const entry of await this.reports(user)) {
      if (entry.status !== 'waiting') continue
      const outcome = await this.sendReport(entry.key)
      if (outcome.kind === 'stop') {
        result.stopped = true
        return result
      }
      if (outcome.kind === 'sent') result.sent.push(outcome.entry)
      if (outcome.kind === 'failed') result.failed.push(outcome.entry)
    }
    const positions = await this.flushPositions(user)
    result.positions = positions.sent
    result.dropped = positions.dropped
    result.stopped = positions.stopped
    result.patrols = positions.patrols
    return result
  }

  private async sendReport(key: string): Promise<{ kind: 'sent' | 'failed'; entry: ReportEntry } | { kind: 'gone' | 'stop' }> {
    const { sender } = this.opts
    let entry: ReportEntry | null | undefined = await this.report(key)
    if (!entry || entry.status !== 'waiting') return { kind: 'gone' }
    this.sending = key
    this.emit(false)
    let photo: string | undefined
    try {
      if (!entry.case_id) {
        const opened = await sender.report(entry.body, entry.key)
        entry = await this.update(key, (e) => ({ ...e, case_id: opened.id, case_number: opened.number, case_version: opened.version }))
        if (!entry) return { kind: 'gone' }
      }
      for (const p of entry.photos) {
        if (p.uploaded) continue
        photo = p.name
        const caseId = entry.case_id!
        const held = await (await this.db()).get('photos', p.id)
        if (!held) throw new ApiError(410, 'photo_missing', 'the photo is no longer on the phone')
        const blob = new Blob([held.data], { type: p.type })
        let attached: { id: string; case_version: number }
        try {
          attached = await sender.upload(caseId, entry.case_version ?? 1, blob, p.name)
        } catch (e) {
          // someone moved the case on since its version was read: once more with the version now
          if (!(e instanceof ApiError && e.code === 'version_conflict')) throw e
          const version = await sender.caseVersion(caseId)
          attached = await sender.upload(caseId, version, blob, p.name)
        }
        entry = await this.update(key, (e) => ({
          ...e,
          case_version: attached.case_version,
          photos: e.photos.map((q) => (q.id === p.id ? { ...q, uploaded: true, attachment: attached.id } : q)),
        }))
        await (await this.db()).delete('photos', p.id)
        if (!entry) return { kind: 'gone' }
      }
      photo = undefined
      const done = entry
      await this.discard(key)
      return { kind: 'sent', entry: done }
    } catch (e) {
      const error = errorOf(e, photo)
      if (retryable(e)) {
        await this.update(key, (x) => ({ ...x, attempts: x.attempts + 1, last_error: error }))
        return { kind: 'stop' }
      }
      const failed = await this.update(key, (x) => ({ ...x, attempts: x.attempts + 1, status: 'failed', error, last_error: null }))
      return failed ? { kind: 'failed', entry: failed } : { kind: 'gone' }
    } finally {
      this.sending = null
    }
  }

  private async flushPositions(user: string): Promise<{ sent: number; dropped: number; stopped: boolean; patrols: Record<string, Patrol> }> {
    const { sender } = this.opts
    const db = await this.db()
    let sent = 0
    let dropped = 0
    const patrols: Record<string, Patrol> = {}
    const queued = await db.getAllFromIndex('positions', 'user', user)
    const ends = (await db.getAll('ends')).filter((e) => e.user === user)
    const ids = [...new Set([...queued.map((p) => p.patrol), ...ends.map((e) => e.patrol)])]
    for (const patrol of ids) {
      let list = queued.filter((p) => p.patrol === patrol).sort((a, b) => a.at.localeCompare(b.at))
      // each refusal drops one position, so this ends; the bound is for a server that names none
      for (let guard = 0; list.length && guard <= list.length + MAX_BATCH; guard++) {
        const batch = batchesOf(list, MAX_BATCH)[0]
        try {
          const answer = await sender.positions(patrol, batch.map(({ at, lon, lat, accuracy_m }) => ({ at, lon, lat, accuracy_m })))
          patrols[patrol] = answer.patrol
          await this.deletePositions(batch)
          sent += batch.length
          list = list.slice(batch.length)
        } catch (e) {
          if (retryable(e)) return { sent, dropped, stopped: true, patrols }
          const index = positionIndexOf(e instanceof ApiError ? e.field : null)
          // one position refused (outside the city, a time the patrol did not run): it goes, the rest again
          const refused = e instanceof ApiError && e.status === 422 && index !== null && index < batch.length
            ? [batch[index]]
            // the patrol is gone or not theirs, or the batch as a whole was refused: nothing of it can go
            : e instanceof ApiError && (e.status === 404 || e.status === 403) ? list : batch
          await this.deletePositions(refused)
          dropped += refused.length
          const gone = new Set(refused.map((p) => p.at))
          list = list.filter((p) => !gone.has(p.at))
        }
      }
      const end = ends.find((x) => x.patrol === patrol)
      if (end) {
        try {
          patrols[patrol] = await sender.end(patrol)
        } catch (e) {
          if (retryable(e)) return { sent, dropped, stopped: true, patrols }
        }
        await db.delete('ends', patrol)
        this.emit()
      }
    }
    return { sent, dropped, stopped: false, patrols }
  }

  private async deletePositions(list: QueuedPosition[]) {
    if (!list.length) return
    const db = await this.db()
    const tx = db.transaction('positions', 'readwrite')
    await Promise.all([...list.map((p) => tx.store.delete([p.patrol, p.at])), tx.done])
    this.emit()
  }
}
