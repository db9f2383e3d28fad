/**
 * Runs around every test of the suite: nothing the library started may outlive a test.
 * - real timers: the refed `Timeout` handles after the test are no more than before it;
 * - fake timers: no pending fake timer (refed or not) is left, then real timers return.
 * - process warnings: a warning that reaches the process (Node would print it, and
 *   `npm test` must print nothing that looks like a failure) fails the test; a test that
 *   expects one captures it (`captureWarnings()` in test/helpers.ts, or a spy on
 *   `process.emitWarning`) and asserts it.
 * Unhandled rejections already fail a vitest run; test files that promise "zero
 * unhandled rejections" also assert it with their own process listener.
 */
import { afterEach, beforeEach, expect, vi } from 'vitest'

function refedTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
}

let before = 0
const warnings: string[] = []
const onWarning = (warning: Error): void => {
  warnings.push(`${warning.name}: ${warning.message}`)
}
process.on('warning', onWarning)

beforeEach(() => {
  before = refedTimers()
  warnings.length = 0
})

afterEach(async () => {
  if (vi.isFakeTimers()) {
    const pending = vi.getTimerCount()
    vi.useRealTimers()
    expect(pending, 'fake timers left pending after the test').toBe(0)
  }
  // vitest's own worker RPC arms short refed timers while it reports results; on a
  // loaded machine one can still be pending here. A leak of ours persists, so re-check
  // for up to ~250 ms before failing (no wait at all on the common path).
  for (let i = 0; i < 25 && refedTimers() > before; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  expect(refedTimers(), 'timers left running after the test').toBeLessThanOrEqual(before)
  // 'warning' events are emitted on a later tick than emitWarning.
  await new Promise((resolve) => setImmediate(resolve))
  expect(warnings, 'process warnings the test did not capture (captureWarnings() in test/helpers.ts)').toEqual([])
})
