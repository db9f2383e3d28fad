/**
 * Helpers of the redis tests: one server per test file (or per test, for the fault
 * tests), ioredis connections that are all closed after the file.
 */
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe } from 'vitest'
import { RedisServer, redisBinary } from './server.js'

/** `describe`, skipped when no server binary exists (global-setup printed why, or failed under CI). */
export const describeRedis = redisBinary() === undefined ? describe.skip : describe

/** Starts a server for the file; `connect()` opens connections closed after the file. */
export function useRedisServer(extraArgs: readonly string[] = []): { server: () => RedisServer; connect: () => Redis } {
  let server: RedisServer | undefined
  const connections: Redis[] = []
  beforeAll(async () => {
    server = await RedisServer.start(extraArgs)
  })
  afterAll(async () => {
    for (const c of connections) c.disconnect()
    await server?.stop()
  })
  return {
    server: () => server!,
    connect: () => {
      const c = new Redis(server!.port, '127.0.0.1', { lazyConnect: false, maxRetriesPerRequest: 2, retryStrategy: (n) => Math.min(n * 20, 200) })
      c.on('error', () => {})
      connections.push(c)
      return c
    },
  }
}
