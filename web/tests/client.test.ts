import { describe, expect, it, vi, afterEach } from 'vitest'
import { buildQuery, configureClient, readCookie, request, toApiError, ApiError } from '../src/api/client'
import { jsonResponse, mockFetch } from './helpers'
import { api } from '../src/api'

afterEach(() => {
  vi.unstubAllGlobals()
  document.cookie = 'cityops_csrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/'
  configureClient({ csrf: () => null })
})

const sent = (f: ReturnType<typeof mockFetch>, i: number) => {
  const [url, init] = f.mock.calls[i] as unknown as [string, RequestInit]
  return { url, init, headers: init.headers as Record<string, string> }
}

describe('api client', () => {
  it('builds query strings without empty values', () => {
    expect(buildQuery({ a: 'x', b: '', c: undefined, d: null, e: 0, f: false })).toBe('?a=x&e=0&f=false')
    expect(buildQuery({})).toBe('')
    expect(buildQuery({ q: '井盖 缺失' })).toBe('?q=%E4%BA%95%E7%9B%96+%E7%BC%BA%E5%A4%B1')
  })

  it('maps error bodies to ApiError with field', async () => {
    const e = await toApiError(jsonResponse(422, { error: { code: 'invalid_input', message: '单位不存在', field: 'unit' } }))
    expect(e).toMatchObject({ status: 422, code: 'invalid_input', message: '单位不存在', field: 'unit' })
  })

  it('copes with a body that is not JSON', async () => {
    const e = await toApiError(new Response('oops', { status: 502, statusText: 'Bad Gateway' }))
    expect(e).toMatchObject({ status: 502, code: 'http_502', message: 'Bad Gateway' })
    expect(e.field).toBeUndefined()
  })

  it('sends raw bodies with their content type', async () => {
    const f = mockFetch(jsonResponse(201, { id: 'a1' }))
    const blob = new Blob([new Uint8Array([1, 2, 3])], { type: 'image/png' })
    await request('/cases/x/attachments', { method: 'POST', query: { version: 3, file_name: 'a.png' }, raw: { data: blob, contentType: 'image/png' } })
    const [url, init] = f.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/cases/x/attachments?version=3&file_name=a.png')
    expect((init.headers as Record<string, string>)['content-type']).toBe('image/png')
    expect(init.body).toBe(blob)
  })

  it('sends the CSRF cookie as X-CSRF-Token on unsafe methods only, and never an Authorization header', async () => {
    document.cookie = 'other=1; path=/'
    document.cookie = 'cityops_csrf=abc123; path=/'
    const f = mockFetch(...Array.from({ length: 6 }, () => jsonResponse(200, {})))
    await request('/me')
    await request('/cases/c1/accept', { body: { version: 1 } })
    for (const method of ['PUT', 'PATCH', 'DELETE']) await request('/x', { method })
    await request('/geo/areas', { auth: false })
    for (let i = 0; i < 6; i++) {
      expect(sent(f, i).init.credentials).toBe('same-origin')
      expect(sent(f, i).headers.authorization).toBeUndefined()
    }
    expect(sent(f, 0).init.method).toBe('GET')
    expect(sent(f, 0).headers['x-csrf-token']).toBeUndefined()
    expect(sent(f, 1).init.method).toBe('POST')
    expect(sent(f, 1).headers['x-csrf-token']).toBe('abc123')
    expect([2, 3, 4].map((i) => [sent(f, i).init.method, sent(f, i).headers['x-csrf-token']]))
      .toEqual([['PUT', 'abc123'], ['PATCH', 'abc123'], ['DELETE', 'abc123']])
    expect(sent(f, 5).headers['x-csrf-token']).toBeUndefined()
  })

  it("sends a call's own headers beside the client's, never in their place", async () => {
    document.cookie = 'cityops_csrf=abc123; path=/'
    const f = mockFetch(jsonResponse(201, {}))
    await request('/cases', { body: { a: 1 }, headers: { 'Idempotency-Key': 'k1', 'content-type': 'text/plain', 'x-csrf-token': 'forged', accept: 'x' } })
    expect(sent(f, 0).headers).toEqual({
      'Idempotency-Key': 'k1', 'content-type': 'application/json', 'x-csrf-token': 'abc123', accept: 'application/json',
    })
  })

  it('falls back to the CSRF token from sign-in when there is no cookie, and sends it with raw uploads', async () => {
    configureClient({ csrf: () => 'from-sign-in' })
    const f = mockFetch(jsonResponse(201, { id: 'a1' }), jsonResponse(201, { id: 'a1' }))
    const blob = new Blob([new Uint8Array([1])], { type: 'image/png' })
    await request('/cases/x/attachments', { method: 'post', raw: { data: blob, contentType: 'image/png' } })
    expect(sent(f, 0).init.method).toBe('POST')
    expect(sent(f, 0).headers['x-csrf-token']).toBe('from-sign-in')
    document.cookie = 'cityops_csrf=newer; path=/'
    await request('/cases/x/attachments', { method: 'POST', raw: { data: blob, contentType: 'image/png' } })
    expect(sent(f, 1).headers['x-csrf-token']).toBe('newer')
  })

  it('a 401 reports the end of the session only for calls that need one', async () => {
    const unauthorized = vi.fn()
    configureClient({ unauthorized })
    const expired = () => jsonResponse(401, { error: { code: 'unauthenticated', message: 'no session' } })
    mockFetch(expired(), expired())
    await expect(request('/public/cases/1', { auth: false })).rejects.toMatchObject({ status: 401 })
    expect(unauthorized).not.toHaveBeenCalled()
    await expect(request('/me')).rejects.toMatchObject({ status: 401 })
    expect(unauthorized).toHaveBeenCalledOnce()
  })

  it('reads one cookie by name', () => {
    document.cookie = 'cityops_csrf_old=no; path=/'
    document.cookie = 'cityops_csrf=a%20b; path=/'
    expect(readCookie('cityops_csrf')).toBe('a b')
    expect(readCookie('missing')).toBeNull()
    document.cookie = 'cityops_csrf_old=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/'
  })

  it('turns a network failure into ApiError code network', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch') }))
    await expect(request('/x')).rejects.toMatchObject({ status: 0, code: 'network' })
    await expect(request('/x')).rejects.toBeInstanceOf(ApiError)
  })

  it('asks for a case routing proposal and sends a dispatch with the unit', async () => {
    const proposal = { unit: '310101-ZLS', unit_name: '黄浦区自来水公司', rule: null, overridden: [], reason: 'default unit' }
    const f = mockFetch(jsonResponse(200, proposal), jsonResponse(200, { id: 'c1', state: 'dispatched' }))
    expect(await api.routing('c1')).toEqual(proposal)
    await api.command('c1', 'escalate', { version: 2, reason: '跨区' })
    const [url, init] = f.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/api/v1/cases/c1/routing')
    expect(init.method).toBe('GET')
    const [url2, init2] = f.mock.calls[1] as unknown as [string, RequestInit]
    expect(url2).toBe('/api/v1/cases/c1/escalate')
    expect(JSON.parse(String(init2.body))).toEqual({ version: 2, reason: '跨区' })
  })
})
