/**
 * Property tests under random interleavings (fast-check scheduler): acquire, release,
 * abort, timeout (fake timers advanced by scheduled ticks) and try*. Invariants: no two
 * holders of a mutex, never a writer beside anyone, grants in FIFO (request) order, and
 * once everything settled nothing waits and every permit is back.
 */
import { describe, expect, it, vi } from 'vitest'
import fc from 'fast-check'
import { Mutex, RwLock, Semaphore, type LockGuard } from '../../src/locks/index.js'

interface Plan {
  readonly kind: 'lock' | 'try'
  readonly write: boolean
  readonly weight: number
  readonly abort: boolean
  readonly timeoutMs: number | undefined
  readonly holdSteps: number
}

const planArb = (maxWeight: number): fc.Arbitrary<Plan> =>
  fc.record({
    kind: fc.constantFrom<'lock' | 'try'>('lock', 'lock', 'lock', 'try'),
    write: fc.boolean(),
    weight: fc.integer({ min: 1, max: maxWeight }),
    abort: fc.boolean(),
    timeoutMs: fc.option(fc.constantFrom(0, 5, 20), { nil: undefined }),
    holdSteps: fc.integer({ min: 0, max: 3 }),
  })

interface Target {
  request(plan: Plan, signal: AbortSignal | undefined): Promise<LockGuard>
  tryRequest(plan: Plan): LockGuard | undefined
  /** Checks the invariant after a grant/release; `holders` are the plans whose grant has resumed (a handed-off grant may not have resumed yet). */
  check(holders: readonly Plan[]): void
  settled(): void
}

const RUNS = 60

async function runScenario(s: fc.Scheduler, plans: readonly Plan[], target: Target, ticks: number): Promise<void> {
  const holders: Plan[] = []
  const grants: number[] = []
  let seq = 0
  const actor = async (plan: Plan, index: number): Promise<void> => {
    await s.schedule(Promise.resolve(), `start ${index}`)
    let guard: LockGuard | undefined
    let mySeq: number
    if (plan.kind === 'try') {
      guard = target.tryRequest(plan)
      if (guard === undefined) return
      mySeq = seq++
    } else {
      const ac = plan.abort ? new AbortController() : undefined
      if (ac !== undefined) void s.schedule(Promise.resolve(), `abort ${index}`).then(() => ac.abort(new Error(`abort ${index}`)))
      mySeq = seq++
      try {
        guard = await target.request(plan, ac?.signal)
      } catch (error) {
        expect((error as Error).name === 'TimeoutError' || (error as Error).message === `abort ${index}`).toBe(true)
        return
      }
    }
    grants.push(mySeq)
    holders.push(plan)
    target.check(holders)
    for (let i = 0; i < plan.holdSteps; i++) await s.schedule(Promise.resolve(), `hold ${index}`)
    holders.splice(holders.indexOf(plan), 1)
    guard.release()
    target.check(holders)
  }
  const all = plans.map((p, i) => actor(p, i))
  for (let t = 0; t < ticks; t++) void s.schedule(Promise.resolve(), `tick ${t}`).then(() => vi.advanceTimersByTime(5))
  // Run the interleaving; then let pending timeouts fire (fake time) until every actor finished.
  let finished = false
  const allDone = Promise.all(all).finally(() => (finished = true))
  allDone.catch(() => undefined)
  for (let round = 0; !finished; round++) {
    expect(round, 'actors still blocked: a waiter was never granted').toBeLessThan(50)
    await s.waitIdle()
    vi.advanceTimersByTime(50)
    for (let i = 0; i < 10; i++) await Promise.resolve()
  }
  await allDone
  for (let i = 1; i < grants.length; i++) expect(grants[i]!).toBeGreaterThan(grants[i - 1]!)
  target.settled()
  expect(vi.getTimerCount()).toBe(0)
}

function withFakeTimers<T>(fn: () => Promise<T>): () => Promise<T> {
  return async () => {
    vi.useFakeTimers()
    try {
      return await fn()
    } finally {
      vi.useRealTimers()
    }
  }
}

describe('lock properties under random interleavings', () => {
  it('Mutex: never two holders, FIFO grants, nothing left once settled', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(planArb(1), { minLength: 1, maxLength: 8 }), fc.nat(6), (s, plans, ticks) =>
        withFakeTimers(async () => {
          const m = new Mutex()
          await runScenario(
            s,
            plans,
            {
              request: (p, signal) => m.lock({ signal, timeoutMs: p.timeoutMs }),
              tryRequest: () => m.tryLock(),
              check: (holders) => {
                expect(holders.length).toBeLessThanOrEqual(1)
                if (holders.length === 1) expect(m.locked).toBe(true)
              },
              settled: () => {
                expect(m.waiting).toBe(0)
                expect(m.locked).toBe(false)
              },
            },
            ticks,
          )
        })(),
      ),
      { numRuns: RUNS },
    )
  })

  it('RwLock: never a writer beside anyone, FIFO grants, nothing left once settled', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(planArb(1), { minLength: 1, maxLength: 8 }), fc.nat(6), (s, plans, ticks) =>
        withFakeTimers(async () => {
          const rw = new RwLock()
          await runScenario(
            s,
            plans,
            {
              request: (p, signal) => (p.write ? rw.write({ signal, timeoutMs: p.timeoutMs }) : rw.read({ signal, timeoutMs: p.timeoutMs })),
              tryRequest: (p) => (p.write ? rw.tryWrite() : rw.tryRead()),
              check: (holders) => {
                const writers = holders.filter((h) => h.write).length
                if (writers > 0) {
                  expect(holders.length).toBe(1)
                  expect(rw.writeLocked).toBe(true)
                } else if (holders.length > 0) {
                  expect(rw.readers).toBeGreaterThanOrEqual(holders.length)
                }
              },
              settled: () => {
                expect(rw.waiting).toBe(0)
                expect(rw.locked).toBe(false)
              },
            },
            ticks,
          )
        })(),
      ),
      { numRuns: RUNS },
    )
  })

  it('Semaphore: never more permits out than the capacity, FIFO grants, all permits back once settled', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 1, max: 4 }), fc.array(planArb(4), { minLength: 1, maxLength: 8 }), fc.nat(6), (s, capacity, plans, ticks) =>
        withFakeTimers(async () => {
          const sem = new Semaphore(capacity)
          const fit = plans.map((p) => ({ ...p, weight: Math.min(p.weight, capacity) }))
          await runScenario(
            s,
            fit,
            {
              request: (p, signal) => sem.acquire(p.weight, { signal, timeoutMs: p.timeoutMs }),
              tryRequest: (p) => sem.tryAcquire(p.weight),
              check: (holders) => {
                const out = holders.reduce((n, h) => n + h.weight, 0)
                expect(out).toBeLessThanOrEqual(capacity)
                expect(sem.available).toBeLessThanOrEqual(capacity - out)
              },
              settled: () => {
                expect(sem.waiting).toBe(0)
                expect(sem.available).toBe(capacity)
              },
            },
            ticks,
          )
        })(),
      ),
      { numRuns: RUNS },
    )
  })
})
