// The one fetch wrapper: JSON in and out, the session cookie and its CSRF header, error bodies mapped to ApiError.

export class ApiError extends Error {
  status: number
  code: string
  field?: string
  /** Seconds to wait before trying again (`sign_in_throttled`). */
  retryAfter?: number
  constructor(status: number, code: string, message: string, field?: string, retryAfter?: number) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.field = field
    this.retryAfter = retryAfter
  }
}

type CsrfSource = () => string | null
type UnauthorizedHandler = () => void

let csrfSource: CsrfSource = () => null
let onUnauthorized: UnauthorizedHandler = () => {}

/** Wire the client to the session (done by the auth store): its CSRF token and what a 401 does. */
export function configureClient(opts: { csrf?: CsrfSource; unauthorized?: UnauthorizedHandler }) {
  if (opts.csrf) csrfSource = opts.csrf
  if (opts.unauthorized) onUnauthorized = opts.unauthorized
}

export const API_BASE = '/api/v1'

/** The session cookie is HttpOnly; this one, set beside it, is the value unsafe requests echo. */
export const CSRF_COOKIE = 'cityops_csrf'
export const CSRF_HEADER = 'x-csrf-token'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export function readCookie(name: string): string | null {
  if (typeof document === 'undefined' || !document.cookie) return null
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue
    try {
      return decodeURIComponent(part.slice(eq + 1).trim())
    } catch {
      return part.slice(eq + 1).trim()
    }
  }
  return null
}

/**
 * The CSRF token to send now: the cookie's first, as it always goes with the session cookie the
 * browser sends (another tab may have signed in since); the one from sign-in if the cookie is unreadable.
 */
export function csrfToken(): string | null {
  return readCookie(CSRF_COOKIE) || csrfSource()
}

export interface RequestOptions {
  method?: string
  query?: Record<string, string | number | boolean | undefined | null>
  body?: unknown
  /** Raw body (Blob/File/ArrayBuffer) sent as is with this content type. */
  raw?: { data: BodyInit; contentType: string }
  /**
   * false: the call needs no session (citizen, map and sign-in calls), so a 401 from it says nothing
   * about the staff session and does not sign out.
   */
  auth?: boolean
  as?: 'json' | 'blob'
  signal?: AbortSignal
}

export function buildQuery(query?: RequestOptions['query']): string {
  if (!query) return ''
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue
    p.set(k, String(v))
  }
  const s = p.toString()
  return s ? `?${s}` : ''
}

/** Turn an error response into an ApiError, whatever its body. */
export async function toApiError(res: Response): Promise<ApiError> {
  let code = `http_${res.status}`
  let message = res.statusText || `HTTP ${res.status}`
  let field: string | undefined
  let retryAfter: number | undefined
  try {
    const body = await res.json()
    if (body && typeof body === 'object' && body.error) {
      code = body.error.code ?? code
      message = body.error.message ?? message
      field = body.error.field ?? undefined
      retryAfter = typeof body.error.retry_after === 'number' ? body.error.retry_after : undefined
    }
  } catch {
    /* not JSON */
  }
  if (retryAfter === undefined) {
    const header = Number(res.headers?.get?.('retry-after'))
    if (Number.isFinite(header) && header > 0) retryAfter = header
  }
  return new ApiError(res.status, code, message, field, retryAfter)
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  const auth = opts.auth ?? true
  let body: BodyInit | undefined
  if (opts.raw) {
    headers['content-type'] = opts.raw.contentType
    body = opts.raw.data
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(opts.body)
  }
  const method = (opts.method ?? (body !== undefined ? 'POST' : 'GET')).toUpperCase()
  // the browser sends the session cookie with any same-origin request, so every unsafe one proves
  // it comes from this page; a citizen call carries it too when a staff member is signed in
  if (!SAFE_METHODS.has(method)) {
    const csrf = csrfToken()
    if (csrf) headers[CSRF_HEADER] = csrf
  }
  let res: Response
  try {
    res = await fetch(API_BASE + path + buildQuery(opts.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    })
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e
    throw new ApiError(0, 'network', (e as Error).message || 'network error')
  }
  if (!res.ok) {
    const err = await toApiError(res)
    if (res.status === 401 && auth) onUnauthorized()
    throw err
  }
  if (opts.as === 'blob') return (await res.blob()) as T
  if (res.status === 204) return undefined as T
  return (await res.json()) as T
}
