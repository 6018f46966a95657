// The phone's outbox (城管通): a report is on the phone before any request, goes once with its key
// however often it is tried, waits on a network error, fails on a refusal with the server's words,
// its photos go once each; a patrol's positions go in batches, a refused one dropped by its index.
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../src/api/client'
import type { PatrolPosition, ReportRequest } from '../src/api/types'
import { Outbox, apiSender, errorOf, retryable, type LockRunner, type OutboxSender } from '../src/lib/outbox'
import { jsonResponse, mockFetch } from './helpers'

const BODY: ReportRequest = { source: 'inspector', description: '井盖缺失', location: { lon: 121.4837, lat: 31.2386 } }
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]).buffer
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 9, 9]).buffer
const network = () => new ApiError(0, 'network', 'Failed to fetch')

const patrol = (over = {}) => ({
  id: 'p1', user_id: 'u1', username: 'inspector', area: '310101', started_at: '2026-12-07T01:00:00Z', ended_at: null,
  positions: 0, distance_m: 0, last: null, interval_seconds: 30, ...over,
})

/** A sender whose every request is a mock; by default each succeeds. */
function sender(): OutboxSender & { [K in keyof OutboxSender]: ReturnType<typeof vi.fn> } {
  let version = 1
  return {
    report: vi.fn(async () => ({ id: 'c1', number: '2026120700000000001', version: 1 })),
    upload: vi.fn(async (_id: string, _v: number, data: Blob) => ({ id: `a-${data.size}`, case_version: ++version })),
    caseVersion: vi.fn(async () => version),
    positions: vi.fn(async (_p: string, list: PatrolPosition[]) => ({ accepted: list.length, patrol: patrol({ positions: list.length }) })),
    end: vi.fn(async () => patrol({ ended_at: '2026-12-07T02:00:00Z' })),
  }
}

let n = 0
let box: Outbox
let api: ReturnType<typeof sender>
/** Keys in order: the report's first, then its photos'. */
const keys = () => { let i = 0; return () => `key-${++i}` }

beforeEach(() => {
  // a new, empty IndexedDB for every test
  vi.stubGlobal('indexedDB', new IDBFactory())
  api = sender()
  box = new Outbox({ sender: api, dbName: `field-test-${++n}`, lock: (fn) => fn(), newKey: keys() })
})
afterEach(() => {
  box.close()
  vi.unstubAllGlobals()
})

describe('a report', () => {
  it('is stored, photos and key, before any request goes', async () => {
    const entry = await box.addReport('inspector', BODY, [{ name: 'a.png', type: 'image/png', data: PNG }])
    expect(entry.key).toBe('key-1')
    expect(api.report).not.toHaveBeenCalled()
    const [stored] = await box.reports('inspector')
    expect(stored).toMatchObject({ key: 'key-1', status: 'waiting', body: BODY, case_id: null, attempts: 0 })
    expect(stored.photos).toHaveLength(1)
    expect(stored.photos[0]).toMatchObject({ id: 'key-2', name: 'a.png', type: 'image/png', size: 11, uploaded: false })
    // the bytes beside it, not in the list
    expect(stored.photos[0]).not.toHaveProperty('data')
    const bytes = await box.photoBytes('key-1')
    expect(Object.keys(bytes)).toEqual(['key-2'])
    expect(new Uint8Array(bytes['key-2'])).toEqual(new Uint8Array(PNG))
    // another user's session neither lists nor sends it
    expect(await box.reports('someone')).toEqual([])
    expect((await box.flush('someone')).sent).toEqual([])
    expect(api.report).not.toHaveBeenCalled()
  })

  it('is on the phone when its request goes out, and sent once with its key', async () => {
    api.report.mockImplementation(async (body: ReportRequest, key: string) => {
      // the entry is stored before the network is asked
      expect((await box.report(key))?.body).toEqual(body)
      return { id: 'c1', number: 'N1', version: 1 }
    })
    await box.addReport('inspector', BODY, [])
    // two flushes at once (a submit and the `online` event): one request
    const [a, b] = await Promise.all([box.flush('inspector'), box.flush('inspector')])
    expect(api.report).toHaveBeenCalledTimes(1)
    expect(api.report).toHaveBeenCalledWith(BODY, 'key-1')
    expect(a).toBe(b)
    expect(a.sent.map((e) => e.case_number)).toEqual(['N1'])
    expect(await box.reports('inspector')).toEqual([])
    // nothing left: a later flush sends nothing
    await box.flush('inspector')
    expect(api.report).toHaveBeenCalledTimes(1)
  })

  it('a flush asked for while one runs looks again when it is done', async () => {
    let release!: () => void
    api.report.mockImplementationOnce(() => new Promise((r) => { release = () => r({ id: 'c1', number: 'N1', version: 1 }) }))
    await box.addReport('inspector', BODY, [])
    const first = box.flush('inspector')
    await vi.waitFor(() => expect(api.report).toHaveBeenCalledTimes(1))
    // stored while the first is on its way: the running flush takes it too
    await box.addReport('inspector', { ...BODY, description: '第二条' }, [])
    const second = box.flush('inspector')
    release()
    const result = await second
    expect(await first).toBe(result)
    expect(api.report).toHaveBeenCalledTimes(2)
    expect(api.report.mock.calls.map((c) => c[1])).toEqual(['key-1', 'key-2'])
    expect(result.sent).toHaveLength(2)
  })

  it('takes turns with other tabs through the lock', async () => {
    const order: string[] = []
    const lock: LockRunner = async (fn) => {
      order.push('lock')
      const r = await fn()
      order.push('unlock')
      return r
    }
    const locked = new Outbox({ sender: api, dbName: `field-test-lock-${n}`, lock, newKey: keys() })
    await locked.addReport('inspector', BODY, [])
    api.report.mockImplementationOnce(async () => {
      order.push('report')
      return { id: 'c1', number: 'N1', version: 1 }
    })
    await locked.flush('inspector')
    expect(order).toEqual(['lock', 'report', 'unlock'])
    locked.close()
  })

  it('waits on a network error and goes again with the same key', async () => {
    api.report.mockRejectedValueOnce(network())
    await box.addReport('inspector', BODY, [])
    const first = await box.flush('inspector')
    expect(first.stopped).toBe(true)
    expect(first.sent).toEqual([])
    const [waiting] = await box.reports('inspector')
    expect(waiting).toMatchObject({ status: 'waiting', attempts: 1, case_id: null, last_error: { status: 0, code: 'network' } })

    // a 5xx and a 429 are tried again too
    api.report.mockRejectedValueOnce(new ApiError(503, 'internal', 'unavailable'))
    expect((await box.flush('inspector')).stopped).toBe(true)
    api.report.mockRejectedValueOnce(new ApiError(429, 'rate_limited', 'slow down'))
    expect((await box.flush('inspector')).stopped).toBe(true)

    const second = await box.flush('inspector')
    expect(second.sent).toHaveLength(1)
    expect(api.report.mock.calls.map((c) => c[1])).toEqual(['key-1', 'key-1', 'key-1', 'key-1'])
    expect(await box.reports('inspector')).toEqual([])
  })

  it('fails on a 422 with the server words, and waits for the inspector', async () => {
    api.report.mockRejectedValueOnce(new ApiError(422, 'outside_city', 'give the area code, or a location inside the city', 'area'))
    await box.addReport('inspector', BODY, [{ name: 'a.png', type: 'image/png', data: PNG }])
    const result = await box.flush('inspector')
    expect(result.stopped).toBe(false)
    expect(result.failed).toHaveLength(1)
    const [failed] = await box.reports('inspector')
    expect(failed).toMatchObject({
      status: 'failed', attempts: 1,
      error: { status: 422, code: 'outside_city', message: 'give the area code, or a location inside the city', field: 'area', photo: null },
    })
    // a failed report is not tried again by itself
    await box.flush('inspector')
    expect(api.report).toHaveBeenCalledTimes(1)
    expect(api.upload).not.toHaveBeenCalled()
    // told to, it goes (the cause went away)
    await box.retry(failed.key)
    expect((await box.flush('inspector')).sent).toHaveLength(1)
    expect(api.report).toHaveBeenCalledTimes(2)
    // or it is discarded
    await box.addReport('inspector', BODY, [])
    api.report.mockRejectedValueOnce(new ApiError(422, 'idempotency_key_reused', 'this key was used with another body', 'Idempotency-Key'))
    await box.flush('inspector')
    const [again] = await box.reports('inspector')
    expect(again.status).toBe('failed')
    await box.discard(again.key)
    expect(await box.reports('inspector')).toEqual([])
    expect(await box.photoBytes(failed.key)).toEqual({})
  })

  it('uploads each photo once, to the case it opened, after a lost answer too', async () => {
    await box.addReport('inspector', BODY, [
      { name: 'a.png', type: 'image/png', data: PNG },
      { name: 'b.jpg', type: 'image/jpeg', data: JPEG },
    ])
    // the first photo goes; the second's answer is lost
    api.upload.mockImplementationOnce(async (_id: string, _v: number, data: Blob) => ({ id: `a-${data.size}`, case_version: 2 }))
    api.upload.mockRejectedValueOnce(network())
    const first = await box.flush('inspector')
    expect(first.stopped).toBe(true)
    const [half] = await box.reports('inspector')
    expect(half).toMatchObject({ case_id: 'c1', case_number: '2026120700000000001', case_version: 2, status: 'waiting' })
    expect(half.photos.map((p) => p.uploaded)).toEqual([true, false])
    expect(half.photos[0].attachment).toBe('a-11')
    // an uploaded photo's bytes leave the phone; the other's stay
    expect(Object.keys(await box.photoBytes(half.key))).toEqual([half.photos[1].id])

    const second = await box.flush('inspector')
    expect(second.sent).toHaveLength(1)
    // the case was opened once; the first photo went once, the second twice (once lost)
    expect(api.report).toHaveBeenCalledTimes(1)
    const uploads = api.upload.mock.calls.map(([id, version, data, name]) => [id, version, (data as Blob).type, (data as Blob).size, name])
    expect(uploads).toEqual([
      ['c1', 1, 'image/png', 11, 'a.png'],
      ['c1', 2, 'image/jpeg', 6, 'b.jpg'],
      ['c1', 2, 'image/jpeg', 6, 'b.jpg'],
    ])
    expect(await box.reports('inspector')).toEqual([])
    expect(await box.photoBytes(half.key)).toEqual({})
  })

  it('uploads with the case version now when the one it held is stale', async () => {
    await box.addReport('inspector', BODY, [{ name: 'a.png', type: 'image/png', data: PNG }])
    api.upload.mockRejectedValueOnce(new ApiError(409, 'version_conflict', 'the case is at version 3, not 1', 'version'))
    api.caseVersion.mockResolvedValueOnce(3)
    const result = await box.flush('inspector')
    expect(result.sent).toHaveLength(1)
    expect(api.upload.mock.calls.map((c) => c[1])).toEqual([1, 3])
  })

  it('a refused photo fails the report, naming the photo, and its case is not opened again', async () => {
    await box.addReport('inspector', BODY, [{ name: 'big.jpg', type: 'image/jpeg', data: JPEG }])
    api.upload.mockRejectedValueOnce(new ApiError(413, 'image_too_large', 'an image is at most 10,000 pixels a side', 'body'))
    await box.flush('inspector')
    const [failed] = await box.reports('inspector')
    expect(failed).toMatchObject({ status: 'failed', case_id: 'c1', error: { status: 413, code: 'image_too_large', photo: 'big.jpg' } })
    await box.retry(failed.key)
    api.upload.mockRejectedValueOnce(new ApiError(413, 'image_too_large', 'still too large', 'body'))
    await box.flush('inspector')
    expect(api.report).toHaveBeenCalledTimes(1)
  })
})

describe('patrol positions', () => {
  const at = (i: number) => new Date(Date.UTC(2026, 11, 7, 1, 0, i)).toISOString()
  const position = (i: number, lon = 121.48): PatrolPosition => ({ at: at(i), lon, lat: 31.23, accuracy_m: 10 })

  it('are stored once by time and go in batches of at most 500, in time order', async () => {
    const list = Array.from({ length: 1203 }, (_, i) => position(i))
    await box.addPositions('inspector', 'p1', [...list].reverse())
    await box.addPositions('inspector', 'p1', list.slice(0, 10))
    expect(await box.pendingPositions('inspector')).toBe(1203)
    expect(await box.pendingPositions('inspector', 'p1')).toBe(1203)
    const result = await box.flush('inspector')
    expect(api.positions.mock.calls.map(([p, l]) => [p, (l as PatrolPosition[]).length])).toEqual([['p1', 500], ['p1', 500], ['p1', 203]])
    const first = api.positions.mock.calls[0][1] as PatrolPosition[]
    expect(first[0]).toEqual(position(0))
    expect(first[499]).toEqual(position(499))
    expect(result.positions).toBe(1203)
    expect(result.patrols.p1.positions).toBe(203)
    expect(await box.pendingPositions('inspector')).toBe(0)
  })

  it('wait on a network error and drop the one position refused', async () => {
    await box.addPositions('inspector', 'p1', [position(1), position(2, 122.95), position(3)])
    api.positions.mockRejectedValueOnce(network())
    expect((await box.flush('inspector')).stopped).toBe(true)
    expect(await box.pendingPositions('inspector')).toBe(3)
    api.positions.mockRejectedValueOnce(new ApiError(422, 'outside_city', 'this position is outside the city', 'positions[1].lon'))
    const result = await box.flush('inspector')
    expect(result).toMatchObject({ positions: 2, dropped: 1, stopped: false })
    expect(api.positions.mock.calls.at(-1)?.[1]).toEqual([position(1), position(3)])
    expect(await box.pendingPositions('inspector')).toBe(0)
  })

  it('going off duty offline is sent after the positions', async () => {
    await box.addPositions('inspector', 'p1', [position(1)])
    await box.queueEnd('inspector', 'p1')
    expect(await box.pendingEnd('inspector', 'p1')).toBe(true)
    api.end.mockRejectedValueOnce(network())
    expect((await box.flush('inspector')).stopped).toBe(true)
    expect(await box.pendingEnd('inspector', 'p1')).toBe(true)
    const result = await box.flush('inspector')
    expect(api.positions).toHaveBeenCalledTimes(1)
    expect(api.end).toHaveBeenCalledTimes(2)
    expect(result.patrols.p1.ended_at).toBe('2026-12-07T02:00:00Z')
    expect(await box.pendingEnd('inspector', 'p1')).toBe(false)
  })

  it('of a patrol gone are dropped', async () => {
    await box.addPositions('inspector', 'p1', [position(1), position(2)])
    api.positions.mockRejectedValueOnce(new ApiError(404, 'not_found', 'no such patrol'))
    expect(await box.flush('inspector')).toMatchObject({ dropped: 2, stopped: false })
    expect(await box.pendingPositions('inspector')).toBe(0)
  })
})

describe('what is tried again', () => {
  it('no answer, the server trouble, a rate limit, an ended session; not a refusal', () => {
    for (const e of [network(), new ApiError(500, 'internal', 'x'), new ApiError(503, 'x', 'x'), new ApiError(429, 'rate_limited', 'x'),
      new ApiError(401, 'unauthenticated', 'x'), new ApiError(408, 'x', 'x'), new TypeError('Failed to fetch')]) expect(retryable(e)).toBe(true)
    for (const e of [new ApiError(422, 'invalid_input', 'x'), new ApiError(400, 'bad_request', 'x'), new ApiError(403, 'forbidden', 'x'),
      new ApiError(413, 'payload_too_large', 'x'), new ApiError(415, 'unsupported_image_format', 'x'), new ApiError(409, 'version_conflict', 'x')]) expect(retryable(e)).toBe(false)
    expect(errorOf(new ApiError(422, 'outside_city', 'outside', 'area'), 'a.jpg')).toEqual({ status: 422, code: 'outside_city', message: 'outside', field: 'area', photo: 'a.jpg' })
    expect(errorOf(new TypeError('Failed to fetch'))).toMatchObject({ status: 0, code: 'network', message: 'Failed to fetch' })
  })
})

describe('the API sender', () => {
  it('opens the case with its Idempotency-Key and uploads the photo raw with the version', async () => {
    const fetch = mockFetch(
      jsonResponse(201, { id: 'c1', number: 'N1', version: 1 }),
      jsonResponse(201, { id: 'a1', case_version: 2 }),
      jsonResponse(200, { accepted: 1, patrol: patrol() }),
    )
    const send = apiSender()
    await send.report(BODY, 'key-1')
    await send.upload('c1', 1, new Blob([PNG], { type: 'image/png' }), 'a b.png')
    await send.positions('p1', [{ at: '2026-12-07T01:00:00Z', lon: 121.48, lat: 31.23, accuracy_m: 5 }])
    const [[url1, init1], [url2, init2], [url3, init3]] = fetch.mock.calls as unknown as [string, RequestInit][]
    expect(url1).toBe('/api/v1/cases')
    expect((init1.headers as Record<string, string>)['Idempotency-Key']).toBe('key-1')
    expect(JSON.parse(String(init1.body))).toEqual(BODY)
    expect(url2).toBe('/api/v1/cases/c1/attachments?version=1&file_name=a+b.png')
    expect((init2.headers as Record<string, string>)['content-type']).toBe('image/png')
    expect(url3).toBe('/api/v1/patrols/p1/positions')
    expect(JSON.parse(String(init3.body))).toEqual({ positions: [{ at: '2026-12-07T01:00:00Z', lon: 121.48, lat: 31.23, accuracy_m: 5 }] })
  })
})
