// The proof of work a citizen's report carries instead of a CAPTCHA: find a nonce such that
// SHA-256(challenge + nonce) starts with `bits` zero bits. A person's browser does it once per
// report in a second or two; a script flooding reports pays it for every one.

/** Leading zero bits of a digest. */
export function leadingZeroBits(digest: Uint8Array): number {
  let bits = 0
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8
      continue
    }
    return bits + Math.clz32(byte) - 24
  }
  return bits
}

/** Digests computed at once: crypto.subtle answers each asynchronously, so one at a time spends most of the time waiting. */
const BATCH = 256

/**
 * The smallest decimal nonce that solves the challenge (the server's `solve` finds the same one).
 * `signal` abandons the search (the page was left).
 */
export async function solveChallenge(challenge: string, bits: number, signal?: AbortSignal): Promise<string> {
  const encoder = new TextEncoder()
  const prefix = encoder.encode(challenge)
  for (let start = 0; ; start += BATCH) {
    if (signal?.aborted) throw new DOMException('aborted', 'AbortError')
    const nonces = Array.from({ length: BATCH }, (_, i) => String(start + i))
    const digests = await Promise.all(
      nonces.map((nonce) => {
        const tail = encoder.encode(nonce)
        const data = new Uint8Array(prefix.length + tail.length)
        data.set(prefix)
        data.set(tail, prefix.length)
        return crypto.subtle.digest('SHA-256', data)
      }),
    )
    const found = digests.findIndex((d) => leadingZeroBits(new Uint8Array(d)) >= bits)
    if (found >= 0) return nonces[found]
  }
}
