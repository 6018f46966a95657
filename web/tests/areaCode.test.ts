import { describe, expect, it } from 'vitest'
import {
  ancestorAt, areaLevel, childOf, cityOf, communityOf, contains, districtOf, isAreaCode, isCity, isDirectChild, isUnitGrid,
  parentOf, streetOf, subtreePrefix, within,
} from '../src/lib/areaCode'

// The first four blocks are the cases of the Rust `AreaCode` tests (crates/cityops-domain/src/area.rs),
// so the UI and the server read codes alike.
describe('area codes, as the server reads them', () => {
  it('levels and parents follow the code', () => {
    expect(areaLevel('310000')).toBe('city')
    expect(areaLevel('310101')).toBe('district')
    expect(parentOf('310101002')).toBe('310101')
    expect(streetOf('310101002001')).toBe('310101002')
    expect(parentOf('310101')).toBe('310000')
  })

  it('a city contains its districts and a district only its own streets', () => {
    expect(contains('310000', '310115001001')).toBe(true)
    expect(contains('310000', '320508')).toBe(false)
    expect(contains('310101', '310101002')).toBe(true)
    expect(contains('310101', '310104002')).toBe(false)
  })

  it('area codes reject other lengths and letters', () => {
    expect(isAreaCode('3101')).toBe(false)
    expect(isAreaCode('31010a')).toBe(false)
    expect(areaLevel('3101')).toBeNull()
    expect(areaLevel('31010a')).toBeNull()
  })

  it('a prefecture city holds its districts', () => {
    expect(areaLevel('320500')).toBe('city')
    expect(areaLevel('320508')).toBe('district')
    expect(parentOf('320508')).toBe('320500')
    expect(contains('320500', '320508001')).toBe(true)
    expect(contains('320500', '320102')).toBe(false)
    expect(cityOf('320508001')).toBe('320500')
    // Shanghai is a municipality: 310100 would be a district-level code under 310000.
    expect(parentOf('310101')).toBe('310000')
  })
})

describe('area codes in the UI', () => {
  it('the four municipalities have no prefecture level', () => {
    for (const [district, city] of [['110105', '110000'], ['120101', '120000'], ['310100', '310000'], ['500101', '500000']]) {
      expect(areaLevel(district), district).toBe('district')
      expect(parentOf(district), district).toBe(city)
      expect(cityOf(`${district}001001`), district).toBe(city)
    }
    expect(isCity('310000')).toBe(true)
    expect(isCity('310100')).toBe(false)
  })

  it('every level has its district, street and community, and a city none', () => {
    expect(districtOf('310000')).toBeNull()
    expect(districtOf('310101')).toBe('310101')
    expect(districtOf('310101002001')).toBe('310101')
    expect(streetOf('310101')).toBeNull()
    expect(streetOf('310101002')).toBe('310101002')
    expect(communityOf('310101002')).toBeNull()
    expect(communityOf('310101002001')).toBe('310101002001')
    expect(parentOf('310000')).toBeNull()
    expect(parentOf('320500')).toBeNull()
    expect(parentOf('bogus')).toBeNull()
  })

  it('a unit grid is no area but lies in its community', () => {
    const grid = '31010100200101'
    expect(isUnitGrid(grid)).toBe(true)
    expect(isAreaCode(grid)).toBe(false)
    expect(areaLevel(grid)).toBeNull()
    expect(communityOf(grid)).toBe('310101002001')
    expect(streetOf(grid)).toBe('310101002')
    expect(districtOf(grid)).toBe('310101')
    expect(cityOf(grid)).toBe('310000')
    expect(contains('310101002001', grid)).toBe(true)
  })

  it('the subtree prefix is the province of a municipality, the prefecture of a city, the code below', () => {
    expect(subtreePrefix('310000')).toBe('31')
    expect(subtreePrefix('320500')).toBe('3205')
    expect(subtreePrefix('310101')).toBe('310101')
    expect(subtreePrefix('310101002')).toBe('310101002')
  })

  it('direct children are one level down and in the subtree', () => {
    expect(isDirectChild('310101', '310000')).toBe(true)
    expect(isDirectChild('310101002', '310101')).toBe(true)
    expect(isDirectChild('310101002001', '310101002')).toBe(true)
    expect(isDirectChild('310101002001', '310101')).toBe(false)
    expect(isDirectChild('310000', '310000')).toBe(false)
    expect(isDirectChild('310101002', '310000')).toBe(false)
    expect(isDirectChild('310104002', '310101')).toBe(false)
    expect(isDirectChild('320508', '320500')).toBe(true)
    expect(isDirectChild('320508', '320000')).toBe(false)
  })

  it('the child an area lies in is found one level below the parent', () => {
    expect(childOf('310000', '310115001001')).toBe('310115')
    expect(childOf('310101', '310101002001')).toBe('310101002')
    expect(childOf('310101002', '310101002001')).toBe('310101002001')
    expect(childOf('310101002', '31010100200101')).toBe('310101002001')
    expect(childOf('320500', '320508001')).toBe('320508')
    expect(childOf('310101', '310104002')).toBeNull()
    expect(childOf('310101002001', '31010100200101')).toBeNull()
    expect(ancestorAt('310101002001', 'city')).toBe('310000')
    expect(ancestorAt('310101', 'street')).toBeNull()
  })

  it('no scope holds everything; a scope holds its subtree', () => {
    expect(within('320508001', null)).toBe(true)
    expect(within('310101002', '310000')).toBe(true)
    expect(within('320508001', '310000')).toBe(false)
    expect(within('310104002', '310101')).toBe(false)
    expect(within('310101002001', '310104')).toBe(false)
  })
})
