import { describe, expect, it } from 'vitest'
import { RwLock, Semaphore, Permit } from '../../src/locks/index.js'
import { ClosedError } from '../../src/errors.js'
import { abortListenerCount, expectNoUnhandledRejections, flushMicrotasks } from '../helpers.js'

expectNoUnhandledRejections()

describe('RwLock', () => {
  it('readers share the lock', async () => {
    const rw = new RwLock()
    const a = await rw.read()
    const b = await rw.read()
    const c = rw.tryRead()
    expect(c).toBeDefined()
    expect(rw.readers).toBe(3)
    expect(rw.writeLocked).toBe(false)
    expect(rw.tryWrite()).toBeUndefined()
    a.release()
    b.release()
    c!.release()
    expect(rw.locked).toBe(false)
  })

  it('a queued writer is not starved by a stream of readers; later reads wait for it', async () => {
    const rw = new RwLock()
    const order: string[] = []
    const r0 = await rw.read()
    const w = rw.runWrite(() => void order.push('write'))
    // A stream of readers arriving after the writer queued.
    const readers = Array.from({ length: 5 }, (_, i) => rw.runRead(() => void order.push(`read ${i}`)))
    expect(rw.tryRead()).toBeUndefined()
    expect(rw.waiting).toBe(6)
    await flushMicrotasks()
    expect(order).toEqual([])
    r0.release()
    await Promise.all([w, ...readers])
    expect(order).toEqual(['write', 'read 0', 'read 1', 'read 2', 'read 3', 'read 4'])
  })

  it('readers queued behind a writer are granted together once the writer releases', async () => {
    const rw = new RwLock()
    const w = await rw.write()
    const r1 = rw.read()
    const r2 = rw.read()
    const w2 = rw.write()
    w.release()
    const [g1, g2] = await Promise.all([r1, r2])
    expect(rw.readers).toBe(2)
    expect(rw.waiting).toBe(1)
    g1.release()
    expect(rw.writeLocked).toBe(false)
    g2.release()
    expect(rw.writeLocked).toBe(true)
    ;(await w2).release()
  })

  it('when a queued writer aborts, the readers behind it get in at once', async () => {
    const rw = new RwLock()
    const r0 = await rw.read()
    const ac = new AbortController()
    const w = rw.write({ signal: ac.signal })
    const r1 = rw.read()
    expect(rw.waiting).toBe(2)
    ac.abort(new Error('cancel write'))
    await expect(w).rejects.toThrow('cancel write')
    const g1 = await r1
    expect(rw.readers).toBe(2)
    expect(abortListenerCount(ac.signal)).toBe(0)
    g1.release()
    r0.release()
  })
})

describe('Semaphore', () => {
  it('hands out permits with weights, FIFO: a large head is not overtaken by small requests', async () => {
    const sem = new Semaphore(3)
    const p2 = await sem.acquire(2)
    expect(p2).toBeInstanceOf(Permit)
    expect(p2.permits).toBe(2)
    expect(sem.available).toBe(1)
    const big = sem.acquire(3)
    const small = sem.acquire(1)
    expect(sem.tryAcquire(1)).toBeUndefined() // 1 is free but someone waits
    await flushMicrotasks()
    expect(sem.waiting).toBe(2)
    p2.release()
    const g = await big
    expect(sem.available).toBe(0)
    g.release()
    const s1 = await small
    expect(sem.available).toBe(2)
    s1.release()
    expect(sem.available).toBe(3)
  })

  it('run holds `weight` permits while fn runs', async () => {
    const sem = new Semaphore(4)
    const seen = await sem.run(() => sem.available, { weight: 3 })
    expect(seen).toBe(1)
    expect(sem.available).toBe(4)
  })

  it('acquire(n) above the capacity rejects at once with RangeError naming the value', async () => {
    const sem = new Semaphore(2)
    await expect(sem.acquire(3)).rejects.toThrow(RangeError)
    await expect(sem.acquire(3)).rejects.toThrow(/received 3/)
    expect(() => sem.tryAcquire(3)).toThrow(RangeError)
    await expect(sem.run(() => 1, { weight: 5 })).rejects.toThrow(RangeError)
    expect(sem.waiting).toBe(0)
  })

  it('close() rejects current and future waiters with a fresh ClosedError; held permits stay valid', async () => {
    const sem = new Semaphore(1, { name: 'pool' })
    const held = await sem.acquire()
    const ac = new AbortController()
    const w1 = sem.acquire(1, { signal: ac.signal })
    const w2 = sem.acquire()
    sem.close()
    expect(sem.closed).toBe(true)
    const [e1, e2] = await Promise.all([w1.catch((e: unknown) => e), w2.catch((e: unknown) => e)])
    expect(e1).toBeInstanceOf(ClosedError)
    expect((e1 as Error).name).toBe('ClosedError')
    expect(e1).not.toBe(e2)
    expect(abortListenerCount(ac.signal)).toBe(0)
    await expect(sem.acquire()).rejects.toBeInstanceOf(ClosedError)
    await expect(sem.run(() => 1)).rejects.toBeInstanceOf(ClosedError)
    expect(sem.tryAcquire()).toBeUndefined()
    expect(sem.available).toBe(0)
    held.release()
    expect(sem.available).toBe(1)
    expect(sem.tryAcquire()).toBeUndefined()
    sem.close() // idempotent
  })

  it('close(reason) rejects with that reason', async () => {
    const sem = new Semaphore(1)
    const held = await sem.acquire()
    const w = sem.acquire()
    const reason = new Error('shutting down')
    sem.close(reason)
    await expect(w).rejects.toBe(reason)
    await expect(sem.acquire()).rejects.toBe(reason)
    held.release()
  })
})
