// The one fetch wrapper: JSON in and out, bearer token, error bodies mapped to ApiError.

export class ApiError extends Error {
  status: number
  code: string
  field?: string
  constructor(status: number, code: string, message: string, field?: string) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.field = field
  }
}

type TokenSource = () => string | null
type UnauthorizedHandler = () => void

let tokenSource: TokenSource = () => null
let onUnauthorized: UnauthorizedHandler = () => {}

/** Wire the client to the session (done by the auth store). */
export function configureClient(opts: { token?: TokenSource; unauthorized?: UnauthorizedHandler }) {
  if (opts.token) tokenSource = opts.token
  if (opts.unauthorized) onUnauthorized = opts.unauthorized
}

export const API_BASE = '/api/v1'

export interface RequestOptions {
  method?: string
  query?: Record<string, string | number | boolean | undefined | null>
  body?: unknown
  /** Raw body (Blob/File/ArrayBuffer) sent as is with this content type. */
  raw?: { data: BodyInit; contentType: string }
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
  try {
    const body = await res.json()
    if (body && typeof body === 'object' && body.error) {
      code = body.error.code ?? code
      message = body.error.message ?? message
      field = body.error.field ?? undefined
    }
  } catch {
    /* not JSON */
  }
  return new ApiError(res.status, code, message, field)
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  const auth = opts.auth ?? true
  const token = auth ? tokenSource() : null
  if (token) headers.authorization = `Bearer ${token}`
  let body: BodyInit | undefined
  if (opts.raw) {
    headers['content-type'] = opts.raw.contentType
    body = opts.raw.data
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(opts.body)
  }
  let res: Response
  try {
    res = await fetch(API_BASE + path + buildQuery(opts.query), {
      method: opts.method ?? (body !== undefined ? 'POST' : 'GET'),
      headers,
      body,
      signal: opts.signal,
    })
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e
    throw new ApiError(0, 'network', (e as Error).message || 'network error')
  }
  if (!res.ok) {
    const err = await toApiError(res)
    if (res.status === 401 && token) onUnauthorized()
    throw err
  }
  if (opts.as === 'blob') return (await res.blob()) as T
  if (res.status === 204) return undefined as T
  return (await res.json()) as T
}
