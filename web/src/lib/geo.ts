// A small equirectangular projection for drawing GeoJSON areas as SVG (no map library).
import type { GeoCollection } from '../api/types'

export interface Projection {
  width: number
  height: number
  project: (lon: number, lat: number) => [number, number]
  invert: (x: number, y: number) => [number, number]
}

function rings(geometry: GeoCollection['features'][number]['geometry']): number[][][] {
  return geometry.type === 'Polygon'
    ? (geometry.coordinates as number[][][])
    : (geometry.coordinates as number[][][][]).flat()
}

export function fitProjection(geo: GeoCollection, width: number): Projection {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity
  for (const f of geo.features)
    for (const r of rings(f.geometry))
      for (const [x, y] of r) {
        if (x < minX) minX = x
        if (x > maxX) maxX = x
        if (y < minY) minY = y
        if (y > maxY) maxY = y
      }
  const k = Math.cos((((minY + maxY) / 2) * Math.PI) / 180)
  const pad = 6
  const scale = (width - 2 * pad) / ((maxX - minX) * k)
  const height = Math.ceil((maxY - minY) * scale + 2 * pad)
  return {
    width,
    height,
    project: (lon, lat) => [pad + (lon - minX) * k * scale, pad + (maxY - lat) * scale],
    invert: (x, y) => [minX + (x - pad) / (k * scale), maxY - (y - pad) / scale],
  }
}

export function pathOf(geometry: GeoCollection['features'][number]['geometry'], p: Projection): string {
  return rings(geometry)
    .map((r) => r.map(([x, y], i) => {
      const [px, py] = p.project(x, y)
      return `${i ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`
    }).join('') + 'Z')
    .join('')
}

/** Ray casting: is the point inside the feature's polygon(s)? */
export function contains(geometry: GeoCollection['features'][number]['geometry'], lon: number, lat: number): boolean {
  const polys = geometry.type === 'Polygon'
    ? [geometry.coordinates as number[][][]]
    : (geometry.coordinates as number[][][][])
  return polys.some((poly) => {
    let inside = false
    poly.forEach((ring, ri) => {
      let hit = false
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i]
        const [xj, yj] = ring[j]
        if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) hit = !hit
      }
      if (hit) inside = ri === 0 ? true : false
    })
    return inside
  })
}
