import { describe, it, expect, vi } from 'vitest'
import fc from 'fast-check'
import { every, createBatcher } from '../../src/guards/index.js'
import { DisposedError } from '../../src/errors.js'
import { abortListenerCount, collector, deferred, expectNoUnhandledRejections, flushMicrotasks, untilAborted } from '../helpers.js'

expectNoUnhandledRejections()

describe('every', () => {
  it('ticks every intervalMs (first after intervalMs) and stops on scope exit with no timer left', async () => {
    vi.useFakeTimers()
    const fn = vi.fn()
    {
      using ticker = every(100, fn)
      expect(fn).not.toHaveBeenCalled()
      await vi.advanceTimersByTimeAsync(100)
      expect(fn).toHaveBeenCalledTimes(1)
      await vi.advanceTimersByTimeAsync(250)
      expect(fn).toHaveBeenCalledTimes(3)
      expect(ticker.ticks).toBe(3)
      expect(vi.getTimerCount()).toBe(1)
    }
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(1000)
    expect(fn).toHaveBeenCalledTimes(3)
  })

  it('immediate: the first tick runs synchronously', async () => {
    vi.useFakeTimers()
    const fn = vi.fn()
    using _ = every(100, fn, { immediate: true })
    expect(fn).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(100)
    expect(fn).toHaveBeenCalledTimes(2)
  })

  it('an async tick never overlaps the previous one', async () => {
    vi.useFakeTimers()
    let running = 0
    let maxRunning = 0
    let ticks = 0
    using _ = every(10, async () => {
      running++
      ticks++
      maxRunning = Math.max(maxRunning, running)
      await new Promise((r) => setTimeout(r, 35))
      running--
    })
    await vi.advanceTimersByTimeAsync(500)
    expect(maxRunning).toBe(1)
    // fixed delay: each cycle is 10 ms wait + 35 ms tick
    // ticks start at 10, 55, 100, ... (10 + 45k <= 500)
    expect(ticks).toBe(11)
  })

  it('until() is checked before each tick and right after it: no tick and no timer once done', async () => {
    vi.useFakeTimers()
    let done = false
    const writes: number[] = []
    const ticker = every(100, () => {
      writes.push(writes.length)
      if (writes.length === 3) done = true
    }, { until: () => done })
    await vi.advanceTimersByTimeAsync(300)
    expect(writes).toEqual([0, 1, 2])
    expect(ticker.stopped).toBe(true) // checked right after the third tick
    expect(vi.getTimerCount()).toBe(0)
    // done while waiting: the next tick does not run
    let done2 = false
    const fn = vi.fn()
    const t2 = every(100, fn, { until: () => done2 })
    await vi.advanceTimersByTimeAsync(150)
    done2 = true
    await vi.advanceTimersByTimeAsync(100)
    expect(fn).toHaveBeenCalledTimes(1)
    expect(t2.stopped).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('until() checked after an async tick settles: the work that finished during the tick stops it', async () => {
    vi.useFakeTimers()
    let done = false
    const fn = vi.fn(async () => {
      await new Promise((r) => setTimeout(r, 20))
      done = true
    })
    const t = every(50, fn, { until: () => done })
    await vi.advanceTimersByTimeAsync(70)
    expect(fn).toHaveBeenCalledTimes(1)
    expect(t.stopped).toBe(true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('stops on abort of its signal (listener removed) and aborts the running tick on dispose', async () => {
    vi.useFakeTimers()
    const ac = new AbortController()
    const fn = vi.fn()
    const t = every(100, fn, { signal: ac.signal })
    expect(abortListenerCount(ac.signal)).toBe(1)
    await vi.advanceTimersByTimeAsync(100)
    ac.abort()
    expect(t.stopped).toBe(true)
    expect(abortListenerCount(ac.signal)).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
    // a tick in progress sees its signal aborted on dispose; its rejection is not reported
    const { onError, seen } = collector()
    let tickSignal!: AbortSignal
    const t2 = every(10, (s) => {
      tickSignal = s
      return untilAborted(s)
    }, { immediate: true, onError })
    t2[Symbol.dispose]()
    t2[Symbol.dispose]()
    expect(tickSignal.aborted).toBe(true)
    expect(tickSignal.reason).toBeInstanceOf(DisposedError)
    await flushMicrotasks()
    expect(seen).toEqual([])
    expect(vi.getTimerCount()).toBe(0)
    // an already-aborted signal: never ticks
    const fn3 = vi.fn()
    const t3 = every(10, fn3, { signal: ac.signal, immediate: true })
    expect(fn3).not.toHaveBeenCalled()
    expect(t3.stopped).toBe(true)
  })

  it('stops on early return, throw, and cancellation of the enclosing flow', async () => {
    vi.useFakeTimers()
    const early = (): number => {
      using _ = every(100, () => {})
      return vi.getTimerCount()
    }
    expect(early()).toBe(1)
    expect(vi.getTimerCount()).toBe(0)
    expect(() => {
      using _ = every(100, () => {})
      throw new Error('boom')
    }).toThrow('boom')
    expect(vi.getTimerCount()).toBe(0)
    const outer = new AbortController()
    const flow = (async () => {
      using _ = every(100, () => {})
      await untilAborted(outer.signal)
    })()
    await flushMicrotasks()
    expect(vi.getTimerCount()).toBe(1)
    outer.abort(new Error('cancel'))
    await expect(flow).rejects.toThrow('cancel')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a failing tick is reported (guard:tick-error) and the ticker goes on', async () => {
    vi.useFakeTimers()
    const { onError, seen } = collector()
    let n = 0
    using t = every(10, async () => {
      n++
      if (n <= 2) throw new Error(`tick ${n}`)
    }, { onError, name: 'clock' })
    await vi.advanceTimersByTimeAsync(50)
    expect(seen.map((s) => (s.error as Error).message)).toEqual(['tick 1', 'tick 2'])
    expect(seen[0]!.context).toMatchObject({ area: 'guard', event: 'tick-error', name: 'clock' })
    expect(t.ticks).toBeGreaterThan(3)
    expect(t.stopped).toBe(false)
  })

  it('an until() that throws is reported and stops the ticker', async () => {
    vi.useFakeTimers()
    const { onError, seen } = collector()
    const fn = vi.fn()
    let calls = 0
    const t = every(10, fn, {
      onError,
      until: () => {
        if (++calls === 2) throw new Error('broken condition')
        return false
      },
    })
    await vi.advanceTimersByTimeAsync(100)
    expect(fn).toHaveBeenCalledTimes(1)
    expect(t.stopped).toBe(true)
    expect(seen.map((e) => (e.error as Error).message)).toEqual(['broken condition'])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('unref leaves no refed timer (real timers)', () => {
    const count = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    const before = count()
    const t = every(60_000, () => {}, { unref: true })
    expect(count()).toBe(before)
    t[Symbol.dispose]()
    const t2 = every(60_000, () => {})
    expect(count()).toBe(before + 1)
    t2[Symbol.dispose]()
    expect(count()).toBe(before)
  })

  it('refuses intervalMs 0, negative, NaN, Infinity and non-numbers', () => {
    for (const bad of [0, -1, Number.NaN, Infinity]) expect(() => every(bad, () => {})).toThrow(RangeError)
    expect(() => every('5' as never, () => {})).toThrow(TypeError)
    expect(() => every(5, 'x' as never)).toThrow(TypeError)
    expect(() => every(5, () => {}, { until: 1 as never })).toThrow(TypeError)
  })
})

describe('createBatcher', () => {
  it('coalesces requests of a turn into one flush; a timer exists only while something is pending', async () => {
    vi.useFakeTimers()
    const flushes: number[][] = []
    using b = createBatcher<number>({ flush: (items) => flushes.push(items) })
    expect(vi.getTimerCount()).toBe(0)
    b.request(1)
    b.request(2)
    b.request(3)
    expect(b.pending).toBe(3)
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(0)
    expect(flushes).toEqual([[1, 2, 3]])
    expect(b.pending).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(flushes).toHaveLength(1)
  })

  it('request() without an item counts as one', async () => {
    vi.useFakeTimers()
    const flush = vi.fn()
    using b = createBatcher({ flush })
    b.request()
    b.request()
    expect(b.pending).toBe(2)
    await vi.advanceTimersByTimeAsync(0)
    expect(flush).toHaveBeenCalledWith([undefined, undefined])
  })

  it('minIntervalMs: never two flushes closer than it', async () => {
    vi.useFakeTimers()
    const at: number[] = []
    using b = createBatcher({ flush: () => at.push(Date.now()), minIntervalMs: 50 })
    const t0 = Date.now()
    b.request()
    await vi.advanceTimersByTimeAsync(0)
    b.request()
    await vi.advanceTimersByTimeAsync(10)
    expect(at).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(40)
    expect(at.map((t) => t - t0)).toEqual([0, 50])
    // long after: no wait
    await vi.advanceTimersByTimeAsync(500)
    b.request()
    await vi.advanceTimersByTimeAsync(0)
    expect(at).toHaveLength(3)
  })

  it('maxPending flushes at once, inside request, ignoring the interval', () => {
    vi.useFakeTimers()
    const flushes: number[][] = []
    const b = createBatcher<number>({ flush: (items) => flushes.push(items), minIntervalMs: 1000, maxPending: 3 })
    b.request(1)
    b.request(2)
    expect(flushes).toEqual([])
    b.request(3)
    expect(flushes).toEqual([[1, 2, 3]])
    expect(b.pending).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
    b.request(4)
    b.request(5)
    b.request(6)
    expect(flushes).toEqual([[1, 2, 3], [4, 5, 6]])
    b[Symbol.dispose]()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('flushNow flushes, resets the pending state and clears the timer; with nothing pending it does nothing', async () => {
    vi.useFakeTimers()
    const flushes: number[][] = []
    using b = createBatcher<number>({ flush: (items) => flushes.push(items), minIntervalMs: 100 })
    expect(b.flushNow()).toBe(false)
    b.request(1)
    expect(vi.getTimerCount()).toBe(1)
    expect(b.flushNow()).toBe(true)
    expect(flushes).toEqual([[1]])
    expect(b.pending).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(1000)
    expect(flushes).toEqual([[1]]) // no stale flush from the cleared timer
  })

  it('a throwing or rejecting flush is reported (guard:flush-error) and later flushes still happen', async () => {
    vi.useFakeTimers()
    const { onError, seen } = collector()
    let n = 0
    const ok: number[] = []
    using b = createBatcher<number>({
      flush: (items) => {
        n++
        if (n === 1) throw new Error('sync fail')
        if (n === 2) return Promise.reject(new Error('async fail'))
        ok.push(...items)
        return undefined
      },
      onError,
      name: 'redraw',
    })
    for (const i of [1, 2, 3]) {
      b.request(i)
      await vi.advanceTimersByTimeAsync(0)
    }
    expect(ok).toEqual([3])
    expect(seen.map((s) => (s.error as Error).message)).toEqual(['sync fail', 'async fail'])
    expect(seen[0]!.context).toMatchObject({ area: 'guard', event: 'flush-error', name: 'redraw' })
  })

  it('dispose clears the timer and drops what is pending, unless flushOnDispose; requests after dispose are ignored', async () => {
    vi.useFakeTimers()
    const flush = vi.fn()
    {
      using b = createBatcher<number>({ flush })
      b.request(1)
    }
    expect(vi.getTimerCount()).toBe(0)
    expect(flush).not.toHaveBeenCalled()
    {
      using b = createBatcher<number>({ flush, flushOnDispose: true })
      b.request(2)
    }
    expect(flush).toHaveBeenCalledWith([2])
    const b = createBatcher<number>({ flush })
    b[Symbol.dispose]()
    b[Symbol.dispose]()
    b.request(3)
    expect(b.pending).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
    expect(b.disposed).toBe(true)
  })

  it('clears its timer on early return, throw and cancellation of the enclosing flow', async () => {
    vi.useFakeTimers()
    const flush = vi.fn()
    expect(() => {
      using b = createBatcher({ flush })
      b.request()
      throw new Error('boom')
    }).toThrow('boom')
    expect(vi.getTimerCount()).toBe(0)
    const outer = new AbortController()
    const gate = deferred()
    const flow = (async () => {
      using b = createBatcher({ flush, minIntervalMs: 100 })
      b.request()
      gate.resolve()
      await untilAborted(outer.signal)
    })()
    await gate.promise
    expect(vi.getTimerCount()).toBe(1)
    outer.abort(new Error('cancel'))
    await expect(flow).rejects.toThrow('cancel')
    expect(vi.getTimerCount()).toBe(0)
    expect(flush).not.toHaveBeenCalled()
  })

  it('model: under any sequence of requests, flushNow and time, items are flushed once, in order, never two flushes closer than minIntervalMs unless forced, and at most one timer exists', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('request' as const) }),
            fc.record({ op: fc.constant('flushNow' as const) }),
            fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 80 }) }),
          ),
          { maxLength: 40 },
        ),
        fc.integer({ min: 1, max: 5 }),
        async (ops, maxPending) => {
          vi.useFakeTimers()
          try {
            const flushes: { at: number; items: number[]; forced: boolean }[] = []
            let forcing = false
            let next = 0
            const b = createBatcher<number>({
              flush: (items) => flushes.push({ at: Date.now(), items, forced: forcing }),
              minIntervalMs: 30,
              maxPending,
            })
            for (const o of ops) {
              if (o.op === 'request') {
                forcing = b.pending + 1 >= maxPending
                b.request(next++)
                forcing = false
              } else if (o.op === 'flushNow') {
                forcing = true
                b.flushNow()
                forcing = false
              } else await vi.advanceTimersByTimeAsync(o.ms)
              expect(vi.getTimerCount()).toBe(b.pending > 0 ? 1 : 0)
              expect(b.pending).toBeLessThan(maxPending)
            }
            await vi.advanceTimersByTimeAsync(100)
            expect(flushes.flatMap((f) => f.items)).toEqual(Array.from({ length: next }, (_, i) => i))
            expect(flushes.every((f) => f.items.length > 0)).toBe(true)
            for (let i = 1; i < flushes.length; i++) {
              if (!flushes[i]!.forced) expect(flushes[i]!.at - flushes[i - 1]!.at).toBeGreaterThanOrEqual(30)
            }
            b[Symbol.dispose]()
            expect(vi.getTimerCount()).toBe(0)
          } finally {
            vi.useRealTimers()
          }
        },
      ),
      { numRuns: 100 },
    )
  })

  it('refuses bad options', () => {
    expect(() => createBatcher(undefined as never)).toThrow(TypeError)
    expect(() => createBatcher({ flush: 1 as never })).toThrow(TypeError)
    expect(() => createBatcher({ flush: () => {}, maxPending: 0 })).toThrow(RangeError)
    expect(() => createBatcher({ flush: () => {}, minIntervalMs: -1 })).toThrow(RangeError)
    expect(() => createBatcher({ flush: () => {}, flushOnDispose: 'yes' as never })).toThrow(TypeError)
  })
})
