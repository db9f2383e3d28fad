/**
 * Keyed locks under random interleavings (fast-check scheduler): requests for random,
 * overlapping, unsorted key sets (duplicates included), with aborts and timeouts (fake
 * timers advanced by scheduled ticks). Invariants: never two holders of a key (never a
 * writer beside anyone on a key), every request settles (no deadlock), grants per key in
 * FIFO order, and once everything settled no key is active, nothing waits, no timer or
 * listener is left, and the statistics add up.
 *
 * The harness is shown to catch deadlocks: the same scenarios against a naive keyed lock
 * (one Mutex per key, taken in the caller's order) are found to deadlock.
 */
import { describe, expect, it, vi } from 'vitest'
import fc from 'fast-check'
import { KeyedMutex, KeyedRwLock, Mutex } from '../../src/locks/index.js'
import { abortListenerCount } from '../helpers.js'

const KEYS = ['a', 'b', 'c', 'd'] as const
type Key = (typeof KEYS)[number]

interface Plan {
  readonly keys: readonly Key[]
  readonly write: boolean
  readonly abort: boolean
  readonly timeoutMs: number | undefined
  readonly holdSteps: number
}

const planArb = (cancel: boolean): fc.Arbitrary<Plan> =>
  fc.record({
    keys: fc.array(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 4 }),
    write: fc.boolean(),
    abort: cancel ? fc.boolean() : fc.constant(false),
    timeoutMs: cancel ? fc.option(fc.constantFrom(0, 5, 20), { nil: undefined }) : fc.constant(undefined),
    holdSteps: fc.integer({ min: 0, max: 3 }),
  })

interface Held {
  release(): void
}

interface Target {
  request(plan: Plan, signal: AbortSignal | undefined): Promise<Held>
  readonly size: number
  readonly waiting: number
}

/** Holders per key: readers count +1, a writer counts as `WRITER`. */
const WRITER = 1000

/** Runs the plans as concurrent actors; returns whether every actor finished (false: deadlock). */
async function runScenario(s: fc.Scheduler, plans: readonly Plan[], target: Target, rw: boolean): Promise<{ finished: boolean; granted: number; failures: number }> {
  const holders = new Map<Key, number>()
  const signals: AbortSignal[] = []
  let granted = 0
  let failures = 0
  const actor = async (plan: Plan, index: number): Promise<void> => {
    await s.schedule(Promise.resolve(), `start ${index}`)
    const ac = plan.abort ? new AbortController() : undefined
    if (ac !== undefined) {
      signals.push(ac.signal)
      void s.schedule(Promise.resolve(), `abort ${index}`).then(() => ac.abort(new Error(`abort ${index}`)))
    }
    let guard: Held
    try {
      guard = await target.request(plan, ac?.signal)
    } catch (error) {
      expect((error as Error).name === 'TimeoutError' || (error as Error).message === `abort ${index}`, String(error)).toBe(true)
      failures++
      return
    }
    const unique = [...new Set(plan.keys)]
    const weight = rw && !plan.write ? 1 : WRITER
    for (const k of unique) {
      const now = (holders.get(k) ?? 0) + weight
      // A writer (or a mutex holder) is alone; readers share.
      expect(now === WRITER || now < WRITER, `key ${k} held by a writer and someone else`).toBe(true)
      holders.set(k, now)
    }
    granted += unique.length
    for (let i = 0; i < plan.holdSteps; i++) await s.schedule(Promise.resolve(), `hold ${index}`)
    for (const k of unique) holders.set(k, holders.get(k)! - weight)
    guard.release()
  }
  const all = plans.map((p, i) => actor(p, i))
  for (let t = 0; t < 4; t++) void s.schedule(Promise.resolve(), `tick ${t}`).then(() => vi.advanceTimersByTime(5))
  let finished = false
  void Promise.all(all).finally(() => (finished = true))
  for (let round = 0; !finished && round < 30; round++) {
    await s.waitIdle()
    vi.advanceTimersByTime(50)
    await Promise.resolve()
  }
  if (finished) {
    for (const signal of signals) expect(abortListenerCount(signal)).toBe(0)
  }
  return { finished, granted, failures }
}

const keyed = (km: KeyedMutex<Key>): Target => ({
  request: (plan, signal) => km.lock(plan.keys, { signal, timeoutMs: plan.timeoutMs }),
  get size() {
    return km.size
  },
  get waiting() {
    return km.waiting
  },
})

describe('keyed locks: random interleavings of overlapping multi-key requests', () => {
  it('KeyedMutex: never two holders of a key, no deadlock, nothing left behind, exact statistics', async () => {
    vi.useFakeTimers()
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(planArb(true), { minLength: 1, maxLength: 8 }), async (s, plans) => {
        const km = new KeyedMutex<Key>()
        const { finished, granted, failures } = await runScenario(s, plans, keyed(km), false)
        expect(finished, 'a request never settled (deadlock)').toBe(true)
        expect(km.size).toBe(0)
        expect(km.waiting).toBe(0)
        expect(vi.getTimerCount()).toBe(0)
        const st = km.stats()
        expect(st.acquisitions).toBeGreaterThanOrEqual(granted)
        expect(st.hold.count).toBe(st.acquisitions) // every grant released (incl. keys handed back by a failed request)
        expect(st.wait.count).toBe(st.acquisitions)
        // Each failed request counts exactly one abort or one timeout, whichever key it failed on.
        expect(st.aborts + st.timeouts).toBe(failures)
      }),
      { numRuns: 80 },
    )
  })

  it('KeyedMutex: no deadlock with nothing to break one (no abort, no timeout), in the scenarios where a naive lock deadlocks', async () => {
    vi.useFakeTimers()
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(planArb(false), { minLength: 2, maxLength: 6 }), async (s, plans) => {
        const km = new KeyedMutex<Key>()
        const { finished, failures } = await runScenario(s, plans, keyed(km), false)
        expect(finished, 'a request never settled (deadlock)').toBe(true)
        expect(failures).toBe(0)
        expect(km.size).toBe(0)
      }),
      { numRuns: 300 },
    )
  })

  it('KeyedRwLock: readers share a key, a writer is alone on it, no deadlock, nothing left behind', async () => {
    vi.useFakeTimers()
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(planArb(true), { minLength: 1, maxLength: 8 }), async (s, plans) => {
        const rw = new KeyedRwLock<Key>()
        const target: Target = {
          request: (plan, signal) => (plan.write ? rw.write(plan.keys, { signal, timeoutMs: plan.timeoutMs }) : rw.read(plan.keys, { signal, timeoutMs: plan.timeoutMs })),
          get size() {
            return rw.size
          },
          get waiting() {
            return rw.waiting
          },
        }
        const { finished } = await runScenario(s, plans, target, true)
        expect(finished, 'a request never settled (deadlock)').toBe(true)
        expect(rw.size).toBe(0)
        expect(rw.waiting).toBe(0)
        expect(vi.getTimerCount()).toBe(0)
      }),
      { numRuns: 80 },
    )
  })

  it('the harness catches deadlocks: one Mutex per key taken in the caller’s order deadlocks', async () => {
    vi.useFakeTimers()
    const result = await fc.check(
      fc.asyncProperty(fc.scheduler(), fc.array(planArb(false), { minLength: 2, maxLength: 6 }), async (s, plans) => {
        const mutexes = new Map<Key, Mutex>()
        const naive: Target = {
          request: async (plan) => {
            const guards: Held[] = []
            for (const k of new Set(plan.keys)) {
              let m = mutexes.get(k)
              if (m === undefined) mutexes.set(k, (m = new Mutex()))
              guards.push(await m.lock())
            }
            return { release: () => guards.forEach((g) => g.release()) }
          },
          size: 0,
          waiting: 0,
        }
        const { finished } = await runScenario(s, plans, naive, false)
        return finished
      }),
      { numRuns: 300 },
    )
    expect(result.failed, 'fast-check found no deadlock of the naive lock: the harness cannot see one').toBe(true)
  })

  it('FIFO per key: single-key requests are granted in request order, key by key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 12 }), async (s, keys) => {
        const km = new KeyedMutex<Key>()
        const requested = new Map<Key, number[]>()
        const granted = new Map<Key, number[]>()
        const actors = keys.map(async (k, i) => {
          await s.schedule(Promise.resolve(), `start ${i}`)
          ;(requested.get(k) ?? requested.set(k, []).get(k)!).push(i)
          await km.runExclusive(k, async () => {
            ;(granted.get(k) ?? granted.set(k, []).get(k)!).push(i)
            await s.schedule(Promise.resolve(), `hold ${i}`)
          })
        })
        await s.waitFor(Promise.all(actors))
        expect(granted).toEqual(requested)
        expect(km.size).toBe(0)
      }),
      { numRuns: 80 },
    )
  })
})
