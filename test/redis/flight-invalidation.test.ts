/**
 * Cross-instance single flight (RedisFlightCoordinator with LruTtlCache and
 * SingleFlightGroup) and cache invalidation (RedisInvalidationChannel), each "instance"
 * on connections of its own to a real server.
 */
import { expect, it } from 'vitest'
import { LruTtlCache } from '../../src/cache/LruTtlCache.js'
import { SingleFlightGroup } from '../../src/tasks/SingleFlightGroup.js'
import { RedisFlightCoordinator } from '../../src/redis/RedisFlightCoordinator.js'
import { RedisInvalidationChannel } from '../../src/redis/RedisInvalidationChannel.js'
import { deferred, expectNoUnhandledRejections } from '../helpers.js'
import { describeRedis, useRedisServer } from './helpers.js'

expectNoUnhandledRejections()

let n = 0
const fresh = (): string => `t${process.pid}:${++n}`
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describeRedis('RedisFlightCoordinator', () => {
  const { connect } = useRedisServer()

  function instances(count: number, options: { leaseMs?: number; pollMs?: number } = {}) {
    const prefix = `${fresh()}:`
    return Array.from({ length: count }, () => {
      const coordinator = new RedisFlightCoordinator<string, { v: number }>({ client: connect(), prefix, ...options })
      const cache = new LruTtlCache<string, { v: number }>({ capacity: 100, coordinator })
      return { coordinator, cache, [Symbol.asyncDispose]: async () => {
        await cache[Symbol.asyncDispose]()
        coordinator[Symbol.dispose]()
      } }
    })
  }

  it('one instance loads; the others get its published value and store it', async () => {
    const all = instances(3, { pollMs: 60_000 })
    const gate = deferred()
    let calls = 0
    const loader = async () => {
      calls++
      await gate.promise
      return { v: 42 }
    }
    const first = all[0]!.cache.getOrLoad('user:1', loader)
    await sleep(50) // the first takes the lease
    const rest = all.slice(1).map((i) => i.cache.getOrLoad('user:1', loader))
    await sleep(50)
    const releasedAt = performance.now()
    gate.resolve()
    const values = await Promise.all([first, ...rest])
    expect(performance.now() - releasedAt).toBeLessThan(1_000) // woken by the release message (poll is 60 s)
    expect(values).toEqual([{ v: 42 }, { v: 42 }, { v: 42 }])
    expect(calls).toBe(1)
    for (const i of all) expect(i.cache.get('user:1')).toEqual({ v: 42 })
    expect(all.map((i) => i.coordinator.stats())).toEqual([{ loads: 1, joined: 0 }, { loads: 0, joined: 1 }, { loads: 0, joined: 1 }])
    for (const i of all) await i[Symbol.asyncDispose]()
  })

  it('a loader failure reaches the waiting instances as RemoteLoadError and is not cached', async () => {
    const [a, b] = instances(2)
    const gate = deferred()
    const failing = async () => {
      await gate.promise
      throw new TypeError('db down')
    }
    const pa = a!.cache.getOrLoad('k', failing)
    await sleep(50)
    const pb = b!.cache.getOrLoad('k', failing)
    await sleep(50)
    gate.resolve()
    await expect(pa).rejects.toThrow('db down')
    await expect(pb).rejects.toMatchObject({ name: 'RemoteLoadError', remoteName: 'TypeError', message: 'db down' })
    // Not cached: the next call loads again.
    expect(await b!.cache.getOrLoad('k', async () => ({ v: 1 }))).toEqual({ v: 1 })
    await a![Symbol.asyncDispose]()
    await b![Symbol.asyncDispose]()
  })

  it('when every caller of the loading instance leaves, a waiting instance takes over and loads', async () => {
    const [a, b] = instances(2)
    const controller = new AbortController()
    let aborted = false
    const pa = a!.cache.getOrLoad(
      'k',
      (_, { signal }) =>
        new Promise<{ v: number }>((_r, reject) =>
          signal.addEventListener('abort', () => {
            aborted = true
            reject(signal.reason)
          }),
        ),
      { signal: controller.signal },
    )
    await sleep(50)
    const pb = b!.cache.getOrLoad('k', async () => ({ v: 2 }))
    await sleep(50)
    controller.abort(new Error('client went away'))
    await expect(pa).rejects.toThrow('client went away')
    expect(await pb).toEqual({ v: 2 })
    expect(aborted).toBe(true)
    expect(b!.coordinator.stats().loads).toBe(1)
    await a![Symbol.asyncDispose]()
    await b![Symbol.asyncDispose]()
  })

  it('a crashed loader (lease never released) is taken over when its lease expires', async () => {
    const [b] = instances(1, { pollMs: 60_000 })
    const redis = connect()
    // A lease held by a process that died: the same key layout, no release will come.
    const prefix = (b!.coordinator as unknown as { prefix: string }).prefix
    await redis.set(`${prefix}k`, 'dead-owner', 'PX', 300)
    await redis.set(`${prefix}k:fence`, '100')
    const started = performance.now()
    expect(await b!.cache.getOrLoad('k', async () => ({ v: 3 }))).toEqual({ v: 3 })
    expect(performance.now() - started).toBeGreaterThanOrEqual(250)
    await b![Symbol.asyncDispose]()
  })

  it('SingleFlightGroup across instances: one run, the same value everywhere', async () => {
    const prefix = `${fresh()}:`
    const coordinators = [0, 1].map(() => new RedisFlightCoordinator({ client: connect(), prefix }))
    const groups = coordinators.map((coordinator) => new SingleFlightGroup<string, number>({ coordinator }))
    let calls = 0
    const fn = async () => {
      calls++
      await sleep(100)
      return 9
    }
    const results = await Promise.all([groups[0]!.run('job', fn), sleep(20).then(() => groups[1]!.run('job', fn))])
    expect(results).toEqual([9, 9])
    expect(calls).toBe(1)
    for (const g of groups) g[Symbol.dispose]()
    for (const c of coordinators) c[Symbol.dispose]()
  })

  it('refuses bad options and keys', async () => {
    const client = connect()
    expect(() => new RedisFlightCoordinator({ client, ttlMs: 5 } as never)).toThrow(/did you mean "resultTtlMs"/)
    const coordinator = new RedisFlightCoordinator({ client })
    await expect(coordinator.run({}, () => 1, new AbortController().signal)).rejects.toThrow(/keyOf/)
    coordinator[Symbol.dispose]()
  })
})

describeRedis('RedisInvalidationChannel', () => {
  const { connect } = useRedisServer()

  it('set/delete/clear on one instance evict on the others (cause "invalidated"), never on itself', async () => {
    const channel = fresh()
    const seen: string[] = []
    const make = (record: boolean) =>
      new LruTtlCache<string, number>({
        capacity: 10,
        invalidation: new RedisInvalidationChannel({ client: connect(), channel }),
        onEvict: ({ key, cause }) => {
          if (record) seen.push(`${key}:${cause}`)
        },
      })
    await using a = make(false)
    await using b = make(true)
    await sleep(100) // subscriptions confirmed
    await b.set('x', 1)
    await b.set('y', 2)
    await b.set('z', 3)
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 100 && !cond(); i++) await sleep(10)
    }
    // b's announcements reach a (which has none of these keys) before a writes: a later
    // arrival would evict a's newer x, which is the safe side of the race.
    await sleep(50)
    await a.set('x', 10)
    await a.delete('y')
    await until(() => !b.has('x') && !b.has('y'))
    expect(b.has('x')).toBe(false)
    expect(b.has('y')).toBe(false)
    expect(b.get('z')).toBe(3)
    expect(a.get('x')).toBe(10)
    await a.clear()
    await until(() => b.size === 0)
    await b.settled()
    expect(seen).toEqual(['x:invalidated', 'y:invalidated', 'z:invalidated'])
    expect(b.stats().evictions.invalidated).toBe(3)
  })

  it('a subscriber reconnect clears the local cache (events may have been lost)', async () => {
    const client = connect()
    const subscriber = client.duplicate()
    subscriber.on('error', () => {})
    const channel = new RedisInvalidationChannel({ client, subscriber, channel: fresh() })
    await using cache = new LruTtlCache<string, number>({ capacity: 10, invalidation: channel })
    await sleep(100)
    await cache.set('k', 1)
    // Drop the subscriber's connection from the server side: ioredis reconnects and re-subscribes.
    const admin = connect()
    const list = (await admin.client('LIST')) as string
    const id = list.split('\n').find((line) => line.includes('cmd=subscribe') || line.includes('sub=1'))?.match(/id=(\d+)/)?.[1]
    expect(id).toBeDefined()
    await admin.client('KILL', 'ID', id!)
    for (let i = 0; i < 200 && cache.size !== 0; i++) await sleep(10)
    expect(cache.size).toBe(0)
    expect(cache.stats().evictions.invalidated).toBe(1)
    expect(channel.stats().resets).toBe(1)
    subscriber.disconnect()
  })
})
