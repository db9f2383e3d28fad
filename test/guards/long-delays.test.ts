/**
 * Every delay option of the guards honours durations past `setTimeout`'s 2^31-1 ms
 * (Node, and the fake timers, turn a longer delay into 1 ms): 30 days fires neither
 * after 1 ms nor a millisecond early, and on time.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createBatcher, every, spawnGuarded, TaskScope, timeoutSignal } from '../../src/guards/index.js'
import { TimeoutError } from '../../src/errors.js'
import { MAX_TIMER_DELAY_MS } from '../../src/internal/timers.js'
import { collector, expectNoUnhandledRejections } from '../helpers.js'

expectNoUnhandledRejections()

const DAYS_30 = 30 * 86_400_000

afterEach(() => {
  vi.useRealTimers()
})

describe('delays past 2^31-1 ms', () => {
  it('the 30-day span really exceeds what setTimeout honours', () => {
    expect(DAYS_30).toBeGreaterThan(MAX_TIMER_DELAY_MS)
  })

  it('timeoutSignal(30 days) aborts after 30 days, not after 1 ms; dispose in a later step clears it', () => {
    vi.useFakeTimers()
    const t = timeoutSignal(DAYS_30)
    vi.advanceTimersByTime(1)
    expect(t.signal.aborted).toBe(false)
    vi.advanceTimersByTime(DAYS_30 - 2)
    expect(t.signal.aborted).toBe(false)
    vi.advanceTimersByTime(1)
    expect(t.signal.aborted).toBe(true)
    expect(t.signal.reason).toBeInstanceOf(TimeoutError)
    expect((t.signal.reason as TimeoutError).timeoutMs).toBe(DAYS_30)
    expect(vi.getTimerCount()).toBe(0)

    const disposed = timeoutSignal(DAYS_30)
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS + 1) // in its second step
    disposed[Symbol.dispose]()
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(DAYS_30)
    expect(disposed.signal.aborted).toBe(false)
  })

  it('every(30 days) ticks every 30 days, not every millisecond', () => {
    vi.useFakeTimers()
    let ticks = 0
    const ticker = every(DAYS_30, () => {
      ticks++
    })
    vi.advanceTimersByTime(1)
    expect(ticks).toBe(0)
    vi.advanceTimersByTime(DAYS_30 - 2)
    expect(ticks).toBe(0)
    vi.advanceTimersByTime(1)
    expect(ticks).toBe(1)
    vi.advanceTimersByTime(DAYS_30 - 1)
    expect(ticks).toBe(1)
    vi.advanceTimersByTime(1)
    expect(ticks).toBe(2)
    ticker[Symbol.dispose]()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('createBatcher minIntervalMs: 30 days spaces two flushes by 30 days', () => {
    vi.useFakeTimers()
    const flushes: number[][] = []
    const batch = createBatcher<number>({ flush: (items) => void flushes.push(items), minIntervalMs: DAYS_30 })
    batch.request(1)
    vi.advanceTimersByTime(0)
    expect(flushes).toEqual([[1]]) // the first flush is not delayed
    batch.request(2)
    vi.advanceTimersByTime(1)
    expect(flushes).toEqual([[1]])
    vi.advanceTimersByTime(DAYS_30 - 2)
    expect(flushes).toEqual([[1]])
    vi.advanceTimersByTime(1)
    expect(flushes).toEqual([[1], [2]])
    batch[Symbol.dispose]()
    expect(vi.getTimerCount()).toBe(0)
  })

  /** Disposes with `await using` semantics: no report and still waiting at 1 ms and at 30 days - 1 ms; the report at 30 days. */
  async function settlesAfter30Days(dispose: () => Promise<void>, seen: ReturnType<typeof collector>['seen']): Promise<void> {
    let finished = false
    const disposing = dispose().then(() => {
      finished = true
    })
    await vi.advanceTimersByTimeAsync(1)
    expect([finished, seen.length]).toEqual([false, 0])
    await vi.advanceTimersByTimeAsync(DAYS_30 - 2)
    expect([finished, seen.length]).toEqual([false, 0])
    await vi.advanceTimersByTimeAsync(1)
    await disposing
    expect(seen.map((s) => [s.context.event, s.context.name, (s.error as TimeoutError).timeoutMs])).toEqual([['settle-timeout', 'stuck', DAYS_30]])
  }

  it('spawnGuarded settleTimeoutMs: 30 days reports a stuck task after 30 days, not after 1 ms', async () => {
    vi.useFakeTimers()
    const { onError, seen } = collector()
    const task = spawnGuarded(() => new Promise<never>(() => {}), { settleTimeoutMs: DAYS_30, onError, name: 'stuck' })
    await settlesAfter30Days(() => task[Symbol.asyncDispose](), seen)
  })

  it('TaskScope settleTimeoutMs: 30 days reports a stuck child after 30 days, not after 1 ms', async () => {
    vi.useFakeTimers()
    const { onError, seen } = collector()
    const scope = new TaskScope({ settleTimeoutMs: DAYS_30, onError })
    scope.spawn(() => new Promise<never>(() => {}), { name: 'stuck' })
    await settlesAfter30Days(() => scope[Symbol.asyncDispose](), seen)
  })
})
