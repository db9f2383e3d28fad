import { describe, expect, it, vi } from 'vitest'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { setTimeout as sleep } from 'node:timers/promises'
import { watchEventLoop, type StallEvent } from '../../src/node/watchEventLoop.js'
import { expectNoUnhandledRejections } from '../helpers.js'

expectNoUnhandledRejections()

function busy(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {
    // Block the event loop on purpose.
  }
}

describe('watchEventLoop', () => {
  it('reports a 200 ms busy loop as a stall over the threshold, and publishes node:stall', async () => {
    const published: unknown[] = []
    const listener = (m: unknown) => published.push(m)
    subscribe('asyncsafe:node:stall', listener)
    const stalls: StallEvent[] = []
    using watch = watchEventLoop({ thresholdMs: 100, onStall: (e) => stalls.push(e) })
    try {
      await sleep(30)
      const before = Date.now()
      busy(200)
      await sleep(80)
      expect(stalls.length).toBeGreaterThanOrEqual(1)
      const stall = stalls.find((s) => s.durationMs > 100)!
      expect(stall.durationMs).toBeGreaterThan(100)
      expect(stall.durationMs).toBeLessThan(5_000)
      expect(stall.at).toBeGreaterThanOrEqual(before)
      expect(watch.stalls).toBe(stalls.length)
      expect(watch.maxStallMs).toBeGreaterThan(100)
      expect(published).toContainEqual(expect.objectContaining({ durationMs: stall.durationMs, thresholdMs: 100 }))
    } finally {
      unsubscribe('asyncsafe:node:stall', listener)
    }
  })

  it('uses one timer; dispose (idempotent) leaves none', () => {
    vi.useFakeTimers()
    const watch = watchEventLoop({ thresholdMs: 100, intervalMs: 10 })
    expect(vi.getTimerCount()).toBe(1)
    watch[Symbol.dispose]()
    expect(vi.getTimerCount()).toBe(0)
    watch.stop()
    watch[Symbol.dispose]()
  })

  it('its timer is unref’d: it never keeps the process alive', () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    using _watch = watchEventLoop({ thresholdMs: 100 })
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before)
  })

  it('an onStall that throws becomes a warning and the watch goes on', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    let calls = 0
    try {
      using _watch = watchEventLoop({
        thresholdMs: 20,
        intervalMs: 5,
        onStall: () => {
          calls++
          throw new Error('bad handler')
        },
      })
      for (let i = 0; i < 2; i++) {
        await sleep(15)
        busy(60)
        await sleep(15)
      }
      expect(calls).toBeGreaterThanOrEqual(2)
      expect(warn).toHaveBeenCalled()
    } finally {
      warn.mockRestore()
    }
  })

  it('validates its options', () => {
    expect(() => watchEventLoop(undefined as never)).toThrow(TypeError)
    expect(() => watchEventLoop({} as never)).toThrow(TypeError)
    expect(() => watchEventLoop({ thresholdMs: 0 })).toThrow(RangeError)
    expect(() => watchEventLoop({ thresholdMs: Number.NaN })).toThrow(RangeError)
    expect(() => watchEventLoop({ thresholdMs: 10, intervalMs: -1 })).toThrow(RangeError)
    expect(() => watchEventLoop({ thresholdMs: 10, onStall: 3 as never })).toThrow(TypeError)
  })
})
