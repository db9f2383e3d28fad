/**
 * redis: what a RedisMutex grant costs over loopback, against the bare client's floor
 * and against redlock, with a real redis-server started for the run (random port, no
 * persistence, stopped by PID). Skipped with a message when no server binary exists.
 *
 * - uncontended: one lock()+release() round trip per op, sequential. Floor: ioredis
 *   `SET key v NX PX` + `DEL key` (the same two round trips without owner checks,
 *   fencing or renewal). redlock 5 (its single-instance mode, retryCount 0) does the
 *   same job with its own scripts. node-redis' floor is measured beside ioredis' for the
 *   client choice.
 * - contended: 4 instances (each its own connection and lock object) share one key,
 *   each doing its part of the ops; asyncsafe waiters wake on the release message,
 *   redlock retries on a timer (retryDelay 2 ms, jitter 2 ms: its best case here).
 * - pub/sub wake: one PUBLISH (and its reply) to a message on a second connection, per client.
 */
import { Redis } from 'ioredis'
import Redlock from 'redlock'
import { createClient } from 'redis'
import { runGroups, type SuiteResult } from '../harness.js'
import { RedisMutex } from '../../src/redis/RedisMutex.js'
import { RedisServer, redisBinary } from '../../test/redis/server.js'

export default async function redisSuite(): Promise<SuiteResult> {
  if (redisBinary() === undefined) {
    return { name: 'redis', markdown: 'skipped: no redis-server or valkey-server on PATH', json: { skipped: true } }
  }
  const server = await RedisServer.start()
  const io = new Redis(server.port, '127.0.0.1')
  const ioSub = new Redis(server.port, '127.0.0.1')
  const nr = createClient({ url: server.url })
  await nr.connect()
  const nrSub = nr.duplicate()
  await nrSub.connect()
  const mutex = new RedisMutex({ client: io, key: 'bench:mutex', leaseMs: 10_000 })
  const redlock = new Redlock([io], { retryCount: 0, driftFactor: 0.01 })
  // Contended: 4 instances.
  const conns = Array.from({ length: 4 }, () => new Redis(server.port, '127.0.0.1'))
  const mutexes = conns.map((client) => new RedisMutex({ client, key: 'bench:contended', leaseMs: 10_000 }))
  const redlocks = conns.map((client) => new Redlock([client], { retryCount: 100_000, retryDelay: 2, retryJitter: 2 }))
  let ioWake: (() => void) | undefined
  await ioSub.subscribe('bench:wake')
  ioSub.on('message', () => ioWake?.())
  let nrWake: (() => void) | undefined
  await nrSub.subscribe('bench:wake2', () => nrWake?.())
  const contended = async (n: number, one: (i: number) => Promise<void>): Promise<void> => {
    await Promise.all([0, 1, 2, 3].map(async (i) => {
      for (let k = 0; k < n / 4; k++) await one(i)
    }))
  }
  try {
    return await runGroups('redis', [
      {
        name: 'acquire+release round trip over loopback, uncontended',
        batch: 500,
        reps: 11,
        warmup: 2,
        cases: [
          {
            name: 'floor: ioredis SET NX PX + DEL',
            run: async (n) => {
              for (let i = 0; i < n; i++) {
                await io.set('bench:floor', '1', 'PX', 10_000, 'NX')
                await io.del('bench:floor')
              }
            },
          },
          {
            name: 'node-redis SET NX PX + DEL',
            run: async (n) => {
              for (let i = 0; i < n; i++) {
                await nr.set('bench:floor2', '1', { condition: 'NX', expiration: { type: 'PX', value: 10_000 } })
                await nr.del('bench:floor2')
              }
            },
          },
          {
            name: 'RedisMutex lock()+release()',
            run: async (n) => {
              for (let i = 0; i < n; i++) {
                const guard = await mutex.lock()
                await guard.release()
              }
            },
          },
          {
            name: 'redlock acquire()+release()',
            run: async (n) => {
              for (let i = 0; i < n; i++) {
                const lock = await redlock.acquire(['bench:redlock'], 10_000)
                await lock.release()
              }
            },
          },
        ],
        ratios: [
          { case: 'RedisMutex lock()+release()', base: 'floor: ioredis SET NX PX + DEL' },
          { case: 'redlock acquire()+release()', base: 'floor: ioredis SET NX PX + DEL' },
          { case: 'RedisMutex lock()+release()', base: 'redlock acquire()+release()' },
          { case: 'node-redis SET NX PX + DEL', base: 'floor: ioredis SET NX PX + DEL' },
        ],
      },
      {
        name: 'contended: 4 instances on one key, lock+release each',
        batch: 200,
        reps: 7,
        warmup: 1,
        cases: [
          {
            name: 'RedisMutex ×4 (pub/sub wake)',
            run: (n) =>
              contended(n, async (i) => {
                const guard = await mutexes[i]!.lock()
                await guard.release()
              }),
          },
          {
            name: 'redlock ×4 (retry every 2±2 ms)',
            run: (n) =>
              contended(n, async (i) => {
                const lock = await redlocks[i]!.acquire(['bench:redlock-contended'], 10_000)
                await lock.release()
              }),
          },
        ],
        ratios: [{ case: 'RedisMutex ×4 (pub/sub wake)', base: 'redlock ×4 (retry every 2±2 ms)' }],
      },
      {
        name: 'pub/sub wake: PUBLISH to message on another connection',
        batch: 500,
        reps: 9,
        warmup: 2,
        cases: [
          {
            name: 'ioredis',
            run: async (n) => {
              for (let i = 0; i < n; i++) {
                const message = new Promise<void>((resolve) => {
                  ioWake = resolve
                })
                await Promise.all([io.publish('bench:wake', 'x'), message])
              }
            },
          },
          {
            name: 'node-redis',
            run: async (n) => {
              for (let i = 0; i < n; i++) {
                const message = new Promise<void>((resolve) => {
                  nrWake = resolve
                })
                await Promise.all([nr.publish('bench:wake2', 'x'), message])
              }
            },
          },
        ],
        ratios: [{ case: 'node-redis', base: 'ioredis' }],
      },
    ])
  } finally {
    await mutex[Symbol.asyncDispose]()
    for (const m of mutexes) await m[Symbol.asyncDispose]()
    io.disconnect()
    ioSub.disconnect()
    for (const c of conns) c.disconnect()
    nr.destroy()
    nrSub.destroy()
    await server.stop()
  }
}
