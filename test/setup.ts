/**
 * Runs around every test of the suite: nothing the library started may outlive a test.
 * - real timers: the refed `Timeout` handles after the test are no more than before it;
 * - fake timers: no pending fake timer (refed or not) is left, then real timers return.
 * Unhandled rejections already fail a vitest run; test files that promise "zero
 * unhandled rejections" also assert it with their own process listener.
 */
import { afterEach, beforeEach, expect, vi } from 'vitest'

function refedTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
}

let before = 0

beforeEach(() => {
  before = refedTimers()
})

afterEach(() => {
  if (vi.isFakeTimers()) {
    const pending = vi.getTimerCount()
    vi.useRealTimers()
    expect(pending, 'fake timers left pending after the test').toBe(0)
  }
  expect(refedTimers(), 'timers left running after the test').toBeLessThanOrEqual(before)
})
