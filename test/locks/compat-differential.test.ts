/**
 * Differential test: the same scenarios against the real async-mutex 0.5 and
 * asyncsafe/compat/async-mutex; their logs must be identical. Logs are taken after
 * letting microtasks drain, so they compare observable behaviour (grant order, values,
 * errors, lock state), not the number of internal ticks.
 */
import { describe, expect, it, vi } from 'vitest'
import * as real from 'async-mutex'
import * as compat from '../../src/locks/compat/async-mutex.js'
import { expectNoUnhandledRejections, flushMicrotasks } from '../helpers.js'

expectNoUnhandledRejections()

type Lib = typeof real
type Log = unknown[]

function errName(lib: Lib, error: unknown): string {
  if (error === lib.E_CANCELED) return 'E_CANCELED'
  if (error === lib.E_TIMEOUT) return 'E_TIMEOUT'
  if (error === lib.E_ALREADY_LOCKED) return 'E_ALREADY_LOCKED'
  return error instanceof Error ? `Error(${error.message})` : String(error)
}

const settle = (): Promise<void> => flushMicrotasks(60)

const scenarios: Record<string, (lib: Lib, log: Log) => Promise<void>> = {
  'mutex FIFO, isLocked, runExclusive values and errors': async (lib, log) => {
    const m = new lib.Mutex()
    const release = await m.acquire()
    log.push(['locked', m.isLocked()])
    const runs = [1, 2, 3].map((i) => m.runExclusive(() => (log.push(['run', i]), i * 10)))
    const failing = m.runExclusive(() => {
      throw new Error('boom')
    })
    await settle()
    log.push(['before release'])
    release()
    release() // idempotent
    log.push(['results', await Promise.all(runs)])
    log.push(['error', await failing.catch((e: unknown) => errName(lib, e))])
    log.push(['locked', m.isLocked()])
  },

  'priorities: higher first, FIFO among equals, immediate only if no queued priority >= ours': async (lib, log) => {
    const s = new lib.Semaphore(1)
    const [, release] = await s.acquire()
    const order: string[] = []
    const waits = [
      [0, 'a'], [5, 'b'], [5, 'c'], [-1, 'd'], [10, 'e'], [0, 'f'], [2.5, 'g'],
    ].map(([p, n]) => s.acquire(1, p as number).then(([value, r]) => {
      order.push(`${n as string}:${value}`)
      r()
    }))
    await settle()
    release()
    await Promise.all(waits)
    log.push(order, s.getValue())
    // With the semaphore free and a low-priority waiter queued behind a big weight, a higher priority goes first.
    const s2 = new lib.Semaphore(2)
    const [, r1] = await s2.acquire(2)
    const low = s2.acquire(2, 0).then(([, r]) => (log.push('low'), r()))
    const high = s2.acquire(1, 1).then(([, r]) => (log.push('high'), r()))
    await settle()
    r1()
    await Promise.all([low, high])
    log.push(s2.getValue())
  },

  'weights, zero and negative values, setValue, getValue, unscoped release': async (lib, log) => {
    const s = new lib.Semaphore(3)
    const [v1, r1] = await s.acquire(2)
    log.push(['v1', v1, s.getValue()])
    const big = s.acquire(2).then(([v, r]) => (log.push(['big', v]), r))
    const small = s.acquire(1).then(([v, r]) => (log.push(['small', v]), r))
    await settle()
    log.push(['value', s.getValue(), s.isLocked()])
    r1()
    const rb = await big
    const rs = await small
    log.push(['after', s.getValue(), s.isLocked()])
    rb()
    rs()
    log.push(['back', s.getValue()])
    const zero = new lib.Semaphore(0)
    log.push(['zero locked', zero.isLocked()])
    const waiting = zero.acquire().then(([v, r]) => (log.push(['zero granted', v]), r))
    await settle()
    zero.setValue(2)
    const rz = await waiting
    log.push(['zero value', zero.getValue()])
    rz()
    const neg = new lib.Semaphore(-1)
    const nw = neg.acquire().then(([v, r]) => (log.push(['neg granted', v]), r))
    neg.release()
    await settle()
    log.push(['neg', neg.getValue(), neg.isLocked()])
    neg.release(1)
    ;(await nw)()
    log.push(['neg end', neg.getValue()])
    const m = new lib.Mutex()
    const rel = await m.acquire()
    m.release()
    log.push(['unscoped', m.isLocked()])
    m.release() // no-op when unlocked
    rel() // the releaser still releases (async-mutex quirk: the value goes to 2)
    log.push(['after releaser', m.isLocked()])
    const again = await m.acquire()
    log.push(['again', m.isLocked()])
    again()
  },

  'cancel rejects pending with the shared (or custom) error; held locks stay held': async (lib, log) => {
    const m = new lib.Mutex()
    const held = await m.acquire()
    const p1 = m.acquire().catch((e: unknown) => errName(lib, e))
    const p2 = m.runExclusive(() => 'ran').catch((e: unknown) => errName(lib, e))
    await settle()
    m.cancel()
    log.push(await p1, await p2, m.isLocked())
    held()
    log.push(m.isLocked())
    const custom = new Error('custom cancel')
    const s = new lib.Semaphore(1, custom)
    const [, r] = await s.acquire()
    const p3 = s.acquire().catch((e: unknown) => (e === custom ? 'custom' : errName(lib, e)))
    await settle()
    s.cancel()
    log.push(await p3)
    r()
  },

  'waitForUnlock with weights and priorities': async (lib, log) => {
    const s = new lib.Semaphore(2)
    const [, r2] = await s.acquire(2)
    const events: string[] = []
    const w1 = s.waitForUnlock(1).then(() => events.push('w1'))
    const w2 = s.waitForUnlock(2).then(() => events.push('w2'))
    const queued = s.acquire(1, 5).then(([, r]) => (events.push('acq'), r))
    const w3 = s.waitForUnlock(1, 10).then(() => events.push('w3-high'))
    await settle()
    r2()
    const rq = await queued
    await settle()
    events.push(`value ${s.getValue()}`)
    rq()
    await Promise.all([w1, w2, w3])
    log.push(events)
    const m = new lib.Mutex()
    log.push(await m.waitForUnlock().then(() => 'free at once'))
  },

  'invalid weights throw synchronously': async (lib, log) => {
    const s = new lib.Semaphore(1)
    const calls: (() => unknown)[] = [() => s.acquire(0), () => s.waitForUnlock(-1), () => s.release(0)]
    for (const f of calls) {
      try {
        f()
        log.push('no throw')
      } catch (e) {
        log.push(errName(lib, e))
      }
    }
    log.push(await s.runExclusive(() => 'x', 0).catch((e: unknown) => `rejected ${errName(lib, e)}`))
  },

  'withTimeout: timed-out waiters reject with E_TIMEOUT and are released when granted later': async (lib, log) => {
    const m = new lib.Mutex()
    const tm = lib.withTimeout(m, 10)
    const first = await tm.acquire()
    const late = tm.acquire().catch((e: unknown) => errName(lib, e))
    const lateRun = tm.runExclusive(() => 'ran').catch((e: unknown) => errName(lib, e))
    await settle()
    vi.advanceTimersByTime(10)
    log.push(await late, await lateRun, m.isLocked())
    first()
    await settle()
    log.push(['after grant to timed-out waiters', m.isLocked()])
    const custom = new Error('too slow')
    const s = new lib.Semaphore(1)
    const ts = lib.withTimeout(s, 5, custom)
    const [v, r] = await ts.acquire()
    log.push(['ts value', v, ts.getValue(), ts.isLocked()])
    const p = ts.acquire(1).catch((e: unknown) => (e === custom ? 'custom' : errName(lib, e)))
    await settle()
    vi.advanceTimersByTime(5)
    log.push(await p)
    r()
    await settle()
    log.push(['sem value', s.getValue()])
    ts.setValue(3)
    log.push(['set through decorator', s.getValue()])
    log.push(await ts.runExclusive((value) => `value ${String(value)}`, 2))
  },

  'tryAcquire: E_ALREADY_LOCKED at once when locked, succeeds when free': async (lib, log) => {
    const m = new lib.Mutex()
    log.push(await lib.tryAcquire(m).runExclusive(() => 'free'))
    const held = await m.acquire()
    const p = lib.tryAcquire(m).runExclusive(() => 'locked').catch((e: unknown) => errName(lib, e))
    await settle()
    vi.advanceTimersByTime(0)
    log.push(await p)
    held()
    await settle()
    log.push(m.isLocked())
    const s = new lib.Semaphore(1)
    const custom = new Error('busy')
    const [, r] = await s.acquire()
    const q = lib.tryAcquire(s, custom).acquire().catch((e: unknown) => (e === custom ? 'custom' : errName(lib, e)))
    await settle()
    vi.advanceTimersByTime(0)
    log.push(await q)
    r()
  },
}

describe('asyncsafe/compat/async-mutex behaves like async-mutex 0.5', () => {
  it.each(Object.keys(scenarios))('%s', async (name) => {
    const run = async (lib: Lib): Promise<Log> => {
      vi.useFakeTimers()
      const log: Log = []
      try {
        await scenarios[name]!(lib, log)
      } finally {
        vi.runOnlyPendingTimers()
        vi.clearAllTimers()
        vi.useRealTimers()
      }
      return log
    }
    const expected = await run(real)
    const actual = await run(compat as unknown as Lib)
    expect(actual).toEqual(expected)
    expect(expected.length).toBeGreaterThan(0)
  })

  it('exports the same names, shared error objects with the same messages, and stats()', async () => {
    for (const key of Object.keys(real)) expect(compat, key).toHaveProperty(key)
    expect(compat.E_TIMEOUT.message).toBe(real.E_TIMEOUT.message)
    expect(compat.E_ALREADY_LOCKED.message).toBe(real.E_ALREADY_LOCKED.message)
    expect(compat.E_CANCELED.message).toBe(real.E_CANCELED.message)
    const m = new compat.Mutex()
    await m.runExclusive(() => 1)
    const r = await m.acquire()
    const w = m.acquire()
    r()
    ;(await w)()
    const s = m.stats()
    expect(s).toMatchObject({ acquisitions: 3, contended: 1, timeouts: 0, aborts: 0 })
    expect(s.wait.count).toBe(3)
    expect(s.hold.count).toBe(3)
  })
})
