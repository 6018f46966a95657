import { afterEach, describe, expect, it, vi } from 'vitest'
import document from '../openapi.json'
import { ApiError, configureClient, upload } from '../src/api/client'
import { api } from '../src/api'
import type { GeoCollection, RelocationJob } from '../src/api/types'
import {
  BOUNDARY_LEVELS, COMPONENT_CSV_COLUMNS, boundaryRequest, boundaryTemplate, censusFormatOf, censusRequest, censusTemplate, countsOf,
  isBusy, isFileRefusal, levelMismatch, percentOf, placeOf, problemOf, problemsOf, readBoundaryFile, relocationPath, sizeText,
  summariseRelocation,
} from '../src/lib/imports'
import { COORDINATE_SYSTEMS } from '../src/lib/vocabulary'
import { ADMIN_SECTIONS, sectionOf } from '../src/lib/admin'
import zh from '../src/locales/zh-CN'
import en from '../src/locales/en'

type Operation = { summary?: string; parameters?: { name: string; schema?: { pattern?: string } }[] }
const paths = document.paths as unknown as Record<string, Record<string, Operation>>

describe('the imports section', () => {
  it('is a section of the administration page, with words in both languages', () => {
    expect(ADMIN_SECTIONS).toContain('imports')
    expect(sectionOf('imports')).toBe('imports')
    expect(zh.admin.sections.imports).toBe('数据导入')
    expect(en.admin.sections.imports).toBe('Imports')
  })
})

describe('the census file', () => {
  it('has the header the server documents', () => {
    const summary = paths['/api/v1/components'].put.summary ?? ''
    expect(summary).toContain(COMPONENT_CSV_COLUMNS.join(','))
    expect(censusTemplate()).toBe(`\uFEFF${COMPONENT_CSV_COLUMNS.join(',')}\r\n`)
  })

  it('is CSV or GeoJSON by its name, else its type', () => {
    expect(censusFormatOf({ name: 'census.CSV' })).toBe('csv')
    expect(censusFormatOf({ name: 'census.geojson' })).toBe('geojson')
    expect(censusFormatOf({ name: 'census.json' })).toBe('geojson')
    expect(censusFormatOf({ name: 'export', type: 'text/csv' })).toBe('csv')
    expect(censusFormatOf({ name: 'export', type: 'application/geo+json' })).toBe('geojson')
    expect(censusFormatOf({ name: 'census.xlsx', type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' })).toBe(null)
  })

  it('is sent to PUT /components with its content type', () => {
    expect(censusRequest('csv')).toEqual({ path: '/components', query: {}, contentType: 'text/csv' })
    expect(censusRequest('geojson')).toEqual({ path: '/components', query: {}, contentType: 'application/geo+json' })
  })
})

describe('a boundary file', () => {
  it('names a level as the path does, with a coordinate system the server knows', () => {
    const level = paths['/api/v1/geo/boundaries/{level}'].put.parameters?.find((p) => p.name === 'level')
    expect(level?.schema?.pattern).toBe(`^(${BOUNDARY_LEVELS.join('|')})$`)
    const schemas = document.components.schemas as Record<string, { enum?: string[] }>
    expect(COORDINATE_SYSTEMS).toEqual(schemas.Crs.enum)
    expect(boundaryRequest('unit-grids')).toEqual({ path: '/geo/boundaries/unit-grids', query: { crs: 'wgs84' }, contentType: 'application/geo+json' })
    expect(boundaryRequest('communities', 'gcj02').query).toEqual({ crs: 'gcj02' })
    for (const messages of [zh, en]) {
      expect(Object.keys(messages.admin.imports.boundaries.levels)).toEqual([...BOUNDARY_LEVELS])
      expect(Object.keys(messages.admin.imports.boundaries.crsNames)).toEqual([...COORDINATE_SYSTEMS])
    }
  })

  const feature = (code: unknown) => ({ type: 'Feature', properties: { code, parent: '310101002', name: 'x' }, geometry: { type: 'Polygon', coordinates: [] } })

  it('is read before sending: how many features, and the level its codes have', () => {
    const file = JSON.stringify({ type: 'FeatureCollection', features: [feature('310101002001'), feature('310101002002')] })
    expect(readBoundaryFile(file)).toEqual({ summary: { features: 2, level: 'communities' } })
    expect(readBoundaryFile(`\uFEFF${file}`)).toEqual({ summary: { features: 2, level: 'communities' } })
    // codes of several lengths, or missing: no level said
    const mixed = JSON.stringify({ type: 'FeatureCollection', features: [feature('310101002001'), feature('310101002')] })
    expect(readBoundaryFile(mixed)).toEqual({ summary: { features: 2, level: null } })
    const missing = JSON.stringify({ type: 'FeatureCollection', features: [feature(undefined), { type: 'Feature' }] })
    expect(readBoundaryFile(missing)).toEqual({ summary: { features: 2, level: null } })
  })

  it('is not read when it is not JSON, not a collection or empty', () => {
    expect(readBoundaryFile('{"type":')).toEqual({ problem: 'json' })
    expect(readBoundaryFile('null')).toEqual({ problem: 'collection' })
    expect(readBoundaryFile('{"type":"Feature","features":[]}')).toEqual({ problem: 'collection' })
    expect(readBoundaryFile('{"type":"FeatureCollection"}')).toEqual({ problem: 'collection' })
    expect(readBoundaryFile('{"type":"FeatureCollection","features":[]}')).toEqual({ problem: 'empty' })
  })

  it('warns when its codes are of another level than the one chosen', () => {
    expect(levelMismatch('districts', { features: 19, level: 'communities' })).toBe('communities')
    expect(levelMismatch('communities', { features: 19, level: 'communities' })).toBe(null)
    expect(levelMismatch('communities', { features: 19, level: null })).toBe(null)
  })

  it('can be made from the current boundaries, each with its parent', () => {
    const geometry = { type: 'MultiPolygon' as const, coordinates: [[[[121.4, 31.2], [121.5, 31.2], [121.5, 31.3], [121.4, 31.2]]]] }
    const current: GeoCollection = {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: { code: '310101', name: '黄浦区' }, geometry },
        { type: 'Feature', properties: { code: '310101002', name: '南京东路街道' }, geometry },
        { type: 'Feature', properties: { code: '310101002001', name: '云南中路居委会' }, geometry },
      ],
    }
    const made = JSON.parse(boundaryTemplate(current))
    expect(made.type).toBe('FeatureCollection')
    expect(made.features.map((f: { properties: unknown }) => f.properties)).toEqual([
      { code: '310101', parent: '310000', name: '黄浦区' },
      { code: '310101002', parent: '310101', name: '南京东路街道' },
      { code: '310101002001', parent: '310101002', name: '云南中路居委会' },
    ])
    expect(made.features[0].geometry).toEqual(geometry)
  })
})

describe('where a refusal points', () => {
  it('reads a CSV line and its column', () => {
    expect(problemOf('line 5: lon', "'east' is not a number")).toEqual({ line: 5, feature: null, column: 'lon', field: 'line 5: lon', message: "'east' is not a number" })
    expect(problemOf('line 12: maintainer_unit', 'unit X does not exist')).toMatchObject({ line: 12, column: 'maintainer_unit' })
    // a line the CSV reader could not read, and the header
    expect(problemOf('line 7', 'found record with 3 fields')).toMatchObject({ line: 7, column: null })
    expect(placeOf(problemOf('line 7', 'x'))).toEqual({ where: { key: 'line', values: { line: 7 } }, part: null })
    expect(placeOf(problemOf('line 1', 'the header must be id,...'))).toEqual({ where: { key: 'header', values: {} }, part: null })
    expect(placeOf(problemOf('line 5: lon', 'x'))).toEqual({ where: { key: 'line', values: { line: 5 } }, part: { key: 'column', values: { column: 'lon' } } })
  })

  it('reads a GeoJSON feature and its property, counted from 1 for people', () => {
    const p = problemOf('features[3].properties.unit_grid', 'the location lies in unit grid 31010100200101, not 31010100200199')
    expect(p).toMatchObject({ line: null, feature: 3, column: 'unit_grid' })
    expect(placeOf(p)).toEqual({ where: { key: 'feature', values: { n: 4, index: 3 } }, part: { key: 'property', values: { column: 'unit_grid' } } })
    expect(problemOf('features[0].geometry', 'a component is a Point')).toMatchObject({ feature: 0, column: 'geometry' })
    expect(placeOf(problemOf('features[0].geometry', 'x')).part).toEqual({ key: 'geometry', values: {} })
  })

  it('finds a boundary feature’s part at the start of the message', () => {
    expect(problemOf('features[2]', "properties.code '31010100200X' is not a 12-digit code of communities")).toMatchObject({ feature: 2, column: 'code' })
    expect(problemOf('features[1]', 'coordinates are not closed rings of [lon, lat] numbers')).toMatchObject({ feature: 1, column: 'geometry' })
    expect(problemOf('features[3]', 'geometry overlaps feature 0 (310101) by 5850 m²')).toMatchObject({ feature: 3, column: 'geometry' })
    expect(problemOf('features[4]', 'geometry: the area is empty')).toMatchObject({ feature: 4, column: 'geometry' })
    expect(problemOf('features[5]', 'something else')).toMatchObject({ feature: 5, column: null })
  })

  it('says the whole file, or the field as named, otherwise', () => {
    expect(placeOf(problemOf('file', 'the file must be UTF-8')).where).toEqual({ key: 'file', values: {} })
    expect(placeOf(problemOf(undefined, 'x')).where).toEqual({ key: 'file', values: {} })
    expect(placeOf(problemOf('crs', 'crs must be wgs84, gcj02 or bd09')).where).toEqual({ key: 'field', values: { field: 'crs' } })
  })

  it('lists the refusal of a file; access and connection failures are not the file’s', () => {
    const refused = new ApiError(422, 'invalid_file', "'east' is not a number", 'line 3: lon')
    expect(isFileRefusal(refused)).toBe(true)
    expect(problemsOf(refused)).toEqual([{ line: 3, feature: null, column: 'lon', field: 'line 3: lon', message: "'east' is not a number" }])
    expect(isFileRefusal(new ApiError(403, 'forbidden', 'only an admin may change the census'))).toBe(false)
    expect(isFileRefusal(new Error('x'))).toBe(false)
  })
})

describe('what an import answered', () => {
  it('shows every count, imported first', () => {
    expect(countsOf({ imported: 3 })).toEqual([['imported', 3]])
    expect(countsOf({ created: 1, imported: 3, level: 'communities', updated: 2, relocation: { id: 'x' } })).toEqual([['imported', 3], ['created', 1], ['updated', 2]])
    expect(countsOf(null)).toEqual([])
  })

  it('says the upload’s progress in whole percent, unknown without a total', () => {
    expect(percentOf({ loaded: 0, total: 200 })).toBe(0)
    expect(percentOf({ loaded: 99, total: 200 })).toBe(49)
    expect(percentOf({ loaded: 200, total: 200 })).toBe(100)
    expect(percentOf({ loaded: 300, total: 200 })).toBe(100)
    expect(percentOf({ loaded: 10, total: null })).toBe(null)
    expect(percentOf({ loaded: 0, total: 0 })).toBe(null)
    expect(percentOf(null)).toBe(null)
    expect(sizeText(512)).toBe('512 B')
    expect(sizeText(2048)).toBe('2 KB')
    expect(sizeText(3.25 * 1024 * 1024, 'en')).toBe('3.3 MB')
  })

  it('is busy while reading, asking, sending or checking', () => {
    expect(['reading', 'confirming', 'uploading', 'checking'].every((p) => isBusy(p as never))).toBe(true)
    expect(['idle', 'done', 'refused'].some((p) => isBusy(p as never))).toBe(false)
  })
})

describe('the relocation after a boundary import', () => {
  it('is followed at the path its href names, under /api/v1, on this server only', () => {
    expect(relocationPath('/api/v1/geo/relocations/01a249b7-3089')).toBe('/geo/relocations/01a249b7-3089')
    expect(relocationPath(`${location.origin}/api/v1/geo/relocations/abc`)).toBe('/geo/relocations/abc')
    expect(relocationPath('https://elsewhere.example/api/v1/geo/relocations/abc')).toBe(null)
    expect(relocationPath('/api/v1/cases/abc')).toBe(null)
    expect(relocationPath('/api/v1/geo/relocations/')).toBe(null)
    expect(relocationPath('/api/v1/geo/relocations/a/b')).toBe(null)
    expect(relocationPath(undefined)).toBe(null)
  })

  const job = (over: Partial<RelocationJob> = {}): RelocationJob => ({
    id: 'j1', level: 'communities', state: 'running', started_at: '2026-12-06T04:57:52.000Z', finished_at: null,
    cases: { checked: 44, moved: 0 }, devices: { checked: 2000, moved: 3 }, components: { checked: 11000, moved: 0 },
    cases_in_another_district: [], error: null, ...over,
  })

  it('sums what was checked and moved while it runs', () => {
    expect(summariseRelocation(job())).toEqual({
      state: 'running', finished: false,
      counts: { cases: { checked: 44, moved: 0 }, devices: { checked: 2000, moved: 3 }, components: { checked: 11000, moved: 0 } },
      checked: 13044, moved: 3, leftInPlace: [], error: null, seconds: null,
    })
  })

  it('says how long it took, the cases left in another district, or why it failed', () => {
    const done = summariseRelocation(job({
      state: 'done', finished_at: '2026-12-06T04:57:55.090Z', cases: { checked: 44, moved: 2 }, cases_in_another_district: ['3101012026120600001'],
    }))
    expect(done).toMatchObject({ finished: true, moved: 5, seconds: 3.1, leftInPlace: ['3101012026120600001'] })
    expect(summariseRelocation(job({ state: 'failed', finished_at: '2026-12-06T04:57:53Z', error: 'database is locked' })))
      .toMatchObject({ finished: true, state: 'failed', error: 'database is locked', seconds: 1 })
  })
})

/** A stand-in for XMLHttpRequest: records what is sent, and answers when told. */
class FakeXhr {
  static last: FakeXhr
  method = ''
  url = ''
  headers: Record<string, string> = {}
  body: unknown
  status = 0
  statusText = ''
  responseText = ''
  responseHeaders: Record<string, string> = {}
  upload: { onprogress?: (e: { loaded: number; total: number; lengthComputable: boolean }) => void; onload?: () => void } = {}
  onload?: () => void
  onerror?: () => void
  onabort?: () => void
  ontimeout?: () => void
  constructor() { FakeXhr.last = this }
  open(method: string, url: string) { this.method = method; this.url = url }
  setRequestHeader(name: string, value: string) { this.headers[name.toLowerCase()] = value }
  getResponseHeader(name: string) { return this.responseHeaders[name.toLowerCase()] ?? null }
  send(body: unknown) { this.body = body }
  abort() { this.onabort?.() }
  /** The body going out, then the answer. */
  answer(status: number, body: unknown, headers: Record<string, string> = {}) {
    this.upload.onprogress?.({ loaded: 50, total: 100, lengthComputable: true })
    this.upload.onprogress?.({ loaded: 100, total: 100, lengthComputable: true })
    this.upload.onload?.()
    this.status = status
    this.responseText = typeof body === 'string' ? body : JSON.stringify(body)
    this.responseHeaders = headers
    this.onload?.()
  }
}

describe('an upload', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    globalThis.document.cookie = 'cityops_csrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/'
    configureClient({ csrf: () => null, unauthorized: () => {} })
  })

  it('sends the file as is, with its type and the CSRF header, and reports its progress', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    globalThis.document.cookie = 'cityops_csrf=tok%201; path=/'
    const progress: unknown[] = []
    let sent = false
    const file = new Blob(['id,class\n'], { type: 'text/csv' })
    const done = api.importComponents(censusRequest('csv'), file, { onProgress: (p) => progress.push(p), onSent: () => { sent = true } })
    const xhr = FakeXhr.last
    expect([xhr.method, xhr.url]).toEqual(['PUT', '/api/v1/components'])
    expect(xhr.headers).toEqual({ accept: 'application/json', 'content-type': 'text/csv', 'x-csrf-token': 'tok 1' })
    expect(xhr.headers.authorization).toBeUndefined()
    expect(xhr.body).toBe(file)
    xhr.answer(200, { imported: 2 })
    expect(await done).toEqual({ imported: 2 })
    expect(progress).toEqual([{ loaded: 50, total: 100 }, { loaded: 100, total: 100 }])
    expect(sent).toBe(true)
  })

  it('sends boundaries to their level with the coordinate system', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    configureClient({ csrf: () => 'from-sign-in' })
    const done = api.importBoundaries(boundaryRequest('communities', 'bd09'), new Blob(['{}']))
    const xhr = FakeXhr.last
    expect(xhr.url).toBe('/api/v1/geo/boundaries/communities?crs=bd09')
    expect(xhr.headers['content-type']).toBe('application/geo+json')
    expect(xhr.headers['x-csrf-token']).toBe('from-sign-in')
    const answer = { imported: 19, level: 'communities', relocation: { id: 'j1', href: '/api/v1/geo/relocations/j1' } }
    xhr.answer(200, answer)
    expect(await done).toEqual(answer)
  })

  it('turns a refusal into the same ApiError as any call, and a 401 ends the session', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    const unauthorized = vi.fn()
    configureClient({ unauthorized })
    const refused = upload('/components', { data: new Blob(['x']), contentType: 'text/csv' })
    FakeXhr.last.answer(422, { error: { code: 'invalid_file', message: "'east' is not a number", field: 'line 3: lon' } })
    await expect(refused).rejects.toMatchObject({ status: 422, code: 'invalid_file', field: 'line 3: lon', message: "'east' is not a number" })
    expect(unauthorized).not.toHaveBeenCalled()
    const tooLarge = upload('/components', { data: new Blob(['x']), contentType: 'text/csv' })
    FakeXhr.last.statusText = 'Payload Too Large'
    FakeXhr.last.answer(413, 'length limit exceeded')
    await expect(tooLarge).rejects.toMatchObject({ status: 413, code: 'http_413', message: 'Payload Too Large' })
    const expired = upload('/components', { data: new Blob(['x']), contentType: 'text/csv' })
    FakeXhr.last.answer(401, { error: { code: 'unauthenticated', message: 'no session' } })
    await expect(expired).rejects.toBeInstanceOf(ApiError)
    expect(unauthorized).toHaveBeenCalledOnce()
  })

  it('fails as a network error when the connection drops, and is cancelled by its signal', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
    const dropped = upload('/components', { data: new Blob(['x']), contentType: 'text/csv' })
    FakeXhr.last.onerror?.()
    await expect(dropped).rejects.toMatchObject({ status: 0, code: 'network' })
    const controller = new AbortController()
    const cancelled = upload('/components', { data: new Blob(['x']), contentType: 'text/csv', signal: controller.signal })
    controller.abort()
    await expect(cancelled).rejects.toMatchObject({ name: 'AbortError' })
  })
})
