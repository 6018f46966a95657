import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  CALL_KINDS, checkIntake, coordText, emptyIntake, intakeBody, intakeFieldOf, intakeSubmitter, mayTakeCalls, newIdempotencyKey, opensCase,
  placesInOrder, pointOf, searchText, uuidOf, validPhone, type IntakeBody, type IntakeForm,
} from '../src/lib/intake'
import type { Area } from '../src/api/types'
import { api } from '../src/api'
import { jsonResponse, mockFetch } from './helpers'

afterEach(() => {
  vi.unstubAllGlobals()
})

const call = (over: Partial<IntakeForm> = {}): IntakeForm => ({
  ...emptyIntake(),
  name: ' 王小明 ', phone: ' 139 0000 1111 ', kind: 'complaint', description: '  南京东路夜间施工噪音  ', address: '',
  lon: '121.4837', lat: '31.2369', replyOwed: ' 三个工作日内电话告知处理结果 ',
  ...over,
})

describe('the intake console', () => {
  it('is for operators and shift leads', () => {
    expect(mayTakeCalls('operator')).toBe(true)
    expect(mayTakeCalls('shift_lead')).toBe(true)
    for (const role of ['dispatcher', 'admin', 'inspector', 'center_leader', null, undefined] as const) expect(mayTakeCalls(role)).toBe(false)
  })

  it('offers every kind, an enquiry opening no case', () => {
    expect(CALL_KINDS).toEqual(['request', 'complaint', 'enquiry', 'suggestion', 'praise', 'other'])
    expect(CALL_KINDS.filter(opensCase)).toEqual(['request', 'complaint', 'suggestion', 'praise', 'other'])
  })

  it('checks a phone as the server does, a blank one being none', () => {
    for (const ok of ['13900001111', '+86 139-0000-1111', '(021) 6321.0000', '12345', ' 139 0000 1111 ', '', '   ']) expect(validPhone(ok), ok).toBe(true)
    for (const bad of ['call me', '1234', '139-0000-111a', '+', '++8613900001111', '1'.repeat(21), '139０００01111']) expect(validPhone(bad), bad).toBe(false)
  })

  it('reads coordinates only when both are numbers on the globe', () => {
    expect(pointOf({ lon: '121.4837', lat: ' 31.2369 ' })).toEqual({ lon: 121.4837, lat: 31.2369 })
    expect(pointOf({ lon: '', lat: '31.2' })).toBeNull()
    expect(pointOf({ lon: '121.', lat: '31' })).toEqual({ lon: 121, lat: 31 })
    expect(pointOf({ lon: '1e2', lat: '31' })).toBeNull()
    expect(pointOf({ lon: '181', lat: '31' })).toBeNull()
    expect(coordText(121.48372749)).toBe('121.483727')
    expect(coordText(31.5)).toBe('31.5')
  })

  it('says what the server would refuse, by the field it would name', () => {
    expect(checkIntake(call(), 'located')).toEqual({})
    expect(checkIntake(call({ phone: 'call me', kind: '', description: '  ' }), 'located')).toEqual({
      'contact.phone': 'phone', 'call.kind': 'required', description: 'required',
    })
    expect(checkIntake(call({ kind: 'enquiry' }), 'located')).toEqual({ 'call.kind': 'enquiry' })
    expect(checkIntake(call({ description: '井'.repeat(2001), address: '路'.repeat(201), name: '名'.repeat(51), replyOwed: '回'.repeat(501) }), 'located'))
      .toEqual({ description: 'long', address: 'long', 'contact.name': 'long', 'call.reply_owed': 'long' })
    // lengths are in characters, as the server counts them, not UTF-16 units
    expect(checkIntake(call({ description: '𠀀'.repeat(2000) }), 'located')).toEqual({})
    expect(checkIntake(call({ lon: '' }), 'none')).toEqual({ location: 'required' })
    expect(checkIntake(call(), 'outside')).toEqual({ location: 'outside' })
    expect(checkIntake(call(), 'locating')).toEqual({ location: 'locating' })
    expect(checkIntake(call(), 'failed')).toEqual({ location: 'unlocated' })
  })

  it('builds the hotline report with the call, trimmed, blanks left out', () => {
    expect(intakeBody(call())).toEqual({
      source: 'hotline', description: '南京东路夜间施工噪音', location: { lon: 121.4837, lat: 31.2369 },
      contact: { name: '王小明', phone: '139 0000 1111' }, call: { kind: 'complaint', reply_owed: '三个工作日内电话告知处理结果' },
    })
    const bare = intakeBody(call({ name: ' ', phone: '', replyOwed: '  ', address: ' 南京东路 100 号 ' }))
    expect(bare).toEqual({
      source: 'hotline', description: '南京东路夜间施工噪音', location: { lon: 121.4837, lat: 31.2369 }, address: '南京东路 100 号',
      call: { kind: 'complaint' },
    })
    expect('contact' in bare).toBe(false)
    // the extra fields' values go with a class hinted, and only when there are some
    expect(intakeBody(call({ categoryHint: '10101' }), { diameter_mm: 700 })).toMatchObject({ category_hint: '10101', fields: { diameter_mm: 700 } })
    expect('fields' in intakeBody(call({ categoryHint: '10101' }), {})).toBe(false)
    expect('fields' in intakeBody(call(), { diameter_mm: 700 })).toBe(false)
    expect(() => intakeBody(call({ kind: '' }))).toThrow()
  })

  it('shows a refusal beside the field it names, or at the top', () => {
    expect(intakeFieldOf('contact.phone')).toBe('contact.phone')
    expect(intakeFieldOf('call.kind')).toBe('call.kind')
    expect(intakeFieldOf('call')).toBe('call.kind')
    expect(intakeFieldOf('call.reply_owed')).toBe('call.reply_owed')
    expect(intakeFieldOf('location.lat')).toBe('location')
    expect(intakeFieldOf('area')).toBe('location')
    expect(intakeFieldOf('category_hint')).toBe('category_hint')
    expect(intakeFieldOf('Idempotency-Key')).toBeNull()
    expect(intakeFieldOf('fields.diameter_mm')).toBeNull()
    expect(intakeFieldOf(undefined)).toBeNull()
  })

  it('searches places by 1 to 50 characters, districts first', () => {
    expect(searchText('  南京东路 ')).toBe('南京东路')
    expect(searchText('   ')).toBeNull()
    expect(searchText('路'.repeat(51))).toBeNull()
    const a = (code: string, level: Area['level']): Area => ({ code, name: code, level })
    expect(placesInOrder([a('310101002001', 'community'), a('310101002', 'street'), a('310101', 'district'), a('310101003', 'street')]).map((x) => x.code))
      .toEqual(['310101', '310101002', '310101003', '310101002001'])
  })
})

describe("a call's idempotency key", () => {
  const body = intakeBody(call())

  it('is a v4 UUID, also where the page has no crypto.randomUUID', () => {
    const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
    expect(newIdempotencyKey()).toMatch(v4)
    expect(newIdempotencyKey()).not.toBe(newIdempotencyKey())
    expect(uuidOf(new Uint8Array(16).fill(255))).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff')
    expect(uuidOf(new Uint8Array(16))).toMatch(v4)
    vi.stubGlobal('crypto', { getRandomValues: (b: Uint8Array) => b.fill(0xab) })
    expect(newIdempotencyKey()).toBe('abababab-abab-4bab-abab-abababababab')
  })

  it('is the same for every attempt of one call, and new for the next call', async () => {
    let n = 0
    const sent: string[] = []
    const answers = [Promise.reject(new Error('network')), Promise.resolve('case-1')]
    answers[0].catch(() => {})
    const submitter = intakeSubmitter<string>(async (_b, key) => {
      sent.push(key)
      return answers.shift()!
    }, () => `key-${++n}`)
    expect(submitter.key).toBe('key-1')
    await expect(submitter.submit(body)).rejects.toThrow('network')
    // the retry after a lost answer carries the first attempt's key
    await expect(submitter.submit(body)).resolves.toBe('case-1')
    expect(sent).toEqual(['key-1', 'key-1'])
    submitter.restart()
    expect(submitter.key).toBe('key-2')
  })

  it('sends a second submission while the first is on its way as that one', async () => {
    let release: (v: string) => void = () => {}
    const post = vi.fn((_b: IntakeBody, _k: string) => new Promise<string>((r) => { release = r }))
    const submitter = intakeSubmitter(post, () => 'key-1')
    const first = submitter.submit(body)
    const second = submitter.submit(body)
    expect(second).toBe(first)
    release('case-1')
    await expect(second).resolves.toBe('case-1')
    expect(post).toHaveBeenCalledTimes(1)
    // once answered, a further submission is sent again (with the same key)
    const third = submitter.submit(body)
    release('case-1')
    await expect(third).resolves.toBe('case-1')
    expect(post).toHaveBeenCalledTimes(2)
    expect(post.mock.calls.map((c) => c[1])).toEqual(['key-1', 'key-1'])
  })

  it('goes to POST /cases as the Idempotency-Key header', async () => {
    const f = mockFetch(jsonResponse(201, { number: '1' }), jsonResponse(200, []))
    await api.report(body, 'key-1')
    const [url, init] = f.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/cases')
    expect(init.method).toBe('POST')
    expect(init.headers).toMatchObject({ 'Idempotency-Key': 'key-1', 'content-type': 'application/json', accept: 'application/json' })
    expect(JSON.parse(init.body as string)).toEqual(body)
    await api.searchAreas('南京东路')
    expect((f.mock.calls[1] as unknown as [string])[0]).toBe('/api/v1/areas?q=%E5%8D%97%E4%BA%AC%E4%B8%9C%E8%B7%AF')
  })
})
