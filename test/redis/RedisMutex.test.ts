/**
 * RedisMutex against a real redis-server: grants, fencing, owner-only release and
 * extend, renewal, lost leases, waits woken by pub/sub and by lease expiry, abort and
 * timeout, local FIFO, dispose, and nothing left behind.
 */
import { expect, it } from 'vitest'
import type { Redis } from 'ioredis'
import { RedisMutex } from '../../src/redis/RedisMutex.js'
import { LeaseLostError } from '../../src/redis/errors.js'
import type { RedisClient } from '../../src/redis/types.js'
import { abortListenerCount, collector, deferred, expectNoUnhandledRejections } from '../helpers.js'
import { describeRedis, useRedisServer } from './helpers.js'

expectNoUnhandledRejections()

let n = 0
const freshKey = (): string => `test:mutex:${process.pid}:${++n}`

async function numsub(redis: Redis, channel: string): Promise<number> {
  const reply = (await redis.pubsub('NUMSUB', channel)) as [string, number]
  return reply[1]
}

describeRedis('RedisMutex', () => {
  const { connect } = useRedisServer()

  it('grants with strictly increasing fencing tokens and releases by compare-and-delete', async () => {
    const redis = connect()
    const key = freshKey()
    await using mutex = new RedisMutex({ client: redis, key })
    const tokens: number[] = []
    for (let i = 0; i < 5; i++) {
      const guard = await mutex.lock()
      tokens.push(guard.fencingToken)
      expect(await redis.exists(key)).toBe(1)
      expect(await guard.release()).toBe(true)
      expect(await redis.exists(key)).toBe(0)
      expect(guard.release()).toBe(guard.release()) // idempotent: one release, one answer
    }
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBe(tokens[i - 1]! + 1)
    // Seeded from the server clock (microseconds), so far above small integers.
    expect(tokens[0]).toBeGreaterThan(1e15)
    expect(Number(await redis.get(`${key}:fence`))).toBe(tokens.at(-1))
    expect(mutex.stats()).toMatchObject({ name: key, acquisitions: 5, contended: 0, timeouts: 0, aborts: 0 })
    expect(mutex.stats().hold.count).toBe(5)
  })

  it('release never deletes a lease that is no longer ours', async () => {
    const redis = connect()
    const key = freshKey()
    await using mutex = new RedisMutex({ client: redis, key })
    const guard = await mutex.lock()
    await redis.set(key, 'someone-else', 'PX', 10_000)
    expect(await guard.release()).toBe(false)
    expect(await redis.get(key)).toBe('someone-else')
  })

  it('excludes across two clients; the waiter is woken by the release message, not by polling', async () => {
    const key = freshKey()
    await using m1 = new RedisMutex({ client: connect(), key, leaseMs: 10_000, pollMs: 60_000 })
    await using m2 = new RedisMutex({ client: connect(), key, leaseMs: 10_000, pollMs: 60_000 })
    const g1 = await m1.lock()
    let granted = false
    const second = m2.lock().then((g) => {
      granted = true
      return g
    })
    await new Promise((r) => setTimeout(r, 100))
    expect(granted).toBe(false)
    expect(m2.waiting).toBe(1)
    const releasedAt = performance.now()
    await g1.release()
    const g2 = await second
    expect(performance.now() - releasedAt).toBeLessThan(1_000) // pollMs is 60 s: only the message can wake it
    expect(g2.fencingToken).toBe(g1.fencingToken + 1)
    expect(m2.stats().contended).toBe(1)
    await g2.release()
  })

  it('a holder that never releases (crashed) is succeeded at its lease expiry, not at the poll', async () => {
    const redis = connect()
    const key = freshKey()
    await redis.set(key, 'crashed-owner', 'PX', 300)
    await using mutex = new RedisMutex({ client: redis, key, pollMs: 60_000 })
    const started = performance.now()
    const guard = await mutex.lock({ timeoutMs: 5_000 })
    const waited = performance.now() - started
    expect(waited).toBeGreaterThanOrEqual(250)
    expect(waited).toBeLessThan(5_000) // the poll is 60 s: the PTTL timer woke it
    await guard.release()
  })

  it('renews the lease while held, past several lease lengths', async () => {
    const redis = connect()
    const key = freshKey()
    await using mutex = new RedisMutex({ client: redis, key, leaseMs: 300 })
    const guard = await mutex.lock()
    await new Promise((r) => setTimeout(r, 900))
    expect(guard.signal.aborted).toBe(false)
    expect(await redis.get(key)).not.toBeNull()
    const pttl = await redis.pttl(key)
    expect(pttl).toBeGreaterThan(0)
    expect(pttl).toBeLessThanOrEqual(300)
    await guard.release()
    expect(await redis.exists(key)).toBe(0)
  })

  it('aborts the holder signal with LeaseLostError("lost") when renewal finds the lease taken over', async () => {
    const redis = connect()
    const key = freshKey()
    await using mutex = new RedisMutex({ client: redis, key, leaseMs: 300, renewEveryMs: 50 })
    const guard = await mutex.lock()
    const aborted = deferred<unknown>()
    guard.signal.addEventListener('abort', () => aborted.resolve(guard.signal.reason))
    await redis.set(key, 'intruder', 'PX', 10_000)
    const reason = await aborted.promise
    expect(reason).toBeInstanceOf(LeaseLostError)
    expect(reason).toMatchObject({ name: 'LeaseLostError', why: 'lost', key, fencingToken: guard.fencingToken })
    expect(await guard.release()).toBe(false)
    expect(await redis.get(key)).toBe('intruder')
  })

  it('with renewal off, the signal aborts ("not-renewed") before the server lets the lease expire', async () => {
    const redis = connect()
    const key = freshKey()
    await using mutex = new RedisMutex({ client: redis, key, leaseMs: 200, renewEveryMs: Infinity })
    const guard = await mutex.lock()
    const aborted = deferred<unknown>()
    guard.signal.addEventListener('abort', () => aborted.resolve(guard.signal.reason))
    const reason = await aborted.promise
    expect(reason).toMatchObject({ why: 'not-renewed' })
    // Aborted before expiry: the key is still there at the moment of the abort (drift margin).
    await guard.release()
  })

  it('timeoutMs and signal: rejects, counts, leaves the queue; an already aborted signal takes nothing', async () => {
    const redis = connect()
    const key = freshKey()
    await using holder = new RedisMutex({ client: connect(), key })
    await using mutex = new RedisMutex({ client: redis, key, pollMs: 50 })
    const held = await holder.lock()
    await expect(mutex.lock({ timeoutMs: 120 })).rejects.toMatchObject({ name: 'TimeoutError', timeoutMs: 120 })
    await expect(mutex.lock({ timeoutMs: 0 })).rejects.toMatchObject({ name: 'TimeoutError' })
    expect(await mutex.tryLock()).toBeUndefined()
    const controller = new AbortController()
    const waiting = mutex.lock({ signal: controller.signal })
    await new Promise((r) => setTimeout(r, 50))
    controller.abort(new Error('caller left'))
    await expect(waiting).rejects.toThrow('caller left')
    expect(abortListenerCount(controller.signal)).toBe(0)
    await held.release()
    const pre = AbortSignal.abort(new Error('before'))
    await expect(mutex.lock({ signal: pre })).rejects.toThrow('before')
    expect(await redis.exists(key)).toBe(0) // nothing was taken, although free
    expect(mutex.stats()).toMatchObject({ timeouts: 2, aborts: 2, acquisitions: 0 })
    expect(mutex.waiting).toBe(0)
  })

  it('serves the waiters of one object in FIFO order', async () => {
    const key = freshKey()
    await using mutex = new RedisMutex({ client: connect(), key })
    const first = await mutex.lock()
    const order: number[] = []
    const waits = [1, 2, 3, 4].map((i) =>
      mutex.lock().then(async (g) => {
        order.push(i)
        await g.release()
      }),
    )
    await new Promise((r) => setTimeout(r, 20))
    expect(mutex.waiting).toBe(4)
    await first.release()
    await Promise.all(waits)
    expect(order).toEqual([1, 2, 3, 4])
    expect(mutex.stats()).toMatchObject({ acquisitions: 5, contended: 4 })
  })

  it('an attempt granted after its caller left is given back at once', async () => {
    const redis = connect()
    const key = freshKey()
    // A client whose replies arrive 150 ms late: the caller times out while its grant is in flight.
    const slow: RedisClient = {
      evalsha: (...args) =>
        new Promise((resolve, reject) => {
          setTimeout(() => {
            redis.evalsha(...args).then(resolve, reject)
          }, 150)
        }),
      eval: (...args) => redis.eval(...args),
      get: (k) => redis.get(k),
      publish: (c, m) => redis.publish(c, m),
      duplicate: () => redis.duplicate(),
    }
    await using mutex = new RedisMutex({ client: slow, key })
    const controller = new AbortController()
    const pending = mutex.lock({ signal: controller.signal })
    setTimeout(() => controller.abort(new Error('left')), 20)
    await expect(pending).rejects.toThrow('left')
    await new Promise((r) => setTimeout(r, 450))
    expect(await redis.exists(key)).toBe(0)
  })

  it('many waiters aborting leave no listeners, subscriptions or timers behind', async () => {
    const redis = connect()
    const key = freshKey()
    await using holder = new RedisMutex({ client: connect(), key })
    const held = await holder.lock()
    const mutexes = Array.from({ length: 5 }, () => new RedisMutex({ client: redis, key, pollMs: 30 }))
    const controllers = Array.from({ length: 50 }, () => new AbortController())
    const waits = controllers.map((c, i) => mutexes[i % 5]!.lock({ signal: c.signal, timeoutMs: 60_000 }))
    await new Promise((r) => setTimeout(r, 100))
    expect(await numsub(redis, `${key}:released`)).toBe(1) // one subscription, shared
    for (const c of controllers) c.abort(new Error('gone'))
    const results = await Promise.allSettled(waits)
    expect(results.every((r) => r.status === 'rejected')).toBe(true)
    for (const c of controllers) expect(abortListenerCount(c.signal)).toBe(0)
    for (const m of mutexes) expect(m.waiting).toBe(0)
    await new Promise((r) => setTimeout(r, 50))
    expect(await numsub(redis, `${key}:released`)).toBe(0)
    expect(mutexes.reduce((s, m) => s + m.stats().aborts, 0)).toBe(50)
    await held.release()
    for (const m of mutexes) await m[Symbol.asyncDispose]()
  })

  it('dispose rejects waiters, aborts and releases held guards, and closes the subscriber it created', async () => {
    const redis = connect()
    const key = freshKey()
    const other = new RedisMutex({ client: connect(), key: `${key}:other` })
    const mutex = new RedisMutex({ client: redis, key })
    const guard = await mutex.lock()
    const waiting = mutex.lock()
    await expect(Promise.race([waiting, new Promise((r) => setTimeout(r, 30, 'pending'))])).resolves.toBe('pending')
    await mutex[Symbol.asyncDispose]()
    await expect(waiting).rejects.toMatchObject({ name: 'DisposedError' })
    expect(guard.signal.aborted).toBe(true)
    expect(guard.signal.reason).toMatchObject({ name: 'DisposedError' })
    expect(await redis.exists(key)).toBe(0)
    await expect(mutex.lock()).rejects.toMatchObject({ name: 'DisposedError' })
    await expect(mutex.tryLock()).rejects.toMatchObject({ name: 'DisposedError' })
    await other[Symbol.asyncDispose]()
  })

  it('runExclusive passes the lease signal and guard, releases on throw', async () => {
    const redis = connect()
    const key = freshKey()
    await using mutex = new RedisMutex({ client: redis, key })
    const seen = await mutex.runExclusive((signal, guard) => ({ aborted: signal.aborted, token: guard.fencingToken }))
    expect(seen.aborted).toBe(false)
    await expect(mutex.runExclusive(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(await redis.exists(key)).toBe(0)
    await expect(mutex.runExclusive(42 as never)).rejects.toThrow(TypeError)
  })

  it('reports a long hold once while held', async () => {
    const key = freshKey()
    const holds: number[] = []
    await using mutex = new RedisMutex({ client: connect(), key, longHoldMs: 50, onLongHold: (info) => holds.push(info.heldMs) })
    const guard = await mutex.lock()
    await new Promise((r) => setTimeout(r, 120))
    expect(holds).toHaveLength(1)
    expect(holds[0]).toBeGreaterThanOrEqual(45)
    await guard.release()
    expect(mutex.stats().longHolds).toBe(1)
  })

  it('a failed release is reported to onError and resolves false', async () => {
    const redis = connect()
    const key = freshKey()
    const { onError, seen } = collector()
    let failRelease = false
    const flaky: RedisClient = {
      evalsha: (...args) => (failRelease ? Promise.reject(new Error('connection lost')) : redis.evalsha(...args)),
      eval: (...args) => redis.eval(...args),
      get: (k) => redis.get(k),
      publish: (c, m) => redis.publish(c, m),
      duplicate: () => redis.duplicate(),
    }
    await using mutex = new RedisMutex({ client: flaky, key, onError })
    const guard = await mutex.lock()
    failRelease = true
    expect(await guard.release()).toBe(false)
    expect(seen).toHaveLength(1)
    expect(seen[0]!.context).toMatchObject({ area: 'redis', event: 'release-error', key })
    failRelease = false
    await redis.del(key)
  })

  it('refuses bad options eagerly', () => {
    const client = connect()
    expect(() => new RedisMutex({ client, key: 'k', timeoutMs: 5 } as never)).toThrow(/no option "timeoutMs".*pass it to each wait/)
    expect(() => new RedisMutex({ client, key: 'k', leaseMS: 5 } as never)).toThrow(/did you mean "leaseMs"/)
    expect(() => new RedisMutex({ client, key: '' })).toThrow(TypeError)
    expect(() => new RedisMutex({ client: {} as never, key: 'k' })).toThrow(TypeError)
    expect(() => new RedisMutex({ client, key: 'k', leaseMs: 5 })).toThrow(RangeError)
    expect(() => new RedisMutex({ client, key: 'k', leaseMs: 100, renewEveryMs: 100 })).toThrow(RangeError)
    expect(() => new RedisMutex({ client, key: 'k', pollMs: -1 })).toThrow(RangeError)
    expect(() => new RedisMutex(undefined as never)).toThrow(TypeError)
  })
})
