/**
 * The rules the hot-path work must not bend: `stats: false` keeps every counter but
 * reads no clock; a queued runExclusive runs in its caller's async context; a waiter
 * whose signal is aborted is never granted; the long-hold monitor keeps one timer
 * across hand-offs instead of re-arming per grant.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { setMaxListeners } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
import { Mutex, RwLock, Semaphore } from '../../src/locks/index.js'
import { deferred, expectNoUnhandledRejections, flushMicrotasks } from '../helpers.js'

expectNoUnhandledRejections()

describe('stats: false', () => {
  it('reads no clock and records no time, while every counter still counts', async () => {
    let reads = 0
    const m = new Mutex({ name: 'bare', stats: false, clock: () => ++reads })
    const g = await m.lock()
    expect(g.acquiredAt).toBeNaN()
    expect(g.heldMs).toBeNaN()
    const queued = m.runExclusive(async () => {
      await Promise.resolve()
      return 'q'
    })
    const ac = new AbortController()
    const aborted = m.lock({ signal: ac.signal })
    ac.abort(new Error('left'))
    await expect(aborted).rejects.toThrow('left')
    await expect(m.lock({ timeoutMs: 0 })).rejects.toMatchObject({ name: 'TimeoutError' })
    g.release()
    expect(await queued).toBe('q')
    await m.runExclusive(() => 1)
    expect(reads).toBe(0)
    const s = m.stats()
    expect(s).toMatchObject({ name: 'bare', acquisitions: 3, contended: 1, aborts: 1, timeouts: 1, longHolds: 0 })
    expect(s.wait.count).toBe(0)
    expect(s.hold.count).toBe(0)
  })

  it('cannot be combined with longHoldMs, which needs the hold clock (TypeError naming both)', () => {
    expect(() => new Mutex({ stats: false, longHoldMs: 100 })).toThrow(TypeError)
    expect(() => new Semaphore(2, { stats: false, longHoldMs: 100 })).toThrow(/longHoldMs.*stats: false/)
    expect(() => new RwLock({ stats: 'no' as never })).toThrow(/options\.stats/)
  })

  it('statistics on (the default) record one wait and one hold per grant, exactly', async () => {
    let t = 0
    const m = new Mutex({ clock: () => t })
    const g = await m.lock() // wait 0, grant at 0
    const queued = m.runExclusive(() => 'x') // queued at 0
    t = 7
    g.release() // hold 7; the waiter's grant (wait 7) shares this reading
    await queued
    const s = m.stats()
    expect(s.wait).toMatchObject({ count: 2, max: 7, mean: 3.5 })
    expect(s.hold).toMatchObject({ count: 2, max: 7, mean: 3.5 }) // the synchronous fn held 0
  })
})

describe('a queued runExclusive', () => {
  it('runs its callback in the caller’s async context, never in the releaser’s', async () => {
    const als = new AsyncLocalStorage<string>()
    const m = new Mutex()
    const gate = deferred()
    const seen: (string | undefined)[] = []
    const holder = als.run('holder', () =>
      m.runExclusive(async () => {
        seen.push(als.getStore())
        await gate.promise
      }),
    )
    const waiters = ['a', 'b', 'c'].map((id) => als.run(id, () => m.runExclusive(async () => {
      seen.push(als.getStore())
      await Promise.resolve()
      seen.push(als.getStore())
    })))
    als.run('releaser', () => gate.resolve())
    await Promise.all([holder, ...waiters])
    expect(seen).toEqual(['holder', 'a', 'a', 'b', 'b', 'c', 'c'])
  })

  it('settles a queued callback’s value in fewer microtask hops than a minimal FIFO mutex', async () => {
    // The reference: a queue of resolvers, release hands over directly, an async runExclusive.
    let locked = false
    const waiters: (() => void)[] = []
    const ref = {
      async runExclusive<T>(fn: () => Promise<T>): Promise<T> {
        if (locked) await new Promise<void>((resolve) => waiters.push(resolve))
        else locked = true
        try {
          return await fn()
        } finally {
          const next = waiters.shift()
          if (next === undefined) locked = false
          else next()
        }
      },
    }
    /** Hops from the holder's release until the queued call's caller sees its value. */
    async function hops(queue: (fn: () => Promise<string>) => Promise<string>, release: () => void): Promise<number> {
      const log: string[] = []
      const done = queue(async () => {
        log.push('fn')
        return 'v'
      }).then((v) => log.push(`done ${v}`))
      release()
      let n = 0
      while (!log.includes('done v') && n < 20) {
        await Promise.resolve()
        n++
      }
      await done
      expect(log).toEqual(['fn', 'done v'])
      return n
    }
    const m = new Mutex()
    const g = await m.lock()
    const ours = await hops((fn) => m.runExclusive(fn), () => g.release())
    let releaseRef!: () => void
    const holder = ref.runExclusive(() => new Promise<void>((resolve) => (releaseRef = resolve)))
    const theirs = await hops((fn) => ref.runExclusive(fn), () => releaseRef())
    await holder
    // One hop fewer than the reference (it awaits fn() inside an async function); a promise
    // adopted from the grant's reaction, as before, made it as many as the reference.
    expect(ours).toBeLessThan(theirs)
  })
})

describe('a waiter whose signal is aborted is never granted', () => {
  it('when an earlier listener of the same signal releases the holder, the lock goes to the next waiter', async () => {
    const m = new Mutex()
    const ac = new AbortController()
    const holder = await m.lock()
    // The holder stops its work when the request is aborted: this listener runs first.
    ac.signal.addEventListener('abort', () => holder.release(), { once: true })
    const sameRequest = m.lock({ signal: ac.signal })
    const result = sameRequest.then(
      (g) => {
        g.release()
        return 'granted'
      },
      (error: unknown) => error,
    )
    const next = m.lock()
    ac.abort(new Error('request aborted'))
    expect(await result).toEqual(new Error('request aborted'))
    const g = await next
    expect(m.locked).toBe(true)
    g.release()
    expect(m.stats()).toMatchObject({ acquisitions: 2, aborts: 1 })
  })

  it('the same holds for a queued runExclusive (its callback never runs)', async () => {
    const m = new Mutex()
    const ac = new AbortController()
    const holder = await m.lock()
    ac.signal.addEventListener('abort', () => holder.release(), { once: true })
    let ran = false
    const run = m.runExclusive(() => {
      ran = true
    }, { signal: ac.signal })
    ac.abort(new Error('gone'))
    await expect(run).rejects.toThrow('gone')
    expect(ran).toBe(false)
    expect(m.locked).toBe(false)
  })

  it('many waiters on one aborted signal all leave, none granted, the lock free', async () => {
    const m = new Mutex()
    const ac = new AbortController()
    setMaxListeners(0, ac.signal)
    const holder = await m.lock()
    ac.signal.addEventListener('abort', () => holder.release(), { once: true })
    const waits = Array.from({ length: 5_000 }, () => m.lock({ signal: ac.signal }).then(() => 'granted', () => 'aborted'))
    ac.abort()
    const outcomes = await Promise.all(waits)
    expect(outcomes.every((o) => o === 'aborted')).toBe(true)
    expect(m.waiting).toBe(0)
    expect(m.locked).toBe(false)
    expect(m.stats().aborts).toBe(5_000)
  })
})

describe('the long-hold monitor on a busy lock', () => {
  it('arms one timer per threshold period, not one per hand-off, and none once idle', async () => {
    vi.useFakeTimers()
    const armed = vi.spyOn(globalThis, 'setTimeout')
    const m = new Mutex({ longHoldMs: 1_000, clock: () => Date.now() })
    const runs = Array.from({ length: 500 }, (_, i) =>
      m.runExclusive(async () => {
        await Promise.resolve()
        return i
      }),
    )
    await flushMicrotasks(5_000)
    expect(await Promise.all(runs)).toHaveLength(500)
    expect(m.stats().contended).toBe(499)
    expect(armed.mock.calls.length).toBe(1) // 500 hand-offs within one threshold period
    expect(vi.getTimerCount()).toBe(0) // idle: the timer is gone
    armed.mockRestore()
  })

  it('a hand-off keeps the timer aimed at the released hold; it re-aims at the new holder when it fires', async () => {
    vi.useFakeTimers()
    const reports: number[] = []
    const m = new Mutex({ longHoldMs: 100, clock: () => Date.now(), onLongHold: (info) => reports.push(info.acquiredAt) })
    const t0 = Date.now()
    const first = await m.lock()
    const second = m.lock()
    vi.advanceTimersByTime(60)
    first.release() // hand-off at t0 + 60
    const g2 = await second
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(40) // the old deadline: nothing due, re-aimed at t0 + 160
    expect(reports).toEqual([])
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(59)
    expect(reports).toEqual([])
    vi.advanceTimersByTime(1)
    expect(reports).toEqual([t0 + 60])
    g2.release()
    expect(vi.getTimerCount()).toBe(0)
  })
})
