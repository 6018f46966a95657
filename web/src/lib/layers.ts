// Map layers of the city screen and the case map: which GeoJSON a drill-down level shows,
// the cache key of each fetched layer, the breadcrumb path of an area code.
import type { GeoCollection, GeoFeature, Located } from '../api/types'

export type Level = 'city' | 'district' | 'street' | 'community' | 'grid'

/** The level of an area code by its length (district 6, street 9, community 12, grid 14 digits). */
export function levelOf(code: string | null | undefined): Level {
  if (!code) return 'city'
  switch (code.length) {
    case 6: return 'district'
    case 9: return 'street'
    case 12: return 'community'
    case 14: return 'grid'
    default: return 'city'
  }
}

/** 上海市 > 区 > 街道 (> 居委会): the codes from the district down to `code` (the city is the empty path). */
export function drillPath(code: string | null | undefined): string[] {
  const lv = levelOf(code)
  if (lv === 'city' || !code) return []
  const out = [code.slice(0, 6)]
  if (lv !== 'district') out.push(code.slice(0, 9))
  if (lv === 'community' || lv === 'grid') out.push(code.slice(0, 12))
  if (lv === 'grid') out.push(code)
  return out
}

export interface LayerQuery { level: Exclude<Level, 'city'>; parent?: string; bbox?: [number, number, number, number] }

/** The cache and registerMap key of a layer query, e.g. `district`, `street:310101`, `grid:310101002`. */
export function layerKey(q: LayerQuery): string {
  if (q.parent) return `${q.level}:${q.parent}`
  if (q.bbox) return `${q.level}@${q.bbox.map((v) => v.toFixed(4)).join(',')}`
  return q.level
}

/**
 * What the map shows for the selected area:
 * city → the 16 districts; district → its streets; street → its communities with the street's unit grids
 * outlined; community → its street's communities (the community selected).
 * `statsArea` is the area whose stats `by_child` colour the layer (undefined = the city).
 */
export interface MapLayer { base: LayerQuery; overlay: LayerQuery | null; statsArea: string | undefined; selected: string | null }
export function mapLayerFor(area: string | null | undefined): MapLayer {
  const lv = levelOf(area)
  if (lv === 'city' || !area) return { base: { level: 'district' }, overlay: null, statsArea: undefined, selected: null }
  if (lv === 'district') return { base: { level: 'street', parent: area }, overlay: null, statsArea: area, selected: null }
  const street = area.slice(0, 9)
  return {
    base: { level: 'community', parent: street },
    overlay: { level: 'grid', parent: street },
    statsArea: street,
    selected: lv === 'street' ? null : area.slice(0, 12),
  }
}

/** Fetched layers by key; concurrent requests for one key share a promise, failures are not kept. */
export class LayerCache {
  private entries = new Map<string, Promise<GeoCollection>>()
  constructor(private fetcher: (q: LayerQuery) => Promise<GeoCollection>, private limit = 40) {}

  get(q: LayerQuery): Promise<GeoCollection> {
    const key = layerKey(q)
    let p = this.entries.get(key)
    if (p) {
      // most recently used last
      this.entries.delete(key)
      this.entries.set(key, p)
      return p
    }
    p = this.fetcher(q).then(named)
    this.entries.set(key, p)
    p.catch(() => {
      if (this.entries.get(key) === p) this.entries.delete(key)
    })
    while (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value as string)
    return p
  }
  has(q: LayerQuery): boolean {
    return this.entries.has(layerKey(q))
  }
  get size() {
    return this.entries.size
  }
}

/** Give unnamed features (unit grids) their code as name: ECharts keys regions by name. */
export function named(geo: GeoCollection): GeoCollection {
  if (geo.features.every((f) => typeof f.properties.name === 'string' && f.properties.name)) return geo
  return {
    ...geo,
    features: geo.features.map((f) =>
      typeof f.properties.name === 'string' && f.properties.name ? f : { ...f, properties: { ...f.properties, name: f.properties.code } }),
  }
}

/** Outer rings of a feature, for drawing outlines as polylines. */
export function outerRings(f: Pick<GeoFeature, 'geometry'>): number[][][] {
  const g = f.geometry
  if (g.type === 'Polygon') return [(g.coordinates as number[][][])[0]]
  return (g.coordinates as number[][][][]).map((p) => p[0])
}

/** ECharts `lines` data (polyline coords) for the outlines of a collection. */
export function outlineLines(geo: GeoCollection | null | undefined): { coords: number[][] }[] {
  if (!geo) return []
  return geo.features.flatMap((f) => outerRings(f).map((coords) => ({ coords })))
}

/** "黄浦区 南京东路街道 XX居委会": the names of a located point, largest first. */
export function locatedNames(l: Located | null | undefined): string {
  if (!l) return ''
  return [l.district?.name, l.street?.name, l.community?.name].filter(Boolean).join(' ')
}
