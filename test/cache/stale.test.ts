/**
 * Stale-while-revalidate: `graceMs`, `softTimeoutMs`, `refreshAheadRatio`,
 * `refreshTimeoutMs` and `getOrLoadWithStatus`. TTLs and grace are driven by an injected
 * clock; timers (soft timeouts, refresh bounds) by fake timers. Nothing sleeps real time.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { LruTtlCache, type EvictionCause, type LruTtlCacheOptions } from '../../src/cache/index.js'
import { DisposedError, TimeoutError } from '../../src/errors.js'
import { collector, deferred, expectNoUnhandledRejections, flushMicrotasks } from '../helpers.js'

expectNoUnhandledRejections()

type Note = [string, number, EvictionCause]

/** A cache of numbers with an injected clock (`clock.t`), recording every notification and report. */
function setup(extra: Partial<LruTtlCacheOptions<string, number>> = {}) {
  const clock = { t: 0 }
  const notes: Note[] = []
  const reports = collector()
  const cache = new LruTtlCache<string, number>({
    capacity: 10,
    ttlMs: 100,
    graceMs: 50,
    clock: () => clock.t,
    onEvict: ({ key, value, cause }) => {
      notes.push([key, value, cause])
    },
    onError: reports.onError,
    ...extra,
  })
  return { cache, clock, notes, reports: reports.seen }
}

/** A loader whose runs are settled by hand, recording each run's signal. */
function manualLoader() {
  const runs: { key: string; signal: AbortSignal; d: ReturnType<typeof deferred<number>> }[] = []
  const loader = vi.fn((key: string, { signal }: { signal: AbortSignal }) => {
    const d = deferred<number>()
    runs.push({ key, signal, d })
    return d.promise
  })
  return { loader, runs }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('validation', () => {
  it('refuses bad grace options, naming the option and the value', () => {
    expect(() => new LruTtlCache({ capacity: 1, graceMs: -1 })).toThrow(RangeError)
    expect(() => new LruTtlCache({ capacity: 1, graceMs: -1 })).toThrow(/graceMs must be .* received -1/)
    expect(() => new LruTtlCache({ capacity: 1, graceMs: Number.NaN })).toThrow(/graceMs .* received NaN/)
    expect(() => new LruTtlCache({ capacity: 1, graceMs: '5' as never })).toThrow(TypeError)
    expect(() => new LruTtlCache({ capacity: 1, softTimeoutMs: -2 })).toThrow(/softTimeoutMs .* received -2/)
    expect(() => new LruTtlCache({ capacity: 1, refreshTimeoutMs: Number.NaN })).toThrow(/refreshTimeoutMs .* received NaN/)
    for (const bad of [0, 1, -0.5, 1.5, Number.NaN, Infinity]) {
      expect(() => new LruTtlCache({ capacity: 1, refreshAheadRatio: bad })).toThrow(RangeError)
    }
    expect(() => new LruTtlCache({ capacity: 1, refreshAheadRatio: 0 })).toThrow(/refreshAheadRatio must be a number between 0 and 1 \(exclusive\), received 0/)
    expect(() => new LruTtlCache({ capacity: 1, refreshAheadRatio: '0.8' as never })).toThrow(TypeError)
    // Accepted: Infinity grace (stale until evicted), Infinity soft timeout (stale-if-error only).
    expect(() => new LruTtlCache({ capacity: 1, graceMs: Infinity, softTimeoutMs: Infinity, refreshTimeoutMs: Infinity, refreshAheadRatio: 0.5 })).not.toThrow()
  })

  it('names the intended option for bentocache and lru-cache spellings', () => {
    expect(() => new LruTtlCache({ capacity: 1, gracePeriod: 5 } as never)).toThrow(/"gracePeriod" \(did you mean "graceMs"\?\)/)
    expect(() => new LruTtlCache({ capacity: 1, timeout: 5 } as never)).toThrow(/"timeout" \(did you mean "softTimeoutMs"\?\)/)
    expect(() => new LruTtlCache({ capacity: 1, earlyExpiration: 0.8 } as never)).toThrow(/did you mean "refreshAheadRatio"/)
    expect(() => new LruTtlCache({ capacity: 1, allowStale: true } as never)).toThrow(/"allowStale" \(did you mean "graceMs"\?\)/)
    expect(() => new LruTtlCache({ capacity: 1, grace: 5 } as never)).toThrow(/"grace" \(did you mean "graceMs"\?\)/)
  })

  it('rejects bad per-call options without loading', async () => {
    const { cache } = setup()
    const loader = vi.fn(() => 1)
    await expect(cache.getOrLoad('a', loader, { softTimeoutMs: -1 })).rejects.toThrow(/softTimeoutMs .* received -1/)
    await expect(cache.getOrLoad('a', loader, { allowStale: 'yes' as never })).rejects.toThrow(/allowStale must be a boolean, received "yes"/)
    await expect(cache.getOrLoadWithStatus('a', loader, { graceMs: 5 } as never)).rejects.toThrow(/graceMs is a cache option/)
    await expect(cache.getOrLoadWithStatus('a', 'x' as never)).rejects.toThrow(/loader must be a function/)
    expect(loader).not.toHaveBeenCalled()
    expect(cache.stats().loads).toBe(0)
  })
})

describe('grace window', () => {
  it('serves the stale value within grace, at once, while one refresh runs; not after grace', async () => {
    const { cache, clock, notes } = setup()
    await cache.set('a', 1)
    const { loader, runs } = manualLoader()
    clock.t = 150 // expired at 100, grace until 150 inclusive
    expect(await cache.getOrLoadWithStatus('a', loader)).toEqual({ value: 1, stale: true, status: 'stale', refreshing: true })
    expect(runs).toHaveLength(1)
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 1, staleHits: 1, staleOnError: 0, staleOnTimeout: 0, refreshes: 1, loads: 1 })
    runs[0]!.d.resolve(2)
    await flushMicrotasks()
    expect(cache.get('a')).toBe(2)
    await cache.settled()
    expect(notes).toEqual([['a', 1, 'replaced']])

    // Past the grace window: a miss like any other, the old value notified 'expired' once.
    clock.t = 150 + 100 + 51
    const pending = cache.getOrLoadWithStatus('a', loader)
    expect(runs).toHaveLength(2)
    runs[1]!.d.resolve(3)
    expect(await pending).toEqual({ value: 3, stale: false, status: 'loaded', refreshing: false })
    await cache.settled()
    expect(notes).toEqual([['a', 1, 'replaced'], ['a', 2, 'expired']])
    expect(cache.stats()).toMatchObject({ staleHits: 1, refreshes: 1, loads: 2 })
  })

  it('an entry in its grace window is invisible to get/has/peek/keys/entries, not removed by them, and counts in size', async () => {
    const { cache, clock, notes } = setup({ capacity: 3 })
    await cache.set('a', 1)
    await cache.set('b', 2, { ttlMs: 1_000 })
    clock.t = 120
    expect(cache.get('a')).toBeUndefined()
    expect(cache.has('a')).toBe(false)
    expect(cache.peek('a')).toBeUndefined()
    expect(cache.keys()).toEqual(['b'])
    expect(cache.values()).toEqual([2])
    expect(cache.entries()).toEqual([['b', 2]])
    expect(await cache.pruneExpired()).toBe(0)
    expect(cache.size).toBe(2)
    await cache.settled()
    expect(notes).toEqual([])
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 1, evictions: { expired: 0 } })
    // Still servable: getOrLoad serves it stale.
    expect(await cache.getOrLoad('a', () => new Promise<number>(() => {}))).toBe(1)
    // Once grace is over, the first operation that finds it removes it, notified 'expired' once.
    clock.t = 151
    expect(cache.has('a')).toBe(false)
    expect(cache.get('a')).toBeUndefined()
    await cache.settled()
    expect(notes).toEqual([['a', 1, 'expired']])
    expect(cache.size).toBe(1)
    cache[Symbol.dispose]()
  })

  it('pruneExpired removes entries past their grace window only', async () => {
    const { cache, clock, notes } = setup()
    await cache.set('a', 1)
    await cache.set('b', 2, { ttlMs: 30 })
    clock.t = 81 // b: expired at 30, grace over at 80; a: live
    expect(await cache.pruneExpired()).toBe(1)
    clock.t = 120 // a in grace
    expect(await cache.pruneExpired()).toBe(0)
    clock.t = 151
    expect(await cache.pruneExpired()).toBe(1)
    expect(notes).toEqual([['b', 2, 'expired'], ['a', 1, 'expired']])
  })

  it('each way a grace-window value leaves is notified once, with its cause', async () => {
    const { cache, clock, notes } = setup({ capacity: 2 })
    await cache.set('e', 1) // will be evicted by capacity
    await cache.set('d', 2) // will be deleted
    clock.t = 120
    await cache.set('r', 3) // capacity 2: evicts e (least recently used), in grace
    expect(await cache.delete('d')).toBe(true) // in grace: still held, so 'deleted' and true
    await cache.set('c', 4)
    clock.t = 250 // r, c in grace (expired at 220)
    await cache.set('r', 5) // set over a grace entry: 'replaced'
    await cache.clear() // c in grace: 'cleared'; r live: 'cleared'
    expect(notes).toEqual([
      ['e', 1, 'evicted'],
      ['d', 2, 'deleted'],
      ['r', 3, 'replaced'],
      ['c', 4, 'cleared'],
      ['r', 5, 'cleared'],
    ])
    expect(cache.stats().evictions).toMatchObject({ evicted: 1, deleted: 1, replaced: 1, cleared: 2, expired: 0 })
  })

  it('delete of an entry past its grace window is false and notified expired', async () => {
    const { cache, clock, notes } = setup()
    await cache.set('a', 1)
    clock.t = 151
    expect(await cache.delete('a')).toBe(false)
    expect(notes).toEqual([['a', 1, 'expired']])
  })

  it('without graceMs an expired entry is never served stale', async () => {
    const { cache, clock, notes } = setup({ graceMs: undefined })
    await cache.set('a', 1)
    clock.t = 101
    const { loader, runs } = manualLoader()
    const p = cache.getOrLoadWithStatus('a', loader)
    await cache.settled()
    expect(notes).toEqual([['a', 1, 'expired']])
    runs[0]!.d.resolve(2)
    expect(await p).toMatchObject({ value: 2, stale: false, status: 'loaded' })
    expect(cache.stats()).toMatchObject({ staleHits: 0, refreshes: 0, loads: 1 })
  })
})

describe('one refresh per key', () => {
  it('concurrent callers share one refresh; the refresh result is stored with a fresh TTL, the stale value replaced once', async () => {
    const { cache, clock, notes } = setup()
    await cache.set('a', 1)
    clock.t = 110
    const { loader, runs } = manualLoader()
    const answers = await Promise.all([cache.getOrLoad('a', loader), cache.getOrLoad('a', loader), cache.getOrLoad('a', loader)])
    expect(answers).toEqual([1, 1, 1])
    expect(loader).toHaveBeenCalledTimes(1)
    expect(cache.stats()).toMatchObject({ loads: 1, refreshes: 1, coalesced: 2, staleHits: 3 })
    clock.t = 130
    runs[0]!.d.resolve(7)
    await flushMicrotasks()
    await cache.settled()
    expect(notes).toEqual([['a', 1, 'replaced']])
    // Stored at 130 with the full TTL: live until 230, in grace until 280.
    clock.t = 230
    expect(cache.get('a')).toBe(7)
    clock.t = 231
    expect(cache.get('a')).toBeUndefined()
    expect(await cache.getOrLoad('a', loader)).toBe(7)
    expect(runs).toHaveLength(2)
  })

  it('a caller of a key whose stale entry left joins the refresh in flight', async () => {
    const { cache, clock } = setup({ capacity: 1 })
    await cache.set('a', 1)
    clock.t = 120
    const { loader, runs } = manualLoader()
    expect(await cache.getOrLoad('a', loader)).toBe(1)
    await cache.set('b', 9) // capacity 1: the stale 'a' is evicted while its refresh runs
    const joined = cache.getOrLoadWithStatus('a', loader)
    expect(loader).toHaveBeenCalledTimes(1)
    expect(cache.stats().coalesced).toBe(1)
    runs[0]!.d.resolve(2)
    expect(await joined).toEqual({ value: 2, stale: false, status: 'loaded', refreshing: false })
    expect(cache.get('a')).toBe(2)
  })

  it('allowStale: false waits for the refresh (and gets its value) while others are served stale', async () => {
    const { cache, clock } = setup()
    await cache.set('a', 1)
    clock.t = 120
    const { loader, runs } = manualLoader()
    const strict = cache.getOrLoadWithStatus('a', loader, { allowStale: false })
    const relaxed = await cache.getOrLoadWithStatus('a', loader)
    expect(relaxed).toMatchObject({ value: 1, stale: true, status: 'stale' })
    expect(loader).toHaveBeenCalledTimes(1)
    runs[0]!.d.resolve(2)
    expect(await strict).toMatchObject({ value: 2, stale: false, status: 'loaded' })
    expect(cache.stats()).toMatchObject({ loads: 1, refreshes: 1, coalesced: 1, staleHits: 1 })
  })

  it('a synchronous loader refreshes at once: the fresh value, not the stale one', async () => {
    const { cache, clock, notes } = setup()
    await cache.set('a', 1)
    clock.t = 120
    expect(await cache.getOrLoadWithStatus('a', () => 2)).toEqual({ value: 2, stale: false, status: 'loaded', refreshing: false })
    expect(cache.stats()).toMatchObject({ staleHits: 0, refreshes: 1 })
    await cache.settled()
    expect(notes).toEqual([['a', 1, 'replaced']])
  })
})

describe('failures and soft timeouts', () => {
  it('a failing refresh serves the stale value, counted and reported, never to the caller as an error', async () => {
    const { cache, clock, reports } = setup({ softTimeoutMs: Infinity })
    await cache.set('a', 1)
    clock.t = 120
    const { loader, runs } = manualLoader()
    const p = cache.getOrLoadWithStatus('a', loader)
    const q = cache.getOrLoad('a', loader)
    const boom = new Error('db down')
    runs[0]!.d.reject(boom)
    expect(await p).toEqual({ value: 1, stale: true, status: 'stale-on-error', refreshing: false, error: boom })
    expect(await q).toBe(1)
    await flushMicrotasks()
    expect(cache.stats()).toMatchObject({ staleHits: 2, staleOnError: 2, refreshes: 1, refreshErrors: 1, loadErrors: 1 })
    expect(reports).toHaveLength(1)
    expect(reports[0]!.error).toBe(boom)
    expect(reports[0]!.context).toMatchObject({ area: 'cache', event: 'refresh-error', key: 'a' })
    // The stale entry is still there, and the next caller starts a new refresh.
    const r = cache.getOrLoad('a', loader)
    expect(runs).toHaveLength(2)
    runs[1]!.d.resolve(5)
    expect(await r).toBe(5)
  })

  it('a background refresh that fails after the caller was served is reported once, no unhandled rejection', async () => {
    const { cache, clock, reports } = setup()
    await cache.set('a', 1)
    clock.t = 120
    const { loader, runs } = manualLoader()
    expect(await cache.getOrLoad('a', loader)).toBe(1)
    runs[0]!.d.reject(new Error('late failure'))
    await flushMicrotasks()
    expect(reports.map((r) => r.context.event)).toEqual(['refresh-error'])
    expect(cache.stats()).toMatchObject({ refreshErrors: 1, staleOnError: 0, staleHits: 1 })
    expect(cache.peek('a')).toBeUndefined() // still stale, still held
    expect(cache.size).toBe(1)
  })

  it('a synchronously throwing loader serves the stale value (stale-on-error)', async () => {
    const { cache, clock, reports } = setup()
    await cache.set('a', 1)
    clock.t = 120
    const boom = new Error('sync')
    const r = await cache.getOrLoadWithStatus('a', () => {
      throw boom
    })
    expect(r).toEqual({ value: 1, stale: true, status: 'stale-on-error', refreshing: false, error: boom })
    await flushMicrotasks()
    expect(reports).toHaveLength(1)
    expect(cache.stats()).toMatchObject({ staleOnError: 1, refreshErrors: 1 })
  })

  it('a soft timeout serves the stale value; the refresh goes on and its late result is stored', async () => {
    vi.useFakeTimers()
    const { cache, clock, notes } = setup({ softTimeoutMs: 50 })
    await cache.set('a', 1)
    clock.t = 120
    const { loader, runs } = manualLoader()
    let answer: unknown
    void cache.getOrLoadWithStatus('a', loader).then((r) => (answer = r))
    await vi.advanceTimersByTimeAsync(49)
    expect(answer).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1)
    expect(answer).toEqual({ value: 1, stale: true, status: 'stale-on-timeout', refreshing: true })
    expect(cache.stats()).toMatchObject({ staleHits: 1, staleOnTimeout: 1 })
    expect(runs[0]!.signal.aborted).toBe(false)
    runs[0]!.d.resolve(2)
    await vi.advanceTimersByTimeAsync(0)
    expect(cache.get('a')).toBe(2)
    await cache.settled()
    expect(notes).toEqual([['a', 1, 'replaced']])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a refresh that settles before the soft timeout serves its fresh value and clears the timer', async () => {
    vi.useFakeTimers()
    const { cache, clock } = setup({ softTimeoutMs: 1_000 })
    await cache.set('a', 1)
    clock.t = 120
    const { loader, runs } = manualLoader()
    const p = cache.getOrLoadWithStatus('a', loader)
    await vi.advanceTimersByTimeAsync(10)
    runs[0]!.d.resolve(2)
    expect(await p).toEqual({ value: 2, stale: false, status: 'loaded', refreshing: false })
    expect(vi.getTimerCount()).toBe(0)
  })

  it('per-call softTimeoutMs overrides the cache, and a caller timeoutMs serves stale instead of a TimeoutError', async () => {
    vi.useFakeTimers()
    const { cache, clock } = setup({ softTimeoutMs: 0 })
    await cache.set('a', 1)
    clock.t = 120
    const { loader } = manualLoader()
    let first: unknown
    void cache.getOrLoadWithStatus('a', loader, { softTimeoutMs: 30 }).then((r) => (first = r))
    let second: unknown
    void cache.getOrLoadWithStatus('a', loader, { softTimeoutMs: Infinity, timeoutMs: 20 }).then((r) => (second = r))
    await vi.advanceTimersByTimeAsync(20)
    expect(first).toBeUndefined()
    expect(second).toMatchObject({ value: 1, status: 'stale-on-timeout' })
    await vi.advanceTimersByTimeAsync(10)
    expect(first).toMatchObject({ value: 1, status: 'stale-on-timeout' })
    expect(cache.stats()).toMatchObject({ staleOnTimeout: 2, loads: 1, coalesced: 1 })
    cache[Symbol.dispose]()
  })

  it('refreshTimeoutMs bounds a hung refresh: its signal aborts with a TimeoutError, counted and reported', async () => {
    vi.useFakeTimers()
    const { cache, clock, reports } = setup({ refreshTimeoutMs: 1_000 })
    await cache.set('a', 1)
    clock.t = 120
    const { loader, runs } = manualLoader()
    expect(await cache.getOrLoad('a', loader)).toBe(1)
    expect(await cache.getOrLoad('a', loader)).toBe(1)
    expect(runs).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(runs[0]!.signal.aborted).toBe(true)
    expect(runs[0]!.signal.reason).toBeInstanceOf(TimeoutError)
    expect(cache.stats()).toMatchObject({ refreshErrors: 1, loadErrors: 1 })
    expect(reports.map((r) => r.error)).toEqual([runs[0]!.signal.reason])
    // The key is free again: the next caller starts a new refresh.
    expect(await cache.getOrLoad('a', loader)).toBe(1)
    expect(runs).toHaveLength(2)
    cache[Symbol.dispose]()
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('early refresh', () => {
  it('a hit past refreshAheadRatio of the TTL returns the fresh value and starts one background refresh', async () => {
    const { cache, clock, notes } = setup({ graceMs: undefined, refreshAheadRatio: 0.8 })
    await cache.set('a', 1)
    const { loader, runs } = manualLoader()
    clock.t = 79
    expect(await cache.getOrLoadWithStatus('a', loader)).toEqual({ value: 1, stale: false, status: 'hit', refreshing: false })
    expect(runs).toHaveLength(0)
    clock.t = 80
    expect(await cache.getOrLoadWithStatus('a', loader)).toEqual({ value: 1, stale: false, status: 'hit', refreshing: true })
    expect(await cache.getOrLoad('a', loader)).toBe(1)
    expect(runs).toHaveLength(1)
    expect(cache.stats()).toMatchObject({ hits: 3, misses: 0, loads: 1, refreshes: 1, staleHits: 0 })
    clock.t = 90
    runs[0]!.d.resolve(2)
    await flushMicrotasks()
    await cache.settled()
    expect(notes).toEqual([['a', 1, 'replaced']])
    // Stored at 90: the next early refresh is due at 170, expiry at 190.
    clock.t = 169
    expect(await cache.getOrLoad('a', loader)).toBe(2)
    expect(runs).toHaveLength(1)
    clock.t = 170
    expect(await cache.getOrLoad('a', loader)).toBe(2)
    expect(runs).toHaveLength(2)
    cache[Symbol.dispose]()
  })

  it('the fraction is of each entry\'s own TTL; entries without TTL never refresh early', async () => {
    const { cache, clock } = setup({ ttlMs: undefined, graceMs: undefined, refreshAheadRatio: 0.5 })
    await cache.set('forever', 1)
    await cache.set('short', 2, { ttlMs: 10 })
    const loader = vi.fn(() => 3)
    clock.t = 1_000_000
    expect(await cache.getOrLoad('forever', loader)).toBe(1)
    expect(loader).not.toHaveBeenCalled()
    clock.t = 0
    // Re-stored at 0 with ttl 10 (the cache's default is none, so pass it).
    await cache.set('short', 2, { ttlMs: 10 })
    clock.t = 5
    expect(await cache.getOrLoad('short', loader, { ttlMs: 10 })).toBe(2)
    expect(loader).toHaveBeenCalledTimes(1)
    expect(cache.get('short')).toBe(3) // a synchronous refresh stored at once
  })

  it('a failing early refresh keeps the live value and is reported', async () => {
    const { cache, clock, reports } = setup({ refreshAheadRatio: 0.5 })
    await cache.set('a', 1)
    clock.t = 60
    expect(
      await cache.getOrLoad('a', () => {
        throw new Error('nope')
      }),
    ).toBe(1)
    await flushMicrotasks()
    expect(cache.get('a')).toBe(1)
    expect(cache.stats()).toMatchObject({ refreshErrors: 1, staleHits: 0 })
    expect(reports.map((r) => r.context.event)).toEqual(['refresh-error'])
  })
})

describe('cancellation and disposal', () => {
  it('a caller\'s abort rejects that caller with signal.reason; the refresh goes on and is stored', async () => {
    const { cache, clock } = setup({ softTimeoutMs: Infinity })
    await cache.set('a', 1)
    clock.t = 120
    const { loader, runs } = manualLoader()
    const controller = new AbortController()
    const mine = cache.getOrLoad('a', loader, { signal: controller.signal })
    const other = cache.getOrLoad('a', loader)
    const reason = new Error('client went away')
    controller.abort(reason)
    await expect(mine).rejects.toBe(reason)
    expect(runs[0]!.signal.aborted).toBe(false)
    runs[0]!.d.resolve(2)
    expect(await other).toBe(2)
    expect(cache.get('a')).toBe(2)
  })

  it('a refresh is not abandoned when its only waiting caller (allowStale: false) leaves', async () => {
    const { cache, clock } = setup()
    await cache.set('a', 1)
    clock.t = 120
    const { loader, runs } = manualLoader()
    const controller = new AbortController()
    const strict = cache.getOrLoad('a', loader, { allowStale: false, signal: controller.signal })
    controller.abort(new Error('bye'))
    await expect(strict).rejects.toThrow('bye')
    expect(runs[0]!.signal.aborted).toBe(false)
    // Still the key's refresh: a later caller joins it rather than starting another.
    expect(await cache.getOrLoad('a', loader)).toBe(1)
    expect(runs).toHaveLength(1)
    runs[0]!.d.resolve(2)
    await flushMicrotasks()
    expect(cache.get('a')).toBe(2)
  })

  it('an already aborted signal rejects at once, even with a stale value, and starts nothing', async () => {
    const { cache, clock } = setup()
    await cache.set('a', 1)
    clock.t = 120
    const loader = vi.fn(() => 2)
    const reason = new Error('already')
    await expect(cache.getOrLoad('a', loader, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason)
    expect(loader).not.toHaveBeenCalled()
  })

  it('dispose aborts refreshes (detached ones too) and soft-timeout waiters; no timer is left', async () => {
    vi.useFakeTimers()
    const { cache, clock, reports } = setup({ softTimeoutMs: 10_000, refreshTimeoutMs: 60_000 })
    await cache.set('a', 1)
    await cache.set('b', 2)
    clock.t = 120
    const { loader, runs } = manualLoader()
    const waiting = cache.getOrLoad('a', loader)
    const detached = cache.getOrLoad('b', loader)
    await cache.delete('b') // detaches b's refresh: it is no longer the key's flight
    expect(vi.getTimerCount()).toBeGreaterThan(0)
    cache[Symbol.dispose]()
    await expect(waiting).rejects.toBeInstanceOf(DisposedError)
    await expect(detached).rejects.toBeInstanceOf(DisposedError)
    expect(runs.map((r) => r.signal.aborted)).toEqual([true, true])
    expect(vi.getTimerCount()).toBe(0)
    await flushMicrotasks()
    expect(reports).toEqual([]) // an abort by dispose is not a refresh failure
    expect(cache.stats()).toMatchObject({ refreshErrors: 0, loadErrors: 0 })
    await expect(cache.getOrLoadWithStatus('a', loader)).rejects.toBeInstanceOf(DisposedError)
  })
})
