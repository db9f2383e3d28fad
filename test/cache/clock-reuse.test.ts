/**
 * The cache's reuse of clock readings (default clock: a reading is remembered for the
 * rest of a synchronous job, at most 1024 uses) against a model of real time. The clock
 * is a fake `performance` that the cache treats as the native one
 * (setNativeClockForTesting), so one synchronous job can last as long as a test wants.
 *
 * What must hold:
 * - never early: an entry is live from its `set` until its full TTL has passed (`set`
 *   never stores an entry already expired, whatever the job did before it);
 * - late only within the documented limits: an entry past its expiry is served only
 *   from a reading remembered in the same job, taken more than 1 s before the expiry
 *   the cache holds; and that expiry is at most `T + ttl`, `T` being the first real
 *   clock reading at or after the `set` (a `set` computes from the remembered reading,
 *   and the next real reading moves that provisional expiry forward);
 * - an entry is counted (and notified) `'expired'` only once its TTL passed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import fc from 'fast-check'
import { LruTtlCache, type EvictionEvent } from '../../src/cache/index.js'
import { setNativeClockForTesting } from '../../src/cache/LruTtlCache.js'
import { expectNoUnhandledRejections } from '../helpers.js'

expectNoUnhandledRejections()

/** A fake clock installed as the native `performance`, recording when it was last read. */
function installClock(start = 10_000): { t: number; lastRead: number; reads: number } {
  const clock = { t: start, lastRead: -Infinity, reads: 0 }
  const fake = {
    now(): number {
      clock.lastRead = clock.t
      clock.reads++
      return clock.t
    },
  }
  vi.stubGlobal('performance', fake)
  setNativeClockForTesting(fake)
  return clock
}

afterEach(() => {
  vi.unstubAllGlobals()
  setNativeClockForTesting()
})

describe('set after a long synchronous stretch (issue 10, item 3)', () => {
  it('a TTL under 1 s: the entry just stored is live, not evicted and notified as expired by the next get', async () => {
    const clock = installClock()
    const events: EvictionEvent<string, string>[] = []
    const cache = new LruTtlCache<string, string>({ capacity: 10, onEvict: (e) => void events.push(e) })
    void cache.set('warm', 'w', { ttlMs: 60_000 }) // a real reading, remembered for the job
    clock.t += 1_500 // a synchronous stretch longer than the TTL below
    void cache.set('conn', 'c1', { ttlMs: 1_000 })
    expect(cache.get('conn')).toBe('c1')
    expect(cache.stats().evictions.expired).toBe(0)
    await cache.settled()
    expect(events).toEqual([])
  })

  it('a TTL over 1 s: the entry lives its full TTL from the set, also in later jobs', async () => {
    const clock = installClock()
    const cache = new LruTtlCache<string, string>({ capacity: 10 })
    void cache.set('warm', 'w', { ttlMs: 60_000 })
    clock.t += 5_000
    const storedAt = clock.t
    void cache.set('conn', 'c1', { ttlMs: 2_000 })
    await Promise.resolve() // a new job: the reading is forgotten
    clock.t = storedAt + 1_999
    expect(cache.get('conn')).toBe('c1')
    await Promise.resolve()
    clock.t = storedAt + 2_001
    expect(cache.get('conn')).toBeUndefined()
  })

  it('lookups still reuse the reading: one real read serves many gets of a distant expiry', () => {
    const clock = installClock()
    const cache = new LruTtlCache<string, number>({ capacity: 10, ttlMs: 60_000 })
    void cache.set('a', 1)
    const reads = clock.reads
    for (let i = 0; i < 500; i++) expect(cache.get('a')).toBe(1)
    expect(clock.reads).toBe(reads)
  })
})

type Op =
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'set'; readonly key: string; readonly ttl: number | undefined }
  | { readonly kind: 'get' | 'peek' | 'has'; readonly key: string }
  | { readonly kind: 'burn'; readonly n: number }

const keys = ['a', 'b', 'c']
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof(fc.constantFrom(0, 0.5, 999, 1_000, 1_001, 1_999, 2_000, 2_001), fc.integer({ min: 0, max: 12_000 })) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), key: fc.constantFrom(...keys), ttl: fc.constantFrom(undefined, 0, 1, 500, 1_000, 1_500, 2_000, 5_000, 30_000) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom('get' as const, 'peek' as const, 'has' as const), key: fc.constantFrom(...keys) }) },
  // Lookups of a far-off entry, to use a reading up (1024 uses).
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('burn' as const), n: fc.integer({ min: 1, max: 1_100 }) }) },
)

interface ModelEntry {
  readonly value: string
  /** The real expiry: the time of the set plus its TTL. */
  readonly exp: number
  /** The latest expiry the cache may hold: `reading + ttl`, moved to `T + ttl` by the next real reading `T`. */
  bound: number
  /** The reading its bound was computed from, until a real reading settles it. */
  pendingFrom: number | undefined
}

describe('clock reuse against a model of real time', () => {
  it('never early, late only within the documented limit, expired only once expired', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(opArb, { maxLength: 12 }), { minLength: 1, maxLength: 12 }), async (jobs) => {
        const clock = installClock()
        const cache = new LruTtlCache<string, string>({ capacity: 100 })
        void cache.set('far', 'far', { ttlMs: 1e12 })
        const model = new Map<string, ModelEntry>()
        let serial = 0
        let job = 0
        let readJob = 0 // the job in which the clock was last read (the set of 'far' above)
        let readsSeen = clock.reads
        /** After each step: a real reading settles every provisional expiry (to reading time + ttl). */
        const noteReads = (): void => {
          if (clock.reads === readsSeen) return
          readsSeen = clock.reads
          readJob = job
          for (const m of model.values()) {
            if (m.pendingFrom !== undefined) {
              m.bound += clock.lastRead - m.pendingFrom
              m.pendingFrom = undefined
            }
          }
        }
        const expired = (): number => cache.stats().evictions.expired

        /** A hit on an entry past its expiry is allowed only from a reading of this job taken over 1 s before that expiry. */
        const checkHit = (key: string, m: ModelEntry | undefined, hit: boolean, before: number): void => {
          const t = clock.t
          if (m === undefined) {
            expect(hit, `${key}: a hit with nothing stored`).toBe(false)
            return
          }
          if (!hit) {
            expect(t, `${key}: missed at ${t} although it lives until ${m.exp} (early expiry)`).toBeGreaterThan(m.exp)
            expect(expired(), `${key}: an expired entry found is counted once`).toBe(before + 1)
            model.delete(key)
            return
          }
          expect(expired()).toBe(before)
          if (t > m.bound) {
            // Past the latest expiry the cache may hold: only the remembered reading serves it.
            expect(readJob, `${key}: served past expiry without a reading of this job`).toBe(job)
            expect(m.bound - clock.lastRead, `${key}: served past expiry from a reading less than 1 s before it`).toBeGreaterThan(1_000)
          }
        }

        for (const ops of jobs) {
          for (const op of ops) {
            const before = expired()
            switch (op.kind) {
              case 'advance':
                clock.t += op.ms
                break
              case 'burn':
                for (let i = 0; i < op.n; i++) cache.get('far')
                break
              case 'set': {
                const m = model.get(op.key)
                const replacedBefore = cache.stats().evictions.replaced
                const value = `v${serial++}`
                void cache.set(op.key, value, op.ttl === undefined ? undefined : { ttlMs: op.ttl })
                noteReads() // a reading the set took settles earlier provisional expiries
                if (m !== undefined) {
                  if (clock.t <= m.exp) {
                    // A live entry is replaced, never counted expired.
                    expect([expired(), cache.stats().evictions.replaced]).toEqual([before, replacedBefore + 1])
                  } else {
                    expect(expired() + cache.stats().evictions.replaced).toBe(before + replacedBefore + 1)
                  }
                }
                // Computed from the reading now remembered (taken by this set, or earlier in the job).
                model.set(op.key, op.ttl === undefined ? { value, exp: Infinity, bound: Infinity, pendingFrom: undefined } : { value, exp: clock.t + op.ttl, bound: clock.lastRead + op.ttl, pendingFrom: clock.lastRead })
                break
              }
              case 'get': {
                const m = model.get(op.key)
                const got = cache.get(op.key)
                noteReads()
                if (got !== undefined) expect(got).toBe(m?.value)
                checkHit(op.key, m, got !== undefined, before)
                break
              }
              case 'peek': {
                const m = model.get(op.key)
                const got = cache.peek(op.key)
                noteReads()
                if (got !== undefined) expect(got).toBe(m?.value)
                checkHit(op.key, m, got !== undefined, before)
                break
              }
              case 'has': {
                const m = model.get(op.key)
                const hit = cache.has(op.key)
                noteReads()
                checkHit(op.key, m, hit, before)
                break
              }
            }
            noteReads()
          }
          // End of the synchronous job: the remembered reading is forgotten (its microtask
          // reads the clock once if a provisional expiry is pending).
          await Promise.resolve()
          noteReads()
          job++
        }
        cache[Symbol.dispose]()
        vi.unstubAllGlobals()
        setNativeClockForTesting()
      }),
      { numRuns: 300 },
    )
  })
})
