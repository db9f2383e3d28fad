import { describe, it, expect, vi, afterEach } from 'vitest'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { spawnGuarded, TaskGuard, DEFAULT_SETTLE_TIMEOUT_MS } from '../../src/guards/index.js'
import { DisposedError, TimeoutError } from '../../src/errors.js'
import { abortListenerCount, afterReports, captureWarnings, collector, deferred, expectNoUnhandledRejections, flushMicrotasks, untilAborted } from '../helpers.js'

expectNoUnhandledRejections()

afterEach(() => {
  vi.restoreAllMocks()
})

describe('spawnGuarded: scope exit', () => {
  it('using aborts the task when the block ends (shared DisposedError reason)', async () => {
    let signal!: AbortSignal
    {
      using task = spawnGuarded((s) => {
        signal = s
        return untilAborted(s)
      })
      expect(task.state).toBe('running')
      expect(signal.aborted).toBe(false)
    }
    expect(signal.aborted).toBe(true)
    expect(signal.reason).toBeInstanceOf(DisposedError)
    expect((signal.reason as Error).name).toBe('DisposedError')
  })

  it('aborts on early return and on throw', async () => {
    const signals: AbortSignal[] = []
    const early = (flag: boolean): string => {
      using _task = spawnGuarded((s) => {
        signals.push(s)
        return untilAborted(s)
      })
      if (flag) return 'early'
      return 'late'
    }
    expect(early(true)).toBe('early')
    expect(signals[0]!.aborted).toBe(true)
    expect(() => {
      using _task = spawnGuarded((s) => {
        signals.push(s)
        return untilAborted(s)
      })
      throw new Error('boom')
    }).toThrow('boom')
    expect(signals[1]!.aborted).toBe(true)
  })

  it('await using aborts and waits until the task settled, also when the enclosing flow is cancelled', async () => {
    const outer = new AbortController()
    const log: string[] = []
    const flow = (async () => {
      await using _task = spawnGuarded(async (s) => {
        try {
          await untilAborted(s)
        } finally {
          await Promise.resolve()
          log.push('task cleaned up')
        }
      })
      await untilAborted(outer.signal) // the enclosing flow is cancelled here
    })()
    await flushMicrotasks()
    outer.abort(new Error('cancelled'))
    await expect(flow).rejects.toThrow('cancelled')
    // the task settled before the flow's rejection was delivered
    expect(log).toEqual(['task cleaned up'])
  })

  it('ported: the drop notifier of a guarded background task fires on dispose and the task is no longer active', async () => {
    const dropped = vi.fn()
    let active = false
    let guard!: TaskGuard<void>
    {
      await using task = spawnGuarded(async (signal) => {
        active = true
        signal.addEventListener('abort', dropped)
        try {
          await untilAborted(signal)
        } finally {
          active = false
        }
      })
      guard = task
      await flushMicrotasks()
      expect(active).toBe(true)
      expect(dropped).not.toHaveBeenCalled()
    }
    expect(dropped).toHaveBeenCalledTimes(1)
    expect(active).toBe(false)
    expect(guard.state).toBe('aborted')
  })

  it('dispose twice (sync and async, in any order) is harmless', async () => {
    const task = spawnGuarded(untilAborted)
    task[Symbol.dispose]()
    task[Symbol.dispose]()
    await task[Symbol.asyncDispose]()
    await task[Symbol.asyncDispose]()
    task[Symbol.dispose]()
    expect(task.state).toBe('aborted')
  })
})

describe('spawnGuarded: outcome and reporting', () => {
  it('done resolves with the value; state fulfilled', async () => {
    const task = spawnGuarded(async () => 42)
    expect(task.state).toBe('running')
    await expect(task.done).resolves.toBe(42)
    expect(task.state).toBe('fulfilled')
    // after settle, done is still the value
    await expect(task.done).resolves.toBe(42)
  })

  it('a synchronous value settles at once', async () => {
    const task = spawnGuarded(() => 'sync')
    expect(task.state).toBe('fulfilled')
    await expect(task.done).resolves.toBe('sync')
  })

  it('a failure observed on done is delivered there and not reported', async () => {
    const { onError, seen } = collector()
    const boom = new Error('boom')
    const task = spawnGuarded(async () => {
      throw boom
    }, { onError })
    await expect(task.done).rejects.toBe(boom)
    expect(task.state).toBe('rejected')
    expect(seen).toEqual([])
  })

  it('a failure nobody observed goes to onError with area guard, event task-error, name', async () => {
    const { onError, seen } = collector()
    const boom = new Error('boom')
    const task = spawnGuarded(async () => {
      await Promise.resolve()
      throw boom
    }, { onError, name: 'indexer' })
    // within a busy microtask flow too: decided after a bounded number of turns
    await flushMicrotasks(20)
    expect(task.state).toBe('rejected')
    expect(seen).toHaveLength(1)
    expect(seen[0]!.error).toBe(boom)
    expect(seen[0]!.context).toMatchObject({ area: 'guard', event: 'task-error', name: 'indexer' })
    // Observing later still delivers the failure.
    await expect(task.done).rejects.toBe(boom)
  })

  it('a task that throws synchronously is a failure like a rejection', async () => {
    const { onError, seen } = collector()
    const boom = new Error('sync boom')
    const task = spawnGuarded(() => {
      throw boom
    }, { onError })
    expect(task.state).toBe('running')
    await afterReports()
    expect(task.state).toBe('rejected')
    expect(seen.map((s) => s.error)).toEqual([boom])
  })

  it('subscribing a few microtasks after the failure, in the same tick, still counts as observing', async () => {
    const { onError, seen } = collector()
    const boom = new Error('late but same tick')
    const task = spawnGuarded(async () => {
      throw boom
    }, { onError })
    await flushMicrotasks(5)
    expect(task.state).toBe('rejected')
    const outcome = task.done.catch((e: unknown) => e)
    await afterReports()
    expect(await outcome).toBe(boom)
    expect(seen).toEqual([])
  })

  it('accessing done without subscribing is not observing', async () => {
    const { onError, seen } = collector()
    const task = spawnGuarded(async () => {
      throw new Error('x')
    }, { onError })
    expect(task.done).toBeInstanceOf(Promise)
    await afterReports()
    expect(seen).toHaveLength(1)
  })

  it('Promise.all / catch / finally count as observing', async () => {
    const { onError, seen } = collector()
    const mk = (): TaskGuard<never> =>
      spawnGuarded(async () => {
        throw new Error('x')
      }, { onError })
    const a = mk()
    const b = mk()
    const c = mk()
    const all = Promise.all([a.done]).catch(() => 'caught')
    const caught = b.done.catch(() => 'caught')
    const fin = c.done.finally(() => {}).catch(() => 'caught')
    expect(await Promise.all([all, caught, fin])).toEqual(['caught', 'caught', 'caught'])
    expect(seen).toEqual([])
  })

  it('with no onError, an unobserved failure becomes a process warning and a diagnostics message', async () => {
    const { warnings, restore } = captureWarnings()
    const messages: unknown[] = []
    const onMessage = (m: unknown): void => {
      messages.push(m)
    }
    subscribe('asyncsafe:guard:task-error', onMessage)
    try {
      spawnGuarded(async () => {
        throw new Error('invisible?')
      }, { name: 'w' })
      await new Promise((r) => setImmediate(r))
      await new Promise((r) => setImmediate(r))
    } finally {
      restore()
      unsubscribe('asyncsafe:guard:task-error', onMessage)
    }
    expect(warnings).toEqual([{ message: 'asyncsafe guard "w" task-error: Error: invisible?', code: 'ASYNCSAFE_GUARD_TASK_ERROR' }])
    expect(messages).toHaveLength(1)
    expect(messages[0]).toMatchObject({ area: 'guard', event: 'task-error', name: 'w' })
  })

  it('an abort caused by dispose, abort() or the parent is never reported; done rejects with the reason', async () => {
    const { onError, seen } = collector()
    const parent = new AbortController()
    const a = spawnGuarded(untilAborted, { onError })
    const b = spawnGuarded(untilAborted, { onError })
    const c = spawnGuarded(untilAborted, { onError, signal: parent.signal })
    // A task that fails with its own error after the abort: still cancellation.
    const d = spawnGuarded(async (s) => {
      await untilAborted(s).catch(() => undefined)
      throw new Error('cleanup failed after abort')
    }, { onError })
    a[Symbol.dispose]()
    const mine = new Error('mine')
    b.abort(mine)
    parent.abort('parent reason')
    d.abort()
    await flushMicrotasks()
    expect([a.state, b.state, c.state, d.state]).toEqual(['aborted', 'aborted', 'aborted', 'aborted'])
    expect(seen).toEqual([])
    await expect(a.done).rejects.toBeInstanceOf(DisposedError)
    await expect(b.done).rejects.toBe(mine)
    await expect(c.done).rejects.toBe('parent reason')
    await expect(d.done).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('a task that ignores its signal and returns a value after an abort is aborted', async () => {
    const gate = deferred<string>()
    const task = spawnGuarded(() => gate.promise)
    task.abort('stop')
    gate.resolve('late value')
    await expect(task.done).rejects.toBe('stop')
    expect(task.state).toBe('aborted')
  })

  it('abort is idempotent: the first reason wins', async () => {
    const task = spawnGuarded(untilAborted)
    task.abort('first')
    task.abort('second')
    task[Symbol.dispose]()
    await expect(task.done).rejects.toBe('first')
  })
})

describe('spawnGuarded: parent signal', () => {
  it('the parent aborts the task; the listener leaves the parent once the task settles', async () => {
    const parent = new AbortController()
    const before = abortListenerCount(parent.signal)
    const done = deferred()
    const task = spawnGuarded(() => done.promise, { signal: parent.signal })
    expect(abortListenerCount(parent.signal)).toBe(before + 1)
    done.resolve()
    await task.done
    expect(abortListenerCount(parent.signal)).toBe(before)
  })

  it('dispose or abort leaves the parent at once, before the task settles', () => {
    const parent = new AbortController()
    {
      using _task = spawnGuarded(() => new Promise<never>(() => {}), { signal: parent.signal })
      expect(abortListenerCount(parent.signal)).toBe(1)
    }
    expect(abortListenerCount(parent.signal)).toBe(0)
    const t = spawnGuarded(() => new Promise<never>(() => {}), { signal: parent.signal })
    t.abort('x')
    expect(abortListenerCount(parent.signal)).toBe(0)
  })

  it('no listener accumulates on a long-lived parent', async () => {
    const parent = new AbortController()
    for (let i = 0; i < 200; i++) {
      await using _task = spawnGuarded(untilAborted, { signal: parent.signal })
    }
    expect(abortListenerCount(parent.signal)).toBe(0)
  })

  it('an already-aborted parent: the task is never called', async () => {
    const parent = new AbortController()
    parent.abort('gone')
    const fn = vi.fn(untilAborted)
    const task = spawnGuarded(fn, { signal: parent.signal })
    expect(fn).not.toHaveBeenCalled()
    expect(task.state).toBe('aborted')
    expect(task.signal.aborted).toBe(true)
    await expect(task.done).rejects.toBe('gone')
    expect(abortListenerCount(parent.signal)).toBe(0)
  })

  it('detach: dispose no longer aborts, the parent still does', async () => {
    const parent = new AbortController()
    let task!: TaskGuard<never>
    {
      using t = spawnGuarded(untilAborted, { signal: parent.signal })
      t.detach()
      task = t
    }
    expect(task.detached).toBe(true)
    expect(task.signal.aborted).toBe(false)
    await task[Symbol.asyncDispose]()
    expect(task.state).toBe('running')
    parent.abort('now')
    await expect(task.done).rejects.toBe('now')
  })
})

describe('spawnGuarded: settle timeout', () => {
  it('a cooperative task settles without any timer being armed', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout')
    const task = spawnGuarded(untilAborted, { settleTimeoutMs: 1000 })
    await task[Symbol.asyncDispose]()
    expect(task.state).toBe('aborted')
    expect(spy).not.toHaveBeenCalled()
  })

  it('a task that ignores its signal is reported after settleTimeoutMs and the timer is gone', async () => {
    vi.useFakeTimers()
    const { onError, seen } = collector()
    const never = new Promise<never>(() => {})
    const task = spawnGuarded(() => never, { settleTimeoutMs: 300, onError, name: 'stuck' })
    let finished = false
    const disposing = task[Symbol.asyncDispose]().then(() => {
      finished = true
    })
    await vi.advanceTimersByTimeAsync(299)
    expect(finished).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await disposing
    expect(finished).toBe(true)
    expect(seen).toHaveLength(1)
    expect(seen[0]!.error).toBeInstanceOf(TimeoutError)
    expect(seen[0]!.context).toMatchObject({ area: 'guard', event: 'settle-timeout', name: 'stuck' })
    expect(task.state).toBe('running')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('with fake timers, a synchronous clock advance right after asyncDispose sees the timeout', async () => {
    vi.useFakeTimers()
    const { onError, seen } = collector()
    const task = spawnGuarded(() => new Promise<never>(() => {}), { settleTimeoutMs: 50, onError })
    const disposing = task[Symbol.asyncDispose]()
    vi.advanceTimersByTime(50)
    await disposing
    expect(seen.map((e) => e.context.event)).toEqual(['settle-timeout'])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a slow but cooperative task clears the settle timer when it settles', async () => {
    vi.useFakeTimers()
    const { onError, seen } = collector()
    const task = spawnGuarded(async (s) => {
      await untilAborted(s).catch(() => undefined)
      await new Promise((r) => setTimeout(r, 100))
    }, { settleTimeoutMs: 1000, onError })
    const disposing = task[Symbol.asyncDispose]()
    await vi.advanceTimersByTimeAsync(100)
    await disposing
    expect(task.state).toBe('aborted')
    expect(seen).toEqual([])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('among many disposals in one tick, only the stuck task gets a timer and a report', async () => {
    vi.useFakeTimers()
    const { onError, seen } = collector()
    const disposals: Promise<void>[] = []
    const guards = []
    for (let i = 0; i < 100; i++) {
      const stuck = i === 57
      const g = spawnGuarded(stuck ? () => new Promise<never>(() => {}) : untilAborted, { settleTimeoutMs: 100, onError, name: `t${i}` })
      guards.push(g)
      disposals.push(g[Symbol.asyncDispose]())
    }
    await flushMicrotasks()
    await new Promise((r) => process.nextTick(r))
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(100)
    await Promise.all(disposals)
    expect(seen.map((e) => e.context.name)).toEqual(['t57'])
    expect(guards.filter((g) => g.state === 'aborted')).toHaveLength(99)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('defaults to 5000 ms: a stuck task is reported after 5000 ms, not before (with and without options)', async () => {
    expect(DEFAULT_SETTLE_TIMEOUT_MS).toBe(5000)
    vi.useFakeTimers()
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const messages: unknown[] = []
    const onMessage = (m: unknown): void => {
      messages.push(m)
    }
    subscribe('asyncsafe:guard:settle-timeout', onMessage)
    try {
      const { onError, seen } = collector()
      const stuck = (): Promise<never> => new Promise<never>(() => {})
      // options without settleTimeoutMs, and no options at all (the shared default config)
      const withOptions = spawnGuarded(stuck, { onError, name: 'opts' })
      const bare = spawnGuarded(stuck)
      let finished = 0
      const disposals = [withOptions, bare].map((g) =>
        g[Symbol.asyncDispose]().then(() => {
          finished++
        }),
      )
      await vi.advanceTimersByTimeAsync(4999)
      expect(seen).toEqual([])
      expect(messages).toEqual([])
      expect(finished).toBe(0)
      await vi.advanceTimersByTimeAsync(1)
      await Promise.all(disposals)
      expect(finished).toBe(2)
      expect(seen).toHaveLength(1)
      expect(seen[0]!.error).toBeInstanceOf(TimeoutError)
      expect(seen[0]!.context).toMatchObject({ area: 'guard', event: 'settle-timeout', name: 'opts' })
      expect(messages).toHaveLength(2)
      expect(warn).toHaveBeenCalledTimes(1)
      expect(vi.getTimerCount()).toBe(0)
    } finally {
      unsubscribe('asyncsafe:guard:settle-timeout', onMessage)
    }
  })

  it('Infinity waits for ever', async () => {
    vi.useFakeTimers()
    const { onError, seen } = collector()
    const gate = deferred()
    const task = spawnGuarded(() => gate.promise, { settleTimeoutMs: Infinity, onError })
    let finished = false
    const disposing = task[Symbol.asyncDispose]().then(() => {
      finished = true
    })
    await vi.advanceTimersByTimeAsync(60_000)
    expect(finished).toBe(false)
    expect(vi.getTimerCount()).toBe(0)
    gate.resolve()
    await disposing
    expect(seen).toEqual([])
  })
})

describe('spawnGuarded: validation', () => {
  it('refuses bad input at once', () => {
    expect(() => spawnGuarded('x' as never)).toThrow(TypeError)
    expect(() => spawnGuarded(untilAborted, { settleTimeoutMs: -1 })).toThrow(RangeError)
    expect(() => spawnGuarded(untilAborted, { settleTimeoutMs: Number.NaN })).toThrow(RangeError)
    expect(() => spawnGuarded(untilAborted, { signal: {} as AbortSignal })).toThrow(TypeError)
    expect(() => spawnGuarded(untilAborted, { onError: 1 as never })).toThrow(TypeError)
    expect(() => spawnGuarded(untilAborted, { name: 1 as never })).toThrow(/name/)
  })
})
