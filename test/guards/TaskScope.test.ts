import { describe, it, expect, vi } from 'vitest'
import fc from 'fast-check'
import { TaskScope } from '../../src/guards/index.js'
import { ClosedError, DisposedError, TimeoutError } from '../../src/errors.js'
import { abortListenerCount, afterReports, collector, deferred, expectNoUnhandledRejections, flushMicrotasks, untilAborted } from '../helpers.js'

expectNoUnhandledRejections()

describe('TaskScope: scope exit', () => {
  it('using aborts every child on block exit, early return and throw; spawn then throws ClosedError', () => {
    const signals: AbortSignal[] = []
    let kept!: TaskScope
    const body = (mode: 'exit' | 'return' | 'throw'): string => {
      using scope = new TaskScope({ name: 's' })
      kept = scope
      scope.spawn((s) => {
        signals.push(s)
        return untilAborted(s)
      })
      scope.spawn((s) => {
        signals.push(s)
        return untilAborted(s)
      })
      if (mode === 'return') return 'early'
      if (mode === 'throw') throw new Error('boom')
      return 'end'
    }
    for (const mode of ['exit', 'return', 'throw'] as const) {
      signals.length = 0
      if (mode === 'throw') expect(() => body(mode)).toThrow('boom')
      else body(mode)
      expect(signals).toHaveLength(2)
      expect(signals.every((s) => s.aborted && s.reason instanceof DisposedError)).toBe(true)
      expect(() => kept.spawn(untilAborted)).toThrow(ClosedError)
      expect(kept.disposed).toBe(true)
    }
  })

  it('await using waits for every child to settle, also when the enclosing flow is cancelled', async () => {
    const outer = new AbortController()
    const cleaned: number[] = []
    const flow = (async () => {
      await using scope = new TaskScope()
      for (let i = 0; i < 3; i++) {
        scope.spawn(async (s) => {
          try {
            await untilAborted(s)
          } finally {
            await Promise.resolve()
            cleaned.push(i)
          }
        })
      }
      await untilAborted(outer.signal)
    })()
    await flushMicrotasks()
    outer.abort(new Error('cancelled'))
    await expect(flow).rejects.toThrow('cancelled')
    expect(cleaned.sort()).toEqual([0, 1, 2])
  })

  it('dispose twice is harmless', async () => {
    const scope = new TaskScope()
    const child = scope.spawn(untilAborted)
    scope[Symbol.dispose]()
    scope[Symbol.dispose]()
    await scope[Symbol.asyncDispose]()
    await scope[Symbol.asyncDispose]()
    expect(child.state).toBe('aborted')
    expect(scope.size).toBe(0)
  })
})

describe('TaskScope: join and failures', () => {
  it('join waits for every child spawned before it and resolves when none failed', async () => {
    const scope = new TaskScope()
    const a = deferred<number>()
    const b = deferred<number>()
    scope.spawn(() => a.promise)
    scope.spawn(() => b.promise)
    expect(scope.size).toBe(2)
    let joined = false
    const join = scope.join().then(() => {
      joined = true
    })
    a.resolve(1)
    await flushMicrotasks()
    expect(joined).toBe(false)
    b.resolve(2)
    await join
    expect(joined).toBe(true)
    expect(scope.size).toBe(0)
  })

  it('join does not wait for children spawned after it', async () => {
    const scope = new TaskScope()
    const a = deferred()
    scope.spawn(() => a.promise)
    const join = scope.join()
    scope.spawn(untilAborted)
    a.resolve()
    await join
    expect(scope.size).toBe(1)
    scope[Symbol.dispose]()
  })

  it('join rejects with an AggregateError of the failures; aborted children are not failures; nothing is reported', async () => {
    const { onError, seen } = collector()
    const scope = new TaskScope({ onError, name: 'agg' })
    const e1 = new Error('one')
    const e2 = new Error('two')
    scope.spawn(async () => {
      throw e1
    })
    const aborted = scope.spawn(untilAborted)
    scope.spawn(async () => {
      await Promise.resolve()
      throw e2
    })
    aborted.abort('stop')
    const error = await scope.join().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(AggregateError)
    expect((error as AggregateError).errors).toEqual([e1, e2])
    await afterReports()
    expect(seen).toEqual([])
  })

  it('a failure nobody joins or observes is reported; a later join still delivers it once', async () => {
    const { onError, seen } = collector()
    const scope = new TaskScope({ onError, name: 'bg' })
    const boom = new Error('boom')
    scope.spawn(async () => {
      throw boom
    }, { name: 'child' })
    await afterReports()
    expect(seen.map((s) => s.error)).toEqual([boom])
    expect(seen[0]!.context).toMatchObject({ area: 'guard', event: 'task-error', name: 'child' })
    await expect(scope.join()).rejects.toMatchObject({ errors: [boom] })
    // delivered: the next join does not repeat it
    await expect(scope.join()).resolves.toBeUndefined()
  })

  it('two joins pending at once both reject with the failure', async () => {
    const scope = new TaskScope()
    const boom = new Error('boom')
    const gate = deferred()
    scope.spawn(async () => {
      await gate.promise
      throw boom
    })
    const settle = (p: Promise<void>): Promise<unknown> => p.then(() => 'resolved', (e: unknown) => e)
    const p1 = settle(scope.join())
    const p2 = settle(scope.join())
    gate.resolve()
    const [r1, r2] = await Promise.all([p1, p2])
    expect(r1).toBeInstanceOf(AggregateError)
    expect((r1 as AggregateError).errors).toEqual([boom])
    expect(r2).toBeInstanceOf(AggregateError)
    expect((r2 as AggregateError).errors).toEqual([boom])
    // delivered to both: forgotten afterwards
    await expect(scope.join()).resolves.toBeUndefined()
  })

  it('a join before and one after a second spawn each get the failures of their children when they settle together', async () => {
    const scope = new TaskScope()
    const e1 = new Error('one')
    const e2 = new Error('two')
    const gate = deferred()
    scope.spawn(async () => {
      await gate.promise
      throw e1
    })
    const settle = (p: Promise<void>): Promise<unknown> => p.then(() => 'resolved', (e: unknown) => e)
    const p1 = settle(scope.join())
    scope.spawn(async () => {
      await gate.promise
      throw e2
    })
    const p2 = settle(scope.join())
    gate.resolve()
    const [r1, r2] = await Promise.all([p1, p2])
    expect((r1 as AggregateError).errors).toEqual([e1])
    expect((r2 as AggregateError).errors).toEqual([e1, e2])
    await expect(scope.join()).resolves.toBeUndefined()
  })

  it('a join delivers at most the last 1000 failures, in order, however many happened', async () => {
    const { onError } = collector()
    const scope = new TaskScope({ onError })
    const errors = Array.from({ length: 2500 }, (_, i) => new Error(`e${i}`))
    for (const error of errors) {
      scope.spawn(async () => {
        throw error
      })
    }
    const error = await scope.join().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect((error as AggregateError).errors).toEqual(errors.slice(1500))
    await expect(scope.join()).resolves.toBeUndefined()
  })

  it("a child failure observed on the child's done is not reported", async () => {
    const { onError, seen } = collector()
    const scope = new TaskScope({ onError })
    const boom = new Error('mine')
    const child = scope.spawn(async () => {
      throw boom
    })
    await expect(child.done).rejects.toBe(boom)
    await afterReports()
    expect(seen).toEqual([])
    // join still includes it
    await expect(scope.join()).rejects.toMatchObject({ errors: [boom] })
  })

  it('settled children are released: a long-lived scope does not grow', async () => {
    const scope = new TaskScope()
    for (let i = 0; i < 2000; i++) scope.spawn(async () => i)
    expect(scope.size).toBe(2000)
    await scope.join()
    expect(scope.size).toBe(0)
    // a synchronous child is never even registered
    scope.spawn(() => 1)
    expect(scope.size).toBe(0)
  })

  it('failFast: the first failure aborts the siblings with it and closes spawn', async () => {
    const scope = new TaskScope({ failFast: true })
    const boom = new Error('first')
    const sibling = scope.spawn(untilAborted)
    const gate = deferred()
    scope.spawn(async () => {
      await gate.promise
      throw boom
    })
    const join = scope.join().then(
      () => undefined,
      (e: unknown) => e,
    )
    gate.resolve()
    const error = (await join) as AggregateError
    expect(error.errors).toEqual([boom])
    expect(sibling.state).toBe('aborted')
    expect(sibling.signal.reason).toBe(boom)
    let refused: unknown
    try {
      scope.spawn(untilAborted)
    } catch (e) {
      refused = e
    }
    expect(refused).toBeInstanceOf(ClosedError)
    expect((refused as ClosedError).cause).toBe(boom)
  })

  it('failFast under random settle orders: join reports the first failure first and only real failures; the rest is aborted', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.constantFrom('ok', 'fail', 'hang'), { minLength: 1, maxLength: 6 }),
        async (s, kinds) => {
          const scope = new TaskScope({ failFast: true })
          const failures: Error[] = []
          const guards = kinds.map((kind, i) =>
            scope.spawn(async (signal) => {
              if (kind === 'hang') return untilAborted(signal)
              await s.schedule(Promise.resolve(i), `child ${i} ${kind}`)
              if (signal.aborted) throw signal.reason
              if (kind === 'fail') {
                const e = new Error(`fail ${i}`)
                failures.push(e)
                throw e
              }
              return i
            }),
          )
          const join = scope.join().then(
            () => undefined,
            (e: unknown) => e as AggregateError,
          )
          await s.waitIdle()
          await flushMicrotasks()
          if (failures.length === 0) scope.abortAll('end')
          const error = await join
          const rejected = guards.filter((g) => g.state === 'rejected')
          for (const g of rejected) expect(kinds[guards.indexOf(g)]).toBe('fail')
          if (failures.length === 0) {
            expect(error).toBeUndefined()
          } else {
            expect(error!.errors[0]).toBe(failures[0])
            expect(error!.errors).toHaveLength(rejected.length)
            for (let i = 0; i < kinds.length; i++) if (kinds[i] === 'hang') expect(guards[i]!.state).toBe('aborted')
            expect(() => scope.spawn(untilAborted)).toThrow(ClosedError)
          }
          expect(scope.size).toBe(0)
          await scope[Symbol.asyncDispose]()
        },
      ),
      { numRuns: 150 },
    )
  })
})

describe('TaskScope: parent signal and settle timeout', () => {
  it('the parent aborts every child; one listener on the parent, removed on dispose', async () => {
    const parent = new AbortController()
    const before = abortListenerCount(parent.signal)
    const scope = new TaskScope({ signal: parent.signal })
    const a = scope.spawn(untilAborted)
    const b = scope.spawn(untilAborted)
    expect(abortListenerCount(parent.signal)).toBe(before + 1)
    parent.abort('bye')
    await scope.join()
    expect([a.state, b.state]).toEqual(['aborted', 'aborted'])
    await expect(a.done).rejects.toBe('bye')
    // spawned after the parent aborted: never called
    const fn = vi.fn(untilAborted)
    const late = scope.spawn(fn)
    expect(fn).not.toHaveBeenCalled()
    expect(late.state).toBe('aborted')
    scope[Symbol.dispose]()
  })

  it('dispose removes the listener from a live parent', () => {
    const parent = new AbortController()
    const scope = new TaskScope({ signal: parent.signal })
    scope.spawn(untilAborted)
    expect(abortListenerCount(parent.signal)).toBe(1)
    scope[Symbol.dispose]()
    expect(abortListenerCount(parent.signal)).toBe(0)
  })

  it('await using reports each child that does not settle within settleTimeoutMs, and leaves no timer', async () => {
    vi.useFakeTimers()
    const { onError, seen } = collector()
    const scope = new TaskScope({ name: 'sess', settleTimeoutMs: 200, onError })
    scope.spawn(() => new Promise<never>(() => {}), { name: 'stuck' })
    scope.spawn(untilAborted, { name: 'polite' })
    let finished = false
    const disposing = scope[Symbol.asyncDispose]().then(() => {
      finished = true
    })
    await vi.advanceTimersByTimeAsync(199)
    expect(finished).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await disposing
    expect(seen).toHaveLength(1)
    expect(seen[0]!.error).toBeInstanceOf(TimeoutError)
    expect(seen[0]!.context).toMatchObject({ area: 'guard', event: 'settle-timeout', name: 'stuck', scope: 'sess' })
    expect(vi.getTimerCount()).toBe(0)
  })

  it('with fake timers, a synchronous clock advance right after asyncDispose reports the stragglers', async () => {
    vi.useFakeTimers()
    const { onError, seen } = collector()
    const scope = new TaskScope({ settleTimeoutMs: 50, onError })
    scope.spawn(() => new Promise<never>(() => {}))
    const disposing = scope[Symbol.asyncDispose]()
    vi.advanceTimersByTime(50)
    await disposing
    expect(seen.map((e) => e.context.event)).toEqual(['settle-timeout'])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('abortAll aborts the running children but keeps the scope open', async () => {
    const scope = new TaskScope()
    const a = scope.spawn(untilAborted)
    scope.abortAll('again')
    await expect(a.done).rejects.toBe('again')
    const b = scope.spawn(untilAborted)
    expect(b.state).toBe('running')
    await scope[Symbol.asyncDispose]()
    expect(b.state).toBe('aborted')
  })

  it('refuses bad options', () => {
    expect(() => new TaskScope({ failFast: 'yes' as never })).toThrow(TypeError)
    expect(() => new TaskScope({ settleTimeoutMs: -5 })).toThrow(RangeError)
    expect(() => new TaskScope({ signal: 1 as never })).toThrow(TypeError)
    const scope = new TaskScope()
    expect(() => scope.spawn(null as never)).toThrow(TypeError)
  })
})
