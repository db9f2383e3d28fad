/**
 * Fault tests with a real server and several Node processes: no two holders ever (by
 * fencing tokens), a SIGKILLed holder's lease expiring, a server restart mid-hold, a
 * server stall longer than the lease (SIGSTOP) and a stale holder refused by a fenced
 * write. Each test that disturbs the server has a server of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { buildSync } from 'esbuild'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { RedisMutex } from '../../src/redis/RedisMutex.js'
import { LeaseLostError } from '../../src/redis/errors.js'
import { deferred, expectNoUnhandledRejections } from '../helpers.js'
import { describeRedis } from './helpers.js'
import { RedisServer } from './server.js'

expectNoUnhandledRejections()

// The worker, bundled once per run (starting `node --import tsx` costs about 1 s more per process).
const WORKER = join(import.meta.dirname, '..', '..', '.tmp', `redis-worker-${process.pid}.mjs`)
beforeAll(() => {
  buildSync({ entryPoints: [join(import.meta.dirname, 'worker.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', target: 'node20', outfile: WORKER, logLevel: 'error' })
})
afterAll(() => {
  rmSync(WORKER, { force: true })
})
const children = new Set<ChildProcess>()
const cleanups: (() => Promise<void> | void)[] = []

afterEach(async () => {
  for (const child of children) child.kill('SIGKILL')
  children.clear()
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function worker(args: (string | number)[]): { child: ChildProcess; exited: Promise<number | null>; line: (prefix: string) => Promise<string> } {
  const child = spawn(process.execPath, [WORKER, ...args.map(String)], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let out = ''
  let err = ''
  const waiting: { prefix: string; resolve: (line: string) => void }[] = []
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString()
    for (const w of [...waiting]) {
      const line = out.split('\n').find((l) => l.startsWith(w.prefix))
      if (line !== undefined) {
        waiting.splice(waiting.indexOf(w), 1)
        w.resolve(line)
      }
    }
  })
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child)
      if (code !== 0 && code !== null) console.error(`worker ${child.pid} exited ${code}:\n${err}`)
      resolve(code)
    })
  })
  return { child, exited, line: (prefix) => new Promise((resolve) => waiting.push({ prefix, resolve })) }
}

async function server(): Promise<RedisServer> {
  const s = await RedisServer.start()
  cleanups.push(() => s.stop())
  return s
}

function connect(s: RedisServer): Redis {
  const c = new Redis(s.port, '127.0.0.1', { maxRetriesPerRequest: 50, retryStrategy: () => 20 })
  c.on('error', () => {})
  cleanups.push(() => {
    c.disconnect()
  })
  return c
}

/** A write that storage accepts only with a fencing token above every one it accepted. */
const FENCED_WRITE = `local seen = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > seen then redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[2]); return 1 end
return 0`

describeRedis('RedisMutex across processes and faults', () => {
  it('several processes contending never hold it at once, and fencing tokens strictly increase', async () => {
    const s = await server()
    const dir = mkdtempSync(join(tmpdir(), 'asyncsafe-redis-log-'))
    cleanups.push(() => {
      rmSync(dir, { recursive: true, force: true })
    })
    const log = join(dir, 'log')
    const processes = 3
    const iterations = 10
    const workers = Array.from({ length: processes }, () => worker(['contend', s.port, 'contended', 2_000, iterations, log]))
    await Promise.all(workers.map((w) => w.line('ready')))
    await connect(s).rpush('contended:go', ...workers.map(() => 'go'))
    const contended = Promise.all(workers.map(async (w) => Number((await w.line('contended ')).split(' ')[1])))
    const codes = await Promise.all(workers.map((w) => w.exited))
    expect(codes).toEqual(Array(processes).fill(0))
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' '))
    expect(lines).toHaveLength(processes * iterations * 2)
    let last = 0
    const pids = new Set<string>()
    for (let i = 0; i < lines.length; i += 2) {
      const [enter, token, pid] = lines[i]!
      const [exit, exitToken, exitPid] = lines[i + 1]!
      // Strict alternation: nobody entered while another holder was inside.
      expect([enter, exit]).toEqual(['enter', 'exit'])
      expect([exitToken, exitPid]).toEqual([token, pid])
      expect(Number(token)).toBeGreaterThan(last)
      last = Number(token)
      pids.add(pid!)
    }
    expect(pids.size).toBe(processes)
    // They really contended: grants had to wait, and the holder changed process often.
    expect((await contended).reduce((a, b) => a + b, 0)).toBeGreaterThan(processes)
    const switches = lines.filter((l, i) => i % 2 === 0 && i > 0 && l[2] !== lines[i - 2]![2]).length
    expect(switches).toBeGreaterThanOrEqual(processes)
  }, 60_000)

  it('a holder killed with SIGKILL loses the lock when its lease expires; the next holder gets a higher token', async () => {
    const s = await server()
    const leaseMs = 600
    const w = worker(['hold', s.port, 'killed', leaseMs])
    const held = Number((await w.line('held ')).split(' ')[1])
    const redis = connect(s)
    const mutex = new RedisMutex({ client: redis, key: 'killed', leaseMs, pollMs: 10_000 })
    cleanups.push(() => mutex[Symbol.asyncDispose]())
    // Renewals keep the lease alive while the holder lives.
    await new Promise((r) => setTimeout(r, leaseMs + 200))
    expect(await mutex.tryLock()).toBeUndefined()
    w.child.kill('SIGKILL')
    await w.exited
    const killedAt = performance.now()
    const guard = await mutex.lock({ timeoutMs: 5_000 })
    const waited = performance.now() - killedAt
    expect(guard.fencingToken).toBeGreaterThan(held)
    // Not before a renewal could have lapsed, and woken by the PTTL, not the 10 s poll.
    expect(waited).toBeLessThan(leaseMs + 4_000)
    await guard.release()
  }, 30_000)

  it('a server restart mid-hold aborts the holder signal; the lock is usable after, with higher tokens', async () => {
    const s = await server()
    const redis = connect(s)
    const mutex = new RedisMutex({ client: redis, key: 'restart', leaseMs: 400, renewEveryMs: 80, onError: () => {} })
    cleanups.push(() => mutex[Symbol.asyncDispose]())
    const guard = await mutex.lock()
    const aborted = deferred<unknown>()
    guard.signal.addEventListener('abort', () => aborted.resolve(guard.signal.reason))
    await s.restart() // SIGKILL and a fresh, empty server on the same port
    const reason = await aborted.promise
    expect(reason).toBeInstanceOf(LeaseLostError)
    expect(['lost', 'expired']).toContain((reason as LeaseLostError).why)
    await guard.release()
    const next = await mutex.lock({ timeoutMs: 5_000 })
    // The counter was lost with the server: re-seeded from the server clock, still higher.
    expect(next.fencingToken).toBeGreaterThan(guard.fencingToken)
    await next.release()
  }, 30_000)

  it('a server stall longer than the lease aborts the holder; its stale fenced write is refused', async () => {
    const s = await server()
    const a = connect(s)
    const b = connect(s)
    const holder = new RedisMutex({ client: a, key: 'stall', leaseMs: 300, renewEveryMs: 60, onError: () => {} })
    const next = new RedisMutex({ client: b, key: 'stall', leaseMs: 300 })
    cleanups.push(() => holder[Symbol.asyncDispose](), () => next[Symbol.asyncDispose]())
    const stale = await holder.lock()
    const abortedAt = deferred<number>()
    stale.signal.addEventListener('abort', () => abortedAt.resolve(performance.now()))
    s.pause()
    const pausedAt = performance.now()
    await new Promise((r) => setTimeout(r, 800))
    const resumedAt = performance.now()
    s.resume()
    // The holder gave up during the stall, before the server came back.
    expect(stale.signal.aborted).toBe(true)
    expect(stale.signal.reason).toMatchObject({ name: 'LeaseLostError', why: 'expired' })
    expect((await abortedAt.promise) - pausedAt).toBeLessThan(resumedAt - pausedAt)
    const fresh = await next.lock({ timeoutMs: 5_000 })
    expect(fresh.fencingToken).toBeGreaterThan(stale.fencingToken)
    expect(await b.eval(FENCED_WRITE, 2, 'stall:store:token', 'stall:store:value', fresh.fencingToken, 'fresh')).toBe(1)
    // The stale holder ignores its signal and writes anyway: storage refuses it.
    expect(await a.eval(FENCED_WRITE, 2, 'stall:store:token', 'stall:store:value', stale.fencingToken, 'stale')).toBe(0)
    expect(await b.get('stall:store:value')).toBe('fresh')
    await stale.release()
    expect(await b.exists('stall')).toBe(1) // the stale release did not delete the fresh lease
    await fresh.release()
  }, 30_000)
})
