import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useFeed, connectFeed, FEED_CAPACITY } from '../src/stores/feed'
import type { AnyCommandName, FeedEvent } from '../src/api/types'

const ev = (n: number, action: AnyCommandName = 'report'): FeedEvent => ({
  id: `id${n}`, number: `31010120261125${String(n).padStart(5, '0')}`, action, state: 'reported', state_zh: '已上报',
  district: '310101', area: '310101002001', category: null, category_zh: null, source: 'hotline',
  description: `d${n}`, urgent: false, at: `2026-11-25T08:00:${String(n % 60).padStart(2, '0')}Z`,
})

class FakeES {
  static last: FakeES
  url: string
  readyState = 0
  onopen: (() => void) | null = null
  onerror: (() => void) | null = null
  listeners: Record<string, ((e: MessageEvent) => void)[]> = {}
  closed = false
  constructor(url: string) {
    this.url = url
    FakeES.last = this
  }
  addEventListener(type: string, fn: (e: MessageEvent) => void) {
    ;(this.listeners[type] ||= []).push(fn)
  }
  emit(type: string, data: string) {
    for (const fn of this.listeners[type] ?? []) fn(new MessageEvent(type, { data }))
  }
  close() {
    this.closed = true
  }
}

describe('feed store', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('buffers events until flush, newest first', () => {
    const f = useFeed()
    f.push(ev(1))
    f.push(ev(2))
    expect(f.items).toEqual([])
    f.flush()
    expect(f.items.map((e) => e.id)).toEqual(['id2', 'id1'])
    expect(f.revision).toBe(1)
    f.flush() // nothing new: no revision bump
    expect(f.revision).toBe(1)
    f.push(ev(3))
    f.flush()
    expect(f.items.map((e) => e.id)).toEqual(['id3', 'id2', 'id1'])
  })

  it('keeps at most FEED_CAPACITY items and drops repeats', () => {
    const f = useFeed()
    for (let i = 0; i < FEED_CAPACITY + 20; i++) f.push(ev(i))
    f.push(ev(FEED_CAPACITY + 19)) // same event twice
    f.flush()
    expect(f.items).toHaveLength(FEED_CAPACITY)
    expect(f.items[0].id).toBe(`id${FEED_CAPACITY + 19}`)
    expect(new Set(f.items.map((e) => e.id)).size).toBe(FEED_CAPACITY)
    expect(f.received).toBe(FEED_CAPACITY + 21)
  })

  it('a second action on the same case is a new line', () => {
    const f = useFeed()
    f.push(ev(1, 'report'))
    f.push({ ...ev(1, 'accept'), at: '2026-11-25T08:01:00Z' })
    f.flush()
    expect(f.items.map((e) => e.action)).toEqual(['accept', 'report'])
  })

  it('connects to the stream without a token (the session cookie goes along) and flushes on a timer', () => {
    vi.useFakeTimers()
    const f = useFeed()
    const close = connectFeed(f, { flushMs: 100, EventSourceImpl: FakeES as unknown as typeof EventSource })
    const es = FakeES.last
    expect(es.url).toBe('/api/v1/stream')
    expect(f.status).toBe('connecting')
    es.onopen?.()
    expect(f.status).toBe('open')
    es.emit('case', JSON.stringify(ev(7)))
    es.emit('case', 'not json')
    expect(f.items).toHaveLength(0)
    vi.advanceTimersByTime(150)
    expect(f.items.map((e) => e.id)).toEqual(['id7'])
    close()
    expect(es.closed).toBe(true)
    expect(f.status).toBe('idle')
    vi.useRealTimers()
  })
})

describe('stream listeners', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('passes alarm and vital_signs events to their listeners and ticks with the feed', () => {
    vi.useFakeTimers()
    const f = useFeed()
    const got: unknown[] = []
    let ticks = 0
    const close = connectFeed(f, {
      flushMs: 100, EventSourceImpl: FakeES as unknown as typeof EventSource,
      on: { alarm: (d) => got.push(['alarm', d]), vital_signs: (d) => got.push(['vitals', d]) },
      onTick: () => ticks++,
    })
    const es = FakeES.last
    es.emit('alarm', JSON.stringify({ action: 'raise', alarm: { id: 'x' } }))
    es.emit('vital_signs', '{bad')
    es.emit('vital_signs', JSON.stringify({ area: '310000', signs: [], alarms: [] }))
    es.emit('case', JSON.stringify(ev(1)))
    expect(got).toEqual([['alarm', { action: 'raise', alarm: { id: 'x' } }], ['vitals', { area: '310000', signs: [], alarms: [] }]])
    vi.advanceTimersByTime(250)
    expect(ticks).toBe(2)
    expect(f.items.map((e) => e.id)).toEqual(['id1'])
    close()
    vi.useRealTimers()
  })
})
