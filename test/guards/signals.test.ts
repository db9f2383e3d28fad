import { describe, it, expect, vi } from 'vitest'
import { linkSignals, timeoutSignal, onAbort } from '../../src/guards/index.js'
import { TimeoutError } from '../../src/errors.js'
import { abortListenerCount, expectNoUnhandledRejections, flushMicrotasks, untilAborted } from '../helpers.js'

expectNoUnhandledRejections()

describe('linkSignals', () => {
  it('aborts with the reason of the first input that aborts, and unlinks from the others', () => {
    const a = new AbortController()
    const b = new AbortController()
    const linked = linkSignals(a.signal, undefined, b.signal)
    expect(abortListenerCount(a.signal)).toBe(1)
    expect(abortListenerCount(b.signal)).toBe(1)
    b.abort('b first')
    expect(linked.signal.aborted).toBe(true)
    expect(linked.signal.reason).toBe('b first')
    expect(abortListenerCount(a.signal)).toBe(0)
    a.abort('a later')
    expect(linked.signal.reason).toBe('b first')
    linked[Symbol.dispose]()
  })

  it('an already-aborted input aborts at once and adds no listener', () => {
    const a = new AbortController()
    const b = new AbortController()
    a.abort('early')
    const linked = linkSignals(b.signal, a.signal)
    expect(linked.signal.reason).toBe('early')
    expect(abortListenerCount(b.signal)).toBe(0)
  })

  it('is leak-free on a long-lived parent: dispose removes its listener (scope exit, early return, throw, cancellation)', async () => {
    const parent = new AbortController()
    for (let i = 0; i < 100; i++) {
      using linked = linkSignals(parent.signal, new AbortController().signal)
      expect(linked.signal.aborted).toBe(false)
    }
    expect(abortListenerCount(parent.signal)).toBe(0)
    const early = (): number => {
      using _ = linkSignals(parent.signal)
      return abortListenerCount(parent.signal)
    }
    expect(early()).toBe(1)
    expect(abortListenerCount(parent.signal)).toBe(0)
    expect(() => {
      using _ = linkSignals(parent.signal)
      throw new Error('boom')
    }).toThrow('boom')
    expect(abortListenerCount(parent.signal)).toBe(0)
    const outer = new AbortController()
    const flow = (async () => {
      using linked = linkSignals(parent.signal, outer.signal)
      await untilAborted(linked.signal)
    })()
    await flushMicrotasks()
    expect(abortListenerCount(parent.signal)).toBe(1)
    outer.abort(new Error('cancel'))
    await expect(flow).rejects.toThrow('cancel')
    expect(abortListenerCount(parent.signal)).toBe(0)
  })

  it('dispose twice is harmless and does not abort the linked signal', () => {
    const a = new AbortController()
    const linked = linkSignals(a.signal)
    linked[Symbol.dispose]()
    linked[Symbol.dispose]()
    a.abort()
    expect(linked.signal.aborted).toBe(false)
  })

  it('refuses non-signals', () => {
    expect(() => linkSignals({} as AbortSignal)).toThrow(TypeError)
  })
})

describe('timeoutSignal', () => {
  it('aborts with a TimeoutError after ms', async () => {
    vi.useFakeTimers()
    const t = timeoutSignal(500)
    await vi.advanceTimersByTimeAsync(499)
    expect(t.signal.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(t.signal.aborted).toBe(true)
    expect(t.signal.reason).toBeInstanceOf(TimeoutError)
    expect((t.signal.reason as TimeoutError).name).toBe('TimeoutError')
    expect((t.signal.reason as TimeoutError).timeoutMs).toBe(500)
    t[Symbol.dispose]()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('dispose clears the timer on scope exit, early return and throw; twice is harmless', () => {
    vi.useFakeTimers()
    {
      using t = timeoutSignal(1000)
      expect(vi.getTimerCount()).toBe(1)
      expect(t.signal.aborted).toBe(false)
    }
    expect(vi.getTimerCount()).toBe(0)
    const early = (): number => {
      using _ = timeoutSignal(1000)
      return vi.getTimerCount()
    }
    expect(early()).toBe(1)
    expect(vi.getTimerCount()).toBe(0)
    expect(() => {
      using _ = timeoutSignal(1000)
      throw new Error('boom')
    }).toThrow('boom')
    expect(vi.getTimerCount()).toBe(0)
    const t = timeoutSignal(10)
    t[Symbol.dispose]()
    t[Symbol.dispose]()
    expect(t.signal.aborted).toBe(false)
  })

  it('clears the timer when the enclosing async flow is cancelled', async () => {
    vi.useFakeTimers()
    const outer = new AbortController()
    const flow = (async () => {
      using t = timeoutSignal(60_000)
      using linked = linkSignals(t.signal, outer.signal)
      await untilAborted(linked.signal)
    })()
    await flushMicrotasks()
    expect(vi.getTimerCount()).toBe(1)
    outer.abort(new Error('cancel'))
    await expect(flow).rejects.toThrow('cancel')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('unref by default (real timers: no refed Timeout left), Infinity arms nothing, bad ms refused', () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    const t = timeoutSignal(60_000)
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before)
    t[Symbol.dispose]()
    const refed = timeoutSignal(60_000, { unref: false })
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before + 1)
    refed[Symbol.dispose]()
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before)
    vi.useFakeTimers()
    const inf = timeoutSignal(Infinity)
    expect(vi.getTimerCount()).toBe(0)
    inf[Symbol.dispose]()
    expect(() => timeoutSignal(-1)).toThrow(RangeError)
    expect(() => timeoutSignal(Number.NaN)).toThrow(RangeError)
    expect(() => timeoutSignal('5' as never)).toThrow(TypeError)
  })
})

describe('onAbort', () => {
  it('calls fn with the reason once, and removes the listener on dispose', () => {
    const ac = new AbortController()
    const fn = vi.fn()
    const before = abortListenerCount(ac.signal)
    {
      using _ = onAbort(ac.signal, fn)
      expect(abortListenerCount(ac.signal)).toBe(before + 1)
    }
    expect(abortListenerCount(ac.signal)).toBe(before)
    ac.abort('why')
    expect(fn).not.toHaveBeenCalled()
    const ac2 = new AbortController()
    const g = onAbort(ac2.signal, fn)
    ac2.abort('why')
    expect(fn).toHaveBeenCalledWith('why')
    expect(fn).toHaveBeenCalledTimes(1)
    g[Symbol.dispose]()
    g[Symbol.dispose]()
  })

  it('calls fn at once (synchronously) when the signal is already aborted', () => {
    const ac = new AbortController()
    ac.abort('already')
    const fn = vi.fn()
    const g = onAbort(ac.signal, fn)
    expect(fn).toHaveBeenCalledWith('already')
    expect(abortListenerCount(ac.signal)).toBe(0)
    g[Symbol.dispose]()
  })

  it('removes the listener on early return, throw and cancellation', async () => {
    const ac = new AbortController()
    expect(() => {
      using _ = onAbort(ac.signal, () => {})
      throw new Error('boom')
    }).toThrow('boom')
    expect(abortListenerCount(ac.signal)).toBe(0)
    const outer = new AbortController()
    const flow = (async () => {
      using _ = onAbort(ac.signal, () => {})
      await untilAborted(outer.signal)
    })()
    await flushMicrotasks()
    expect(abortListenerCount(ac.signal)).toBe(1)
    outer.abort(new Error('cancel'))
    await expect(flow).rejects.toThrow('cancel')
    expect(abortListenerCount(ac.signal)).toBe(0)
  })

  it('refuses bad input', () => {
    expect(() => onAbort(undefined as never, () => {})).toThrow(TypeError)
    expect(() => onAbort(new AbortController().signal, 1 as never)).toThrow(TypeError)
  })
})
