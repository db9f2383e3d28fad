/**
 * Semaphore queue controls: priorities (higher first, FIFO among equals), pause/resume,
 * and the onIdle / onSizeLessThan waits with their abort rules.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Semaphore } from '../../src/locks/index.js'
import { abortListenerCount, expectNoUnhandledRejections, flushMicrotasks } from '../helpers.js'

expectNoUnhandledRejections()

describe('Semaphore priorities', () => {
  it('grants queued requests by priority, higher first, FIFO among equals (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 30 }), fc.boolean(), async (priorities, viaRun) => {
        const sem = new Semaphore(1)
        const held = await sem.acquire()
        const order: number[] = []
        const done = priorities.map((priority, i) =>
          viaRun
            ? sem.run(() => void order.push(i), { priority })
            : sem.acquire(1, { priority }).then((p) => {
                order.push(i)
                p.release()
              }),
        )
        held.release()
        await Promise.all(done)
        const expected = priorities.map((p, i) => ({ p, i })).sort((a, b) => b.p - a.p || a.i - b.i).map((x) => x.i)
        expect(order).toEqual(expected)
        expect(sem.available).toBe(1)
      }),
      { numRuns: 60 },
    )
  })

  it('a free semaphore grants at once whatever the priority; a priority never takes permits while others wait ahead of it', async () => {
    const sem = new Semaphore(2)
    const a = await sem.acquire(2, { priority: -5 })
    expect(sem.available).toBe(0)
    const big = sem.acquire(2, { priority: 1 })
    const small = sem.acquire(1, { priority: 0 })
    expect(sem.tryAcquire()).toBeUndefined()
    a.release()
    const b = await big
    expect(sem.available).toBe(0)
    b.release()
    ;(await small).release()
    expect(sem.available).toBe(2)
  })

  it('a waiter that aborts leaves its place; the others keep their order', async () => {
    const sem = new Semaphore(1)
    const held = await sem.acquire()
    const ac = new AbortController()
    const order: string[] = []
    const low = sem.run(() => void order.push('low'), { priority: 0 })
    const high = sem.run(() => void order.push('high'), { priority: 2, signal: ac.signal })
    const mid = sem.run(() => void order.push('mid'), { priority: 1 })
    ac.abort(new Error('left'))
    await expect(high).rejects.toThrow('left')
    held.release()
    await Promise.all([low, mid])
    expect(order).toEqual(['mid', 'low'])
    expect(abortListenerCount(ac.signal)).toBe(0)
  })
})

describe('Semaphore pause and resume', () => {
  it('a paused semaphore grants nothing (tryAcquire fails, free permits stay free); resume grants in queue order', async () => {
    const sem = new Semaphore(2)
    const held = await sem.acquire()
    sem.pause()
    expect(sem.paused).toBe(true)
    expect(sem.tryAcquire()).toBeUndefined()
    const order: string[] = []
    const first = sem.run(() => void order.push('first'))
    const second = sem.run(() => void order.push('second'), { priority: 1 })
    held.release() // releasing while paused grants nothing
    await flushMicrotasks()
    expect(order).toEqual([])
    expect(sem.available).toBe(2)
    expect(sem.waiting).toBe(2)
    sem.resume()
    sem.resume() // idempotent
    await Promise.all([first, second])
    expect(order).toEqual(['second', 'first'])
    expect(sem.paused).toBe(false)
  })

  it('waiters of a paused semaphore still leave on timeout and on close', async () => {
    const sem = new Semaphore(1)
    sem.pause()
    await expect(sem.acquire(1, { timeoutMs: 0 })).rejects.toMatchObject({ name: 'TimeoutError' })
    const queued = sem.acquire()
    sem.close()
    await expect(queued).rejects.toMatchObject({ name: 'ClosedError' })
    expect(sem.waiting).toBe(0)
  })
})

describe('Semaphore onIdle and onSizeLessThan', () => {
  it('onIdle resolves once nothing is held and nobody waits; at once when idle', async () => {
    const sem = new Semaphore(2)
    await sem.onIdle()
    const a = await sem.acquire()
    const b = sem.acquire(2)
    let idle = false
    const waiting = sem.onIdle().then(() => {
      idle = true
    })
    a.release() // b is granted: still busy
    const permitB = await b
    await flushMicrotasks()
    expect(idle).toBe(false)
    permitB.release()
    await waiting
    expect(idle).toBe(true)
  })

  it('a paused semaphore with waiters is not idle', async () => {
    const sem = new Semaphore(1)
    sem.pause()
    const queued = sem.acquire()
    let idle = false
    const waiting = sem.onIdle().then(() => {
      idle = true
    })
    await flushMicrotasks()
    expect(idle).toBe(false)
    sem.resume()
    ;(await queued).release()
    await waiting
    expect(idle).toBe(true)
  })

  it('onSizeLessThan resolves once fewer than the limit wait (back-pressure for a producer)', async () => {
    const sem = new Semaphore(1)
    const held = await sem.acquire()
    const queued = [sem.acquire(), sem.acquire(), sem.acquire()]
    await sem.onSizeLessThan(4) // 3 < 4: at once
    let below2 = false
    const waiting = sem.onSizeLessThan(2).then(() => {
      below2 = true
    })
    held.release() // one granted: 2 wait
    const p1 = await queued[0]!
    await flushMicrotasks()
    expect(below2).toBe(false)
    p1.release() // 1 waits
    await waiting
    expect(below2).toBe(true)
    expect(sem.waiting).toBe(1)
    ;(await queued[1]!).release()
    ;(await queued[2]!).release()
  })

  it('an aborted wait rejects with the reason and leaves no listener or watcher behind', async () => {
    const sem = new Semaphore(1)
    const held = await sem.acquire()
    const queued = sem.acquire()
    const ac = new AbortController()
    const idle = sem.onIdle({ signal: ac.signal })
    const size = sem.onSizeLessThan(1, { signal: ac.signal })
    expect(abortListenerCount(ac.signal)).toBe(2)
    ac.abort(new Error('stop waiting'))
    await expect(idle).rejects.toThrow('stop waiting')
    await expect(size).rejects.toThrow('stop waiting')
    expect(abortListenerCount(ac.signal)).toBe(0)
    await expect(sem.onIdle({ signal: ac.signal })).rejects.toThrow('stop waiting') // aborted before the call
    held.release()
    ;(await queued).release()
    // A resolved wait also removes its listener.
    const ac2 = new AbortController()
    const g = await sem.acquire()
    const later = sem.onIdle({ signal: ac2.signal })
    expect(abortListenerCount(ac2.signal)).toBe(1)
    g.release()
    await later
    expect(abortListenerCount(ac2.signal)).toBe(0)
  })
})
