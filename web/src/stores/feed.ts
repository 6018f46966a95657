import { defineStore } from 'pinia'
import { API_BASE } from '../api/client'
import type { FeedEvent } from '../api/types'

export const FEED_CAPACITY = 50

type Status = 'idle' | 'connecting' | 'open' | 'error'

/**
 * The live feed from /api/v1/stream. Events are buffered and merged into `items`
 * at most every `flushMs`, so a storm of changes re-renders the ticker once per tick.
 */
export const useFeed = defineStore('feed', {
  state: () => ({
    items: [] as FeedEvent[],
    buffer: [] as FeedEvent[],
    status: 'idle' as Status,
    received: 0,
    /** Bumped at each flush that brought something, for listeners (e.g. stats refresh). */
    revision: 0,
  }),
  actions: {
    push(ev: FeedEvent) {
      this.buffer.push(ev)
      this.received++
    },
    flush() {
      if (!this.buffer.length) return
      // newest first; an event for the same case and action at the same time is kept once
      const incoming = this.buffer.splice(0).reverse()
      const seen = new Set<string>()
      const merged: FeedEvent[] = []
      for (const ev of [...incoming, ...this.items]) {
        const k = `${ev.id}|${ev.action}|${ev.at}`
        if (seen.has(k)) continue
        seen.add(k)
        merged.push(ev)
        if (merged.length >= FEED_CAPACITY) break
      }
      this.items = merged
      this.revision++
    },
    clear() {
      this.items = []
      this.buffer = []
    },
  },
})

/** Subscribe the feed store to the server's stream; returns a function that closes it. */
export function connectFeed(
  feed: ReturnType<typeof useFeed>,
  token: string,
  opts: { flushMs?: number; EventSourceImpl?: typeof EventSource } = {},
): () => void {
  const ES = opts.EventSourceImpl ?? EventSource
  feed.status = 'connecting'
  const es = new ES(`${API_BASE}/stream?access_token=${encodeURIComponent(token)}`)
  es.onopen = () => (feed.status = 'open')
  es.onerror = () => (feed.status = es.readyState === 2 ? 'error' : 'connecting')
  es.addEventListener('case', (e) => {
    feed.status = 'open'
    try {
      feed.push(JSON.parse((e as MessageEvent).data) as FeedEvent)
    } catch {
      /* ignore malformed event */
    }
  })
  const timer = setInterval(() => feed.flush(), opts.flushMs ?? 300)
  return () => {
    clearInterval(timer)
    es.close()
    feed.flush()
    feed.status = 'idle'
  }
}
