// Devices on the administration page: the register form's body, checked as the server checks a
// device, a refusal's field, the list's filters and the lookup of an id not loaded yet.
import { describe, expect, it } from 'vitest'
import type { Device } from '../src/api/types'
import {
  deviceBody, deviceFieldOf, deviceFiltersOf, deviceFormOf, deviceKinds, deviceQuery, devicesFileName, emptyDeviceFilters, emptyDeviceForm, lookupId,
  matchesDevice, numberOf, type DeviceForm,
} from '../src/lib/devices'

const gauge: Device = {
  id: 'HP-WL-0001', kind: 'water_level_gauge', name: '外滩陈毅广场积水监测点', location: { lon: 121.4901, lat: 31.2402 },
  area: '310101002001', unit_grid: '31010100200101', component_id: null, owner_unit: null, status: 'active',
}

const form = (over: Partial<DeviceForm> = {}): DeviceForm => ({
  ...emptyDeviceForm(), id: 'HP-WL-0001', kind: 'water_level_gauge', name: '外滩积水监测点', lon: '121.4901', lat: '31.2402', ...over,
})

describe('the register form', () => {
  it('sends what was typed, the optional fields only when given', () => {
    expect(deviceBody(form())).toEqual({
      body: { id: 'HP-WL-0001', kind: 'water_level_gauge', name: '外滩积水监测点', location: { lon: 121.4901, lat: 31.2402 }, status: 'active' },
      problems: {},
    })
    expect(deviceBody(form({ area: ' 310101002001 ', component_id: '3101010101000001', owner_unit: '310101-SWJ', status: 'maintenance' })).body)
      .toMatchObject({ area: '310101002001', component_id: '3101010101000001', owner_unit: '310101-SWJ', status: 'maintenance' })
  })

  it('checks the fields as the server does', () => {
    expect(deviceBody(emptyDeviceForm()).problems).toEqual({ id: 'required', kind: 'required', name: 'required', lon: 'required', lat: 'required' })
    expect(deviceBody(form({ id: 'HP WL' })).problems).toEqual({ id: 'deviceId' })
    expect(deviceBody(form({ kind: 'Water-Gauge' })).problems).toEqual({ kind: 'metricKey' })
    expect(deviceBody(form({ name: '点'.repeat(101) })).problems).toEqual({ name: 'long' })
    expect(deviceBody(form({ lon: '221.49' })).problems).toEqual({ lon: 'lon' })
    expect(deviceBody(form({ lat: 'north' })).problems).toEqual({ lat: 'lat' })
    expect(deviceBody(form({ area: '3101' })).problems).toEqual({ area: 'area' })
    expect(deviceBody(form({ component_id: '12345' })).problems).toEqual({ component_id: 'componentId' })
  })

  it('reads a device back for a change', () => {
    expect(deviceBody(deviceFormOf(gauge)).body).toEqual({
      id: gauge.id, kind: gauge.kind, name: gauge.name, location: gauge.location, area: gauge.area, status: 'active',
    })
  })

  it('names the field a refusal is about', () => {
    expect(deviceFieldOf('location')).toBe('location')
    expect(deviceFieldOf('location.lon')).toBe('lon')
    expect(deviceFieldOf('owner_unit')).toBe('owner_unit')
    expect(deviceFieldOf('line 3: lon')).toBe(null)
    expect(deviceFieldOf(undefined)).toBe(null)
  })

  it('reads numbers as typed', () => {
    expect(numberOf(' 30 ')).toBe(30)
    expect(numberOf('-2.5')).toBe(-2.5)
    expect(numberOf('.5')).toBe(0.5)
    expect(numberOf('1e3')).toBe(1000)
    for (const bad of ['', '30cm', '0x10', 'Infinity', '1e999', '--1']) expect(numberOf(bad)).toBe(null)
  })
})

describe('the device list', () => {
  const devices: Device[] = [
    gauge,
    { ...gauge, id: 'SIM-0105-0000001', name: '积水监测点1', area: '310105001002', status: 'maintenance' },
    { ...gauge, id: 'SIM-0101-0000047', kind: 'flow_meter', name: '供水管网流量计47', area: '310101002003' },
  ]

  it('narrows by area, status and text', () => {
    const pick = (over: Partial<ReturnType<typeof emptyDeviceFilters>>) => devices.filter((d) => matchesDevice(d, { ...emptyDeviceFilters(), ...over })).map((d) => d.id)
    expect(pick({})).toHaveLength(3)
    expect(pick({ area: '310101' })).toEqual(['HP-WL-0001', 'SIM-0101-0000047'])
    expect(pick({ status: 'maintenance' })).toEqual(['SIM-0105-0000001'])
    expect(pick({ q: 'hp-wl' })).toEqual(['HP-WL-0001'])
    expect(pick({ q: '流量计' })).toEqual(['SIM-0101-0000047'])
    expect(pick({ kind: 'flow_meter' })).toEqual(['SIM-0101-0000047'])
  })

  it('keeps its filters in the address, dropping what it does not know', () => {
    const f = { kind: 'water_level_gauge', area: '310101', status: 'retired' as const, q: ' HP ' }
    expect(deviceQuery(f)).toEqual({ kind: 'water_level_gauge', area: '310101', status: 'retired', q: 'HP' })
    expect(deviceFiltersOf(deviceQuery(f))).toEqual({ ...f, q: 'HP' })
    expect(deviceFiltersOf({ kind: 'Bad Kind', area: '31', status: 'broken', q: ['x'] })).toEqual(emptyDeviceFilters())
  })

  it('looks a complete id up on its own when no device loaded matches it', () => {
    expect(lookupId('HP-WL-0002', devices)).toBe('HP-WL-0002')
    expect(lookupId(' HP-WL-0002 ', devices)).toBe('HP-WL-0002')
    expect(lookupId('HP-WL', devices)).toBe(null)
    expect(lookupId('积水', devices)).toBe(null)
    expect(lookupId('two words', devices)).toBe(null)
    expect(lookupId('', devices)).toBe(null)
  })

  it('lists the types seen, and names the export by the day', () => {
    expect(deviceKinds(devices, 'air_station')).toEqual(['air_station', 'flow_meter', 'water_level_gauge'])
    expect(devicesFileName(new Date('2026-12-05T17:00:00Z'))).toBe('devices-2026-12-06.csv')
  })
})
