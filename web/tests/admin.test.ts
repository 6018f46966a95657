import { describe, expect, it } from 'vitest'
import type { Account, ApiKey } from '../src/api/types'
import {
  accountActions, accountFormOf, apiKeyBody, emptyAccountForm, emptyApiKeyForm, endsSessions, fieldOf, isLocked, keyStatus, mayAdminister,
  newUserBody, passwordProblem, passwordRules, sectionOf, sortKeys, userChange, userQuery,
} from '../src/lib/admin'

const account = (over: Partial<Account> = {}): Account => ({
  username: 'hp.op', display_name: '黄浦受理员', role: 'operator', scope: '310101', unit: null, disabled: false,
  created_at: '2026-12-01T00:00:00Z', second_factor: 'none', failed_sign_ins: 0, locked_until: null, ...over,
})

const key = (over: Partial<ApiKey> = {}): ApiKey => ({
  id: 'k1', name: 'gw-1', role: 'operator', scope: '310101', unit: null, permissions: ['read'], created_by: 'admin',
  created_at: '2026-12-01T00:00:00Z', expires_at: null, revoked_at: null, ...over,
})

describe('the administration page', () => {
  it('is for admins only, its sections named in the address', () => {
    expect(mayAdminister('admin')).toBe(true)
    for (const role of ['operator', 'auditor', 'data_steward', null, undefined] as const) expect(mayAdminister(role)).toBe(false)
    expect(sectionOf(undefined)).toBe('users')
    expect(sectionOf('')).toBe('users')
    expect(sectionOf('api-keys')).toBe('api-keys')
    expect(sectionOf('grids')).toBe('grids')
    expect(sectionOf(['users'])).toBe('users')
    expect(sectionOf('units')).toBe(null)
  })
})

describe('password rules, as the server checks them', () => {
  it('wants 8 to 128 characters, counting characters rather than bytes', () => {
    expect(passwordRules('hp.op', 'ab1').length).toBe(false)
    expect(passwordRules('hp.op', 'abcdef12').length).toBe(true)
    expect(passwordRules('hp.op', '密码密码密码12').length).toBe(true)
    expect(passwordRules('hp.op', 'a1'.repeat(64)).length).toBe(true)
    expect(passwordRules('hp.op', 'a1'.repeat(64) + 'x').length).toBe(false)
  })

  it('wants two kinds among letters (of any script), digits and others', () => {
    expect(passwordRules('x', 'abcdefgh').kinds).toBe(false)
    expect(passwordRules('x', '12345678').kinds).toBe(false)
    expect(passwordRules('x', '!@#$%^&*').kinds).toBe(false)
    expect(passwordRules('x', 'abcdefg1').kinds).toBe(true)
    expect(passwordRules('x', 'abcdefg!').kinds).toBe(true)
    expect(passwordRules('x', '1234567-').kinds).toBe(true)
    expect(passwordRules('x', '城市运行管理2026').kinds).toBe(true)
    // a space is another kind
    expect(passwordRules('x', 'correct horse').kinds).toBe(true)
  })

  it('refuses the username inside, ignoring case, for usernames of 3 characters or more', () => {
    expect(passwordRules('hp.op', 'my-HP.OP-2026').username).toBe(false)
    expect(passwordRules(' hp.op ', 'xxhp.op99').username).toBe(false)
    expect(passwordRules('hp.op', 'harbour-2026').username).toBe(true)
    expect(passwordRules('ab', 'xxab1234').username).toBe(true)
  })

  it('names the first rule broken', () => {
    expect(passwordProblem('hp.op', 'short')).toBe('length')
    expect(passwordProblem('hp.op', 'onlyletters')).toBe('kinds')
    expect(passwordProblem('hp.op', 'hp.op-2026')).toBe('username')
    expect(passwordProblem('hp.op', 'Harbour-2026')).toBe(null)
  })
})

describe('the account form', () => {
  const filled = { ...emptyAccountForm(), username: ' hp.op2 ', display_name: ' 黄浦受理员 ', role: 'operator' as const, scope: '310101', password: 'Harbour-2026' }

  it('builds a new account, trimmed, without a unit when none is chosen', () => {
    expect(newUserBody(filled)).toEqual({
      body: { username: 'hp.op2', display_name: '黄浦受理员', role: 'operator', scope: '310101', password: 'Harbour-2026' },
      problems: {},
    })
    expect(newUserBody({ ...filled, unit: '310101-CGZF' }).body?.unit).toBe('310101-CGZF')
  })

  it('names each field to fix', () => {
    expect(newUserBody(emptyAccountForm()).problems).toEqual({
      username: 'required', display_name: 'required', role: 'required', scope: 'required', password: 'required',
    })
    expect(newUserBody({ ...filled, username: 'hp op', scope: '3101', display_name: '长'.repeat(101) }).problems).toEqual({
      username: 'name', scope: 'area', display_name: 'long',
    })
    expect(newUserBody({ ...filled, password: 'hp.op2-2026' }).problems).toEqual({ password: 'username' })
    // a unit handler acts for their unit
    expect(newUserBody({ ...filled, role: 'unit_handler' }).problems).toEqual({ unit: 'unit' })
    expect(newUserBody({ ...filled, role: 'unit_handler', unit: '310101-CGZF' }).problems).toEqual({})
  })

  it('sends only what changed, a removed unit as null', () => {
    const original = account({ role: 'unit_handler', unit: '310101-CGZF' })
    const form = accountFormOf(original)
    expect(form.password).toBe('')
    expect(userChange(form, original)).toEqual({ body: {}, problems: {} })
    expect(userChange({ ...form, display_name: '新名字 ' }, original).body).toEqual({ display_name: '新名字' })
    expect(userChange({ ...form, role: 'operator', unit: '' }, original).body).toEqual({ role: 'operator', unit: null })
    expect(userChange({ ...form, scope: '310101002', unit: '310101002-JD' }, original).body).toEqual({ scope: '310101002', unit: '310101002-JD' })
    expect(userChange({ ...form, unit: '' }, original).problems).toEqual({ unit: 'unit' })
  })

  it("sends only the display name of the admin's own account", () => {
    const me = account({ username: 'admin', role: 'admin', scope: '310000' })
    const form = { ...accountFormOf(me), display_name: '管理员甲', role: 'operator' as const, scope: '310101' }
    expect(userChange(form, me, true)).toEqual({ body: { display_name: '管理员甲' }, problems: {} })
  })

  it('says which changes end the sessions', () => {
    expect(endsSessions({ display_name: 'x' })).toBe(false)
    expect(endsSessions({ unit: null })).toBe(true)
    expect(endsSessions({ role: 'operator' })).toBe(true)
  })

  it('asks for the list with the filters given', () => {
    expect(userQuery({ role: '', q: '  ' })).toEqual({})
    expect(userQuery({ role: 'operator', q: ' 黄浦 ' })).toEqual({ role: 'operator', q: '黄浦' })
  })
})

describe("an account's standing and what may be done to it", () => {
  const now = new Date('2026-12-05T10:00:00Z')

  it('is locked until the time the server gives', () => {
    expect(isLocked(account(), now)).toBe(false)
    expect(isLocked(account({ locked_until: '2026-12-05T10:15:00Z' }), now)).toBe(true)
    expect(isLocked(account({ locked_until: '2026-12-05T09:59:00Z' }), now)).toBe(false)
  })

  it("offers no disabling, resetting or second-factor removal on the admin's own row", () => {
    expect(accountActions(account({ username: 'admin', second_factor: 'enabled' }), 'admin')).toEqual({
      self: true, edit: true, resetPassword: false, disable: false, enable: false, removeSecondFactor: false,
    })
    expect(accountActions(account(), 'admin')).toEqual({
      self: false, edit: true, resetPassword: true, disable: true, enable: false, removeSecondFactor: false,
    })
    const other = accountActions(account({ disabled: true, second_factor: 'pending' }), 'admin')
    expect([other.disable, other.enable, other.removeSecondFactor]).toEqual([false, true, true])
  })
})

describe('the API key form', () => {
  const filled = { ...emptyApiKeyForm(), name: ' hp-gateway-7 ', role: 'operator' as const, scope: '310101' }

  it('starts with read only, and sends the permissions in the server order, once each', () => {
    expect(emptyApiKeyForm().permissions).toEqual(['read'])
    expect(apiKeyBody({ ...filled, permissions: ['write', 'read', 'write'], expires: ' 30 ' })).toEqual({
      body: { name: 'hp-gateway-7', role: 'operator', scope: '310101', permissions: ['read', 'write'], expires_in_days: 30 },
      problems: {},
    })
    expect(apiKeyBody(filled).body).toEqual({ name: 'hp-gateway-7', role: 'operator', scope: '310101', permissions: ['read'] })
  })

  it('names each field to fix', () => {
    expect(apiKeyBody({ ...emptyApiKeyForm(), permissions: [] }).problems).toEqual({
      name: 'required', role: 'required', scope: 'required', permissions: 'permissions',
    })
    for (const expires of ['0', '3651', '1.5', '-3', 'ten']) expect(apiKeyBody({ ...filled, expires }).problems).toEqual({ expires: 'days' })
    expect(apiKeyBody({ ...filled, expires: '3650' }).problems).toEqual({})
    expect(apiKeyBody({ ...filled, name: 'gateway #7' }).problems).toEqual({ name: 'name' })
    expect(apiKeyBody({ ...filled, role: 'unit_handler' }).problems).toEqual({ unit: 'unit' })
  })

  it('tells active, expired and revoked keys apart, and lists working ones first, newest first', () => {
    const now = new Date('2026-12-05T10:00:00Z')
    expect(keyStatus(key(), now)).toBe('active')
    expect(keyStatus(key({ expires_at: '2026-12-06T00:00:00Z' }), now)).toBe('active')
    expect(keyStatus(key({ expires_at: '2026-12-05T09:00:00Z' }), now)).toBe('expired')
    expect(keyStatus(key({ expires_at: '2026-12-06T00:00:00Z', revoked_at: '2026-12-02T00:00:00Z' }), now)).toBe('revoked')
    const list = [
      key({ id: 'old', created_at: '2026-11-01T00:00:00Z' }),
      key({ id: 'revoked', created_at: '2026-12-04T00:00:00Z', revoked_at: '2026-12-04T01:00:00Z' }),
      key({ id: 'new', created_at: '2026-12-03T00:00:00Z' }),
    ]
    expect(sortKeys(list, now).map((k) => k.id)).toEqual(['new', 'old', 'revoked'])
  })
})

describe("the server's refusals", () => {
  it('land on the field they name, when the form has it', () => {
    const fields = ['name', 'role', 'scope', 'unit', 'permissions', 'expires'] as const
    expect(fieldOf('scope', fields)).toBe('scope')
    expect(fieldOf('permissions[1]', fields)).toBe('permissions')
    expect(fieldOf('expires_in_days', fields, { expires_in_days: 'expires' })).toBe('expires')
    expect(fieldOf('version', fields)).toBe(null)
    expect(fieldOf(undefined, fields)).toBe(null)
  })
})
