// @vitest-environment node
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { leadingZeroBits, solveChallenge } from '../src/lib/challenge'

const zeros = (text: string) => leadingZeroBits(new Uint8Array(createHash('sha256').update(text).digest()))

describe('report challenge', () => {
  it('counts leading zero bits', () => {
    expect(leadingZeroBits(new Uint8Array([0, 0b0001_0000, 0xff]))).toBe(11)
    expect(leadingZeroBits(new Uint8Array([0x80]))).toBe(0)
    expect(leadingZeroBits(new Uint8Array([0, 0]))).toBe(16)
  })

  it('finds the smallest nonce whose hash after the challenge has the zero bits asked', async () => {
    const challenge = '1800000000.10.0123456789abcdef01234567.00112233445566778899aabbccddeeff'
    const nonce = await solveChallenge(challenge, 10)
    expect(zeros(challenge + nonce)).toBeGreaterThanOrEqual(10)
    for (let n = 0; n < Number(nonce); n++) expect(zeros(challenge + n)).toBeLessThan(10)
  })

  it('stops when asked to', async () => {
    const stop = new AbortController()
    stop.abort()
    await expect(solveChallenge('x', 30, stop.signal)).rejects.toThrow('aborted')
  })
})
