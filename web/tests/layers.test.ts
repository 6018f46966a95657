import { afterEach, describe, expect, it, vi } from 'vitest'
import { LayerCache, drillPath, layerKey, levelOf, locatedNames, mapLayerFor, named, outlineLines } from '../src/lib/layers'
import { api, publicApi } from '../src/api'
import type { GeoCollection } from '../src/api/types'
import { jsonResponse, mockFetch } from './helpers'

afterEach(() => vi.unstubAllGlobals())

const square = (code: string, name: string | null, x = 121, y = 31): GeoCollection['features'][number] => ({
  type: 'Feature',
  properties: { code, name: name as string },
  geometry: { type: 'Polygon', coordinates: [[[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]] },
})
const fc = (...features: GeoCollection['features']): GeoCollection => ({ type: 'FeatureCollection', features })

describe('drill-down levels', () => {
  it('knows the level of a code by its length', () => {
    expect(levelOf(null)).toBe('city')
    expect(levelOf('310101')).toBe('district')
    expect(levelOf('310101002')).toBe('street')
    expect(levelOf('310101002001')).toBe('community')
    expect(levelOf('31010100200101')).toBe('grid')
    expect(levelOf('31')).toBe('city')
    // a city's own code is the top, not a district
    expect(levelOf('310000')).toBe('city')
    expect(levelOf('320500')).toBe('city')
    expect(levelOf('320508')).toBe('district')
  })

  it('builds the breadcrumb path from the district down', () => {
    expect(drillPath(null)).toEqual([])
    expect(drillPath('310101')).toEqual(['310101'])
    expect(drillPath('310101002')).toEqual(['310101', '310101002'])
    expect(drillPath('310101002001')).toEqual(['310101', '310101002', '310101002001'])
    expect(drillPath('31010100200101')).toEqual(['310101', '310101002', '310101002001', '31010100200101'])
    expect(drillPath('310000')).toEqual([])
  })

  it('picks the layer, overlay and colouring stats for each level', () => {
    expect(mapLayerFor(null)).toEqual({ base: { level: 'district' }, overlay: null, statsArea: undefined, selected: null })
    expect(mapLayerFor('310101')).toEqual({ base: { level: 'street', parent: '310101' }, overlay: null, statsArea: '310101', selected: null })
    expect(mapLayerFor('310101002')).toEqual({
      base: { level: 'community', parent: '310101002' }, overlay: { level: 'grid', parent: '310101002' }, statsArea: '310101002', selected: null,
    })
    // a community stays on its street's layer, selected
    expect(mapLayerFor('310101002001')).toMatchObject({ base: { level: 'community', parent: '310101002' }, statsArea: '310101002', selected: '310101002001' })
  })

  it('gives each layer query its own key', () => {
    expect(layerKey({ level: 'district' })).toBe('district')
    expect(layerKey({ level: 'street', parent: '310101' })).toBe('street:310101')
    expect(layerKey({ level: 'grid', parent: '310101002' })).toBe('grid:310101002')
    expect(layerKey({ level: 'grid', bbox: [121.1, 31.2, 121.2, 31.3] })).toBe('grid@121.1000,31.2000,121.2000,31.3000')
    expect(layerKey({ level: 'community', parent: '310101002' })).not.toBe(layerKey({ level: 'grid', parent: '310101002' }))
  })
})

describe('layer cache', () => {
  it('fetches a key once, sharing the request in flight', async () => {
    const fetcher = vi.fn(async () => fc(square('310101002', '南京东路街道')))
    const cache = new LayerCache(fetcher)
    const q = { level: 'street' as const, parent: '310101' }
    const [a, b] = await Promise.all([cache.get(q), cache.get(q)])
    expect(a).toBe(b)
    expect(await cache.get({ ...q })).toBe(a)
    expect(fetcher).toHaveBeenCalledTimes(1)
    await cache.get({ level: 'street', parent: '310104' })
    expect(fetcher).toHaveBeenCalledTimes(2)
  })

  it('forgets failures so the next draw asks again', async () => {
    let n = 0
    const cache = new LayerCache(async () => {
      if (n++ === 0) throw new Error('boom')
      return fc()
    })
    const q = { level: 'district' as const }
    await expect(cache.get(q)).rejects.toThrow('boom')
    expect(cache.has(q)).toBe(false)
    await expect(cache.get(q)).resolves.toEqual(fc())
    expect(cache.has(q)).toBe(true)
  })

  it('keeps at most `limit` layers, dropping the least recently used', async () => {
    const cache = new LayerCache(async () => fc(), 2)
    await cache.get({ level: 'street', parent: 'a' })
    await cache.get({ level: 'street', parent: 'b' })
    await cache.get({ level: 'street', parent: 'a' })
    await cache.get({ level: 'street', parent: 'c' })
    expect(cache.size).toBe(2)
    expect(cache.has({ level: 'street', parent: 'a' })).toBe(true)
    expect(cache.has({ level: 'street', parent: 'b' })).toBe(false)
  })

  it('names unnamed grid features by their code (ECharts keys regions by name)', () => {
    const g = named(fc(square('31010100200101', null), square('310101002001', '云南中路居委会')))
    expect(g.features.map((f) => f.properties.name)).toEqual(['31010100200101', '云南中路居委会'])
    const already = fc(square('1', 'x'))
    expect(named(already)).toBe(already)
  })

  it('turns outer rings into polyline data', () => {
    const multi: GeoCollection['features'][number] = {
      type: 'Feature', properties: { code: 'm', name: 'm' },
      geometry: { type: 'MultiPolygon', coordinates: [square('a', 'a').geometry.coordinates as number[][][], square('b', 'b', 122).geometry.coordinates as number[][][]] },
    }
    const lines = outlineLines(fc(square('a', 'a'), multi))
    expect(lines).toHaveLength(3)
    expect(lines[2].coords[0]).toEqual([122, 31])
    expect(outlineLines(null)).toEqual([])
  })
})

describe('geo API', () => {
  it('asks for a layer by level and parent, with no Authorization header', async () => {
    const f = mockFetch(jsonResponse(200, fc()))
    await api.geoLayer({ level: 'grid', parent: '310101002' })
    const [url, init] = f.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/geo/areas?level=grid&parent=310101002')
    expect((init.headers as Record<string, string>).authorization).toBeUndefined()
  })

  it('locates a point and names it largest first', async () => {
    const body = {
      location: { lon: 121.4837, lat: 31.2369 }, unit_grid: '31010101701007', responsibility_grid: 'R310101017003',
      community: { code: '310101017010', name: '天灯居委会' }, street: { code: '310101017', name: '小东门街道' },
      district: { code: '310101', name: '黄浦区' },
    }
    const f = mockFetch(jsonResponse(200, body))
    const l = await publicApi.locate(121.4837, 31.2369)
    expect((f.mock.calls[0] as unknown as [string])[0]).toBe('/api/v1/geo/locate?lon=121.4837&lat=31.2369')
    expect(locatedNames(l)).toBe('黄浦区 小东门街道 天灯居委会')
    expect(locatedNames({ ...l, community: { code: '310101017010', name: null } })).toBe('黄浦区 小东门街道')
    expect(locatedNames(null)).toBe('')
  })

  it('reports a point outside the city as a location error', async () => {
    mockFetch(jsonResponse(422, { error: { code: 'invalid_input', message: 'this point is outside the city', field: 'location' } }))
    await expect(publicApi.locate(100, 31)).rejects.toMatchObject({ status: 422, field: 'location' })
  })
})
