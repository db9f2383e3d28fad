/**
 * asyncsafe/node's delays honour durations past `setTimeout`'s 2^31-1 ms (Node, and the
 * fake timers, turn a longer delay into 1 ms): gracefulKill's `pollMs` and `graceMs`
 * (its polls, its SIGKILL and its bounded reap) and watchEventLoop's `intervalMs`.
 *
 * gracefulKill runs here against a stand-in child with `process.kill` mocked (portable
 * liveness: no /proc), so the fake clock alone decides what happens.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ChildProcess } from 'node:child_process'
import { gracefulKill, setProcfsForTesting } from '../../src/node/gracefulKill.js'
import { watchEventLoop } from '../../src/node/watchEventLoop.js'
import { expectNoUnhandledRejections } from '../helpers.js'

expectNoUnhandledRejections()

const DAYS_30 = 30 * 86_400_000
/** A pid nothing else uses (above Linux's pid_max); kill is mocked anyway. */
const PID = 2 ** 22 + 4_321

afterEach(() => {
  setProcfsForTesting(true)
  vi.restoreAllMocks()
  vi.useRealTimers()
})

/** A ChildProcess stand-in that never emits 'exit' by itself. */
function standIn(): ChildProcess & { exitCode: number | null } {
  return { pid: PID, exitCode: null, signalCode: null, kill: () => true, once: () => undefined, off: () => undefined } as unknown as ChildProcess & { exitCode: number | null }
}

/** Mocks process.kill: `alive()` answers signal 0; every call is recorded. */
function mockKill(alive: () => boolean): (string | number)[][] {
  const calls: (string | number)[][] = []
  vi.spyOn(process, 'kill').mockImplementation((pid: number, signal?: string | number) => {
    calls.push([pid, signal ?? 'SIGTERM'])
    if (signal === 0 && !alive()) throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' })
    return true
  })
  return calls
}

describe('gracefulKill with delays past 2^31-1 ms', () => {
  it('pollMs: 30 days polls every 30 days, not every millisecond', async () => {
    vi.useFakeTimers()
    setProcfsForTesting(false)
    const child = standIn()
    const calls = mockKill(() => true)
    let outcome: unknown = 'pending'
    const killing = gracefulKill(child, { pollMs: DAYS_30, graceMs: 2 * DAYS_30 }).then((o) => (outcome = o))
    await vi.advanceTimersByTimeAsync(0)
    const polls = (): number => calls.filter(([, s]) => s === 0).length
    expect(calls).toContainEqual([-PID, 'SIGTERM'])
    const afterTerm = polls()
    await vi.advanceTimersByTimeAsync(1)
    expect(polls()).toBe(afterTerm)
    await vi.advanceTimersByTimeAsync(DAYS_30 - 2)
    expect(polls()).toBe(afterTerm)
    child.exitCode = 0 // it exits; the next poll, on time, sees it
    await vi.advanceTimersByTimeAsync(1)
    await killing
    expect(outcome).toBe('graceful')
    expect(calls.some(([, s]) => s === 'SIGKILL')).toBe(false)
  })

  it('graceMs: 30 days sends SIGKILL after 30 days, not before', async () => {
    vi.useFakeTimers()
    setProcfsForTesting(false)
    const child = standIn()
    const calls = mockKill(() => true)
    const killing = gracefulKill(child, { pollMs: 86_400_000, graceMs: DAYS_30 }).catch(() => 'survived')
    const killed = (): boolean => calls.some(([, s]) => s === 'SIGKILL')
    await vi.advanceTimersByTimeAsync(DAYS_30 - 1)
    expect(killed()).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(killed()).toBe(true)
    child.exitCode = 137
    await vi.advanceTimersByTimeAsync(86_400_000)
    expect(await killing).toBe('forced')
  })

  it("graceMs: 30 days bounds the wait for a gone child's 'exit' by 30 days, not 1 ms", async () => {
    vi.useFakeTimers()
    setProcfsForTesting(false)
    mockKill(() => false) // already gone, but Node has not reported its exit
    let outcome: unknown = 'pending'
    const killing = gracefulKill(standIn(), { graceMs: DAYS_30 }).then((o) => (outcome = o))
    await vi.advanceTimersByTimeAsync(1)
    expect(outcome).toBe('pending')
    await vi.advanceTimersByTimeAsync(DAYS_30 - 2)
    expect(outcome).toBe('pending')
    await vi.advanceTimersByTimeAsync(1)
    await killing
    expect(outcome).toBe('already-exited')
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('watchEventLoop with delays past 2^31-1 ms', () => {
  it('intervalMs: 30 days checks every 30 days, not every millisecond', () => {
    vi.useFakeTimers()
    const now = vi.spyOn(performance, 'now')
    const watch = watchEventLoop({ thresholdMs: 1_000, intervalMs: DAYS_30 })
    const reads = now.mock.calls.length
    vi.advanceTimersByTime(1)
    expect(now.mock.calls.length).toBe(reads)
    vi.advanceTimersByTime(DAYS_30 - 2)
    expect(now.mock.calls.length).toBe(reads)
    vi.advanceTimersByTime(1)
    expect(now.mock.calls.length).toBe(reads + 1)
    expect(watch.stalls).toBe(0) // on time: no lateness
    watch.stop()
    expect(vi.getTimerCount()).toBe(0)
  })
})
