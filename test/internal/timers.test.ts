import { afterEach, describe, expect, it, vi } from 'vitest'
import { armTimer, disarmTimer, MAX_TIMER_DELAY_MS } from '../../src/internal/timers.js'

describe('armTimer', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('fires a delay within setTimeout range once, with its two arguments', () => {
    vi.useFakeTimers()
    const calls: unknown[][] = []
    armTimer(100, (a: string, b: number) => calls.push([a, b]), 'x', 2)
    vi.advanceTimersByTime(99)
    expect(calls).toEqual([])
    vi.advanceTimersByTime(1)
    expect(calls).toEqual([['x', 2]])
    vi.advanceTimersByTime(10_000)
    expect(calls).toHaveLength(1)
  })

  it('does not fire early past 2^31-1 ms (setTimeout alone would fire after 1 ms)', () => {
    vi.useFakeTimers()
    const day = 86_400_000
    let fired = 0
    armTimer(30 * day, () => fired++)
    vi.advanceTimersByTime(1)
    expect(fired).toBe(0)
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS)
    expect(fired).toBe(0)
    expect(vi.getTimerCount()).toBe(1) // re-armed for the rest
    vi.advanceTimersByTime(30 * day - MAX_TIMER_DELAY_MS - 2)
    expect(fired).toBe(0)
    vi.advanceTimersByTime(1)
    expect(fired).toBe(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('Infinity arms nothing', () => {
    vi.useFakeTimers()
    expect(armTimer(Infinity, () => {})).toBeUndefined()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('disarms short and long timers, at any step, idempotently', () => {
    vi.useFakeTimers()
    let fired = 0
    const short = armTimer(10, () => fired++)
    const long = armTimer(3 * MAX_TIMER_DELAY_MS, () => fired++)
    disarmTimer(short)
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS + 1) // long is in its second step
    disarmTimer(long)
    disarmTimer(long)
    disarmTimer(undefined)
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(5 * MAX_TIMER_DELAY_MS)
    expect(fired).toBe(0)
  })

  it('unref: true leaves no refed handle behind (real timers)', () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    const t = armTimer(2 * MAX_TIMER_DELAY_MS, () => {}, undefined, undefined, true)
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before)
    disarmTimer(t)
  })
})
