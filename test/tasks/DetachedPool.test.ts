import { describe, expect, it, vi } from 'vitest'
import fc from 'fast-check'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { DetachedPool } from '../../src/tasks/DetachedPool.js'
import { defaultDetachedPool, spawnDetached, DEFAULT_DETACHED_POOL_OPTIONS } from '../../src/tasks/spawnDetached.js'
import { ClosedError, DroppedError, TimeoutError } from '../../src/errors.js'
import { abortListenerCount, collector, deferred, expectNoUnhandledRejections, flushMicrotasks, untilAborted } from '../helpers.js'

expectNoUnhandledRejections()

type Gate = ReturnType<typeof deferred<void>>

/** A task factory whose runs are released from the test. */
function gated() {
  const gates: Gate[] = []
  const signals: AbortSignal[] = []
  const task = vi.fn((signal: AbortSignal) => {
    const d = deferred()
    gates.push(d)
    signals.push(signal)
    return d.promise
  })
  return { task, gates, signals }
}

describe('DetachedPool', () => {
  it('runs at most `concurrency` tasks at once and starts queued ones in FIFO order', async () => {
    const onError = vi.fn()
    const pool = new DetachedPool({ concurrency: 2, onError })
    const order: number[] = []
    const gates: Gate[] = []
    for (let i = 0; i < 5; i++) {
      expect(
        pool.run(() => {
          order.push(i)
          const d = deferred()
          gates.push(d)
          return d.promise
        }),
      ).toBe(true)
    }
    expect(pool.stats()).toMatchObject({ running: 2, queued: 3, started: 2 })
    // Tasks start on a microtask, never inside run().
    expect(order).toEqual([])
    await flushMicrotasks()
    expect(order).toEqual([0, 1])
    gates[1]!.resolve()
    await flushMicrotasks()
    expect(order).toEqual([0, 1, 2])
    expect(pool.stats()).toMatchObject({ running: 2, queued: 2, succeeded: 1 })
    gates[0]!.resolve()
    gates[2]!.resolve()
    await flushMicrotasks()
    gates[3]!.resolve()
    await flushMicrotasks()
    gates[4]!.resolve()
    await pool.drain()
    expect(order).toEqual([0, 1, 2, 3, 4])
    expect(pool.stats()).toEqual({ started: 5, succeeded: 5, failed: 0, timedOut: 0, aborted: 0, dropped: 0, refused: 0, running: 0, queued: 0, overdue: 0, paused: false, cancelled: 0, rateLimited: 0 })
    expect(onError).not.toHaveBeenCalled()
  })

  it('never exceeds the bound under random completion orders (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 20 }), async (s, concurrency, n) => {
        const pool = new DetachedPool({ concurrency, maxQueue: n, onError: () => {} })
        let active = 0
        let peak = 0
        for (let i = 0; i < n; i++) {
          pool.run(async () => {
            active++
            peak = Math.max(peak, active)
            await s.schedule(Promise.resolve())
            active--
            if (i % 3 === 0) throw new Error(`fail ${i}`)
          })
        }
        const drained = pool.drain()
        await s.waitIdle()
        await drained
        expect(peak).toBeLessThanOrEqual(concurrency)
        const st = pool.stats()
        expect(st.started).toBe(n)
        expect(st.succeeded + st.failed).toBe(n)
        expect(st.failed).toBe(Math.ceil(n / 3))
      }),
      { numRuns: 60 },
    )
  })

  it('a task whose timeout fires before it could start is not left overdue, and never runs (fake timers)', async () => {
    vi.useFakeTimers()
    const onError = vi.fn()
    const pool = new DetachedPool({ concurrency: 2, timeoutMs: 100, onError })
    const task = vi.fn((signal: AbortSignal) => new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))))
    const own = vi.fn(async () => {})
    pool.run(task)
    pool.run(own, { timeoutMs: 50 })
    // Both hold a slot; their start microtask has not run when the timers fire.
    vi.advanceTimersByTime(100)
    expect(pool.stats()).toMatchObject({ timedOut: 2, overdue: 2, running: 0 })
    await flushMicrotasks()
    expect(task).not.toHaveBeenCalled()
    expect(own).not.toHaveBeenCalled()
    expect(pool.stats()).toMatchObject({ started: 2, timedOut: 2, overdue: 0, running: 0, queued: 0 })
    expect(onError).toHaveBeenCalledTimes(2)
  })

  it('a task queued behind a timed-out one starts in the timer callback that freed its slot (fake timers)', async () => {
    vi.useFakeTimers()
    const pool = new DetachedPool({ concurrency: 1, timeoutMs: 100, onError: () => {} })
    const started: number[] = []
    const task = vi.fn((signal: AbortSignal) => {
      started.push(Date.now())
      return new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
    })
    pool.run(task)
    await flushMicrotasks()
    vi.advanceTimersByTime(87)
    pool.run(task)
    // One synchronous advance: the first times out at 100 and the second starts right
    // then (inside the timer callback, not a caller's stack); it times out at 200.
    vi.advanceTimersByTime(113)
    expect(started.map((t) => t - started[0]!)).toEqual([0, 100])
    await flushMicrotasks()
    expect(pool.stats()).toMatchObject({ timedOut: 2, overdue: 0, running: 0, queued: 0 })
  })

  it('counters stay consistent under random submissions, settlements and timeouts (property, fake timers)', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('submit' as const) }),
      fc.record({ kind: fc.constant('settle' as const), index: fc.nat(), ok: fc.boolean() }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 120 }) }),
    )
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.array(op, { maxLength: 40 }), async (concurrency, maxQueue, ops) => {
        vi.useFakeTimers()
        try {
          const pool = new DetachedPool({ concurrency, maxQueue, timeoutMs: 100, onError: () => {} })
          const pending: { settle: (ok: boolean) => void }[] = []
          let invokedLive = 0
          let submitted = 0
          let accepted = 0
          for (const o of ops) {
            if (o.kind === 'submit') {
              submitted++
              const ok = pool.run(
                (signal) =>
                  new Promise<void>((resolve, reject) => {
                    invokedLive++
                    let done = false
                    const finish = () => {
                      if (!done) invokedLive--
                      done = true
                    }
                    // Honours its signal, as a well-behaved task does.
                    signal.addEventListener('abort', () => {
                      finish()
                      reject(signal.reason)
                    })
                    pending.push({
                      settle: (success) => {
                        finish()
                        if (success) resolve()
                        else reject(new Error('task failed'))
                      },
                    })
                  }),
              )
              if (ok) accepted++
            } else if (o.kind === 'settle') {
              if (pending.length > 0) pending.splice(o.index % pending.length, 1)[0]!.settle(o.ok)
            } else {
              vi.advanceTimersByTime(o.ms)
            }
            await flushMicrotasks()
            const st = pool.stats()
            expect(st.running).toBeLessThanOrEqual(concurrency)
            expect(st.queued).toBeLessThanOrEqual(maxQueue)
            expect(invokedLive).toBeLessThanOrEqual(concurrency)
            expect(st.started + st.queued).toBe(accepted)
            expect(accepted + st.dropped).toBe(submitted)
            expect(st.succeeded + st.failed + st.timedOut + st.running).toBe(st.started)
            expect(st.overdue).toBe(0)
          }
          // Everything ends: timeouts fire for whatever is left.
          await vi.runAllTimersAsync()
          await pool.drain()
          const st = pool.stats()
          expect(st).toMatchObject({ running: 0, queued: 0, started: accepted })
          expect(invokedLive).toBe(0)
        } finally {
          vi.clearAllTimers()
          vi.useRealTimers()
        }
      }),
      { numRuns: 80 },
    )
  })

  it('failures (throws, rejections, non-Error values) are counted and reported, never thrown or unhandled', async () => {
    const onError = vi.fn()
    const pool = new DetachedPool({ name: 'writes', onError })
    const boom = new Error('boom')
    expect(
      pool.run(() => {
        throw boom
      }),
    ).toBe(true)
    pool.run(() => Promise.reject('str'), { name: 'approval' })
    pool.run(async () => {
      await Promise.resolve()
      throw boom
    })
    pool.run(() => 'sync value')
    await pool.drain()
    expect(pool.stats()).toMatchObject({ started: 4, failed: 3, succeeded: 1 })
    expect(onError).toHaveBeenCalledTimes(3)
    expect(onError).toHaveBeenCalledWith(boom, expect.objectContaining({ area: 'detached', event: 'error', name: 'writes', pool: 'writes' }))
    expect(onError).toHaveBeenCalledWith('str', expect.objectContaining({ event: 'error', name: 'approval' }))
  })

  it('a per-task onError overrides the pool onError; a throwing onError does not break the pool', async () => {
    const poolOnError = vi.fn()
    const taskOnError = vi.fn(() => {
      throw new Error('bad handler')
    })
    const pool = new DetachedPool({ onError: poolOnError })
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    try {
      pool.run(() => Promise.reject(new Error('x')), { onError: taskOnError })
      pool.run(() => Promise.reject(new Error('y')))
      await pool.drain()
      expect(taskOnError).toHaveBeenCalledTimes(1)
      expect(poolOnError).toHaveBeenCalledTimes(1)
      expect(warn).toHaveBeenCalledTimes(1)
    } finally {
      warn.mockRestore()
    }
  })

  it('a timeout aborts the task signal, counts timedOut (not failed), reports it and frees the slot', async () => {
    vi.useFakeTimers()
    const onError = vi.fn()
    const pool = new DetachedPool({ concurrency: 1, timeoutMs: 500, name: 'approvals', onError })
    let signal!: AbortSignal
    let lateSettle!: () => void
    // Ignores its signal and settles late: it becomes overdue.
    pool.run((s) => {
      signal = s
      return new Promise<void>((resolve) => (lateSettle = resolve))
    })
    const second = vi.fn(async () => {})
    pool.run(second)
    await flushMicrotasks()
    expect(second).not.toHaveBeenCalled()
    vi.advanceTimersByTime(499)
    expect(signal.aborted).toBe(false)
    vi.advanceTimersByTime(1)
    expect(signal.aborted).toBe(true)
    expect(signal.reason).toBeInstanceOf(TimeoutError)
    expect(onError).toHaveBeenCalledWith(expect.any(TimeoutError), expect.objectContaining({ area: 'detached', event: 'timeout', name: 'approvals' }))
    await flushMicrotasks()
    expect(second).toHaveBeenCalledTimes(1)
    await pool.drain()
    expect(pool.stats()).toMatchObject({ timedOut: 1, failed: 0, succeeded: 1, running: 0, overdue: 1 })
    lateSettle()
    await flushMicrotasks()
    expect(pool.stats()).toMatchObject({ overdue: 0, succeeded: 1, failed: 0 })
    expect(onError).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a task that honours its signal stops at the timeout; a per-task timeoutMs overrides the pool', async () => {
    vi.useFakeTimers()
    const onError = vi.fn()
    const pool = new DetachedPool({ timeoutMs: 10_000, onError })
    const stopped = vi.fn()
    pool.run(
      (signal) =>
        new Promise<void>((_, reject) => {
          signal.addEventListener('abort', () => {
            stopped()
            reject(signal.reason)
          })
        }),
      { timeoutMs: 50 },
    )
    await flushMicrotasks()
    vi.advanceTimersByTime(50)
    await flushMicrotasks()
    expect(stopped).toHaveBeenCalledTimes(1)
    // Its rejection after the timeout is neither counted as failed nor reported again.
    expect(pool.stats()).toMatchObject({ timedOut: 1, failed: 0, overdue: 0 })
    expect(onError).toHaveBeenCalledTimes(1)
  })

  it('a full queue drops the newest task and reports it; queued tasks keep their place', async () => {
    const onError = vi.fn()
    const pool = new DetachedPool({ concurrency: 1, maxQueue: 2, onError })
    const { task, gates } = gated()
    expect(pool.run(task)).toBe(true)
    expect(pool.run(task)).toBe(true)
    expect(pool.run(task)).toBe(true)
    const newest = vi.fn()
    expect(pool.run(newest, { name: 'newest' })).toBe(false)
    expect(pool.stats()).toMatchObject({ running: 1, queued: 2, dropped: 1 })
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: expect.stringContaining('queue is full') }), expect.objectContaining({ area: 'detached', event: 'dropped', name: 'newest' }))
    for (let i = 0; i < 3; i++) {
      await flushMicrotasks()
      gates[i]!.resolve()
    }
    await pool.drain()
    expect(task).toHaveBeenCalledTimes(3)
    expect(newest).not.toHaveBeenCalled()
  })

  it('maxQueue 0 drops everything beyond the running tasks', async () => {
    const pool = new DetachedPool({ concurrency: 1, maxQueue: 0, onError: () => {} })
    const { task, gates } = gated()
    expect(pool.run(task)).toBe(true)
    expect(pool.run(task)).toBe(false)
    await flushMicrotasks()
    gates[0]!.resolve()
    await pool.drain()
    expect(pool.stats()).toMatchObject({ started: 1, dropped: 1 })
  })

  it('close() refuses new tasks (each refusal reported) while queued ones still run', async () => {
    const onError = vi.fn()
    const pool = new DetachedPool({ concurrency: 1, onError })
    const { task, gates } = gated()
    pool.run(task)
    pool.run(task)
    pool.close()
    pool.close()
    expect(pool.isClosed).toBe(true)
    const refusedTask = vi.fn()
    expect(pool.run(refusedTask)).toBe(false)
    expect(pool.run(refusedTask)).toBe(false)
    expect(onError).toHaveBeenCalledTimes(2)
    expect(onError).toHaveBeenCalledWith(expect.any(ClosedError), expect.objectContaining({ event: 'refused' }))
    await flushMicrotasks()
    gates[0]!.resolve()
    await flushMicrotasks()
    gates[1]!.resolve()
    await pool.drain()
    expect(task).toHaveBeenCalledTimes(2)
    expect(refusedTask).not.toHaveBeenCalled()
    expect(pool.stats()).toMatchObject({ refused: 2, succeeded: 2 })
  })

  it('drain waits for tasks accepted meanwhile, times out with a TimeoutError, and honours a signal', async () => {
    vi.useFakeTimers()
    const pool = new DetachedPool({ timeoutMs: Infinity, onError: () => {} })
    const { task, gates } = gated()
    await pool.drain() // idle: resolves at once
    pool.run(task)
    const drained = vi.fn()
    const d = pool.drain().then(drained)
    const timedOut = pool.drain(100)
    const ac = new AbortController()
    const aborted = pool.drain({ signal: ac.signal })
    await expect(pool.drain(0)).rejects.toBeInstanceOf(TimeoutError)
    ac.abort('stop')
    await expect(aborted).rejects.toBe('stop')
    expect(abortListenerCount(ac.signal)).toBe(0)
    vi.advanceTimersByTime(100)
    await expect(timedOut).rejects.toBeInstanceOf(TimeoutError)
    await flushMicrotasks()
    pool.run(task) // accepted while draining
    gates[0]!.resolve()
    await flushMicrotasks()
    expect(drained).not.toHaveBeenCalled()
    gates[1]!.resolve()
    await d
    expect(drained).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(0)
    await expect(pool.drain('x' as never)).rejects.toThrow(TypeError)
    await expect(pool.drain(-1)).rejects.toThrow(RangeError)
  })

  it('a drain bounded by both a signal and a timeout that succeeds leaves no timer and no listener', async () => {
    vi.useFakeTimers()
    const pool = new DetachedPool({ timeoutMs: Infinity, onError: () => {} })
    const { task, gates } = gated()
    pool.run(task)
    const ac = new AbortController()
    const before = abortListenerCount(ac.signal)
    const drained = pool.drain({ timeoutMs: 1_000, signal: ac.signal })
    expect(abortListenerCount(ac.signal)).toBe(before + 1)
    await flushMicrotasks()
    gates[0]!.resolve()
    await drained
    expect(abortListenerCount(ac.signal)).toBe(before)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('await using: dispose closes and drains', async () => {
    const { task, gates } = gated()
    let ref!: DetachedPool
    const finished = vi.fn()
    const scope = (async () => {
      await using pool = new DetachedPool({ onError: () => {} })
      ref = pool
      pool.run(task)
    })().then(finished)
    await flushMicrotasks()
    expect(ref.isClosed).toBe(true)
    expect(finished).not.toHaveBeenCalled()
    gates[0]!.resolve()
    await scope
    expect(finished).toHaveBeenCalledTimes(1)
    expect(ref.stats().succeeded).toBe(1)
    ref[Symbol.dispose]()
    await ref[Symbol.asyncDispose]()
  })

  it('publishes to diagnostics_channel asyncsafe:detached:*', async () => {
    const seen: unknown[] = []
    const listener = (message: unknown) => seen.push(message)
    subscribe('asyncsafe:detached:error', listener)
    try {
      const pool = new DetachedPool({ name: 'dc', onError: () => {} })
      pool.run(() => Promise.reject(new Error('dc-fail')))
      await pool.drain()
      expect(seen).toEqual([expect.objectContaining({ area: 'detached', event: 'error', name: 'dc', error: expect.objectContaining({ message: 'dc-fail' }) })])
    } finally {
      unsubscribe('asyncsafe:detached:error', listener)
    }
  })

  it('one timer for the whole pool: each task still times out at its own deadline, and no timer is left once idle (fake timers)', async () => {
    vi.useFakeTimers()
    const timedOut: string[] = []
    const t0 = Date.now()
    const pool = new DetachedPool({ concurrency: 4, timeoutMs: 100, onError: (_e, c) => timedOut.push(`${c.name}@${Date.now() - t0}`) })
    const gates: Gate[] = []
    const task = (): Promise<void> => {
      const d = deferred()
      gates.push(d)
      return d.promise
    }
    pool.run(task, { name: 'a' })
    await vi.advanceTimersByTimeAsync(10)
    pool.run(task, { name: 'b' })
    pool.run(task, { name: 'c' })
    await vi.advanceTimersByTimeAsync(30)
    pool.run(task, { name: 'd' })
    expect(vi.getTimerCount()).toBe(1)
    gates[0]!.resolve() // 'a' settles: the timer stays aimed at its old deadline...
    await vi.advanceTimersByTimeAsync(60) // ...fires at 100, finds 'b' not due, re-aims at 110
    expect(timedOut).toEqual([])
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(10)
    expect(timedOut).toEqual(['b@110', 'c@110'])
    await vi.advanceTimersByTimeAsync(29)
    expect(timedOut).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(timedOut).toEqual(['b@110', 'c@110', 'd@140'])
    expect(vi.getTimerCount()).toBe(0)
    expect(pool.stats()).toMatchObject({ succeeded: 1, timedOut: 3, running: 0, overdue: 3 })
    // A task that settles before its deadline while others run disarms nothing early, and the last one disarms the timer.
    pool.run(task)
    expect(vi.getTimerCount()).toBe(1)
    await flushMicrotasks()
    gates[4]!.resolve()
    await flushMicrotasks()
    expect(vi.getTimerCount()).toBe(0)
    for (const g of gates) g.resolve()
  })

  it('drain({ timeoutMs, abortRemaining: true }) aborts the running tasks and drops the queued ones at the deadline (fake timers)', async () => {
    vi.useFakeTimers()
    const { onError, seen } = collector()
    const pool = new DetachedPool({ concurrency: 2, timeoutMs: Infinity, onError })
    const signals: AbortSignal[] = []
    const honours = (signal: AbortSignal): Promise<never> => {
      signals.push(signal)
      return untilAborted(signal)
    }
    const ignores = (signal: AbortSignal): Promise<void> => {
      signals.push(signal)
      return new Promise(() => {})
    }
    pool.run(honours, { name: 'honours' })
    pool.run(ignores, { name: 'ignores', timeoutMs: 10_000 })
    const queued = vi.fn()
    pool.run(queued, { name: 'queued' })
    await flushMicrotasks()
    let outcome: unknown
    void pool.drain({ timeoutMs: 500, abortRemaining: true }).catch((e: unknown) => (outcome = e))
    await vi.advanceTimersByTimeAsync(499)
    expect(signals.map((s) => s.aborted)).toEqual([false, false])
    await vi.advanceTimersByTimeAsync(1)
    expect(outcome).toBeInstanceOf(TimeoutError)
    expect(signals.map((s) => s.reason)).toEqual([outcome, outcome])
    expect(queued).not.toHaveBeenCalled()
    expect(seen.map((r) => [r.context.name, r.context.event])).toEqual([
      ['queued', 'dropped'],
      ['honours', 'aborted'],
      ['ignores', 'aborted'],
    ])
    expect(seen[0]!.error).toBeInstanceOf(DroppedError)
    expect((seen[0]!.error as DroppedError).cause).toBe(outcome)
    expect(seen[1]!.error).toBe(outcome)
    await flushMicrotasks()
    expect(pool.stats()).toMatchObject({ started: 2, aborted: 2, dropped: 1, running: 0, queued: 0, overdue: 1, timedOut: 0 })
    expect(vi.getTimerCount()).toBe(0) // the per-task 10 s timer went with the abort
    // A later task is not affected, and a drain without abortRemaining leaves tasks alone.
    const ac = new AbortController()
    pool.run((s) => untilAborted(AbortSignal.any([s, ac.signal])), { name: 'later' })
    await expect(pool.drain({ signal: AbortSignal.abort('stop') })).rejects.toBe('stop')
    await expect(pool.drain(0)).rejects.toBeInstanceOf(TimeoutError)
    expect(pool.stats()).toMatchObject({ running: 1, aborted: 2 })
    // With a signal as the deadline, and already aborted: the abort is immediate.
    await expect(pool.drain({ signal: AbortSignal.abort('now'), abortRemaining: true })).rejects.toBe('now')
    expect(pool.stats()).toMatchObject({ running: 0, aborted: 3 })
    await pool.drain()
  })

  it('a dropped task is reported with a DroppedError, a fresh one each time', () => {
    const { onError, seen } = collector()
    const pool = new DetachedPool({ concurrency: 1, maxQueue: 0, onError })
    pool.run(() => new Promise(() => {}))
    expect(pool.run(() => {})).toBe(false)
    expect(pool.run(() => {})).toBe(false)
    expect(seen.map((r) => r.error)).toEqual([expect.any(DroppedError), expect.any(DroppedError)])
    expect(seen[0]!.error).not.toBe(seen[1]!.error)
    expect((seen[0]!.error as Error).name).toBe('DroppedError')
  })

  it('the default maxQueue holds 10,000 waiting tasks', async () => {
    const onError = vi.fn()
    const pool = new DetachedPool({ concurrency: 8, timeoutMs: Infinity, onError })
    let ran = 0
    for (let i = 0; i < 10_008; i++) expect(pool.run(() => ran++)).toBe(true)
    expect(pool.run(() => ran++)).toBe(false)
    await pool.drain()
    expect(ran).toBe(10_008)
    expect(onError).toHaveBeenCalledTimes(1)
  })

  it('synchronous tasks behind a long queue run without recursion, and a task calling run() never runs the new task inside itself', async () => {
    const pool = new DetachedPool({ concurrency: 1, maxQueue: 50_000, onError: () => {} })
    let ran = 0
    for (let i = 0; i < 50_000; i++) pool.run(() => ran++)
    await pool.drain()
    expect(ran).toBe(50_000)
    const order: string[] = []
    const wide = new DetachedPool({ concurrency: 2, onError: () => {} })
    wide.run(() => {
      wide.run(() => order.push('inner'))
      order.push('outer done')
    })
    await wide.drain()
    expect(order).toEqual(['outer done', 'inner'])
  })

  it('validates its input: non-function task is a TypeError, bad options are refused', () => {
    const pool = new DetachedPool({ onError: () => {} })
    expect(() => pool.run(undefined as never)).toThrow(TypeError)
    expect(() => pool.run('x' as never)).toThrow(/task must be a function/)
    expect(() => pool.run(() => {}, { timeoutMs: -1 })).toThrow(RangeError)
    expect(() => pool.run(() => {}, { onError: 1 as never })).toThrow(TypeError)
    expect(() => new DetachedPool({ concurrency: 0 })).toThrow(RangeError)
    expect(() => new DetachedPool({ concurrency: 1.5 })).toThrow(RangeError)
    expect(() => new DetachedPool({ maxQueue: -1 })).toThrow(RangeError)
    expect(() => new DetachedPool({ timeoutMs: Number.NaN })).toThrow(RangeError)
    expect(() => new DetachedPool({ onError: 'x' as never })).toThrow(TypeError)
    expect(pool.stats().started).toBe(0)
  })
})

describe('spawnDetached', () => {
  it('runs on a lazily created shared pool with a 500 ms timeout that aborts the task', async () => {
    vi.useFakeTimers()
    const pool = defaultDetachedPool()
    expect(defaultDetachedPool()).toBe(pool)
    expect(DEFAULT_DETACHED_POOL_OPTIONS).toMatchObject({ concurrency: 8, timeoutMs: 500, maxQueue: 1000 })
    const onError = vi.fn()
    let signal!: AbortSignal
    expect(
      spawnDetached(
        (s) => {
          signal = s
          return new Promise<void>((_, reject) => s.addEventListener('abort', () => reject(s.reason)))
        },
        { name: 'approval-record', onError },
      ),
    ).toBe(true)
    await flushMicrotasks()
    vi.advanceTimersByTime(500)
    expect(signal.aborted).toBe(true)
    expect(onError).toHaveBeenCalledWith(expect.any(TimeoutError), expect.objectContaining({ event: 'timeout', name: 'approval-record', pool: 'default' }))
    await flushMicrotasks()
    expect(pool.stats()).toMatchObject({ timedOut: 1, running: 0 })
    expect(() => spawnDetached(42 as never)).toThrow(TypeError)
  })

  it('the default pool drains at shutdown and then refuses', async () => {
    const onError = vi.fn()
    const ran = vi.fn()
    spawnDetached(async () => ran(), { onError })
    const pool = defaultDetachedPool()
    await pool[Symbol.asyncDispose]()
    expect(ran).toHaveBeenCalledTimes(1)
    expect(spawnDetached(ran, { onError })).toBe(false)
    expect(onError).toHaveBeenCalledWith(expect.any(ClosedError), expect.objectContaining({ event: 'refused' }))
  })
})
