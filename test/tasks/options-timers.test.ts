/**
 * Two rules across the tasks module (DESIGN.md, added 2026-12-02):
 * - every delay goes through armTimer: a 30-day option (past setTimeout's 2^31-1 ms, where
 *   a plain setTimeout fires after 1 ms, as the fake timers emulate) fires after 30 days,
 *   not before;
 * - an unknown option key is a TypeError naming it and the likely intended one.
 */
import { describe, expect, it, vi } from 'vitest'
import { DetachedPool } from '../../src/tasks/DetachedPool.js'
import { Initializer } from '../../src/tasks/Initializer.js'
import { SingleFlightGroup } from '../../src/tasks/SingleFlightGroup.js'
import { retry } from '../../src/tasks/retry.js'
import { LruTtlCache } from '../../src/cache/LruTtlCache.js'
import { MAX_TIMER_DELAY_MS } from '../../src/internal/timers.js'
import { TimeoutError } from '../../src/errors.js'
import * as tasks from '../../src/tasks/index.js'
import * as root from '../../src/index.js'
import { expectNoUnhandledRejections, flushMicrotasks, untilAborted } from '../helpers.js'

expectNoUnhandledRejections()

const DAYS_30 = 30 * 86_400_000

/**
 * Advances fake time to just before `ms` (checking at 1 ms and past 2^31-1 ms that
 * `happened()` is still false), then to `ms`, where it must be true.
 */
async function expectAfter(ms: number, happened: () => boolean): Promise<void> {
  await vi.advanceTimersByTimeAsync(1)
  expect(happened(), 'fired after 1 ms').toBe(false)
  await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY_MS)
  expect(happened(), 'fired at 2^31 ms').toBe(false)
  await vi.advanceTimersByTimeAsync(ms - MAX_TIMER_DELAY_MS - 2)
  expect(happened(), 'fired 1 ms early').toBe(false)
  await vi.advanceTimersByTimeAsync(1)
  expect(happened(), 'did not fire on time').toBe(true)
}

describe('30-day options fire after 30 days, not after 1 ms (fake timers)', () => {
  it('DetachedPool timeoutMs (the pool timer) and a per-task timeoutMs (its own timer)', async () => {
    vi.useFakeTimers()
    for (const perTask of [false, true]) {
      const onError = vi.fn()
      const pool = new DetachedPool(perTask ? { onError } : { timeoutMs: DAYS_30, onError })
      let signal!: AbortSignal
      pool.run(
        (s) => {
          signal = s
          return untilAborted(s)
        },
        perTask ? { timeoutMs: DAYS_30 } : undefined,
      )
      await flushMicrotasks()
      await expectAfter(DAYS_30, () => signal.aborted)
      expect(signal.reason).toBeInstanceOf(TimeoutError)
      expect(pool.stats()).toMatchObject({ timedOut: 1, running: 0 })
      await flushMicrotasks()
      expect(vi.getTimerCount()).toBe(0)
    }
  })

  it('DetachedPool drain(timeoutMs) and drain({ timeoutMs })', async () => {
    vi.useFakeTimers()
    for (const options of [DAYS_30, { timeoutMs: DAYS_30 }]) {
      const pool = new DetachedPool({ timeoutMs: Infinity, onError: () => {} })
      const ac = new AbortController()
      pool.run((s) => untilAborted(AbortSignal.any([s, ac.signal])))
      let outcome: unknown
      void pool.drain(options).catch((e: unknown) => (outcome = e))
      await expectAfter(DAYS_30, () => outcome !== undefined)
      expect(outcome).toBeInstanceOf(TimeoutError)
      ac.abort()
      await pool.drain()
    }
  })

  it('Initializer timeoutMs (the run) and get({ timeoutMs }) (the waiter)', async () => {
    vi.useFakeTimers()
    const init = new Initializer((s) => untilAborted(s), { timeoutMs: DAYS_30 })
    let runOutcome: unknown
    void init.get().catch((e: unknown) => (runOutcome = e))
    await expectAfter(DAYS_30, () => runOutcome !== undefined)
    expect(runOutcome).toBeInstanceOf(TimeoutError)
    expect(init.state).toBe('failed')

    const waiterInit = new Initializer((s) => untilAborted(s))
    waiterInit.start()
    let waitOutcome: unknown
    void waiterInit.get({ timeoutMs: DAYS_30 }).catch((e: unknown) => (waitOutcome = e))
    await expectAfter(DAYS_30, () => waitOutcome !== undefined)
    expect(waitOutcome).toBeInstanceOf(TimeoutError)
    waiterInit[Symbol.dispose]()
  })

  it('SingleFlightGroup timeoutMs (the run) and run(..., { timeoutMs }) (the waiter)', async () => {
    vi.useFakeTimers()
    const group = new SingleFlightGroup<string, number>({ timeoutMs: DAYS_30 })
    let runOutcome: unknown
    void group.run('k', (s) => untilAborted(s)).catch((e: unknown) => (runOutcome = e))
    await expectAfter(DAYS_30, () => runOutcome !== undefined)
    expect(runOutcome).toBeInstanceOf(TimeoutError)

    const waiters = new SingleFlightGroup<string, number>()
    let signal!: AbortSignal
    let waitOutcome: unknown
    void waiters
      .run(
        'k',
        (s) => {
          signal = s
          return untilAborted(s)
        },
        { timeoutMs: DAYS_30 },
      )
      .catch((e: unknown) => (waitOutcome = e))
    await expectAfter(DAYS_30, () => waitOutcome !== undefined)
    expect(waitOutcome).toBeInstanceOf(TimeoutError)
    expect(signal.aborted).toBe(true) // the only waiter left: the run is abandoned
  })

  it('LruTtlCache.getOrLoad({ timeoutMs }) (the waiter, through the flight)', async () => {
    vi.useFakeTimers()
    const cache = new LruTtlCache<string, number>({ capacity: 10 })
    let outcome: unknown
    void cache.getOrLoad('k', (_k, { signal }) => untilAborted(signal), { timeoutMs: DAYS_30 }).catch((e: unknown) => (outcome = e))
    await expectAfter(DAYS_30, () => outcome !== undefined)
    expect(outcome).toMatchObject({ name: 'TimeoutError', message: `asyncsafe cache getOrLoad timed out after ${DAYS_30} ms` })
  })

  it('retry baseMs and maxMs', async () => {
    vi.useFakeTimers()
    for (const options of [{ baseMs: DAYS_30 }, { baseMs: 1, maxMs: DAYS_30, factor: 1e12 }]) {
      let calls = 0
      const done = retry(
        async () => {
          calls++
          if (calls === 1 || (calls === 2 && 'maxMs' in options)) throw new Error('again')
          return 'ok'
        },
        { ...options, jitter: false, attempts: 3 },
      )
      await flushMicrotasks()
      if ('maxMs' in options) {
        // First wait is baseMs (1 ms), the second is capped at maxMs (30 days).
        await vi.advanceTimersByTimeAsync(1)
        expect(calls).toBe(2)
      }
      await expectAfter(DAYS_30, () => calls === ('maxMs' in options ? 3 : 2))
      await expect(done).resolves.toBe('ok')
    }
  })
})

describe('unknown option keys are a TypeError naming the key and the intended one', () => {
  it('constructors and synchronous methods throw', () => {
    expect(() => new DetachedPool({ concurency: 8 } as never)).toThrow(/options has no option "concurency" \(did you mean "concurrency"\?\)/)
    expect(() => new DetachedPool({ limit: 8 } as never)).toThrow(/"limit" \(did you mean "concurrency"\?\)/)
    expect(() => new DetachedPool({ timeout: 5 } as never)).toThrow(/"timeout" \(did you mean "timeoutMs"\?\)/)
    const pool = new DetachedPool({ onError: () => {} })
    expect(() => pool.run(() => {}, { timeout: 5 } as never)).toThrow(TypeError)
    expect(() => pool.run(() => {}, { signal: new AbortController().signal } as never)).toThrow(/"signal" \(a detached task gets its own signal/)
    expect(pool.stats().started).toBe(0)
    expect(() => new Initializer(() => 1, { timeout: 5 } as never)).toThrow(/did you mean "timeoutMs"/)
    expect(() => new SingleFlightGroup({ nam: 'x' } as never)).toThrow(/did you mean "name"/)
  })

  it('methods that return a promise reject', async () => {
    const pool = new DetachedPool({ onError: () => {} })
    await expect(pool.drain({ abort: true } as never)).rejects.toThrow(/"abort" \(did you mean "abortRemaining"\?\)/)
    await expect(new Initializer(() => 1).get({ timeout: 1 } as never)).rejects.toThrow(/did you mean "timeoutMs"/)
    await expect(new SingleFlightGroup().run('k', () => 1, { signl: undefined } as never)).rejects.toThrow(/did you mean "signal"/)
    const fn = vi.fn()
    await expect(retry(fn, { retries: 3 } as never)).rejects.toThrow(/"retries" \(did you mean "attempts"\?\)/)
    await expect(retry(fn, { timeoutMs: 3 } as never)).rejects.toThrow(/AbortSignal\.timeout/)
    expect(fn).not.toHaveBeenCalled()
  })

  it('known keys with undefined values and the cheap path (no options) stay accepted', async () => {
    const pool = new DetachedPool({ concurrency: undefined, timeoutMs: undefined, maxQueue: undefined, name: undefined, onError: () => {} })
    expect(pool.run(() => {}, { name: undefined, timeoutMs: undefined, onError: undefined })).toBe(true)
    expect(pool.run(() => {})).toBe(true)
    await pool.drain({ timeoutMs: undefined, signal: undefined, abortRemaining: undefined })
    await expect(retry(() => 1, { attempts: undefined, signal: undefined })).resolves.toBe(1)
  })
})

describe('error classes a handler branches on', () => {
  it('asyncsafe/tasks exports the same error classes as asyncsafe', () => {
    for (const name of ['ClosedError', 'DisposedError', 'DroppedError', 'RetryError', 'TimeoutError'] as const) {
      expect(tasks[name]).toBe(root[name])
    }
    const e1 = new tasks.DroppedError('x', { cause: 'c' })
    expect(e1).toMatchObject({ name: 'DroppedError', message: 'x', cause: 'c' })
    expect(new tasks.DroppedError()).not.toBe(new tasks.DroppedError())
  })
})
