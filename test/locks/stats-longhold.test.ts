import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { describe, expect, it, vi } from 'vitest'
import { Mutex, RwLock, Semaphore, type LongHoldInfo } from '../../src/locks/index.js'
import { expectNoUnhandledRejections } from '../helpers.js'

expectNoUnhandledRejections()

/** A manual clock. */
function manualClock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = start
  return {
    now: () => t,
    advance: (ms) => {
      t += ms
    },
  }
}

describe('lock statistics', () => {
  it('counts grants, contended grants, timeouts and aborts exactly; wait and hold summaries are exact', async () => {
    const clock = manualClock()
    const m = new Mutex({ name: 'db', clock: clock.now })
    expect(m.stats()).toEqual({
      name: 'db', acquisitions: 0, contended: 0, timeouts: 0, aborts: 0, longHolds: 0,
      wait: { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 },
      hold: { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 },
    })
    const g1 = await m.lock() // uncontended: wait 0
    const w2 = m.lock() // queued at t=1000
    clock.advance(10)
    g1.release() // hold 10; w2 granted at 1010 after waiting 10
    const g2 = await w2
    clock.advance(30)
    const ac = new AbortController()
    const aborted = m.lock({ signal: ac.signal })
    ac.abort(new Error('x'))
    await expect(aborted).rejects.toThrow('x')
    await expect(m.lock({ timeoutMs: 0 })).rejects.toThrow(/timed out/)
    const pre = new AbortController()
    pre.abort('early')
    await expect(m.lock({ signal: pre.signal })).rejects.toBe('early')
    g2.release() // hold 30
    const g3 = m.tryLock() // uncontended grant, hold 0
    expect(g3).toBeDefined()
    g3!.release()
    const s = m.stats()
    expect(s.acquisitions).toBe(3)
    expect(s.contended).toBe(1)
    expect(s.timeouts).toBe(1)
    expect(s.aborts).toBe(2)
    expect(s.wait.count).toBe(3)
    expect(s.wait.max).toBe(10)
    expect(s.wait.mean).toBeCloseTo(10 / 3, 12)
    expect(s.hold.count).toBe(3)
    expect(s.hold.max).toBe(30)
    expect(s.hold.mean).toBeCloseTo(40 / 3, 12)
    expect(s.hold.p50).toBeGreaterThan(10 * 0.97)
    expect(s.hold.p50).toBeLessThan(10 * 1.03)
  })

  it('counts a timed-out waiter as a timeout, not a grant', async () => {
    vi.useFakeTimers()
    const m = new Mutex()
    const g = await m.lock()
    const t = m.lock({ timeoutMs: 10 }).catch((e: unknown) => e)
    vi.advanceTimersByTime(10)
    expect(((await t) as Error).name).toBe('TimeoutError')
    g.release()
    expect(m.stats()).toMatchObject({ acquisitions: 1, contended: 0, timeouts: 1, aborts: 0 })
  })

  it('guards: heldMs runs while held and is frozen at release', async () => {
    const clock = manualClock()
    const sem = new Semaphore(2, { clock: clock.now })
    const p = await sem.acquire(2)
    expect(p.acquiredAt).toBe(1_000)
    clock.advance(5)
    expect(p.heldMs).toBe(5)
    expect(p.released).toBe(false)
    p.release()
    clock.advance(100)
    expect(p.heldMs).toBe(5)
    expect(p.released).toBe(true)
    expect(sem.stats().hold.max).toBe(5)
  })

  it('RwLock records every read and write hold', async () => {
    const clock = manualClock()
    const rw = new RwLock({ clock: clock.now })
    const r1 = await rw.read()
    const r2 = await rw.read()
    clock.advance(4)
    r1.release()
    r2.release()
    await rw.runWrite(() => clock.advance(8))
    const s = rw.stats()
    expect(s.acquisitions).toBe(3)
    expect(s.hold.count).toBe(3)
    expect(s.hold.max).toBe(8)
    expect(s.hold.mean).toBeCloseTo(16 / 3, 12)
  })
})

describe('long holds', () => {
  it('reports once, while still held, with name, heldMs and acquiredAt; no timer left after release', async () => {
    vi.useFakeTimers()
    const reports: LongHoldInfo[] = []
    const m = new Mutex({ name: 'cfg', longHoldMs: 100, clock: () => Date.now(), onLongHold: (info) => reports.push(info) })
    expect(vi.getTimerCount()).toBe(0)
    const g = await m.lock()
    const start = Date.now()
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(99)
    expect(reports).toEqual([])
    vi.advanceTimersByTime(1)
    expect(reports).toEqual([{ name: 'cfg', heldMs: 100, acquiredAt: start }])
    expect(g.released).toBe(false)
    vi.advanceTimersByTime(1_000)
    expect(reports).toHaveLength(1)
    expect(vi.getTimerCount()).toBe(0) // reported: nothing left to watch
    g.release()
    expect(m.stats().longHolds).toBe(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('uses one timer for many holds and re-arms it for the remaining time of the next one', async () => {
    vi.useFakeTimers()
    const reports: number[] = []
    const sem = new Semaphore(3, { longHoldMs: 100, clock: () => Date.now(), onLongHold: (info) => reports.push(info.acquiredAt) })
    const t0 = Date.now()
    const a = await sem.acquire()
    vi.advanceTimersByTime(30)
    const b = await sem.acquire()
    vi.advanceTimersByTime(30)
    const c = await sem.acquire()
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(40) // a reaches 100
    expect(reports).toEqual([t0])
    b.release() // b leaves before its 100
    vi.advanceTimersByTime(59)
    expect(reports).toEqual([t0])
    vi.advanceTimersByTime(1) // c reaches 100
    expect(reports).toEqual([t0, t0 + 60])
    expect(vi.getTimerCount()).toBe(0)
    a.release()
    c.release()
    expect(sem.stats().longHolds).toBe(2)
  })

  it('an onLongHold that acquires the same lock does not delay the report of the next due hold', async () => {
    vi.useFakeTimers()
    const reportedAt: number[] = []
    let extra: { release(): void } | undefined
    const sem = new Semaphore(3, {
      longHoldMs: 100,
      clock: () => Date.now(),
      onLongHold: () => {
        reportedAt.push(Date.now())
        extra ??= sem.tryAcquire() // a new hold, armed while the monitor is checking
      },
    })
    const t0 = Date.now()
    const a = await sem.acquire()
    vi.advanceTimersByTime(30)
    const b = await sem.acquire()
    vi.advanceTimersByTime(70) // a reaches 100; the callback acquires
    expect(reportedAt).toEqual([t0 + 100])
    expect(extra).toBeDefined()
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(30) // b reaches 100: reported now, not 100 ms after the callback
    expect(reportedAt).toEqual([t0 + 100, t0 + 130])
    vi.advanceTimersByTime(70) // the hold taken in the callback reaches 100
    expect(reportedAt).toEqual([t0 + 100, t0 + 130, t0 + 200])
    expect(vi.getTimerCount()).toBe(0)
    a.release()
    b.release()
    extra!.release()
    expect(sem.stats().longHolds).toBe(3)
  })

  it('reports a long runExclusive whose callback is async, measured from the grant', async () => {
    vi.useFakeTimers()
    const reports: LongHoldInfo[] = []
    const m = new Mutex({ name: 'job', longHoldMs: 100, clock: () => Date.now(), onLongHold: (info) => reports.push(info) })
    const start = Date.now()
    const done = m.runExclusive(() => new Promise<string>((resolve) => setTimeout(() => resolve('ok'), 250)))
    vi.advanceTimersByTime(100)
    expect(reports).toEqual([{ name: 'job', heldMs: 100, acquiredAt: start }])
    vi.advanceTimersByTime(150)
    await expect(done).resolves.toBe('ok')
    expect(m.stats().hold.max).toBe(250)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('clears its timer as soon as nothing is held', async () => {
    vi.useFakeTimers()
    const m = new Mutex({ longHoldMs: 50 })
    for (let i = 0; i < 10; i++) (await m.lock()).release()
    expect(vi.getTimerCount()).toBe(0)
    await m.runExclusive(() => undefined)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('publishes asyncsafe:lock:long-hold and captures the acquiring stack when asked', async () => {
    vi.useFakeTimers()
    const seen: unknown[] = []
    const listener = (message: unknown): void => {
      seen.push(message)
    }
    subscribe('asyncsafe:lock:long-hold', listener)
    try {
      const m = new Mutex({ name: 'traced', longHoldMs: 10, captureStack: true, clock: () => Date.now() })
      const g = await m.lock()
      vi.advanceTimersByTime(10)
      expect(seen).toHaveLength(1)
      expect(seen[0]).toMatchObject({ name: 'traced', heldMs: 10 })
      expect((seen[0] as LongHoldInfo).stack).toMatch(/stats-longhold\.test/)
      g.release()
    } finally {
      unsubscribe('asyncsafe:lock:long-hold', listener)
    }
  })

  it('an onLongHold that throws becomes a process warning, not a failure', async () => {
    vi.useFakeTimers()
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined)
    try {
      const m = new Mutex({ longHoldMs: 5, clock: () => Date.now(), onLongHold: () => { throw new Error('observer bug') } })
      const g = await m.lock()
      vi.advanceTimersByTime(5)
      expect(warn).toHaveBeenCalledTimes(1)
      expect(String(warn.mock.calls[0]![0])).toMatch(/observer bug/)
      g.release()
    } finally {
      warn.mockRestore()
    }
  })

  it('with an injected clock that does not move, re-arms instead of reporting early', async () => {
    vi.useFakeTimers()
    const clock = manualClock()
    const reports: number[] = []
    const m = new Mutex({ longHoldMs: 100, clock: clock.now, onLongHold: (i) => reports.push(i.heldMs) })
    const g = await m.lock()
    vi.advanceTimersByTime(100)
    expect(reports).toEqual([])
    expect(vi.getTimerCount()).toBe(1) // re-armed for the remaining 100 ms by its own clock
    clock.advance(150)
    vi.advanceTimersByTime(100)
    expect(reports).toEqual([150])
    g.release()
    expect(vi.getTimerCount()).toBe(0)
  })
})
