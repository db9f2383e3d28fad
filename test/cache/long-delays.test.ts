/**
 * The cache's delay options honour durations past `setTimeout`'s 2^31-1 ms (Node, and
 * the fake timers, turn a longer delay into 1 ms): `notifyTimeoutMs`, `pruneIntervalMs`
 * and `getOrLoad`'s `timeoutMs` at 30 days fire neither after 1 ms nor early.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { LruTtlCache } from '../../src/cache/index.js'
import { TimeoutError } from '../../src/errors.js'
import { collector, expectNoUnhandledRejections } from '../helpers.js'

expectNoUnhandledRejections()

const DAYS_30 = 30 * 86_400_000

afterEach(() => {
  vi.useRealTimers()
})

describe('cache delays past 2^31-1 ms', () => {
  it('notifyTimeoutMs: 30 days times a hanging observer out after 30 days, not after 1 ms', async () => {
    vi.useFakeTimers()
    const { onError, seen } = collector()
    let signal: AbortSignal | undefined
    const cache = new LruTtlCache<string, number>({
      capacity: 1,
      notifyTimeoutMs: DAYS_30,
      onError,
      onEvict: (_event, context) => {
        signal = context.signal
        return new Promise<never>(() => {})
      },
    })
    void cache.set('a', 1)
    void cache.set('b', 2) // evicts a: the observer hangs
    await vi.advanceTimersByTimeAsync(1)
    expect([cache.stats().observerTimeouts, signal?.aborted]).toEqual([0, false])
    await vi.advanceTimersByTimeAsync(DAYS_30 - 2)
    expect([cache.stats().observerTimeouts, signal?.aborted]).toEqual([0, false])
    await vi.advanceTimersByTimeAsync(1)
    expect([cache.stats().observerTimeouts, signal?.aborted, cache.stats().pendingNotifications]).toEqual([1, true, 0])
    expect(seen.map((s) => [s.context.event, (s.error as TimeoutError).timeoutMs])).toEqual([['observer-timeout', DAYS_30]])
    cache[Symbol.dispose]()
  })

  it('pruneIntervalMs: 30 days prunes every 30 days, not every millisecond, and stops on dispose', async () => {
    vi.useFakeTimers()
    const cache = new LruTtlCache<string, number>({ capacity: 10, pruneIntervalMs: DAYS_30 })
    void cache.set('short', 1, { ttlMs: 1 })
    await vi.advanceTimersByTimeAsync(5)
    // Expired, but only a prune (or a lookup) removes it; size counts it until then.
    expect([cache.size, cache.stats().evictions.expired]).toEqual([1, 0])
    await vi.advanceTimersByTimeAsync(DAYS_30 - 6)
    expect([cache.size, cache.stats().evictions.expired]).toEqual([1, 0])
    await vi.advanceTimersByTimeAsync(1)
    expect([cache.size, cache.stats().evictions.expired]).toEqual([0, 1])
    // Re-armed: the next prune comes 30 days later.
    void cache.set('again', 2, { ttlMs: 1 })
    await vi.advanceTimersByTimeAsync(DAYS_30 - 1)
    expect(cache.size).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(cache.size).toBe(0)
    cache[Symbol.dispose]()
    expect(vi.getTimerCount()).toBe(0)
  })

  it("getOrLoad's timeoutMs: 30 days rejects the caller after 30 days, not after 1 ms", async () => {
    vi.useFakeTimers()
    const cache = new LruTtlCache<string, number>({ capacity: 10 })
    let outcome: unknown = 'pending'
    const caller = cache.getOrLoad('k', () => new Promise<number>(() => {}), { timeoutMs: DAYS_30 }).then(
      (v) => (outcome = v),
      (e: unknown) => (outcome = e),
    )
    await vi.advanceTimersByTimeAsync(1)
    expect(outcome).toBe('pending')
    await vi.advanceTimersByTimeAsync(DAYS_30 - 2)
    expect(outcome).toBe('pending')
    await vi.advanceTimersByTimeAsync(1)
    await caller
    expect(outcome).toBeInstanceOf(TimeoutError)
    expect((outcome as TimeoutError).timeoutMs).toBe(DAYS_30)
    cache[Symbol.dispose]()
    expect(vi.getTimerCount()).toBe(0)
  })
})
