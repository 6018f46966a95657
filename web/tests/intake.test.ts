import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  CALL_KINDS, COMPONENT_LIMIT, atComponent, checkIntake, componentPoint, coordText, emptyIntake, intakeBody, intakeFieldOf, intakeSubmitter,
  mayTakeCalls, newIdempotencyKey, opensCase, placeOptions, placesInOrder, pointOf, searchPlaces, searchText, uuidOf, validPhone,
  type IntakeBody, type IntakeForm,
} from '../src/lib/intake'
import type { Area, Component, Enquiry, EnquiryBody } from '../src/api/types'
import { ApiError } from '../src/api/client'
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

const area = (code: string, level: Area['level'], name = code): Area => ({ code, name, level })
const component = (id: string, over: Partial<Component> = {}): Component => ({
  id, class: '10101', name: `上水井盖${id.slice(-2)}`, location: { lon: 121.48244975495345, lat: 31.233865929633268 },
  area: '310101017009', unit_grid: '31010101700906', status: 'in_use', ...over,
})

describe('the place search over the areas and the census', () => {
  it('lists the areas first, districts to communities, then the components in the server\'s order, each once', () => {
    const options = placeOptions(
      [area('310101002001', 'community'), area('310101002', 'street'), area('310101', 'district'), area('310101002', 'street')],
      [component('3101010101000041'), component('3101010101000034'), component('3101010101000041')],
    )
    expect(options.map((o) => o.key)).toEqual([
      'area:310101', 'area:310101002', 'area:310101002001', 'component:3101010101000041', 'component:3101010101000034',
    ])
    expect(options.map((o) => o.kind)).toEqual(['area', 'area', 'area', 'component', 'component'])
    const first = options[3]
    expect(first.kind === 'component' && first.component.id).toBe('3101010101000041')
    expect(placeOptions([], [])).toEqual([])
  })

  it('asks both searches at once with the same text', async () => {
    const areas = vi.fn(async () => [area('310101002', 'street', '南京东路街道')])
    const components = vi.fn(async () => [component('3101010101000034')])
    const found = await searchPlaces('南京东路', { areas, components })
    expect(areas).toHaveBeenCalledWith('南京东路')
    expect(components).toHaveBeenCalledWith('南京东路')
    expect(found.failed).toEqual({})
    expect(found.options.map((o) => o.key)).toEqual(['area:310101002', 'component:3101010101000034'])
  })

  it('keeps the areas when the component search fails, and the components when the area search fails', async () => {
    const areas = async () => [area('310101', 'district')]
    const components = async () => [component('3101010101000034')]
    const broken = async (): Promise<never> => {
      throw new ApiError(422, 'invalid_input', 'a search text has 1 to 50 characters', 'q')
    }
    const noCensus = await searchPlaces('黄浦', { areas, components: broken })
    expect(noCensus.options.map((o) => o.key)).toEqual(['area:310101'])
    expect(noCensus.failed).toEqual({ components: 'a search text has 1 to 50 characters' })
    const noAreas = await searchPlaces('3101010101000034', { areas: async () => Promise.reject(new Error('offline')), components })
    expect(noAreas.options.map((o) => o.key)).toEqual(['component:3101010101000034'])
    expect(noAreas.failed).toEqual({ areas: 'offline' })
    const none = await searchPlaces('x', { areas: broken, components: async () => Promise.reject('down') })
    expect(none.options).toEqual([])
    expect(Object.keys(none.failed).sort()).toEqual(['areas', 'components'])
    expect(none.failed.components).toBe('down')
  })

  it('searches the areas only without a component search (an enquiry\'s area)', async () => {
    const found = await searchPlaces('南京东路', { areas: async () => [area('310101002', 'street')] })
    expect(found).toEqual({ options: [{ kind: 'area', key: 'area:310101002', area: area('310101002', 'street') }], failed: {} })
  })

  it("puts the point exactly at a component's own and tells when it has moved away", () => {
    const c = component('3101010101000034')
    const at = componentPoint(c)
    expect(at).toEqual({ lon: '121.48244975495345', lat: '31.233865929633268' })
    expect(pointOf(at)).toEqual(c.location)
    expect(atComponent(at, c)).toBe(true)
    expect(atComponent({ lon: coordText(c.location.lon), lat: coordText(c.location.lat) }, c)).toBe(false)
    expect(atComponent({ lon: '', lat: '' }, c)).toBe(false)
  })

  it('reports the call about the component chosen; a refusal of its id is the component\'s', () => {
    const body = intakeBody(call({ componentId: '3101010101000034' }))
    expect(body.component_id).toBe('3101010101000034')
    expect('component_id' in intakeBody(call())).toBe(false)
    expect(intakeFieldOf('component_id')).toBe('component_id')
  })

  it('goes to GET /components with the text and a limit, answering the items', async () => {
    const f = mockFetch(jsonResponse(200, { items: [component('3101010101000034')], next: null }))
    const found = await api.searchComponents('3101010101000034', COMPONENT_LIMIT)
    expect(found.map((c) => c.id)).toEqual(['3101010101000034'])
    expect((f.mock.calls[0] as unknown as [string])[0]).toBe('/api/v1/components?q=3101010101000034&limit=10')
  })
})

describe("an enquiry's idempotency key", () => {
  const enquiry: EnquiryBody = { question: '湿垃圾几点投放？', answer: '每天 6:30–8:30、18:00–20:00。' }
  const recorded = (id: string): Enquiry => ({ id, question: enquiry.question, answer: enquiry.answer, articles: [], taken_by: 'operator', at: '2026-12-07T02:00:00Z' })

  it('is sent with every attempt of one enquiry and is new once it is recorded', async () => {
    const keys: string[] = []
    let fail = true
    vi.stubGlobal('fetch', vi.fn(async (_url: string, init: RequestInit) => {
      keys.push((init.headers as Record<string, string>)['Idempotency-Key'])
      if (fail) {
        fail = false
        throw new TypeError('Failed to fetch')
      }
      return jsonResponse(201, recorded('e1'))
    }))
    let n = 0
    const submitter = intakeSubmitter<Enquiry, EnquiryBody>((body, key) => api.recordEnquiry(body, key), () => `enq-${++n}`)
    // the answer lost: a network error, the key kept
    await expect(submitter.submit(enquiry)).rejects.toMatchObject({ status: 0, code: 'network' })
    expect(submitter.key).toBe('enq-1')
    // the retry (a second click) is the same enquiry
    await expect(submitter.submit(enquiry)).resolves.toMatchObject({ id: 'e1' })
    expect(keys).toEqual(['enq-1', 'enq-1'])
    // recorded, or the form cleared: the next enquiry has a key of its own
    submitter.restart()
    expect(submitter.key).toBe('enq-2')
  })

  it('sends a double click once, with the key', async () => {
    let answer: (r: Response) => void = () => {}
    const fetch = vi.fn((_url: string, _init: RequestInit) => new Promise<Response>((r) => { answer = r }))
    vi.stubGlobal('fetch', fetch)
    const submitter = intakeSubmitter<Enquiry, EnquiryBody>((body, key) => api.recordEnquiry(body, key), () => 'enq-1')
    const first = submitter.submit(enquiry)
    const second = submitter.submit(enquiry)
    expect(second).toBe(first)
    answer(jsonResponse(201, recorded('e1')))
    await expect(second).resolves.toMatchObject({ id: 'e1' })
    expect(fetch).toHaveBeenCalledTimes(1)
    const [url, init] = fetch.mock.calls[0]
    expect(url).toBe('/api/v1/enquiries')
    expect(init.method).toBe('POST')
    expect(init.headers).toMatchObject({ 'Idempotency-Key': 'enq-1', 'content-type': 'application/json' })
    expect(JSON.parse(init.body as string)).toEqual(enquiry)
  })

  it('is refused with another body as idempotency_key_reused, naming the header', async () => {
    mockFetch(jsonResponse(422, { error: { code: 'idempotency_key_reused', message: 'the key was used with another body', field: 'Idempotency-Key' } }))
    const submitter = intakeSubmitter<Enquiry, EnquiryBody>((body, key) => api.recordEnquiry(body, key), () => 'enq-1')
    await expect(submitter.submit({ ...enquiry, answer: '另一答复' })).rejects.toMatchObject({ status: 422, code: 'idempotency_key_reused', field: 'Idempotency-Key' })
    // what the console shows it by: no field of the form
    expect(intakeFieldOf('Idempotency-Key')).toBeNull()
  })

  it('is left out when none is given', async () => {
    const f = mockFetch(jsonResponse(201, recorded('e1')))
    await api.recordEnquiry(enquiry)
    expect(Object.keys((f.mock.calls[0] as unknown as [string, RequestInit])[1].headers as Record<string, string>)).not.toContain('Idempotency-Key')
  })
})
