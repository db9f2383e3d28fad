/**
 * DetachedPool's queue controls (issue 13, part 3): priorities, the rate limit,
 * pause/resume, onIdle/onSizeLessThan, and the awaited form call().
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import fc from 'fast-check'
import { DetachedPool } from '../../src/tasks/DetachedPool.js'
import { ClosedError, DroppedError, TimeoutError } from '../../src/errors.js'
import { abortListenerCount, captureWarnings, collector, deferred, expectNoUnhandledRejections, flushMicrotasks, untilAborted } from '../helpers.js'

expectNoUnhandledRejections()

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

/** A pool of one slot held by a task the test releases: everything run after it queues. */
function blockedPool(options: ConstructorParameters<typeof DetachedPool>[0] = {}) {
  const pool = new DetachedPool({ concurrency: 1, timeoutMs: Infinity, ...options })
  const gate = deferred()
  pool.run(() => gate.promise)
  return { pool, release: () => gate.resolve() }
}

/** Settles a promise into a tagged result, so a test can look at a rejection without leaving it unhandled. */
function outcome<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  )
}

describe('priorities', () => {
  it('start order is the stable sort of the queued tasks by priority, highest first (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            priority: fc.oneof(fc.constant(undefined), fc.integer({ min: -3, max: 3 }), fc.constantFrom(0.5, -0.5, -0)),
            form: fc.constantFrom('bare', 'run', 'call', 'call-cancelled'),
          }),
          { maxLength: 40 },
        ),
        async (tasks) => {
          const { pool, release } = blockedPool()
          const order: number[] = []
          const calls: Promise<unknown>[] = []
          const controllers: AbortController[] = []
          tasks.forEach(({ priority, form }, i) => {
            const task = (): void => {
              order.push(i)
            }
            if (form === 'bare') pool.run(task)
            else if (form === 'run') pool.run(task, { priority })
            else {
              const controller = new AbortController()
              if (form === 'call-cancelled') controllers.push(controller)
              calls.push(outcome(pool.call(task, { priority, signal: controller.signal })))
            }
          })
          // Calls cancelled while queued leave the queue and never run.
          for (const c of controllers) c.abort(new Error('cancelled'))
          const expected = tasks
            .map((t, i) => ({ i, p: t.form === 'bare' || t.priority === undefined ? 0 : t.priority, gone: t.form === 'call-cancelled' }))
            .filter((t) => !t.gone)
            .sort((a, b) => b.p - a.p) // Array.prototype.sort is stable
            .map((t) => t.i)
          expect(pool.stats().queued).toBe(expected.length)
          release()
          await pool.drain()
          await Promise.all(calls)
          expect(order).toEqual(expected)
          expect(pool.stats()).toMatchObject({ cancelled: controllers.length, queued: 0, running: 0 })
        },
      ),
      { numRuns: 150 },
    )
  })

  it('FIFO within one priority; a later high priority overtakes earlier low ones, never a running task', async () => {
    const { pool, release } = blockedPool()
    const order: string[] = []
    const task = (name: string) => () => {
      order.push(name)
    }
    pool.run(task('low-1'), { priority: -1 })
    pool.run(task('zero-1'))
    pool.run(task('high-1'), { priority: 5 })
    pool.run(task('low-2'), { priority: -1 })
    pool.run(task('zero-2'), { priority: 0 })
    pool.run(task('high-2'), { priority: 5 })
    await flushMicrotasks()
    expect(order).toEqual([]) // the blocker keeps its slot
    release()
    await pool.drain()
    expect(order).toEqual(['high-1', 'high-2', 'zero-1', 'zero-2', 'low-1', 'low-2'])
  })

  it('refuses a priority that is not a finite number (run throws, call rejects), accepting nothing', async () => {
    const pool = new DetachedPool()
    const task = vi.fn()
    expect(() => pool.run(task, { priority: Number.NaN })).toThrow(RangeError)
    expect(() => pool.run(task, { priority: -Infinity })).toThrow(/priority must be a finite number, received -Infinity/)
    expect(() => pool.run(task, { priority: '2' as never })).toThrow(TypeError)
    await expect(pool.call(task, { priority: Infinity })).rejects.toThrow(RangeError)
    await flushMicrotasks()
    expect(task).not.toHaveBeenCalled()
    expect(pool.stats().started).toBe(0)
  })

  it('a full queue drops the newest task whatever its priority', async () => {
    const { onError, seen } = collector()
    const { pool, release } = blockedPool({ maxQueue: 1, onError })
    expect(pool.run(() => {}, { priority: -5 })).toBe(true)
    expect(pool.run(() => {}, { priority: 100 })).toBe(false)
    expect(seen.map((s) => s.context.event)).toEqual(['dropped'])
    release()
    await pool.drain()
    expect(pool.stats()).toMatchObject({ dropped: 1, succeeded: 2 })
  })
})

describe('rate limit (intervalMs + intervalCap)', () => {
  it('needs both options, each valid', () => {
    expect(() => new DetachedPool({ intervalMs: 1_000 })).toThrow(/intervalMs needs options.intervalCap/)
    expect(() => new DetachedPool({ intervalCap: 2 })).toThrow(/intervalCap needs options.intervalMs/)
    expect(() => new DetachedPool({ intervalMs: Infinity, intervalCap: 1 })).toThrow(RangeError)
    expect(() => new DetachedPool({ intervalMs: 10, intervalCap: 0 })).toThrow(RangeError)
    expect(() => new DetachedPool({ interval: 10 } as never)).toThrow(/"interval" \(did you mean "intervalMs"\?\)/)
    expect(() => new DetachedPool({ autoStart: false } as never)).toThrow(/autoStart: false is paused: true/)
  })

  it('a backlog starts intervalCap tasks per window: the k-th at floor(k / cap) windows (property, fake timers)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 500 }), fc.integer({ min: 0, max: 15 }), async (cap, intervalMs, n) => {
        vi.useFakeTimers()
        try {
          const pool = new DetachedPool({ concurrency: 16, timeoutMs: Infinity, intervalMs, intervalCap: cap })
          const t0 = performance.now()
          const starts: number[] = []
          for (let i = 0; i < n; i++) pool.run(() => void starts.push(performance.now() - t0))
          await flushMicrotasks()
          for (let w = 0; w * cap < n; w++) await vi.advanceTimersByTimeAsync(intervalMs)
          expect(starts).toEqual(Array.from({ length: n }, (_, k) => Math.floor(k / cap) * intervalMs))
          // One wait per window that ran out with work still queued.
          expect(pool.stats().rateLimited).toBe(Math.max(0, Math.ceil(n / cap) - 1))
          expect(vi.getTimerCount()).toBe(0)
        } finally {
          vi.useRealTimers()
        }
      }),
      { numRuns: 60 },
    )
  })

  it('windows are fixed and unused starts never carry over; a long task does not count against the next window', async () => {
    vi.useFakeTimers()
    const pool = new DetachedPool({ concurrency: 10, timeoutMs: Infinity, intervalMs: 1_000, intervalCap: 2 })
    const long = deferred()
    let started = 0
    pool.run(() => {
      started++
      return long.promise
    })
    await flushMicrotasks()
    expect(vi.getTimerCount()).toBe(0) // nothing waits: no timer
    await vi.advanceTimersByTimeAsync(5_000) // four idle windows: no starts saved up
    for (let i = 0; i < 5; i++) pool.run(() => {
      started++
    })
    await flushMicrotasks()
    expect(started).toBe(3) // the long task (still running) + the 2 of the window the first of these opened
    expect(pool.stats()).toMatchObject({ queued: 3, running: 1, rateLimited: 1 })
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(999)
    expect(started).toBe(3)
    await vi.advanceTimersByTimeAsync(1)
    expect(started).toBe(5)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(started).toBe(6)
    expect(vi.getTimerCount()).toBe(0)
    long.resolve()
    await pool.drain()
    expect(pool.stats()).toMatchObject({ started: 6, succeeded: 6, rateLimited: 2 })
  })

  it('the rate timer is cleared when the queue empties another way (cancelled calls) and while paused', async () => {
    vi.useFakeTimers()
    const pool = new DetachedPool({ concurrency: 4, timeoutMs: Infinity, intervalMs: 1_000, intervalCap: 1 })
    pool.run(() => {})
    const controller = new AbortController()
    const waiting = outcome(pool.call(() => 1, { signal: controller.signal }))
    expect(vi.getTimerCount()).toBe(1)
    controller.abort(new Error('no longer needed'))
    expect(vi.getTimerCount()).toBe(0)
    expect(await waiting).toMatchObject({ ok: false, error: { message: 'no longer needed' } })
    pool.run(() => {})
    expect(vi.getTimerCount()).toBe(1)
    pool.pause()
    expect(vi.getTimerCount()).toBe(0)
    pool.resume()
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(1_000)
    await pool.drain()
    expect(vi.getTimerCount()).toBe(0)
    expect(pool.stats()).toMatchObject({ started: 2, cancelled: 1 })
  })
})

describe('pause and resume', () => {
  it('a paused pool starts nothing new; running tasks go on; resume starts the queue on a microtask, in priority order', async () => {
    const pool = new DetachedPool({ concurrency: 2, timeoutMs: Infinity })
    const order: string[] = []
    const first = deferred()
    pool.run(() => {
      order.push('running')
      return first.promise
    })
    await flushMicrotasks()
    pool.pause()
    pool.pause() // idempotent
    expect(pool.isPaused).toBe(true)
    pool.run(() => void order.push('a'))
    pool.run(() => void order.push('b'), { priority: 1 })
    first.resolve()
    await flushMicrotasks()
    expect(order).toEqual(['running']) // a slot is free, yet nothing starts
    expect(pool.stats()).toMatchObject({ paused: true, queued: 2, running: 0, succeeded: 1 })
    pool.resume()
    expect(order).toEqual(['running']) // never inside resume()
    expect(pool.stats()).toMatchObject({ paused: false, queued: 0, running: 2 })
    await flushMicrotasks()
    expect(order).toEqual(['running', 'b', 'a'])
    pool.resume() // idempotent
    expect(pool.isPaused).toBe(false)
  })

  it('paused: true creates it paused (p-queue autoStart: false)', async () => {
    const pool = new DetachedPool({ paused: true })
    const task = vi.fn()
    pool.run(task)
    await flushMicrotasks()
    expect(task).not.toHaveBeenCalled()
    pool.resume()
    await pool.drain()
    expect(task).toHaveBeenCalledTimes(1)
  })

  it('drain of a paused pool waits for resume; its deadline rejects (tasks stay queued) or, with abortRemaining, drops them', async () => {
    vi.useFakeTimers()
    const { onError, seen } = collector()
    const pool = new DetachedPool({ paused: true, onError })
    const task = vi.fn()
    pool.run(task)
    pool.close() // queued tasks of a closed pool still run once resumed
    const late = outcome(pool.drain({ timeoutMs: 100 }))
    await vi.advanceTimersByTimeAsync(100)
    expect(await late).toMatchObject({ ok: false, error: { name: 'TimeoutError' } })
    expect(pool.stats()).toMatchObject({ queued: 1, paused: true })
    const idle = pool.onIdle()
    let idled = false
    void idle.then(() => (idled = true))
    await vi.advanceTimersByTimeAsync(60_000)
    expect(idled).toBe(false)
    pool.resume()
    await idle
    expect(task).toHaveBeenCalledTimes(1)

    const other = new DetachedPool({ paused: true, onError })
    other.run(task)
    const dropped = outcome(other.drain({ timeoutMs: 50, abortRemaining: true }))
    await vi.advanceTimersByTimeAsync(50)
    expect(await dropped).toMatchObject({ ok: false, error: { name: 'TimeoutError' } })
    expect(other.stats()).toMatchObject({ queued: 0, dropped: 1 })
    expect(seen.map((s) => s.context.event)).toEqual(['dropped'])
    expect(task).toHaveBeenCalledTimes(1)
  })

  it('await using (async dispose) resumes a paused pool so every accepted task runs', async () => {
    const task = vi.fn()
    {
      await using pool = new DetachedPool({ paused: true })
      pool.run(task)
      pool.run(task)
    }
    expect(task).toHaveBeenCalledTimes(2)
  })

  it('a task that pauses the pool stops the starts that would follow it in the same pump', async () => {
    const { pool, release } = blockedPool({ concurrency: 1 })
    const order: number[] = []
    pool.run(() => {
      order.push(1)
      pool.pause()
    })
    pool.run(() => void order.push(2))
    release()
    await flushMicrotasks()
    expect(order).toEqual([1])
    expect(pool.stats().queued).toBe(1)
    pool.resume()
    await pool.drain()
    expect(order).toEqual([1, 2])
  })
})

describe('onIdle and onSizeLessThan', () => {
  it('onIdle resolves once nothing runs or waits; at once when idle', async () => {
    const { pool, release } = blockedPool()
    pool.run(() => {})
    await pool.onIdle({ timeoutMs: 0 }).then(
      () => expect.fail('not idle yet'),
      (error: unknown) => expect(error).toBeInstanceOf(TimeoutError),
    )
    let idle = false
    const waiting = pool.onIdle().then(() => (idle = true))
    await flushMicrotasks()
    expect(idle).toBe(false)
    release()
    await waiting
    expect(pool.stats()).toMatchObject({ running: 0, queued: 0 })
    await expect(pool.onIdle({ timeoutMs: 0 })).resolves.toBeUndefined()
  })

  it('onSizeLessThan(n) resolves once fewer than n tasks are queued (running ones do not count)', async () => {
    const gates = [deferred(), deferred(), deferred(), deferred()]
    const pool = new DetachedPool({ concurrency: 1, timeoutMs: Infinity })
    for (const gate of gates) pool.run(() => gate.promise)
    expect(pool.stats().queued).toBe(3)
    await expect(pool.onSizeLessThan(4)).resolves.toBeUndefined()
    const below = [3, 2, 1].map((n) => {
      const state = { n, done: false }
      void pool.onSizeLessThan(n).then(() => (state.done = true))
      return state
    })
    await flushMicrotasks()
    expect(below.map((b) => b.done)).toEqual([false, false, false])
    gates[0]!.resolve()
    await flushMicrotasks()
    expect(pool.stats()).toMatchObject({ queued: 2, running: 1 })
    expect(below.map((b) => b.done)).toEqual([true, false, false])
    gates[1]!.resolve()
    gates[2]!.resolve()
    await flushMicrotasks()
    expect(below.map((b) => b.done)).toEqual([true, true, true])
    expect(pool.stats()).toMatchObject({ queued: 0, running: 1 })
    gates[3]!.resolve()
    await pool.drain()
  })

  it('an aborted wait rejects with signal.reason and removes its listener at once; a settled wait leaves none', async () => {
    const { pool, release } = blockedPool()
    pool.run(() => {})
    for (const wait of [(signal: AbortSignal) => pool.onIdle({ signal }), (signal: AbortSignal) => pool.onSizeLessThan(1, { signal })]) {
      const controller = new AbortController()
      const reason = new Error('caller left')
      const waiting = outcome(wait(controller.signal))
      expect(abortListenerCount(controller.signal)).toBe(1)
      controller.abort(reason)
      expect(abortListenerCount(controller.signal)).toBe(0)
      expect(await waiting).toEqual({ ok: false, error: reason })
      // Already aborted: rejects with the reason even when the condition holds (nothing is waited).
      await expect(pool.onSizeLessThan(100, { signal: controller.signal })).rejects.toBe(reason)
    }
    const kept = new AbortController()
    const idle = pool.onIdle({ signal: kept.signal })
    const small = pool.onSizeLessThan(1, { signal: kept.signal, timeoutMs: 60_000 })
    expect(abortListenerCount(kept.signal)).toBe(2)
    release()
    await Promise.all([idle, small])
    expect(abortListenerCount(kept.signal)).toBe(0)
    // Left waiters are gone from the pool: aborting now changes nothing.
    kept.abort()
  })

  it('a wait timeout rejects with a TimeoutError and leaves no timer behind', async () => {
    vi.useFakeTimers()
    const { pool, release } = blockedPool()
    pool.run(() => {})
    const late = outcome(pool.onSizeLessThan(1, { timeoutMs: 20 }))
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(20)
    expect(await late).toMatchObject({ ok: false, error: { name: 'TimeoutError', message: expect.stringMatching(/queue did not get below 1 within 20 ms/) as unknown } })
    expect(vi.getTimerCount()).toBe(0)
    const ok = pool.onIdle({ timeoutMs: 1_000 })
    release()
    await ok
    expect(vi.getTimerCount()).toBe(0)
  })

  it('the last queued call cancelled makes an idle pool idle: its waiters wake', async () => {
    const pool = new DetachedPool({ paused: true })
    const controller = new AbortController()
    const call = outcome(pool.call(() => 1, { signal: controller.signal }))
    const idle = pool.onIdle()
    const empty = pool.onSizeLessThan(1)
    controller.abort(new Error('gone'))
    await Promise.all([idle, empty])
    expect(await call).toMatchObject({ ok: false })
    expect(pool.stats()).toMatchObject({ queued: 0, cancelled: 1, started: 0 })
  })
})

describe('call(): the awaited form', () => {
  it('resolves with the value of a synchronous or asynchronous task, in the same bound', async () => {
    const pool = new DetachedPool({ concurrency: 2 })
    let active = 0
    let peak = 0
    const values = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        pool.call(async () => {
          active++
          peak = Math.max(peak, active)
          await flushMicrotasks(3)
          active--
          return i * 2
        }),
      ),
    )
    expect(values).toEqual(Array.from({ length: 10 }, (_, i) => i * 2))
    expect(peak).toBe(2)
    await expect(pool.call(() => 'sync')).resolves.toBe('sync')
    await expect(pool.call(() => ({ then: (resolve: (v: number) => void) => resolve(7) }) as unknown as PromiseLike<number>)).resolves.toBe(7)
    expect(pool.stats()).toMatchObject({ started: 12, succeeded: 12 })
  })

  it("rejects with the task's failure, which is counted but never reported (no onError, no warning)", async () => {
    const { warnings } = captureWarnings()
    const onError = vi.fn()
    const failure = new Error('boom')
    for (const pool of [new DetachedPool({ onError }), new DetachedPool()]) {
      await expect(pool.call(() => Promise.reject(failure))).rejects.toBe(failure)
      await expect(
        pool.call(() => {
          throw failure
        }),
      ).rejects.toBe(failure)
      expect(pool.stats()).toMatchObject({ failed: 2 })
    }
    await new Promise((r) => setImmediate(r))
    expect(onError).not.toHaveBeenCalled()
    expect(warnings).toEqual([])
  })

  it('rejects with a TimeoutError when its timeout passes; the task signal aborts and the slot goes on', async () => {
    vi.useFakeTimers()
    const pool = new DetachedPool({ concurrency: 1, timeoutMs: 100 })
    let signal: AbortSignal | undefined
    const slow = outcome(
      pool.call((s) => {
        signal = s
        return untilAborted(s)
      }, { name: 'slow' }),
    )
    const next = pool.call(() => 'next', { timeoutMs: 1_000 })
    await vi.advanceTimersByTimeAsync(100)
    const result = await slow
    expect(result).toMatchObject({ ok: false, error: { name: 'TimeoutError', message: 'Pool task "slow" timed out after 100 ms' } })
    expect(signal?.aborted).toBe(true)
    await expect(next).resolves.toBe('next')
    expect(pool.stats()).toMatchObject({ timedOut: 1, succeeded: 1, failed: 0 })
  })

  it('its timeoutMs bounds the run from its start, not the time queued', async () => {
    vi.useFakeTimers()
    const pool = new DetachedPool({ concurrency: 1, timeoutMs: 100 })
    const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
    const first = pool.call(() => wait(90).then(() => 'first'))
    const second = pool.call(() => wait(90).then(() => 'second')) // queued 90 ms, runs 90 ms
    await vi.advanceTimersByTimeAsync(180)
    await expect(Promise.all([first, second])).resolves.toEqual(['first', 'second'])
    expect(pool.stats()).toMatchObject({ timedOut: 0, succeeded: 2 })
  })

  it('rejects with DroppedError when the queue is full and ClosedError once closed, unreported', async () => {
    const onError = vi.fn()
    const { pool, release } = blockedPool({ maxQueue: 1, onError })
    const queued = pool.call(() => 'queued')
    await expect(pool.call(() => 'extra')).rejects.toBeInstanceOf(DroppedError)
    pool.close()
    await expect(pool.call(() => 'late')).rejects.toBeInstanceOf(ClosedError)
    release()
    await expect(queued).resolves.toBe('queued')
    expect(pool.stats()).toMatchObject({ dropped: 1, refused: 1 })
    expect(onError).not.toHaveBeenCalled()
  })

  it('a drain deadline with abortRemaining rejects queued calls with DroppedError and running ones with its reason', async () => {
    const onError = vi.fn()
    const pool = new DetachedPool({ concurrency: 1, onError })
    const running = outcome(pool.call((s) => untilAborted(s)))
    const queued = outcome(pool.call(() => 'never'))
    await flushMicrotasks()
    const reason = new Error('shutdown')
    const controller = new AbortController()
    const drained = outcome(pool.drain({ signal: controller.signal, abortRemaining: true }))
    controller.abort(reason)
    expect(await drained).toEqual({ ok: false, error: reason })
    expect(await running).toEqual({ ok: false, error: reason })
    const dropped = await queued
    expect(dropped).toMatchObject({ ok: false })
    expect(!dropped.ok && dropped.error).toBeInstanceOf(DroppedError)
    expect(!dropped.ok && (dropped.error as Error).cause).toBe(reason)
    expect(onError).not.toHaveBeenCalled()
  })

  it('an abort before it starts removes it from the queue: it never runs, and its listener is gone', async () => {
    const { pool, release } = blockedPool()
    const controller = new AbortController()
    const task = vi.fn(() => 'x')
    const cancelled = outcome(pool.call(task, { signal: controller.signal }))
    const after = pool.call(() => 'after')
    expect(pool.stats().queued).toBe(2)
    expect(abortListenerCount(controller.signal)).toBe(1)
    const reason = new Error('caller left')
    controller.abort(reason)
    expect(abortListenerCount(controller.signal)).toBe(0)
    expect(pool.stats()).toMatchObject({ queued: 1, cancelled: 1 })
    expect(await cancelled).toEqual({ ok: false, error: reason })
    release()
    await expect(after).resolves.toBe('after')
    await pool.drain()
    expect(task).not.toHaveBeenCalled()
    expect(pool.stats()).toMatchObject({ started: 2, succeeded: 2, cancelled: 1, aborted: 0 })
  })

  it("an abort after it started aborts the task's signal with the reason, rejects at once and frees the slot", async () => {
    const pool = new DetachedPool({ concurrency: 1, timeoutMs: Infinity })
    const controller = new AbortController()
    let taskSignal: AbortSignal | undefined
    const ignoring = deferred<string>()
    const running = outcome(
      pool.call((s) => {
        taskSignal = s
        return ignoring.promise // ignores its signal
      }, { signal: controller.signal }),
    )
    const next = pool.call(() => 'next')
    await flushMicrotasks()
    expect(taskSignal?.aborted).toBe(false)
    const reason = new Error('stop')
    controller.abort(reason)
    expect(taskSignal?.aborted).toBe(true)
    expect(taskSignal?.reason).toBe(reason)
    expect(abortListenerCount(controller.signal)).toBe(0)
    expect(await running).toEqual({ ok: false, error: reason })
    await expect(next).resolves.toBe('next')
    expect(pool.stats()).toMatchObject({ aborted: 1, overdue: 1, succeeded: 1 })
    ignoring.resolve('late')
    await flushMicrotasks()
    expect(pool.stats()).toMatchObject({ overdue: 0, succeeded: 1 })
  })

  it('an abort between its grant and its start (same tick) rejects it and it never runs; the slot goes on', async () => {
    const pool = new DetachedPool({ concurrency: 1 })
    const controller = new AbortController()
    const task = vi.fn(() => 'x')
    const granted = outcome(pool.call(task, { signal: controller.signal }))
    const next = pool.call(() => 'next')
    expect(pool.stats()).toMatchObject({ running: 1, queued: 1 })
    controller.abort(new Error('changed my mind'))
    expect(await granted).toMatchObject({ ok: false, error: { message: 'changed my mind' } })
    await expect(next).resolves.toBe('next')
    expect(task).not.toHaveBeenCalled()
    expect(pool.stats()).toMatchObject({ aborted: 1, overdue: 0, succeeded: 1, running: 0 })
  })

  it('an already aborted signal rejects before anything is queued; a settled call leaves no listener', async () => {
    const pool = new DetachedPool()
    const reason = new Error('already')
    const task = vi.fn()
    await expect(pool.call(task, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason)
    expect(pool.stats()).toMatchObject({ started: 0, queued: 0, cancelled: 0 })
    const controller = new AbortController()
    await expect(pool.call(() => 1, { signal: controller.signal })).resolves.toBe(1)
    await expect(pool.call(() => Promise.reject(new Error('no')), { signal: controller.signal })).rejects.toThrow('no')
    expect(abortListenerCount(controller.signal)).toBe(0)
    expect(task).not.toHaveBeenCalled()
  })

  it('refuses bad input by rejecting, never throwing; onError is not a call option', async () => {
    const pool = new DetachedPool()
    let thrown = false
    let rejected: unknown
    try {
      rejected = await pool.call(5 as never).catch((e: unknown) => e)
    } catch {
      thrown = true
    }
    expect(thrown).toBe(false)
    expect(rejected).toBeInstanceOf(TypeError)
    await expect(pool.call(() => 1, { onError: vi.fn() } as never)).rejects.toThrow(/"onError" \(call\(\) rejects its promise/)
    await expect(pool.call(() => 1, { timeoutMs: -1 })).rejects.toThrow(RangeError)
    expect(() => pool.run(() => 1, { signal: new AbortController().signal } as never)).toThrow(/use call\(task, \{ signal \}\)/)
  })
})
