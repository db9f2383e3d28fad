import { describe, expect, it, vi } from 'vitest'
import fc from 'fast-check'
import { Initializer } from '../../src/tasks/Initializer.js'
import { DisposedError, TimeoutError } from '../../src/errors.js'
import { abortListenerCount, deferred, expectNoUnhandledRejections, flushMicrotasks } from '../helpers.js'

expectNoUnhandledRejections()

/** An init whose runs are controlled from the test. */
function controlled<T>() {
  const runs: { signal: AbortSignal; resolve: (v: T) => void; reject: (e: unknown) => void }[] = []
  const init = vi.fn((signal: AbortSignal) => {
    const d = deferred<T>()
    runs.push({ signal, resolve: d.resolve, reject: d.reject })
    return d.promise
  })
  return { init, runs }
}

describe('Initializer', () => {
  it('start() while a run is in progress does not start another: the stored run is the same and still running (original test)', async () => {
    const { init, runs } = controlled<string>()
    const i = new Initializer(init)
    expect(i.state).toBe('idle')
    expect(i.start()).toBe(true)
    expect(i.state).toBe('running')
    const pending = i.get()
    expect(i.start()).toBe(false)
    expect(i.start()).toBe(false)
    expect(init).toHaveBeenCalledTimes(1)
    expect(runs[0]!.signal.aborted).toBe(false)
    expect(i.state).toBe('running')
    runs[0]!.resolve('conn')
    await expect(pending).resolves.toBe('conn')
    expect(i.state).toBe('ready')
    expect(i.value).toBe('conn')
    expect(i.start()).toBe(false)
    await expect(i.get()).resolves.toBe('conn')
    expect(init).toHaveBeenCalledTimes(1)
  })

  it('N concurrent get() calls produce exactly one run and all get its value (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 1, max: 12 }), fc.boolean(), async (s, n, viaStart) => {
        const init = vi.fn(async () => {
          await s.schedule(Promise.resolve())
          return 42
        })
        const i = new Initializer(init)
        const calls = Array.from({ length: n }, (_, k) =>
          s.schedule(Promise.resolve(k)).then(() => {
            if (viaStart && k % 2 === 0) i.start()
            return i.get()
          }),
        )
        await s.waitIdle()
        await expect(Promise.all(calls)).resolves.toEqual(Array.from({ length: n }, () => 42))
        expect(init).toHaveBeenCalledTimes(1)
        expect(i.state).toBe('ready')
      }),
      { numRuns: 100 },
    )
  })

  it('random waiter aborts never abort a run that still has a waiter and always abort one that has none (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), async (s, leaves) => {
        const { init, runs } = controlled<number>()
        const i = new Initializer(init)
        const controllers = leaves.map(() => new AbortController())
        const results = controllers.map((c) => i.get({ signal: c.signal }).then(() => 'value', (e: unknown) => e))
        const aborts = leaves.map((leave, k) => (leave ? s.schedule(Promise.resolve(k)).then(() => controllers[k]!.abort(`left ${k}`)) : Promise.resolve()))
        // After every scheduled abort, check the invariant against the live waiter count.
        await s.waitIdle()
        await Promise.all(aborts)
        const everyoneLeft = leaves.every(Boolean)
        expect(init).toHaveBeenCalledTimes(1)
        expect(runs[0]!.signal.aborted).toBe(everyoneLeft)
        expect(i.state).toBe(everyoneLeft ? 'idle' : 'running')
        if (!everyoneLeft) runs[0]!.resolve(7)
        const settled = await Promise.all(results)
        settled.forEach((r, k) => {
          expect(r).toBe(leaves[k] ? `left ${k}` : 'value')
        })
        for (const c of controllers) expect(abortListenerCount(c.signal)).toBe(0)
        if (everyoneLeft) {
          // A later caller starts a fresh run and never joins the abandoned one.
          const next = i.get()
          expect(init).toHaveBeenCalledTimes(2)
          runs[1]!.resolve(8)
          await expect(next).resolves.toBe(8)
        }
      }),
      { numRuns: 150 },
    )
  })

  it('failures reach every waiter, are not cached, and the next get retries (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 1, max: 8 }), async (s, n) => {
        const { init, runs } = controlled<number>()
        const i = new Initializer(init)
        const boom = new Error('boom')
        const calls = Array.from({ length: n }, (_, k) => s.schedule(Promise.resolve(k)).then(() => i.get().then(() => 'value', (e: unknown) => e)))
        const failer = s.schedule(Promise.resolve()).then(() => runs[0]?.reject(boom))
        await s.waitIdle()
        await failer
        // Callers scheduled after the failure started another run; fail those too.
        for (const r of runs) r.reject(boom)
        expect(runs.length).toBeLessThanOrEqual(2)
        const outcomes = await Promise.all(calls)
        expect(outcomes.every((o) => o === boom)).toBe(true)
        expect(i.state).toBe('failed')
        const retry = i.get()
        expect(i.state).toBe('running')
        runs.at(-1)!.resolve(1)
        await expect(retry).resolves.toBe(1)
      }),
      { numRuns: 100 },
    )
  })

  it('matches a model under random start/get/leave/resolve/reject/reset sequences (property)', async () => {
    const op = fc.oneof(
      fc.constant({ kind: 'start' as const }),
      fc.constant({ kind: 'get' as const }),
      fc.record({ kind: fc.constant('leave' as const), index: fc.nat() }),
      fc.constant({ kind: 'resolve' as const }),
      fc.constant({ kind: 'reject' as const }),
      fc.constant({ kind: 'reset' as const }),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (ops) => {
        const { init, runs } = controlled<number>()
        const i = new Initializer(init, { onError: () => {} })
        type Waiter = { run: number; ac: AbortController; outcome: Promise<unknown>; expected?: unknown }
        const waiters: Waiter[] = []
        // The model.
        let state: 'idle' | 'running' | 'ready' | 'failed' = 'idle'
        let owned = false
        let current = -1 // index of the run in flight
        let readyValue: number | undefined
        const aborted = new Set<number>()
        const live = () => waiters.filter((w) => w.run === current && w.expected === undefined)
        const settleLive = (expected: unknown) => {
          for (const w of live()) w.expected = expected
        }
        const boom = new Error('boom')
        for (const o of ops) {
          switch (o.kind) {
            case 'start': {
              const expected = state === 'idle' || state === 'failed'
              expect(i.start()).toBe(expected)
              if (expected) {
                current = runs.length - 1
                state = 'running'
              }
              if (state === 'running') owned = true
              break
            }
            case 'get': {
              const ac = new AbortController()
              const outcome = i.get({ signal: ac.signal }).then((v) => v, (e: unknown) => e)
              if (state === 'ready') {
                waiters.push({ run: -1, ac, outcome, expected: readyValue })
                break
              }
              if (state !== 'running') {
                state = 'running'
                owned = false
                current = runs.length - 1
              }
              waiters.push({ run: current, ac, outcome })
              break
            }
            case 'leave': {
              const pendingWaiters = waiters.filter((w) => w.expected === undefined)
              if (pendingWaiters.length === 0) break
              const w = pendingWaiters[o.index % pendingWaiters.length]!
              w.expected = 'left'
              w.ac.abort('left')
              if (state === 'running' && w.run === current && !owned && live().length === 0) {
                aborted.add(current)
                state = 'idle'
              }
              break
            }
            case 'resolve':
              if (state === 'running') {
                readyValue = current * 10
                runs[current]!.resolve(readyValue)
                await flushMicrotasks()
                settleLive(readyValue)
                state = 'ready'
              }
              break
            case 'reject':
              if (state === 'running') {
                runs[current]!.reject(boom)
                await flushMicrotasks()
                settleLive(boom)
                state = 'failed'
              }
              break
            case 'reset':
              if (state === 'running') {
                aborted.add(current)
                settleLive('reset')
              }
              i.reset()
              state = 'idle'
              readyValue = undefined
              break
          }
          expect(i.state).toBe(state)
          expect(i.value).toBe(state === 'ready' ? readyValue : undefined)
          expect(init).toHaveBeenCalledTimes(runs.length)
          runs.forEach((r, k) => expect(r.signal.aborted, `run ${k} aborted`).toBe(aborted.has(k)))
        }
        // Settle whatever still runs, then check every waiter's outcome.
        if (state === 'running') {
          runs[current]!.resolve(-1)
          settleLive(-1)
        }
        const outcomes = await Promise.all(waiters.map((w) => w.outcome))
        outcomes.forEach((got, k) => {
          const want = waiters[k]!.expected
          if (want === 'reset') expect(got).toMatchObject({ name: 'AbortError' })
          else expect(got).toBe(want)
        })
      }),
      { numRuns: 200 },
    )
  })

  it('a run started by start() is owned: waiters leaving does not abort it', async () => {
    const { init, runs } = controlled<number>()
    const i = new Initializer(init)
    i.start()
    const ac = new AbortController()
    const p = i.get({ signal: ac.signal })
    ac.abort('bye')
    await expect(p).rejects.toBe('bye')
    expect(runs[0]!.signal.aborted).toBe(false)
    expect(i.state).toBe('running')
    runs[0]!.resolve(3)
    await flushMicrotasks()
    expect(i.state).toBe('ready')
  })

  it('start() adopts a run started by get(): it is no longer abandoned when its waiters leave', async () => {
    const { init, runs } = controlled<number>()
    const i = new Initializer(init)
    const ac = new AbortController()
    const p = i.get({ signal: ac.signal })
    expect(i.start()).toBe(false)
    ac.abort('bye')
    await expect(p).rejects.toBe('bye')
    expect(runs[0]!.signal.aborted).toBe(false)
    runs[0]!.resolve(1)
    await flushMicrotasks()
    expect(i.value).toBe(1)
  })

  it('a failure nobody awaits goes to onError; a failure a caller awaits does not', async () => {
    const onError = vi.fn()
    const { init, runs } = controlled<number>()
    const i = new Initializer(init, { name: 'db', onError })
    i.start()
    const boom = new Error('boom')
    runs[0]!.reject(boom)
    await flushMicrotasks()
    expect(i.state).toBe('failed')
    expect(onError).toHaveBeenCalledTimes(1)
    expect(onError).toHaveBeenCalledWith(boom, expect.objectContaining({ area: 'init', event: 'error', name: 'db' }))
    const p = i.get()
    runs[1]!.reject(boom)
    await expect(p).rejects.toBe(boom)
    expect(onError).toHaveBeenCalledTimes(1)
    // A synchronous throw of a get-started run reaches its caller, not onError.
    const sync = new Initializer<number>(() => {
      throw boom
    }, { onError })
    await expect(sync.get()).rejects.toBe(boom)
    expect(onError).toHaveBeenCalledTimes(1)
    expect(sync.start()).toBe(true)
    expect(onError).toHaveBeenCalledTimes(2)
    expect(sync.state).toBe('failed')
  })

  it('a synchronous value makes it ready at once', async () => {
    const i = new Initializer(() => 5)
    expect(i.start()).toBe(true)
    expect(i.state).toBe('ready')
    await expect(i.get()).resolves.toBe(5)
  })

  it('timeoutMs aborts the run signal with a TimeoutError, fails the run, and the next get retries', async () => {
    vi.useFakeTimers()
    const { init, runs } = controlled<number>()
    const i = new Initializer(init, { timeoutMs: 100, name: 'slow' })
    const p = i.get()
    vi.advanceTimersByTime(99)
    expect(i.state).toBe('running')
    vi.advanceTimersByTime(1)
    await expect(p).rejects.toBeInstanceOf(TimeoutError)
    expect(runs[0]!.signal.reason).toBeInstanceOf(TimeoutError)
    expect(i.state).toBe('failed')
    const q = i.get()
    runs[1]!.resolve(2)
    await expect(q).resolves.toBe(2)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('reset() forgets the value and aborts a run in flight; a late result is ignored', async () => {
    const { init, runs } = controlled<number>()
    const i = new Initializer(init)
    const p = i.get()
    i.reset()
    expect(i.state).toBe('idle')
    expect(runs[0]!.signal.aborted).toBe(true)
    await expect(p).rejects.toMatchObject({ name: 'AbortError' })
    runs[0]!.resolve(1)
    await flushMicrotasks()
    expect(i.state).toBe('idle')
    expect(i.value).toBeUndefined()
    const q = i.get()
    runs[1]!.resolve(2)
    await expect(q).resolves.toBe(2)
    i.reset()
    expect(i.state).toBe('idle')
    expect(i.value).toBeUndefined()
  })

  it('dispose aborts the run in flight and leaves the state idle (never stuck running); later use is refused', async () => {
    const { init, runs } = controlled<number>()
    const onError = vi.fn()
    const i = new Initializer(init, { onError })
    i.start()
    const p = i.get()
    await i[Symbol.asyncDispose]()
    expect(i.state).toBe('idle')
    expect(runs[0]!.signal.aborted).toBe(true)
    expect(runs[0]!.signal.reason).toBeInstanceOf(DisposedError)
    await expect(p).rejects.toBeInstanceOf(DisposedError)
    runs[0]!.resolve(1)
    await flushMicrotasks()
    expect(i.state).toBe('idle')
    expect(i.start()).toBe(false)
    await expect(i.get()).rejects.toBeInstanceOf(DisposedError)
    i[Symbol.dispose]()
    await i[Symbol.asyncDispose]()
    expect(init).toHaveBeenCalledTimes(1)
    expect(onError).not.toHaveBeenCalled()
  })

  it('using: leaving the scope disposes', async () => {
    const { init, runs } = controlled<number>()
    let ref!: Initializer<number>
    {
      using i = new Initializer(init)
      ref = i
      i.start()
    }
    expect(ref.state).toBe('idle')
    expect(runs[0]!.signal.aborted).toBe(true)
  })

  it('get({ timeoutMs }) leaves after the wait bound with a TimeoutError; the last waiter leaving abandons a get-started run', async () => {
    vi.useFakeTimers()
    const { init, runs } = controlled<number>()
    const i = new Initializer(init)
    const ac = new AbortController()
    const short = i.get({ timeoutMs: 50, signal: ac.signal })
    const long = i.get({ timeoutMs: 200 })
    vi.advanceTimersByTime(50)
    await expect(short).rejects.toBeInstanceOf(TimeoutError)
    expect(abortListenerCount(ac.signal)).toBe(0)
    expect(runs[0]!.signal.aborted).toBe(false)
    vi.advanceTimersByTime(150)
    await expect(long).rejects.toBeInstanceOf(TimeoutError)
    expect(runs[0]!.signal.aborted).toBe(true)
    expect(i.state).toBe('idle')
    // timeoutMs: 0 fails at once unless ready, and starts nothing.
    await expect(i.get({ timeoutMs: 0 })).rejects.toBeInstanceOf(TimeoutError)
    expect(init).toHaveBeenCalledTimes(1)
    // A signal abort before the timeout wins, and the timer is cleared.
    const ac2 = new AbortController()
    const p = i.get({ timeoutMs: 1000, signal: ac2.signal })
    ac2.abort('gone')
    await expect(p).rejects.toBe('gone')
    // A run that settles in time resolves the waiter and clears its timer.
    const q = i.get({ timeoutMs: 1000 })
    runs[2]!.resolve(9)
    await expect(q).resolves.toBe(9)
    await expect(i.get({ timeoutMs: 0 })).resolves.toBe(9)
    await expect(i.get({ timeoutMs: -1 })).rejects.toThrow(RangeError)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a signal already aborted rejects with its reason and starts nothing', async () => {
    const init = vi.fn(() => 1)
    const i = new Initializer(init)
    await expect(i.get({ signal: AbortSignal.abort('no') })).rejects.toBe('no')
    expect(init).not.toHaveBeenCalled()
  })

  it('validates its input', async () => {
    expect(() => new Initializer(42 as never)).toThrow(TypeError)
    expect(() => new Initializer(() => 1, { timeoutMs: -1 })).toThrow(RangeError)
    expect(() => new Initializer(() => 1, { timeoutMs: Number.NaN })).toThrow(/timeoutMs/)
    expect(() => new Initializer(() => 1, { onError: 'x' as never })).toThrow(TypeError)
    expect(() => new Initializer(() => 1, { name: 3 as never })).toThrow(TypeError)
    expect(() => new Initializer(() => 1, 5 as never)).toThrow(TypeError)
    const i = new Initializer(() => 1)
    await expect(i.get({ signal: 'x' as never })).rejects.toThrow(TypeError)
    await expect(i.get(7 as never)).rejects.toThrow(TypeError)
  })
})
