import { describe, expect, it, vi } from 'vitest'
import fc from 'fast-check'
import { Flight } from '../../src/internal/flight.js'
import { TimeoutError } from '../../src/errors.js'
import { abortListenerCount, deferred, expectNoUnhandledRejections, flushMicrotasks } from '../helpers.js'

expectNoUnhandledRejections()

describe('Flight', () => {
  it('runs once and gives every waiter the value', async () => {
    const d = deferred<number>()
    const fn = vi.fn(() => d.promise)
    const done = vi.fn()
    const f = new Flight<number>({ onDone: done }).start(fn)
    const a = f.join()
    const b = f.join(new AbortController().signal)
    expect(f.waiting).toBe(2)
    d.resolve(7)
    await expect(Promise.all([a, b])).resolves.toEqual([7, 7])
    expect(fn).toHaveBeenCalledTimes(1)
    expect(done).toHaveBeenCalledTimes(1)
    expect(f.state).toBe('fulfilled')
    await expect(f.join()).resolves.toBe(7)
  })

  it('gives every waiter the error, and synchronous throws count', async () => {
    const boom = new Error('boom')
    const f = new Flight<number>().start(() => {
      throw boom
    })
    await expect(f.join()).rejects.toBe(boom)
    expect(f.state).toBe('rejected')
  })

  it('a result whose then getter throws fails the run instead of throwing out of start', async () => {
    const boom = new Error('then getter')
    const hostile = Object.defineProperty({}, 'then', {
      get() {
        throw boom
      },
    })
    const f = new Flight<unknown>()
    expect(() => f.start(() => hostile)).not.toThrow()
    await expect(f.join()).rejects.toBe(boom)
  })

  it('one waiter leaving rejects only that waiter; the run goes on', async () => {
    const d = deferred<number>()
    let runSignal!: AbortSignal
    const f = new Flight<number>().start((s) => {
      runSignal = s
      return d.promise
    })
    const ac = new AbortController()
    const leaving = f.join(ac.signal)
    const staying = f.join()
    const reason = new Error('left')
    ac.abort(reason)
    await expect(leaving).rejects.toBe(reason)
    expect(runSignal.aborted).toBe(false)
    d.resolve(1)
    await expect(staying).resolves.toBe(1)
    expect(abortListenerCount(ac.signal)).toBe(0)
  })

  it('the last waiter leaving abandons the run: its signal aborts with that reason, onDone fires', async () => {
    const d = deferred<number>()
    let runSignal!: AbortSignal
    const done = vi.fn()
    const f = new Flight<number>({ onDone: done }).start((s) => {
      runSignal = s
      return d.promise
    })
    const a = new AbortController()
    const b = new AbortController()
    const pa = f.join(a.signal)
    const pb = f.join(b.signal)
    a.abort('a')
    await expect(pa).rejects.toBe('a')
    expect(runSignal.aborted).toBe(false)
    b.abort('b')
    await expect(pb).rejects.toBe('b')
    expect(runSignal.aborted).toBe(true)
    expect(runSignal.reason).toBe('b')
    expect(f.state).toBe('abandoned')
    expect(done).toHaveBeenCalledTimes(1)
    d.resolve(5) // ignored
    await flushMicrotasks()
    expect(f.state).toBe('abandoned')
    expect(f.value).toBeUndefined()
  })

  it('an owned run is not abandoned when its waiters leave', async () => {
    const d = deferred<number>()
    const f = new Flight<number>({ owned: true }).start(() => d.promise)
    const ac = new AbortController()
    const p = f.join(ac.signal)
    ac.abort('x')
    await expect(p).rejects.toBe('x')
    expect(f.running).toBe(true)
    d.resolve(2)
    await expect(f.join()).resolves.toBe(2)
  })

  it('a waiter whose signal is already aborted is rejected and does not join', async () => {
    const f = new Flight<number>().start(() => new Promise<number>(() => {}))
    const ac = new AbortController()
    ac.abort('early')
    await expect(f.join(ac.signal)).rejects.toBe('early')
    expect(f.waiting).toBe(0)
    f.abort('cleanup')
  })

  it('timeoutMs fails the run with a TimeoutError and aborts its signal, even when the task ignores it', async () => {
    vi.useFakeTimers()
    let runSignal!: AbortSignal
    const f = new Flight<number>({ timeoutMs: 100, label: 'init' }).start((s) => {
      runSignal = s
      return new Promise<number>(() => {})
    })
    const p = f.join()
    vi.advanceTimersByTime(100)
    await expect(p).rejects.toBeInstanceOf(TimeoutError)
    await expect(p).rejects.toThrow('init timed out after 100 ms')
    expect(runSignal.reason).toBeInstanceOf(TimeoutError)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a run that settles clears its timeout timer', async () => {
    vi.useFakeTimers()
    const f = new Flight<number>({ timeoutMs: 1000 }).start(async () => 3)
    await expect(f.join()).resolves.toBe(3)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('abort(reason) rejects every waiter with the reason and aborts the signal', async () => {
    let runSignal!: AbortSignal
    const f = new Flight<number>().start((s) => {
      runSignal = s
      return new Promise<number>(() => {})
    })
    const ac = new AbortController()
    const a = f.join()
    const b = f.join(ac.signal)
    f.abort('reset')
    await expect(a).rejects.toBe('reset')
    await expect(b).rejects.toBe('reset')
    expect(runSignal.reason).toBe('reset')
    expect(abortListenerCount(ac.signal)).toBe(0)
  })

  it('random waiter aborts never abort a run that still has a waiter and always abort one that has none (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), fc.boolean(), async (s, leaves, finishFirst) => {
        const d = deferred<number>()
        let runSignal!: AbortSignal
        const f = new Flight<number>().start((sig) => {
          runSignal = sig
          return d.promise
        })
        const controllers = leaves.map(() => new AbortController())
        const results = controllers.map((c) => f.join(c.signal).then(() => 'value', (e: unknown) => e))
        const tasks = leaves.map((leave, i) => (leave ? s.schedule(Promise.resolve(i)).then(() => controllers[i]!.abort(`left ${i}`)) : Promise.resolve()))
        const finisher = finishFirst ? s.schedule(Promise.resolve()).then(() => d.resolve(1)) : Promise.resolve()
        await s.waitIdle()
        await Promise.all([...tasks, finisher])
        const everyoneLeft = leaves.every(Boolean)
        let allSettled = false
        void Promise.all(results).then(() => (allSettled = true))
        await flushMicrotasks()
        if (!finishFirst && !everyoneLeft) {
          expect(allSettled).toBe(false)
          expect(runSignal.aborted).toBe(false)
          d.resolve(1)
        }
        const settled = await Promise.all(results)
        const abandoned = f.state === 'abandoned'
        expect(runSignal.aborted).toBe(abandoned)
        if (!finishFirst) expect(abandoned).toBe(everyoneLeft)
        settled.forEach((r, i) => {
          if (r !== 'value') expect(r).toBe(`left ${i}`)
        })
      }),
      { numRuns: 150 },
    )
  })

  it('join(signal, timeoutMs): the waiter leaves with a TimeoutError, the others stay, the last one abandons the run (fake timers)', async () => {
    vi.useFakeTimers()
    const d = deferred<number>()
    const f = new Flight<number>().start(() => d.promise)
    const ac = new AbortController()
    const early = f.join(ac.signal, 50, 'Lookup').catch((e: unknown) => e)
    const late = f.join(undefined, 100, 'Lookup').catch((e: unknown) => e)
    expect(vi.getTimerCount()).toBe(2)
    await vi.advanceTimersByTimeAsync(50)
    const error = (await early) as TimeoutError
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error.message).toBe('Lookup timed out after 50 ms')
    expect(error.timeoutMs).toBe(50)
    expect(abortListenerCount(ac.signal)).toBe(0)
    expect(f.running).toBe(true)
    expect(f.signal.aborted).toBe(false)
    await vi.advanceTimersByTimeAsync(50)
    expect(await late).toBeInstanceOf(TimeoutError)
    expect(f.state).toBe('abandoned')
    expect(f.signal.aborted).toBe(true)
    expect(f.signal.reason).toBeInstanceOf(TimeoutError)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a timed waiter that gets the value first leaves no timer and no listener; its abort still works', async () => {
    vi.useFakeTimers()
    const d = deferred<number>()
    const f = new Flight<number>({ owned: true }).start(() => d.promise)
    const ac = new AbortController()
    const waiting = f.join(ac.signal, 1_000)
    const leaving = new AbortController()
    const left = f.join(leaving.signal, 1_000).catch((e: unknown) => e)
    leaving.abort('bye')
    expect(await left).toBe('bye')
    expect(vi.getTimerCount()).toBe(1)
    d.resolve(3)
    await expect(waiting).resolves.toBe(3)
    expect(vi.getTimerCount()).toBe(0)
    expect(abortListenerCount(ac.signal)).toBe(0)
    expect(f.running).toBe(false)
  })
})
