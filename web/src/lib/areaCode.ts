// The rules of area codes, the one place the UI knows them. They agree with the server's
// `AreaCode` (crates/cityops-domain/src/area.rs), and tests/areaCode.test.ts checks them on the
// cases its tests use: the national statistical division codes, 6 digits for a county-level
// district or a city, 9 for a street or town, 12 for a community. A city is `XX0000`, or a
// prefecture-level city `XXYY00` outside the four municipalities (Beijing 11, Tianjin 12,
// Shanghai 31, Chongqing 50), whose districts hang directly under `XX0000`.
//
// Unit grids (单元网格) are not areas: their 14-digit codes extend their community's code, so
// `contains` holds for them too, and `isUnitGrid` names them.

import type { AreaLevel } from '../api/types'

export type { AreaLevel }

const AREA_CODE = /^(?:\d{6}|\d{9}|\d{12})$/
const UNIT_GRID = /^\d{14}$/

/** 6, 9 or 12 digits: a city or district, a street or town, a community. */
export function isAreaCode(text: string | null | undefined): text is string {
  return typeof text === 'string' && AREA_CODE.test(text)
}

/** A 14-digit unit grid code (its first 12 digits are its community). */
export function isUnitGrid(text: string | null | undefined): text is string {
  return typeof text === 'string' && UNIT_GRID.test(text)
}

function municipality(code: string): boolean {
  return ['11', '12', '31', '50'].includes(code.slice(0, 2))
}

/** The level of an area code, or null when `code` is not one. */
export function areaLevel(code: string | null | undefined): AreaLevel | null {
  if (!isAreaCode(code)) return null
  switch (code.length) {
    case 6:
      if (code.endsWith('0000') || (code.endsWith('00') && !municipality(code))) return 'city'
      return 'district'
    case 9:
      return 'street'
    default:
      return 'community'
  }
}

export function isCity(code: string | null | undefined): boolean {
  return areaLevel(code) === 'city'
}

/** The city of any area (or unit grid): `XX0000` for a municipality, else the prefecture `XXYY00`. */
export function cityOf(code: string): string {
  if (municipality(code) || code.slice(2, 6) === '0000') return `${code.slice(0, 2)}0000`
  return `${code.slice(0, 4)}00`
}

/** The county-level district an area (or unit grid) lies in; a city has none. */
export function districtOf(code: string | null | undefined): string | null {
  if (isUnitGrid(code)) return code.slice(0, 6)
  const level = areaLevel(code)
  return level && level !== 'city' ? code!.slice(0, 6) : null
}

/** The 9-digit street or town of a street, a community or a unit grid. */
export function streetOf(code: string | null | undefined): string | null {
  if (isUnitGrid(code)) return code.slice(0, 9)
  const level = areaLevel(code)
  return level === 'street' || level === 'community' ? code!.slice(0, 9) : null
}

/** The 12-digit community of a community or a unit grid. */
export function communityOf(code: string | null | undefined): string | null {
  return isUnitGrid(code) || areaLevel(code) === 'community' ? code!.slice(0, 12) : null
}

/** The parent in the tree the code itself implies: a district's city, a street's district, a community's street. */
export function parentOf(code: string | null | undefined): string | null {
  switch (areaLevel(code)) {
    case 'district':
      return cityOf(code!)
    case 'street':
      return code!.slice(0, 6)
    case 'community':
      return code!.slice(0, 9)
    default:
      return null
  }
}

/** The code prefix every area of the subtree shares (`31` for Shanghai, `3205` for Suzhou, the code itself below). */
export function subtreePrefix(code: string): string {
  if (areaLevel(code) !== 'city') return code
  return code.endsWith('0000') ? code.slice(0, 2) : code.slice(0, 4)
}

/** Does `code` lie in the subtree rooted at `area` (an area contains itself)? */
export function contains(area: string, code: string): boolean {
  return code.startsWith(subtreePrefix(area))
}

/** The area at `level` that `code` lies in (itself at its own level), or null when there is none. */
export function ancestorAt(code: string, level: AreaLevel): string | null {
  switch (level) {
    case 'city':
      return isAreaCode(code) || isUnitGrid(code) ? cityOf(code) : null
    case 'district':
      return districtOf(code)
    case 'street':
      return streetOf(code)
    case 'community':
      return communityOf(code)
  }
}

const BELOW: Record<AreaLevel, AreaLevel | null> = { city: 'district', district: 'street', street: 'community', community: null }

/** The level of an area's direct children (a city's districts, a district's streets, ...); null below a community. */
export function childLevel(level: AreaLevel | null): AreaLevel | null {
  return level ? BELOW[level] : null
}

/** The direct child of `parent` that `code` lies in (e.g. the community of an alarm, under a street), or null. */
export function childOf(parent: string, code: string): string | null {
  const level = childLevel(areaLevel(parent))
  if (!level || !contains(parent, code)) return null
  return ancestorAt(code, level)
}

/** Is `code` a direct child of `parent` (a district of the city, a street of a district, ...)? */
export function isDirectChild(code: string, parent: string): boolean {
  return parentOf(code) === parent
}

/** Does `code` lie within `scope` (itself or below)? No scope: everything does. */
export function within(code: string, scope: string | null | undefined): boolean {
  return !scope || contains(scope, code)
}
