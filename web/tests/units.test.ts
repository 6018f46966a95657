import { describe, expect, it } from 'vitest'
import type { Unit } from '../src/api/types'
import {
  contactEdit, emptyForm, formOf, matchesText, mayEditUnits, mayRevealContacts, reasonOk, successorCandidates, unitBody,
  unitQuery, unitsFileName,
} from '../src/lib/units'

const unit = (over: Partial<Unit> = {}): Unit => ({
  code: '310101-ZLS', name: '黄浦区自来水公司', kind: 'water_supply', organization: 'public_utility', jurisdiction: '310101',
  district: '310101', parent: null, active: true, retired_at: null, successor: null,
  duty_phone: '139****1111', contact_name: '张*', contact_phone: '138****2222', ...over,
})

describe('the units page', () => {
  it('lets the roles the server answers read contacts, and only admins write', () => {
    for (const role of ['admin', 'dispatcher', 'shift_lead', 'operator', 'center_leader'] as const) expect(mayRevealContacts(role)).toBe(true)
    for (const role of ['inspector', 'unit_handler', 'auditor', 'evaluator', 'data_steward'] as const) expect(mayRevealContacts(role)).toBe(false)
    expect(mayRevealContacts(null)).toBe(false)
    expect(mayEditUnits('admin')).toBe(true)
    expect(mayEditUnits('dispatcher')).toBe(false)
  })

  it('filters by name or code, ignoring case and spaces', () => {
    expect(matchesText(unit(), ' zls ')).toBe(true)
    expect(matchesText(unit(), '自来水')).toBe(true)
    expect(matchesText(unit(), '燃气')).toBe(false)
    expect(matchesText(unit(), '')).toBe(true)
  })

  it('asks the server with the filters given, the street before its district, active by default', () => {
    const base = { organization: '', kind: '', district: '', street: '', status: 'active' } as const
    expect(unitQuery(base)).toEqual({})
    expect(unitQuery({ ...base, district: '310101', street: '310101002', kind: 'gas', status: 'all' }))
      .toEqual({ kind: 'gas', within: '310101002', status: 'all' })
    expect(unitQuery({ ...base, organization: 'contractor', district: '310101' })).toEqual({ organization: 'contractor', within: '310101' })
  })

  it('reads a masked contact left alone as kept, emptied as removed, retyped as replaced', () => {
    expect(contactEdit('139****1111', '139****1111')).toEqual({ kind: 'keep' })
    expect(contactEdit(null, '')).toEqual({ kind: 'keep' })
    expect(contactEdit('139****1111', '')).toEqual({ kind: 'remove' })
    expect(contactEdit('139****1111', '13900002222')).toEqual({ kind: 'set', value: '13900002222' })
    expect(contactEdit('139****1111', '139****1112')).toEqual({ kind: 'partial' })
    expect(contactEdit(null, ' 021-63210000 ')).toEqual({ kind: 'set', value: '021-63210000' })
  })

  it('builds a new unit from the form, leaving out what is not given', () => {
    const form = { ...emptyForm(), code: ' E2E-YH ', name: '黄浦养护', organization: 'contractor' as const, kind: 'other' as const, jurisdiction: '310101', duty_phone: '13900001111' }
    expect(unitBody(form)).toEqual({
      body: { code: 'E2E-YH', name: '黄浦养护', organization: 'contractor', kind: 'other', jurisdiction: '310101', duty_phone: '13900001111' },
      problems: {},
    })
    expect(unitBody({ ...emptyForm(), code: 'a b', jurisdiction: '3101' })).toEqual({
      body: null, problems: { code: 'code', name: 'required', organization: 'required', jurisdiction: 'area' },
    })
    expect(unitBody({ ...form, name: '长'.repeat(101) }).problems).toEqual({ name: 'long' })
  })

  it('sends a change without the code, with only the contacts changed', () => {
    const u = unit()
    const form = { ...formOf(u), name: '黄浦自来水', duty_phone: '', contact_phone: '13700003333' }
    expect(unitBody(form, u)).toEqual({
      body: { name: '黄浦自来水', organization: 'public_utility', kind: 'water_supply', jurisdiction: '310101', duty_phone: '', contact_phone: '13700003333' },
      problems: {},
    })
    expect(unitBody({ ...formOf(u), contact_phone: '138****2223' }, u).problems).toEqual({ contact_phone: 'masked' })
  })

  it('takes reasons of 1 to 500 characters', () => {
    expect(reasonOk('  ')).toBe(false)
    expect(reasonOk('合同到期')).toBe(true)
    expect(reasonOk('因'.repeat(500))).toBe(true)
    expect(reasonOk('因'.repeat(501))).toBe(false)
  })

  it('offers active units covering its jurisdiction as successors, the same district and line of work first', () => {
    const retiring = unit({ code: 'E2E-YH', kind: 'other', organization: 'contractor', jurisdiction: '310101002' })
    const list = [
      unit({ code: 'C-310000', district: null, kind: 'city_center', jurisdiction: '310000' }),
      unit({ code: 'B-SAME', kind: 'other' }),
      unit({ code: 'A-DISTRICT', kind: 'gas' }),
      unit({ code: 'C-RETIRED', kind: 'other', active: false }),
      unit({ code: 'D-STREET', kind: 'street_office', jurisdiction: '310101002' }),
      unit({ code: 'E-OTHER-STREET', kind: 'other', jurisdiction: '310101013' }),
      unit({ code: 'Y-ELSE', district: '310104', kind: 'other', jurisdiction: '310104' }),
      retiring,
    ]
    expect(successorCandidates(list, retiring).map((u) => u.code)).toEqual(['B-SAME', 'A-DISTRICT', 'D-STREET', 'C-310000'])
  })

  it('names the export by the day in Shanghai', () => {
    expect(unitsFileName(new Date('2026-05-31T23:30:00Z'))).toBe('units-2026-06-01.csv')
  })
})
