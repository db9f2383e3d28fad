/**
 * A simulated slow upstream: connecting takes a while (the `Initializer` runs it once),
 * each fetch takes a few milliseconds and honours its abort signal.
 */
import { setTimeout as sleep } from 'node:timers/promises'

/** An upstream record. */
export interface Item {
  readonly id: string
  readonly name: string
  readonly price: number
  readonly fetchedAt: number
}

/** A handle on an upstream result; `release()` frees what it holds (called on eviction). */
export interface ItemHandle {
  readonly item: Item
  release(): Promise<void>
}

/** A connected upstream client. */
export interface UpstreamClient {
  fetch(id: string, signal: AbortSignal): Promise<ItemHandle>
  related(id: string, signal: AbortSignal): Promise<string[]>
  readonly stats: { fetches: number; released: number; connects: number }
}

/** Connects to the simulated upstream (`connectMs` of latency), abortable. */
export async function connectUpstream(signal: AbortSignal, connectMs: number, stats = { fetches: 0, released: 0, connects: 0 }): Promise<UpstreamClient> {
  await sleep(connectMs, undefined, { signal })
  stats.connects++
  return {
    stats,
    async fetch(id, fetchSignal) {
      await sleep(2 + (hash(id) % 8), undefined, { signal: fetchSignal })
      stats.fetches++
      const item: Item = { id, name: `item ${id}`, price: hash(id) % 1000, fetchedAt: Date.now() }
      let released = false
      return {
        item,
        async release() {
          if (released) return
          released = true
          await sleep(1)
          stats.released++
        },
      }
    },
    async related(id, relatedSignal) {
      await sleep(5 + (hash(id) % 20), undefined, { signal: relatedSignal })
      return [1, 2, 3].map((n) => String((hash(id) + n) % 1000))
    },
  }
}

function hash(text: string): number {
  let h = 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return h >>> 0
}
