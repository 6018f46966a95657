import { vi } from 'vitest'

export function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
}

/** Replace fetch with a queue of answers; returns the mock to inspect calls. */
export function mockFetch(...answers: Response[]) {
  const fn = vi.fn(async () => {
    const next = answers.shift()
    if (!next) throw new Error('unexpected fetch')
    return next
  })
  vi.stubGlobal('fetch', fn)
  return fn
}
