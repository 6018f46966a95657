// Map layers of the city screen and the case map: which GeoJSON a drill-down level shows,
// the cache key of each fetched layer, the breadcrumb path of an area code.
import type { AreaLevel, GeoCollection, GeoFeature, GeometryLevel, Located } from '../api/types'
import { areaLevel, communityOf, districtOf, isUnitGrid, streetOf } from './areaCode'

/** Where a drill-down stands: an area's level, or a unit grid. */
export type Level = AreaLevel | 'grid'

/** The drill-down level of a code: an area's level, `grid` for a unit grid, `city` (the top) for none or anything else. */
export function levelOf(code: string | null | undefined): Level {
  if (isUnitGrid(code)) return 'grid'
  return areaLevel(code) ?? 'city'
}

/** 上海市 > 区 > 街道 (> 居委会): the codes from the district down to `code` (the city is the empty path). */
export function drillPath(code: string | null | undefined): string[] {
  if (levelOf(code) === 'city' || !code) return []
  const path = [districtOf(code), streetOf(code), communityOf(code), isUnitGrid(code) ? code : null]
  return path.filter((c): c is string => !!c)
}

export interface LayerQuery { level: GeometryLevel; parent?: string; bbox?: [number, number, number, number] }

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
  const street = streetOf(area)!
  return {
    base: { level: 'community', parent: street },
    overlay: { level: 'grid', parent: street },
    statsArea: street,
    selected: communityOf(area),
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
