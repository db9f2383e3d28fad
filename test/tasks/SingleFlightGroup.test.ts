import { describe, expect, it, vi } from 'vitest'
import fc from 'fast-check'
import { SingleFlightGroup } from '../../src/tasks/SingleFlightGroup.js'
import { DisposedError, TimeoutError } from '../../src/errors.js'
import { abortListenerCount, deferred, expectNoUnhandledRejections, flushMicrotasks } from '../helpers.js'

expectNoUnhandledRejections()

describe('SingleFlightGroup', () => {
  it('N concurrent run(key) calls per key produce exactly one run per key (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 15 }), async (s, keys) => {
        const g = new SingleFlightGroup<string, string>()
        const gates = new Map<string, ReturnType<typeof deferred<string>>>()
        const fn = vi.fn((key: string) => {
          const d = deferred<string>()
          gates.set(key, d)
          return d.promise
        })
        const calls = keys.map((key, k) => s.schedule(Promise.resolve(k)).then(() => g.run(key, () => fn(key))))
        await s.waitIdle()
        const distinct = new Set(keys)
        expect(fn).toHaveBeenCalledTimes(distinct.size)
        expect(g.size).toBe(distinct.size)
        for (const key of distinct) expect(g.inFlight(key)).toBe(true)
        for (const [key, d] of gates) d.resolve(`v-${key}`)
        await expect(Promise.all(calls)).resolves.toEqual(keys.map((k) => `v-${k}`))
        expect(g.size).toBe(0)
      }),
      { numRuns: 100 },
    )
  })

  it('random waiter aborts never abort a run that still has a waiter and always abort one that has none (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), async (s, leaves) => {
        const g = new SingleFlightGroup<string, number>()
        const d = deferred<number>()
        const signals: AbortSignal[] = []
        const fn = vi.fn((signal: AbortSignal) => {
          signals.push(signal)
          return d.promise
        })
        const controllers = leaves.map(() => new AbortController())
        const results = controllers.map((c) => g.run('k', fn, { signal: c.signal }).then(() => 'value', (e: unknown) => e))
        const aborts = leaves.map((leave, k) => (leave ? s.schedule(Promise.resolve(k)).then(() => controllers[k]!.abort(`left ${k}`)) : Promise.resolve()))
        await s.waitIdle()
        await Promise.all(aborts)
        const everyoneLeft = leaves.every(Boolean)
        expect(fn).toHaveBeenCalledTimes(1)
        expect(signals[0]!.aborted).toBe(everyoneLeft)
        expect(g.inFlight('k')).toBe(!everyoneLeft)
        d.resolve(1)
        const settled = await Promise.all(results)
        settled.forEach((r, k) => {
          expect(r).toBe(leaves[k] ? `left ${k}` : 'value')
        })
        for (const c of controllers) expect(abortListenerCount(c.signal)).toBe(0)
        expect(g.size).toBe(0)
      }),
      { numRuns: 150 },
    )
  })

  it('failures reach every waiter and are not cached (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.integer({ min: 1, max: 8 }), async (s, n) => {
        const g = new SingleFlightGroup<string, number>()
        const boom = new Error('boom')
        const fn = vi.fn(async () => {
          await s.schedule(Promise.resolve())
          throw boom
        })
        const calls = Array.from({ length: n }, (_, k) => s.schedule(Promise.resolve(k)).then(() => g.run('k', fn).then(() => 'value', (e: unknown) => e)))
        await s.waitIdle()
        const outcomes = await Promise.all(calls)
        expect(outcomes.every((o) => o === boom)).toBe(true)
        expect(g.size).toBe(0)
        const runs = fn.mock.calls.length
        await expect(g.run('k', async () => 2)).resolves.toBe(2)
        expect(runs).toBeGreaterThanOrEqual(1)
      }),
      { numRuns: 100 },
    )
  })

  it('forget(key): later callers start a fresh run while the old one finishes for its waiters', async () => {
    const g = new SingleFlightGroup<string, number>()
    const first = deferred<number>()
    const second = deferred<number>()
    const old = g.run('k', () => first.promise)
    expect(g.forget('k')).toBe(true)
    expect(g.inFlight('k')).toBe(false)
    expect(g.forget('k')).toBe(false)
    const fresh = g.run('k', () => second.promise)
    const joined = g.run('k', () => Promise.resolve(-1))
    first.resolve(1)
    await expect(old).resolves.toBe(1)
    // The old run settling must not remove the fresh run's entry.
    expect(g.inFlight('k')).toBe(true)
    second.resolve(2)
    await expect(Promise.all([fresh, joined])).resolves.toEqual([2, 2])
    expect(g.size).toBe(0)
  })

  it('synchronous values and throws reach the caller, and the key is freed', async () => {
    const g = new SingleFlightGroup<string, number>()
    await expect(g.run('a', () => 1)).resolves.toBe(1)
    const boom = new Error('sync')
    await expect(
      g.run('a', () => {
        throw boom
      }),
    ).rejects.toBe(boom)
    expect(g.size).toBe(0)
  })

  it('timeoutMs fails the run with a TimeoutError and aborts its signal', async () => {
    vi.useFakeTimers()
    const g = new SingleFlightGroup<string, number>({ timeoutMs: 50, name: 'users' })
    let signal!: AbortSignal
    const p = g.run('k', (s) => {
      signal = s
      return new Promise<number>(() => {})
    })
    vi.advanceTimersByTime(50)
    await expect(p).rejects.toBeInstanceOf(TimeoutError)
    expect(signal.aborted).toBe(true)
    expect(g.size).toBe(0)
  })

  it('run(key, fn, { timeoutMs }) bounds this caller only; the run goes on for the others', async () => {
    vi.useFakeTimers()
    const g = new SingleFlightGroup<string, number>()
    const d = deferred<number>()
    let signal!: AbortSignal
    const fn = vi.fn((s: AbortSignal) => {
      signal = s
      return d.promise
    })
    const impatient = g.run('k', fn, { timeoutMs: 10 })
    const patient = g.run('k', fn)
    vi.advanceTimersByTime(10)
    await expect(impatient).rejects.toBeInstanceOf(TimeoutError)
    expect(signal.aborted).toBe(false)
    await expect(g.run('k', fn, { timeoutMs: 0 })).rejects.toBeInstanceOf(TimeoutError)
    d.resolve(4)
    await expect(patient).resolves.toBe(4)
    expect(fn).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('dispose aborts every run and refuses later ones', async () => {
    const g = new SingleFlightGroup<string, number>()
    const signals: AbortSignal[] = []
    const never = (s: AbortSignal) => {
      signals.push(s)
      return new Promise<number>(() => {})
    }
    const a = g.run('a', never)
    const b = g.run('b', never)
    g[Symbol.dispose]()
    g[Symbol.dispose]()
    await expect(a).rejects.toBeInstanceOf(DisposedError)
    await expect(b).rejects.toBeInstanceOf(DisposedError)
    expect(signals.every((s) => s.aborted)).toBe(true)
    expect(g.size).toBe(0)
    await expect(g.run('a', () => 1)).rejects.toBeInstanceOf(DisposedError)
  })

  it('a signal already aborted rejects with its reason and starts nothing; bad input rejects', async () => {
    const g = new SingleFlightGroup<string, number>()
    const fn = vi.fn(() => 1)
    await expect(g.run('k', fn, { signal: AbortSignal.abort('no') })).rejects.toBe('no')
    expect(fn).not.toHaveBeenCalled()
    await expect(g.run('k', 'x' as never)).rejects.toThrow(TypeError)
    await expect(g.run('k', fn, { signal: {} as never })).rejects.toThrow(TypeError)
    expect(() => new SingleFlightGroup({ timeoutMs: -5 })).toThrow(RangeError)
    await flushMicrotasks()
  })
})
