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
  /** Headers of the call itself, e.g. a report's `Idempotency-Key`; they cannot replace the client's own. */
  headers?: Record<string, string>
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

/**
 * An error answer as an ApiError, whatever its body: the server's `{error: {code, message,
 * field, retry_after}}` when it is that, else the status. `retryAfterHeader` is the
 * `Retry-After` header's value, if any.
 */
export function apiErrorOf(status: number, statusText: string, text: string, retryAfterHeader?: string | null): ApiError {
  let code = `http_${status}`
  let message = statusText || `HTTP ${status}`
  let field: string | undefined
  let retryAfter: number | undefined
  try {
    const body = JSON.parse(text)
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
    const header = Number(retryAfterHeader)
    if (Number.isFinite(header) && header > 0) retryAfter = header
  }
  return new ApiError(status, code, message, field, retryAfter)
}

/** Turn an error response into an ApiError, whatever its body. */
export async function toApiError(res: Response): Promise<ApiError> {
  let text = ''
  try {
    text = await res.text()
  } catch {
    /* no body */
  }
  return apiErrorOf(res.status, res.statusText, text, res.headers?.get?.('retry-after'))
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { ...opts.headers, accept: 'application/json' }
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

/** How far an upload has gone: bytes sent of the total (`total` null when the browser cannot tell). */
export interface UploadProgress {
  loaded: number
  total: number | null
}

export interface UploadOptions {
  method?: 'PUT' | 'POST'
  query?: RequestOptions['query']
  data: Blob
  contentType: string
  /** Called as the body goes out. */
  onProgress?: (progress: UploadProgress) => void
  /** Called once the whole body is sent: the server is reading it now. */
  onSent?: () => void
  signal?: AbortSignal
}

/**
 * A file sent as is, like `request` with `raw`, but through XMLHttpRequest, whose upload
 * reports its progress (fetch does not). The same session: the cookie goes along (same
 * origin), the CSRF header is sent, a 401 ends the session, errors are the same ApiError.
 */
export function upload<T>(path: string, opts: UploadOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    const method = opts.method ?? 'PUT'
    xhr.open(method, API_BASE + path + buildQuery(opts.query))
    xhr.setRequestHeader('accept', 'application/json')
    xhr.setRequestHeader('content-type', opts.contentType)
    const csrf = csrfToken()
    if (csrf) xhr.setRequestHeader(CSRF_HEADER, csrf)
    // upload listeners must be in place before send(), or the browser reports no progress
    xhr.upload.onprogress = (e) => opts.onProgress?.({ loaded: e.loaded, total: e.lengthComputable ? e.total : null })
    xhr.upload.onload = () => opts.onSent?.()
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        if (xhr.status === 204 || !xhr.responseText) return resolve(undefined as T)
        try {
          resolve(JSON.parse(xhr.responseText) as T)
        } catch (e) {
          reject(new ApiError(xhr.status, 'malformed_answer', (e as Error).message))
        }
        return
      }
      const err = apiErrorOf(xhr.status, xhr.statusText, xhr.responseText, xhr.getResponseHeader('retry-after'))
      if (xhr.status === 401) onUnauthorized()
      reject(err)
    }
    xhr.onerror = () => reject(new ApiError(0, 'network', 'network error'))
    xhr.ontimeout = () => reject(new ApiError(0, 'network', 'timed out'))
    xhr.onabort = () => reject(new DOMException('The upload was cancelled', 'AbortError'))
    if (opts.signal) {
      if (opts.signal.aborted) return reject(new DOMException('The upload was cancelled', 'AbortError'))
      opts.signal.addEventListener('abort', () => xhr.abort(), { once: true })
    }
    xhr.send(opts.data)
  })
}
