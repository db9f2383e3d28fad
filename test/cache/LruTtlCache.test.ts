import { afterEach, describe, expect, it, vi } from 'vitest'
import { LruTtlCache, type EvictionCause, type EvictionEvent } from '../../src/cache/index.js'
import type { ErrorContext } from '../../src/internal/report.js'
import { captureWarnings, deferred, expectNoUnhandledRejections, flushMicrotasks } from '../helpers.js'

expectNoUnhandledRejections()

type Pair = [string, EvictionCause]

/** A cache of strings with an injected clock and an observer that records (key, cause). */
function setup(capacity: number, extra: Partial<ConstructorParameters<typeof LruTtlCache<string, number>>[0]> = {}) {
  const clock = { t: 0 }
  const seen: Pair[] = []
  const cache = new LruTtlCache<string, number>({
    capacity,
    clock: () => clock.t,
    onEvict: ({ key, cause }) => {
      seen.push([key, cause])
    },
    ...extra,
  })
  return { cache, clock, seen }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('validation', () => {
  it('refuses a capacity that is not a positive integer, naming the value (0 is not 1)', () => {
    expect(() => new LruTtlCache({ capacity: 0 })).toThrow(RangeError)
    expect(() => new LruTtlCache({ capacity: 0 })).toThrow(/capacity must be a positive integer, received 0/)
    expect(() => new LruTtlCache({ capacity: -3 })).toThrow(/received -3/)
    expect(() => new LruTtlCache({ capacity: 1.5 })).toThrow(RangeError)
    expect(() => new LruTtlCache({ capacity: NaN })).toThrow(/received NaN/)
    expect(() => new LruTtlCache({ capacity: Infinity })).toThrow(RangeError)
    expect(() => new LruTtlCache({ capacity: '3' as unknown as number })).toThrow(TypeError)
    expect(() => new LruTtlCache(undefined as never)).toThrow(TypeError)
  })

  it('refuses negative, NaN and non-finite TTLs and bad callbacks', () => {
    expect(() => new LruTtlCache({ capacity: 1, ttlMs: -1 })).toThrow(/ttlMs must be a non-negative finite number, received -1/)
    expect(() => new LruTtlCache({ capacity: 1, ttlMs: NaN })).toThrow(RangeError)
    expect(() => new LruTtlCache({ capacity: 1, ttlMs: Infinity })).toThrow(RangeError)
    expect(() => new LruTtlCache({ capacity: 1, onEvict: 'x' as never })).toThrow(/onEvict must be a function, received "x"/)
    expect(() => new LruTtlCache({ capacity: 1, onError: 1 as never })).toThrow(TypeError)
    expect(() => new LruTtlCache({ capacity: 1, clock: {} as never })).toThrow(TypeError)
    expect(() => new LruTtlCache({ capacity: 1, notifyConcurrency: 0 })).toThrow(RangeError)
    expect(() => new LruTtlCache({ capacity: 1, notifyTimeoutMs: -1 })).toThrow(RangeError)
    expect(() => new LruTtlCache({ capacity: 1, pruneIntervalMs: 0 })).toThrow(RangeError)
    const cache = new LruTtlCache<string, number>({ capacity: 1 })
    expect(() => cache.observe(42 as never)).toThrow(/observer must be a function, received 42/)
  })

  it('rejects bad per-call input without changing anything', async () => {
    const { cache, seen } = setup(2)
    await expect(cache.set('a', 1, { ttlMs: -5 })).rejects.toThrow(RangeError)
    await expect(cache.set('a', 1, { ttlMs: NaN })).rejects.toThrow(/received NaN/)
    expect(cache.size).toBe(0)
    await expect(cache.getOrLoad('a', 'nope' as never)).rejects.toThrow(/loader must be a function/)
    await expect(cache.getOrLoad('a', () => 1, { ttlMs: -1 })).rejects.toThrow(RangeError)
    await expect(cache.getOrLoad('a', () => 1, { signal: {} as never })).rejects.toThrow(TypeError)
    expect(cache.stats().loads).toBe(0)
    expect(seen).toEqual([])
  })
})

describe('ported from the original suite', () => {
  it('capacity eviction order: a cache of 2 with a, b evicts a when c is inserted', async () => {
    const { cache, seen } = setup(2)
    await cache.set('a', 1)
    await cache.set('b', 2)
    await cache.set('c', 3)
    expect(seen).toEqual([['a', 'evicted']])
    expect(cache.keys()).toEqual(['c', 'b'])
    expect(cache.get('a')).toBeUndefined()
    expect(cache.size).toBe(2)
  })

  it('a read refreshes recency: the least recently used goes first', async () => {
    const { cache, seen } = setup(2)
    await cache.set('a', 1)
    await cache.set('b', 2)
    expect(cache.get('a')).toBe(1)
    await cache.set('c', 3)
    expect(seen).toEqual([['b', 'evicted']])
    expect(cache.keys()).toEqual(['c', 'a'])
  })

  it('TTL expiry: an expired get is a miss that removes the entry and notifies expired', async () => {
    const { cache, clock, seen } = setup(4, { ttlMs: 100 })
    await cache.set('a', 1)
    clock.t = 100
    expect(cache.get('a')).toBe(1) // lives for ttlMs inclusive
    clock.t = 101
    expect(cache.get('a')).toBeUndefined()
    expect(cache.size).toBe(0)
    await cache.settled()
    expect(seen).toEqual([['a', 'expired']])
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, evictions: { expired: 1 } })
  })

  it('hit/miss statistics and hit rate', async () => {
    const { cache } = setup(4)
    expect(cache.stats().hitRate).toBe(0)
    await cache.set('a', 1)
    cache.get('a')
    cache.get('a')
    cache.get('a')
    cache.get('zz')
    cache.peek('a')
    cache.has('zz')
    expect(cache.stats()).toMatchObject({ hits: 3, misses: 1, hitRate: 0.75, size: 1, capacity: 4 })
  })

  it('pruneExpired leaves size 0 and resolves with the number removed, once notified', async () => {
    const { cache, clock, seen } = setup(8, { ttlMs: 10 })
    for (const k of ['a', 'b', 'c']) await cache.set(k, 1)
    await cache.set('d', 1, { ttlMs: 1000 })
    clock.t = 11
    await expect(cache.pruneExpired()).resolves.toBe(3)
    expect(cache.size).toBe(1)
    clock.t = 2000
    await expect(cache.pruneExpired()).resolves.toBe(1)
    expect(cache.size).toBe(0)
    expect(seen.map(([, c]) => c)).toEqual(['expired', 'expired', 'expired', 'expired'])
    await expect(cache.pruneExpired()).resolves.toBe(0)
  })

  it('manual removal notifies only when something was removed', async () => {
    const { cache, clock, seen } = setup(4)
    await expect(cache.delete('missing')).resolves.toBe(false)
    expect(seen).toEqual([])
    await cache.set('a', 1)
    await expect(cache.delete('a')).resolves.toBe(true)
    expect(seen).toEqual([['a', 'deleted']])
    await expect(cache.delete('a')).resolves.toBe(false)
    await cache.set('b', 1, { ttlMs: 5 })
    clock.t = 6
    await expect(cache.delete('b')).resolves.toBe(false)
    expect(seen).toEqual([
      ['a', 'deleted'],
      ['b', 'expired'],
    ])
    expect(cache.stats().evictions).toEqual({ evicted: 0, expired: 1, deleted: 1, replaced: 0, cleared: 0, invalidated: 0 })
  })
})

describe('semantics', () => {
  it('re-set refreshes recency and TTL without a duplicate; replaced is notified unless the same value', async () => {
    const { cache, clock, seen } = setup(3, { ttlMs: 10 })
    await cache.set('a', 1)
    await cache.set('b', 1)
    clock.t = 8
    await cache.set('a', 1) // same value: no notification, TTL and recency refreshed
    expect(seen).toEqual([])
    expect(cache.keys()).toEqual(['a', 'b'])
    clock.t = 15
    expect(cache.keys()).toEqual(['a'])
    await cache.settled()
    expect(seen).toEqual([['b', 'expired']])
    await cache.set('a', 2)
    expect(seen).toEqual([
      ['b', 'expired'],
      ['a', 'replaced'],
    ])
    expect(cache.size).toBe(1)
    await cache.set('a', NaN)
    await cache.set('a', NaN) // Object.is(NaN, NaN)
    expect(seen.filter(([k]) => k === 'a')).toHaveLength(2)
  })

  it('set over an expired entry notifies expired, not replaced; eviction of an expired tail too', async () => {
    const { cache, clock, seen } = setup(2)
    await cache.set('a', 1, { ttlMs: 5 })
    await cache.set('b', 1, { ttlMs: 5 })
    clock.t = 6
    await cache.set('a', 2)
    expect(seen).toEqual([['a', 'expired']])
    await cache.set('c', 1) // evicts b, which had expired
    expect(seen).toEqual([
      ['a', 'expired'],
      ['b', 'expired'],
    ])
    expect(cache.stats().evictions).toMatchObject({ expired: 2, evicted: 0, replaced: 0 })
  })

  it('set of the very same value over its expired entry counts an expiry but does not notify it (the value is live again)', async () => {
    const clock = { t: 0 }
    const closed: string[] = []
    const conn = { id: 'c1', close: () => closed.push('c1') }
    const cache = new LruTtlCache<string, typeof conn>({ capacity: 2, clock: () => clock.t, onEvict: ({ value }) => value.close() })
    await cache.set('a', conn, { ttlMs: 5 })
    clock.t = 6
    await cache.set('a', conn)
    expect(closed).toEqual([])
    expect(cache.get('a')).toBe(conn)
    expect(cache.stats().evictions).toMatchObject({ expired: 1, replaced: 0 })
    await cache.set('a', { id: 'c2', close: () => closed.push('c2') })
    expect(closed).toEqual(['c1']) // replaced: the old value is released once
  })

  it('has, peek, keys and entries never show an expired entry and never change recency', async () => {
    const { cache, clock, seen } = setup(3)
    await cache.set('a', 1)
    await cache.set('b', 2, { ttlMs: 5 })
    await cache.set('c', 3)
    expect(cache.has('a')).toBe(true)
    expect(cache.peek('a')).toBe(1)
    expect(cache.keys()).toEqual(['c', 'b', 'a'])
    expect(cache.values()).toEqual([3, 2, 1])
    clock.t = 6
    expect(cache.entries()).toEqual([
      ['c', 3],
      ['a', 1],
    ])
    expect(cache.has('b')).toBe(false)
    expect([...cache]).toEqual([
      ['c', 3],
      ['a', 1],
    ])
    await cache.settled()
    expect(seen).toEqual([['b', 'expired']])
    await cache.set('d', 4)
    await cache.set('e', 5) // a is still the least recently used: has and peek did not refresh it
    expect(cache.keys()).toEqual(['e', 'd', 'c'])
  })

  it('has and peek remove an expired entry they find', async () => {
    const { cache, clock, seen } = setup(3)
    await cache.set('a', 1, { ttlMs: 1 })
    await cache.set('b', 1, { ttlMs: 1 })
    clock.t = 2
    expect(cache.has('a')).toBe(false)
    expect(cache.peek('b')).toBeUndefined()
    expect(cache.size).toBe(0)
    await cache.settled()
    expect(seen).toEqual([
      ['a', 'expired'],
      ['b', 'expired'],
    ])
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 0 })
  })

  it('clear notifies cleared (expired for expired entries), least recently used first', async () => {
    const { cache, clock, seen } = setup(3)
    await cache.set('a', 1)
    await cache.set('b', 1, { ttlMs: 1 })
    await cache.set('c', 1)
    clock.t = 5
    await cache.clear()
    expect(seen).toEqual([
      ['a', 'cleared'],
      ['b', 'expired'],
      ['c', 'cleared'],
    ])
    expect(cache.size).toBe(0)
  })

  it('size never exceeds capacity and slots are reused', async () => {
    const { cache } = setup(3)
    for (let i = 0; i < 100; i++) {
      await cache.set(`k${i % 7}`, i)
      if (i % 5 === 0) await cache.delete(`k${(i + 3) % 7}`)
      expect(cache.size).toBeLessThanOrEqual(3)
    }
    expect(new Set(cache.keys()).size).toBe(cache.size)
  })

  it('grows its arrays up to a large capacity', async () => {
    const cache = new LruTtlCache<number, number>({ capacity: 1000 })
    for (let i = 0; i < 1500; i++) await cache.set(i, i)
    expect(cache.size).toBe(1000)
    expect(cache.get(499)).toBeUndefined()
    expect(cache.get(500)).toBe(500)
    expect(cache.keys()[0]).toBe(500)
    expect(cache.keys()[999]).toBe(501)
  })

  it('TTL 0 lives only while the clock has not moved', async () => {
    const { cache, clock } = setup(2)
    await cache.set('a', 1, { ttlMs: 0 })
    expect(cache.get('a')).toBe(1)
    clock.t = 0.001
    expect(cache.get('a')).toBeUndefined()
  })

  it('with the default clock and real time, a short TTL expires', async () => {
    const cache = new LruTtlCache<string, number>({ capacity: 2, ttlMs: 2 })
    await cache.set('a', 1)
    expect(cache.get('a')).toBe(1)
    const start = performance.now()
    while (performance.now() - start < 5) {
      // busy wait in the same synchronous job: the remembered reading must not serve 'a'
    }
    expect(cache.get('a')).toBeUndefined()
  })

  it('with fake timers, TTLs follow the faked clock', async () => {
    vi.useFakeTimers()
    const cache = new LruTtlCache<string, number>({ capacity: 2, ttlMs: 5_000 })
    await cache.set('a', 1)
    expect(cache.get('a')).toBe(1)
    vi.advanceTimersByTime(4_000)
    expect(cache.get('a')).toBe(1)
    vi.advanceTimersByTime(2_000)
    expect(cache.get('a')).toBeUndefined()
  })
})

describe('notifications', () => {
  it('the state change and its stats are complete before any observer starts', async () => {
    let inside: { hasA: boolean; hasC: boolean; size: number; evicted: number } | undefined
    const cache: LruTtlCache<string, number> = new LruTtlCache<string, number>({
      capacity: 2,
      onEvict: () => {
        inside = { hasA: cache.has('a'), hasC: cache.has('c'), size: cache.size, evicted: cache.stats().evictions.evicted }
      },
    })
    void cache.set('a', 1)
    void cache.set('b', 1)
    const p = cache.set('c', 1)
    expect(inside).toBeUndefined() // not called inside set
    await p
    expect(inside).toEqual({ hasA: false, hasC: true, size: 2, evicted: 1 })
  })

  it('set resolves only once the notifications it caused settled, and never rejects for observer failures', async () => {
    const gate = deferred()
    const errors: [unknown, ErrorContext][] = []
    const cache = new LruTtlCache<string, number>({
      capacity: 1,
      onEvict: async ({ key }) => {
        await gate.promise
        throw new Error(`boom ${key}`)
      },
      onError: (error, context) => errors.push([error, context]),
    })
    await cache.set('a', 1)
    let resolved = false
    const p = cache.set('b', 2).then(() => {
      resolved = true
    })
    await flushMicrotasks()
    expect(resolved).toBe(false)
    expect(cache.stats().pendingNotifications).toBe(1)
    gate.resolve()
    await p
    expect(resolved).toBe(true)
    expect(cache.stats()).toMatchObject({ observerErrors: 1, pendingNotifications: 0 })
    expect(errors).toHaveLength(1)
    expect((errors[0]![0] as Error).message).toBe('boom a')
    expect(errors[0]![1]).toMatchObject({ area: 'cache', event: 'observer-error', key: 'a', cause: 'evicted' })
  })

  it('a synchronously throwing observer is counted and reported; the next observer still runs', async () => {
    const onError = vi.fn()
    const seen: string[] = []
    const cache = new LruTtlCache<string, number>({
      capacity: 1,
      onError,
      onEvict: () => {
        throw new Error('sync boom')
      },
    })
    using _sub = cache.observe(({ key }) => {
      seen.push(key)
    })
    await cache.set('a', 1)
    await cache.set('b', 1)
    await cache.set('c', 1)
    expect(seen).toEqual(['a', 'b'])
    expect(onError).toHaveBeenCalledTimes(2)
    expect(cache.stats().observerErrors).toBe(2)
  })

  it('an observer returning a hostile thenable is a counted failure, not a crash', async () => {
    const onError = vi.fn()
    const cache = new LruTtlCache<string, number>({
      capacity: 1,
      onError,
      onEvict: () => ({
        get then(): never {
          throw new Error('hostile then')
        },
      }),
    })
    await cache.set('a', 1)
    await cache.set('b', 1)
    expect(cache.stats().observerErrors).toBe(1)
    expect((onError.mock.calls[0]![0] as Error).message).toBe('hostile then')
  })

  it('without onError, an observer failure becomes a process warning', async () => {
    const { warnings, restore } = captureWarnings()
    try {
      const cache = new LruTtlCache<string, number>({ capacity: 1, name: 'sessions', onEvict: () => Promise.reject(new Error('nope')) })
      await cache.set('a', 1)
      await cache.set('b', 1)
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings).toEqual([{ message: 'asyncsafe cache "sessions" observer-error: Error: nope', code: 'ASYNCSAFE_CACHE_OBSERVER_ERROR' }])
    } finally {
      restore()
    }
  })

  it('a hanging observer times out: its signal aborts, a timeout is counted and reported, its slot is freed', async () => {
    vi.useFakeTimers()
    const signals: AbortSignal[] = []
    const started: string[] = []
    const onError = vi.fn()
    const cache = new LruTtlCache<string, number>({
      capacity: 1,
      notifyConcurrency: 1,
      notifyTimeoutMs: 100,
      onError,
      onEvict: ({ key }, { signal }) => {
        started.push(key)
        signals.push(signal)
        return key === 'a' ? new Promise(() => {}) : undefined
      },
    })
    await cache.set('a', 1)
    const first = cache.set('b', 1) // evicts a: hangs
    const second = cache.set('c', 1) // evicts b: waits for the only slot
    await vi.advanceTimersByTimeAsync(0)
    expect(started).toEqual(['a'])
    await vi.advanceTimersByTimeAsync(99)
    expect(signals[0]!.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(signals[0]!.aborted).toBe(true)
    expect(signals[0]!.reason).toMatchObject({ name: 'TimeoutError' })
    await first
    await second
    expect(started).toEqual(['a', 'b'])
    expect(cache.stats()).toMatchObject({ observerTimeouts: 1, observerErrors: 0, pendingNotifications: 0 })
    expect(onError).toHaveBeenCalledTimes(1)
    expect(onError.mock.calls[0]![1]).toMatchObject({ area: 'cache', event: 'observer-timeout', key: 'a', cause: 'evicted' })
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a timed-out observer that rejects later is not counted twice', async () => {
    vi.useFakeTimers()
    const late = deferred()
    const cache = new LruTtlCache<string, number>({ capacity: 1, notifyTimeoutMs: 10, onError: () => {}, onEvict: () => late.promise })
    await cache.set('a', 1)
    const p = cache.set('b', 1)
    await vi.advanceTimersByTimeAsync(10)
    await p
    late.reject(new Error('too late'))
    await flushMicrotasks()
    expect(cache.stats()).toMatchObject({ observerTimeouts: 1, observerErrors: 0 })
  })

  it('at most notifyConcurrency observer calls run at once; the rest start in removal order', async () => {
    const gates = new Map<string, () => void>()
    const order: string[] = []
    let running = 0
    let max = 0
    const cache = new LruTtlCache<string, number>({
      capacity: 1,
      notifyConcurrency: 2,
      onEvict: ({ key }) => {
        order.push(key)
        running++
        max = Math.max(max, running)
        return new Promise<void>((resolve) => {
          gates.set(key, () => {
            running--
            resolve()
          })
        })
      },
    })
    const keys = ['a', 'b', 'c', 'd', 'e', 'f']
    for (const k of keys) void cache.set(k, 1)
    await flushMicrotasks()
    expect(order).toEqual(['a', 'b'])
    gates.get('b')!()
    await flushMicrotasks()
    expect(order).toEqual(['a', 'b', 'c'])
    for (const k of ['a', 'c', 'd', 'e']) {
      await flushMicrotasks()
      gates.get(k)!()
    }
    await cache.settled()
    expect(order).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(max).toBe(2)
  })

  it("a key's notifications to one observer run one after another, in removal order", async () => {
    const log: string[] = []
    const gates: (() => void)[] = []
    const cache = new LruTtlCache<string, number>({
      capacity: 5,
      notifyConcurrency: 10,
      onEvict: ({ key, value, cause }) => {
        log.push(`start ${key}${value} ${cause}`)
        return new Promise<void>((resolve) => {
          gates.push(() => {
            log.push(`end ${key}${value}`)
            resolve()
          })
        })
      },
    })
    await Promise.all([cache.set('a', 1), cache.set('b', 1)])
    void cache.set('a', 2) // replaced a1
    void cache.delete('a') // deleted a2
    void cache.delete('b') // deleted b1 (another key: runs in parallel)
    await flushMicrotasks()
    expect(log).toEqual(['start a1 replaced', 'start b1 deleted'])
    gates.shift()!() // end a1
    await flushMicrotasks()
    expect(log).toEqual(['start a1 replaced', 'start b1 deleted', 'end a1', 'start a2 deleted'])
    while (gates.length > 0) {
      gates.shift()!()
      await flushMicrotasks()
    }
    await cache.settled()
  })

  it('every observer gets every removal once; a disposed subscription gets no later ones', async () => {
    const { cache, seen } = setup(1)
    const extra: EvictionEvent<string, number>[] = []
    const sub = cache.observe((e) => {
      extra.push(e)
    })
    await cache.set('a', 1)
    await cache.set('b', 2)
    sub[Symbol.dispose]()
    sub[Symbol.dispose]()
    await cache.set('c', 3)
    expect(seen).toEqual([
      ['a', 'evicted'],
      ['b', 'evicted'],
    ])
    expect(extra).toEqual([{ key: 'a', value: 1, cause: 'evicted' }])
  })

  it('settled waits for every pending notification', async () => {
    const gate = deferred()
    const cache = new LruTtlCache<string, number>({ capacity: 1, onEvict: () => gate.promise })
    void cache.set('a', 1)
    void cache.set('b', 1)
    void cache.set('c', 1)
    let done = false
    const s = cache.settled().then(() => {
      done = true
    })
    await flushMicrotasks()
    expect(done).toBe(false)
    expect(cache.stats().pendingNotifications).toBe(2)
    gate.resolve()
    await s
    expect(cache.stats().pendingNotifications).toBe(0)
  })
})

describe('re-entry from observers', () => {
  it('notifyConcurrency 1: an observer that awaits cache.set (after an await) does not deadlock', async () => {
    const log: string[] = []
    const cache: LruTtlCache<string, number> = new LruTtlCache<string, number>({
      capacity: 1,
      notifyConcurrency: 1,
      notifyTimeoutMs: Infinity,
      onEvict: async ({ key, cause }) => {
        log.push(`${key} ${cause}`)
        await Promise.resolve()
        await new Promise((resolve) => setImmediate(resolve))
        if (key === 'a') {
          await cache.set('x', 1) // evicts c: a nested notification in a's slot
          log.push('a done')
        }
      },
    })
    await cache.set('a', 1)
    void cache.set('b', 1) // evicts a: its call takes the only slot
    void cache.set('c', 1) // evicts b: queued behind a
    await cache.settled()
    // c's eviction, caused by a's observer, ran at once in a's slot, before b's root call.
    expect(log).toEqual(['a evicted', 'c evicted', 'a done', 'b evicted'])
    expect(cache.keys()).toEqual(['x'])
    expect(cache.stats().observerTimeouts).toBe(0)
  })

  it('an observer may await delete and clear of its own key, and settled(), without deadlock', async () => {
    const log: string[] = []
    const cache: LruTtlCache<string, number> = new LruTtlCache<string, number>({
      capacity: 2,
      notifyConcurrency: 1,
      notifyTimeoutMs: Infinity,
      onEvict: async ({ key, value, cause }) => {
        log.push(`${key}${value} ${cause}`)
        await new Promise((resolve) => setImmediate(resolve))
        if (key === 'a' && value === 1) {
          await cache.set('a', 2) // the same key again, same observer
          expect(await cache.delete('a')).toBe(true) // nested 'deleted' for a: must not wait behind a1
          await cache.set('z', 9)
          await cache.clear()
          await cache.settled()
          log.push('a1 done')
        }
      },
    })
    await cache.set('a', 1)
    await cache.delete('a')
    await cache.settled()
    expect(log).toEqual(['a1 deleted', 'a2 deleted', 'z9 cleared', 'a1 done'])
  })

  it('synchronous re-entry (get/set inside the observer body) cascades in order to an exact final state', async () => {
    const log: string[] = []
    const cache: LruTtlCache<string, number> = new LruTtlCache<string, number>({
      capacity: 2,
      notifyConcurrency: 1,
      onEvict: ({ key, value, cause }) => {
        log.push(`${key}:${value}:${cause}`)
        // Each eviction stores a primed key, which evicts the least recently used one.
        if (value < 3) void cache.set(`${key}'`, value + 1)
        cache.get('nothing')
      },
    })
    await cache.set('a', 0)
    await cache.set('b', 0)
    await cache.set('c', 0) // evicts a:0, whose observer sets a' (evicting b), and so on
    await cache.settled()
    expect(log).toEqual([
      'a:0:evicted',
      'b:0:evicted',
      'c:0:evicted',
      "a':1:evicted",
      "b':1:evicted",
      "c':1:evicted",
      "a'':2:evicted",
      "b'':2:evicted",
      "c'':2:evicted",
      "a''':3:evicted",
    ])
    expect(cache.entries()).toEqual([
      ["c'''", 3],
      ["b'''", 3],
    ])
    expect(cache.stats()).toMatchObject({ observerErrors: 0, misses: 10, pendingNotifications: 0, evictions: { evicted: 10, expired: 0, deleted: 0, replaced: 0, cleared: 0 } })
  })

  it('an observer reads stats and calls settled() while running: no deadlock', async () => {
    let statsInside: number | undefined
    const cache: LruTtlCache<string, number> = new LruTtlCache<string, number>({
      capacity: 1,
      notifyConcurrency: 1,
      onEvict: async () => {
        await Promise.resolve()
        statsInside = cache.stats().evictions.evicted
        await cache.settled()
      },
    })
    await cache.set('a', 1)
    await cache.set('b', 1)
    expect(statsInside).toBe(1)
  })
})

describe('getOrLoad', () => {
  it('one loader run per key; every concurrent caller gets its value; it is stored with ttlMs', async () => {
    const { cache, clock } = setup(4)
    const d = deferred<number>()
    const loader = vi.fn((_key: string) => d.promise)
    const calls = [cache.getOrLoad('a', loader, { ttlMs: 10 }), cache.getOrLoad('a', loader), cache.getOrLoad('a', loader)]
    expect(loader).toHaveBeenCalledTimes(1)
    expect(loader.mock.calls[0]![0]).toBe('a')
    d.resolve(42)
    await expect(Promise.all(calls)).resolves.toEqual([42, 42, 42])
    expect(cache.get('a')).toBe(42)
    await expect(cache.getOrLoad('a', loader)).resolves.toBe(42)
    expect(loader).toHaveBeenCalledTimes(1)
    expect(cache.stats()).toMatchObject({ loads: 1, coalesced: 2, loadErrors: 0 })
    clock.t = 11
    expect(cache.get('a')).toBeUndefined()
  })

  it('errors reach every caller and are not cached', async () => {
    const { cache } = setup(4)
    const boom = new Error('boom')
    let n = 0
    const loader = async (): Promise<number> => {
      n++
      if (n === 1) throw boom
      return 7
    }
    const a = cache.getOrLoad('k', loader)
    const b = cache.getOrLoad('k', loader)
    await expect(a).rejects.toBe(boom)
    await expect(b).rejects.toBe(boom)
    expect(cache.has('k')).toBe(false)
    await expect(cache.getOrLoad('k', loader)).resolves.toBe(7)
    expect(cache.stats()).toMatchObject({ loads: 2, loadErrors: 1, coalesced: 1 })
  })

  it('a synchronously throwing loader rejects and is counted', async () => {
    const { cache } = setup(2)
    await expect(
      cache.getOrLoad('k', () => {
        throw new Error('sync')
      }),
    ).rejects.toThrow('sync')
    expect(cache.stats().loadErrors).toBe(1)
    await expect(cache.getOrLoad('k', () => 3)).resolves.toBe(3)
    expect(cache.peek('k')).toBe(3)
  })

  it("one caller's abort rejects only that caller with its reason", async () => {
    const { cache } = setup(2)
    const d = deferred<number>()
    let loadSignal!: AbortSignal
    const ac = new AbortController()
    const leaving = cache.getOrLoad('k', (_k, { signal }) => {
      loadSignal = signal
      return d.promise
    }, { signal: ac.signal })
    const staying = cache.getOrLoad('k', () => 0)
    const reason = new Error('left')
    ac.abort(reason)
    await expect(leaving).rejects.toBe(reason)
    expect(loadSignal.aborted).toBe(false)
    d.resolve(5)
    await expect(staying).resolves.toBe(5)
    expect(cache.get('k')).toBe(5)
  })

  it('when every caller left, the loader signal aborts, its result is not stored and the next caller loads afresh', async () => {
    const { cache } = setup(2)
    const first = deferred<number>()
    let loadSignal!: AbortSignal
    const ac1 = new AbortController()
    const ac2 = new AbortController()
    const p1 = cache.getOrLoad('k', (_k, { signal }) => {
      loadSignal = signal
      return first.promise // ignores its signal
    }, { signal: ac1.signal })
    const p2 = cache.getOrLoad('k', () => 0, { signal: ac2.signal })
    ac1.abort(new Error('one'))
    ac2.abort(new Error('two'))
    await expect(p1).rejects.toThrow('one')
    await expect(p2).rejects.toThrow('two')
    expect(loadSignal.aborted).toBe(true)
    const fresh = cache.getOrLoad('k', () => 2)
    first.resolve(1) // the abandoned load finishes late
    await expect(fresh).resolves.toBe(2)
    await flushMicrotasks()
    expect(cache.get('k')).toBe(2)
    expect(cache.stats().loads).toBe(2)
  })

  it('a pre-aborted signal rejects at once and starts nothing, even on a hit', async () => {
    const { cache } = setup(2)
    await cache.set('k', 1)
    const loader = vi.fn(() => 1)
    const reason = new Error('already')
    await expect(cache.getOrLoad('k', loader, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason)
    await expect(cache.getOrLoad('other', loader, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason)
    expect(loader).not.toHaveBeenCalled()
  })

  it('timeoutMs rejects that caller with a TimeoutError and cleans up', async () => {
    vi.useFakeTimers()
    const { cache } = setup(2)
    const d = deferred<number>()
    const ac = new AbortController()
    const p = cache.getOrLoad('k', () => d.promise, { timeoutMs: 50, signal: ac.signal })
    const other = cache.getOrLoad('k', () => 0)
    const check = expect(p).rejects.toMatchObject({ name: 'TimeoutError' })
    await vi.advanceTimersByTimeAsync(50)
    await check
    d.resolve(3)
    await expect(other).resolves.toBe(3)
    await expect(cache.getOrLoad('z', () => 1, { timeoutMs: 0 })).rejects.toMatchObject({ name: 'TimeoutError' })
    await expect(cache.getOrLoad('k', () => 1, { timeoutMs: 0 })).resolves.toBe(3)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('set or delete during a load detaches it: callers get its result, it is not stored', async () => {
    const { cache } = setup(2)
    const d = deferred<number>()
    const p = cache.getOrLoad('k', () => d.promise)
    await cache.set('k', 100)
    d.resolve(1)
    await expect(p).resolves.toBe(1)
    expect(cache.get('k')).toBe(100)
    const d2 = deferred<number>()
    const p2 = cache.getOrLoad('j', () => d2.promise)
    await cache.delete('j')
    d2.resolve(5)
    await expect(p2).resolves.toBe(5)
    expect(cache.has('j')).toBe(false)
  })

  it('a loaded value that evicts notifies like set', async () => {
    const { cache, seen } = setup(1)
    await cache.set('a', 1)
    await cache.getOrLoad('b', async () => 2)
    await cache.settled()
    expect(seen).toEqual([['a', 'evicted']])
  })
})

describe('disposal', () => {
  it('await using clears (notifying cleared), drains and leaves no timers', async () => {
    vi.useFakeTimers()
    const seen: Pair[] = []
    const gate = deferred()
    {
      await using cache = new LruTtlCache<string, number>({
        capacity: 3,
        pruneIntervalMs: 1000,
        onEvict: async ({ key, cause }) => {
          await gate.promise
          seen.push([key, cause])
        },
      })
      await cache.set('a', 1)
      await cache.set('b', 2)
      expect(vi.getTimerCount()).toBe(1) // the prune timer
      setTimeout(() => gate.resolve(), 0)
      const advance = vi.advanceTimersByTimeAsync(0)
      void advance
    }
    expect(seen.map(([, c]) => c)).toEqual(['cleared', 'cleared'])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('dispose is idempotent, aborts loads in flight with DisposedError, and removes signal listeners', async () => {
    const cache = new LruTtlCache<string, number>({ capacity: 2 })
    const ac = new AbortController()
    let loadSignal!: AbortSignal
    const p = cache.getOrLoad('k', (_k, { signal }) => {
      loadSignal = signal
      return new Promise<number>(() => {})
    }, { signal: ac.signal })
    const { abortListenerCount } = await import('../helpers.js')
    expect(abortListenerCount(ac.signal)).toBe(1)
    const d1 = cache[Symbol.asyncDispose]()
    const d2 = cache[Symbol.asyncDispose]()
    cache[Symbol.dispose]()
    expect(d1).toBe(d2)
    await d1
    await expect(p).rejects.toMatchObject({ name: 'DisposedError' })
    expect(loadSignal.aborted).toBe(true)
    expect(abortListenerCount(ac.signal)).toBe(0)
    expect(cache.stats().loadErrors).toBe(0)
  })

  it('an observer may dispose the cache and await it without deadlock', async () => {
    const log: string[] = []
    const cache: LruTtlCache<string, number> = new LruTtlCache<string, number>({
      capacity: 2,
      notifyConcurrency: 1,
      notifyTimeoutMs: Infinity,
      onEvict: async ({ key, cause }) => {
        log.push(`${key} ${cause}`)
        await Promise.resolve()
        if (key === 'a') {
          await cache[Symbol.asyncDispose]()
          log.push('disposed')
        }
      },
    })
    await cache.set('a', 1)
    await cache.set('b', 1)
    await cache.delete('a')
    await cache.settled()
    expect(log).toEqual(['a deleted', 'b cleared', 'disposed'])
    expect(cache.size).toBe(0)
  })

  it('the prune timer notifies expired entries without traffic, and is unref-ed', async () => {
    vi.useFakeTimers()
    const seen: Pair[] = []
    const cache = new LruTtlCache<string, number>({
      capacity: 3,
      ttlMs: 100,
      pruneIntervalMs: 50,
      clock: () => Date.now(),
      onEvict: ({ key, cause }) => {
        seen.push([key, cause])
      },
    })
    await cache.set('a', 1)
    await vi.advanceTimersByTimeAsync(160)
    expect(seen).toEqual([['a', 'expired']])
    expect(cache.size).toBe(0)
    cache[Symbol.dispose]()
    expect(vi.getTimerCount()).toBe(0)
  })
})
