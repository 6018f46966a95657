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

type Listeners = Record<string, (data: unknown) => void>

/**
 * Open the server's stream (/api/v1/stream) and call `listeners[event]` with each event's parsed
 * JSON (malformed events are dropped). Returns the EventSource; close it to stop.
 * Same origin, so the browser sends the session cookie: no token in the URL, where logs would keep it.
 */
export function openStream(
  listeners: Listeners,
  opts: { EventSourceImpl?: typeof EventSource } = {},
): EventSource {
  const ES = opts.EventSourceImpl ?? EventSource
  const es = new ES(`${API_BASE}/stream`)
  for (const [type, fn] of Object.entries(listeners)) {
    es.addEventListener(type, (e) => {
      let data: unknown
      try {
        data = JSON.parse((e as MessageEvent).data)
      } catch {
        return /* ignore malformed event */
      }
      fn(data)
    })
  }
  return es
}

/**
 * Subscribe the feed store to the server's stream; returns a function that closes it.
 * `on` adds listeners for other events of the same stream (`alarm`, `vital_signs`), and `onTick`
 * runs at each flush of the feed (e.g. to flush other buffers at the same pace).
 */
export function connectFeed(
  feed: ReturnType<typeof useFeed>,
  opts: { flushMs?: number; EventSourceImpl?: typeof EventSource; on?: Listeners; onTick?: () => void } = {},
): () => void {
  feed.status = 'connecting'
  const es = openStream({
    ...opts.on,
    case: (data) => {
      feed.status = 'open'
      feed.push(data as FeedEvent)
    },
  }, opts)
  es.onopen = () => (feed.status = 'open')
  es.onerror = () => (feed.status = es.readyState === 2 ? 'error' : 'connecting')
  const timer = setInterval(() => {
    feed.flush()
    opts.onTick?.()
  }, opts.flushMs ?? 300)
  return () => {
    clearInterval(timer)
    es.close()
    feed.flush()
    opts.onTick?.()
    feed.status = 'idle'
  }
}
