// Patrols and the phone's page: who goes on duty and who reads tracks, a fix as the server's
// position, the batches, a refusal's position, the track as the map draws it (coordinates, the
// frame, its length as the server measures it, the distance in words), and the phone's report:
// photos told apart by their bytes, the form checked, the body, the tasks' verdicts.
import { describe, expect, it } from 'vitest'
import type { CaseView, PatrolTrack } from '../src/api/types'
import {
  MAX_BATCH, batchesOf, boundingCoords, boundsOf, distanceM, fixOf, formatDistance, isDay, mayPatrol, mayReadPatrols, padBounds,
  positionIndexOf, positionOf, shanghaiDate, trackCoordinates, trackLengthM, unionBounds,
} from '../src/lib/patrols'
import {
  MAX_PHOTO_BYTES, checkFieldReport, checkPhoto, emptyFieldReport, fieldReportBody, fieldReportFieldOf, photoName, sniffImage, taskBody,
  taskCommand, taskQueue,
} from '../src/lib/field'

const track = (geometry: PatrolTrack['geometry']): Pick<PatrolTrack, 'geometry'> => ({ geometry })

describe('who', () => {
  it('inspectors patrol; shift leads and center leaders read the tracks', () => {
    expect(mayPatrol('inspector')).toBe(true)
    for (const r of ['shift_lead', 'dispatcher', 'operator', 'admin', null, undefined] as const) expect(mayPatrol(r)).toBe(false)
    expect(mayReadPatrols('shift_lead')).toBe(true)
    expect(mayReadPatrols('center_leader')).toBe(true)
    for (const r of ['inspector', 'dispatcher', 'operator', 'admin', 'evaluator', null] as const) expect(mayReadPatrols(r)).toBe(false)
  })
})

describe('a position', () => {
  const fix = { lon: 121.48371234567, lat: 31.23861234567, accuracy: 12.345, timestamp: Date.UTC(2026, 11, 7, 1, 2, 3, 456) }
  it('is the fix at its time or the time given, rounded as the server keeps it', () => {
    expect(positionOf(fix)).toEqual({ at: '2026-12-07T01:02:03.456Z', lon: 121.4837123, lat: 31.2386123, accuracy_m: 12.3 })
    expect(positionOf(fix, new Date('2026-12-07T01:05:00Z'))?.at).toBe('2026-12-07T01:05:00.000Z')
    expect(fixOf({ coords: { longitude: 121.5, latitude: 31.2, accuracy: 5 }, timestamp: 10 })).toEqual({ lon: 121.5, lat: 31.2, accuracy: 5, timestamp: 10 })
  })
  it('is none for what the server would refuse', () => {
    expect(positionOf({ ...fix, accuracy: 5000.1 })).toBeNull()
    expect(positionOf({ ...fix, accuracy: -1 })).toBeNull()
    expect(positionOf({ ...fix, lon: NaN })).toBeNull()
    expect(positionOf({ ...fix, lat: 91 })).toBeNull()
    expect(positionOf(fix, new Date('x'))).toBeNull()
    expect(positionOf({ ...fix, accuracy: 5000 })?.accuracy_m).toBe(5000)
  })
  it('goes in batches of at most 500, and a refusal names it by index', () => {
    expect(batchesOf([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]])
    expect(batchesOf([], 2)).toEqual([])
    expect(batchesOf(Array.from({ length: 1001 }, (_, i) => i)).map((b) => b.length)).toEqual([MAX_BATCH, MAX_BATCH, 1])
    expect(positionIndexOf('positions[3].lon')).toBe(3)
    expect(positionIndexOf('positions[12].at')).toBe(12)
    for (const f of ['positions', 'lon', '', null, undefined, 'x.positions[1]']) expect(positionIndexOf(f)).toBeNull()
  })
})

describe('the track as the map draws it', () => {
  it('its coordinates: none, one point, the line in order', () => {
    expect(trackCoordinates(null)).toEqual([])
    expect(trackCoordinates(track(null))).toEqual([])
    expect(trackCoordinates(track({ type: 'Point', coordinates: [121.48, 31.23] }))).toEqual([[121.48, 31.23]])
    const line: [number, number][] = [[121.48, 31.23], [121.49, 31.24], [121.5, 31.25]]
    expect(trackCoordinates(track({ type: 'LineString', coordinates: line }))).toEqual(line)
    // what is no coordinate is left out
    expect(trackCoordinates(track({ type: 'LineString', coordinates: [[121.48, 31.23], [NaN, 1] as [number, number], [1] as unknown as [number, number]] }))).toEqual([[121.48, 31.23]])
    expect(trackCoordinates(track({ type: 'Polygon', coordinates: [] } as unknown as PatrolTrack['geometry']))).toEqual([])
  })
  it('its frame: the box around it, grown, as ECharts takes it', () => {
    expect(boundsOf([])).toBeNull()
    const b = boundsOf([[121.5, 31.2], [121.4, 31.3], [121.45, 31.25]])!
    expect(b).toEqual([121.4, 31.2, 121.5, 31.3])
    expect(unionBounds(b, null)).toBe(b)
    expect(unionBounds(null, b)).toBe(b)
    expect(unionBounds(b, [121.3, 31.25, 121.45, 31.4])).toEqual([121.3, 31.2, 121.5, 31.4])
    const padded = padBounds(b, 0.1)
    expect(padded[0]).toBeCloseTo(121.39)
    expect(padded[3]).toBeCloseTo(31.31)
    // one point still shows some street around it
    const point = padBounds([121.48, 31.23, 121.48, 31.23], 0.1, 0.001)
    expect(point[2] - point[0]).toBeCloseTo(0.002)
    expect(boundingCoords([1, 2, 3, 4])).toEqual([[1, 4], [3, 2]])
  })
  it('its length as the server measures it: a standing phone walks nowhere', () => {
    // 0.001° of latitude is about 111 m
    expect(distanceM([121.48, 31.23], [121.48, 31.231])).toBeCloseTo(111.2, 0)
    expect(trackLengthM([])).toBe(0)
    const at = (lat: number, accuracy_m = 5) => ({ lon: 121.48, lat, accuracy_m })
    expect(trackLengthM([at(31.23), at(31.231), at(31.232)])).toBeCloseTo(222.4, 0)
    // wandering within the accuracy is not walking
    expect(trackLengthM([at(31.23, 20), at(31.23005, 20), at(31.23, 20), at(31.23008, 20)])).toBe(0)
    // a step counts from the last fix that counted
    expect(trackLengthM([at(31.23, 20), at(31.23015, 20), at(31.2303, 20)])).toBeCloseTo(distanceM([121.48, 31.23], [121.48, 31.2303]), 3)
  })
  it('its distance in words', () => {
    expect(formatDistance(0, 'zh-CN')).toBe('0 米')
    expect(formatDistance(455.04, 'zh-CN')).toBe('455 米')
    expect(formatDistance(455.04, 'en')).toBe('455 m')
    expect(formatDistance(1234.5, 'en')).toBe('1.23 km')
    expect(formatDistance(12000, 'zh-CN')).toBe('12 公里')
    for (const m of [null, undefined, NaN, -1]) expect(formatDistance(m, 'en')).toBe('—')
  })
  it('its days are Shanghai days', () => {
    expect(shanghaiDate(new Date('2026-12-07T16:30:00Z'))).toBe('2026-12-08')
    expect(shanghaiDate(new Date('2026-12-07T15:59:59Z'))).toBe('2026-12-07')
    expect(isDay('2026-12-07')).toBe(true)
    for (const d of ['2026-12-7', '2026-13-01', 'today', '', null, 20261207]) expect(isDay(d)).toBe(false)
  })
})

describe('a photo', () => {
  const bytes = (...b: number[]) => new Uint8Array([...b, ...new Array(16).fill(0)])
  it('is told by its bytes, not its name', () => {
    expect(sniffImage(bytes(0xff, 0xd8, 0xff, 0xe0))).toBe('image/jpeg')
    expect(sniffImage(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a))).toBe('image/png')
    expect(sniffImage(bytes(0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4, 0x57, 0x45, 0x42, 0x50))).toBe('image/webp')
    expect(sniffImage(bytes(0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4, 0x57, 0x41, 0x56, 0x45))).toBeNull() // RIFF WAVE
    expect(sniffImage(new TextEncoder().encode('this is a text'))).toBeNull()
    expect(sniffImage(bytes(0x47, 0x49, 0x46, 0x38))).toBeNull() // GIF: the server keeps none
    expect(sniffImage(new Uint8Array())).toBeNull()
  })
  it('is refused when empty, too large or no image', () => {
    const png = bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)
    expect(checkPhoto(100, png)).toEqual({ type: 'image/png' })
    expect(checkPhoto(MAX_PHOTO_BYTES, png)).toEqual({ type: 'image/png' })
    expect(checkPhoto(MAX_PHOTO_BYTES + 1, png)).toEqual({ problem: 'too_large' })
    expect(checkPhoto(0, png)).toEqual({ problem: 'empty' })
    expect(checkPhoto(100, new TextEncoder().encode('hello'))).toEqual({ problem: 'not_image' })
  })
  it('has a plain name the server takes', () => {
    expect(photoName('IMG_0001.JPG', 0, 'image/jpeg')).toBe('IMG_0001.JPG')
    expect(photoName('a/b\\c.png', 0, 'image/png')).toBe('a_b_c.png')
    expect(photoName('  ', 2, 'image/jpeg')).toBe('photo-3.jpg')
    expect([...photoName('长'.repeat(300), 0, 'image/webp')]).toHaveLength(200)
  })
})

describe('the report', () => {
  const form = { ...emptyFieldReport(), description: ' 井盖缺失 ', lon: '121.4837', lat: '31.2386' }
  it('needs a description and a point in the city', () => {
    expect(checkFieldReport(form, 'located', true)).toEqual({})
    expect(checkFieldReport({ ...form, description: '  ' }, 'located', true)).toEqual({ description: 'required' })
    expect(checkFieldReport({ ...form, description: 'x'.repeat(2001) }, 'located', true)).toEqual({ description: 'long' })
    expect(checkFieldReport({ ...form, address: 'x'.repeat(201) }, 'located', true)).toEqual({ address: 'long' })
    expect(checkFieldReport({ ...form, lon: '' }, 'none', true)).toEqual({ location: 'required' })
    expect(checkFieldReport(form, 'outside', true)).toEqual({ location: 'outside' })
    expect(checkFieldReport(form, 'locating', true)).toEqual({ location: 'locating' })
  })
  it('offline, the city bounds stand in for locating', () => {
    expect(checkFieldReport(form, 'none', false)).toEqual({})
    expect(checkFieldReport(form, 'locating', false)).toEqual({})
    expect(checkFieldReport({ ...form, lon: '116.40', lat: '39.90' }, 'none', false)).toEqual({ location: 'outside' })
  })
  it('is an inspector report, blank texts left out', () => {
    expect(fieldReportBody(form)).toEqual({ source: 'inspector', description: '井盖缺失', location: { lon: 121.4837, lat: 31.2386 } })
    expect(fieldReportBody({ ...form, address: ' 南京东路 1 号 ', categoryHint: '10101' })).toEqual({
      source: 'inspector', description: '井盖缺失', location: { lon: 121.4837, lat: 31.2386 }, address: '南京东路 1 号', category_hint: '10101',
    })
    expect(() => fieldReportBody({ ...form, lat: '' })).toThrow()
  })
  it('carries the GPS fix\'s accuracy, and only a distance', () => {
    expect(fieldReportBody(form, 12.5).location_accuracy_m).toBe(12.5)
    expect(fieldReportBody(form, null).location_accuracy_m).toBeUndefined()
    expect(fieldReportBody(form, 9000).location_accuracy_m).toBeUndefined()
    expect(fieldReportBody(form, Number.NaN).location_accuracy_m).toBeUndefined()
  })
  it('places a refusal beside its field', () => {
    expect(fieldReportFieldOf('location.lon')).toBe('location')
    expect(fieldReportFieldOf('area')).toBe('location')
    expect(fieldReportFieldOf('category_hint')).toBe('category_hint')
    expect(fieldReportFieldOf('body')).toBe('photos')
    expect(fieldReportFieldOf('Idempotency-Key')).toBeNull()
    expect(fieldReportFieldOf(null)).toBeNull()
  })
})

describe('the tasks', () => {
  it('are the inspector\'s grid tasks, verifications and checks', () => {
    const q = taskQueue({ role: 'inspector', unit: null, scope: '310101' })
    expect(q).toMatchObject({ key: 'my_grid_tasks', states: ['verifying', 'checking'], mine: true })
    expect(taskQueue({ role: 'dispatcher', unit: null, scope: '310101' })).toBeNull()
  })
  it('ask for the verdict the inspector may give now', () => {
    const c = (state: CaseView['state'], actions: CaseView['actions']) => ({ state, actions })
    expect(taskCommand(c('verifying', ['verify']))).toBe('verify')
    expect(taskCommand(c('checking', ['check']))).toBe('check')
    expect(taskCommand(c('verifying', []))).toBeNull()
    expect(taskCommand(c('filed', ['verify']))).toBeNull()
    expect(taskBody('verify', false, ' 现场无此问题 ', 4)).toEqual({ version: 4, exists: false, opinion: '现场无此问题' })
    expect(taskBody('check', true, '', 7)).toEqual({ version: 7, passed: true })
  })
})
