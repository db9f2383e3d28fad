/**
 * A separate Node process for the fault tests (bundled by esbuild, then run as
 * `node worker.mjs <mode> <port> <key> <leaseMs> [iterations] [log]`).
 *
 * - `contend`: prints `ready`, waits for the start signal (an item on the list `key:go`),
 *   then takes the lock `iterations` times, appending `enter <token> <pid>` right
 *   after each grant and `exit <token> <pid>` right before each release to `log` (one
 *   O_APPEND write each, so the file's order is the order the writes happened in), and
 *   prints `contended <n>` (grants that had to wait) at the end;
 * - `hold`: takes the lock, prints `held <token>`, and holds (renewing) until killed.
 */
import { appendFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import { RedisMutex } from '../../src/redis/RedisMutex.js'

const [mode, port, key, leaseMs, iterations, log] = process.argv.slice(2)
const redis = new Redis(Number(port), '127.0.0.1', { maxRetriesPerRequest: 3 })
redis.on('error', () => {})
const mutex = new RedisMutex({ client: redis, key: key!, leaseMs: Number(leaseMs), pollMs: 50, onError: () => {} })

if (mode === 'contend') {
  // Start together: the test pushes one item per worker once all are ready.
  process.stdout.write('ready\n')
  await redis.blpop(`${key}:go`, 0)
  for (let i = 0; i < Number(iterations); i++) {
    const guard = await mutex.lock({ timeoutMs: 30_000 })
    appendFileSync(log!, `enter ${guard.fencingToken} ${process.pid}\n`)
    // Hold across a few turns of the event loop and a round trip, so overlaps would show.
    await redis.ping()
    await new Promise((resolve) => setTimeout(resolve, 2))
    appendFileSync(log!, `exit ${guard.fencingToken} ${process.pid}\n`)
    await guard.release()
  }
  process.stdout.write(`contended ${mutex.stats().contended}\n`)
  await mutex[Symbol.asyncDispose]()
  redis.disconnect()
} else if (mode === 'hold') {
  const guard = await mutex.lock({ timeoutMs: 30_000 })
  process.stdout.write(`held ${guard.fencingToken}\n`)
  // Renewal timers and the connection keep the process alive until it is killed.
} else {
  throw new Error(`unknown mode ${mode}`)
}
