/**
 * `npm run example:load`: starts the example service (examples/service, through tsx),
 * drives it with autocannon on 127.0.0.1 (a bounded number of requests, and a time
 * bound), reads /stats, sends SIGTERM, and checks:
 * - no failed request (errors, timeouts, non-2xx) and every request answered;
 * - no unhandled rejection and no process warning in the service;
 * - every audit write (DetachedPool) done or reported, the audit file has one line per
 *   write done, the cache drained (every upstream handle released);
 * - the service exits 0 within its drain bound.
 * Prints requests/s and latency; exits non-zero when a check fails.
 *
 * Options: `--amount N` (default 20000), `--connections N` (default 32),
 * `--max-seconds S` (default 60), `--drain-ms MS` (default 5000).
 */
import autocannon from 'autocannon'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { Checks, root } from './lib.js'

const option = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`)
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`example:load: --${name} must be a positive number`)
  return value
}
const amount = option('amount', 20_000)
const connections = option('connections', 32)
const maxSeconds = option('max-seconds', 60)
const drainMs = option('drain-ms', 5_000)
const keySpace = 1_000

interface ShutdownLine {
  event: 'shutdown'
  ok: boolean
  drainMs: number
  problems: string[]
  unhandledRejections: number
  warnings: number
  requests: Record<string, number>
  audit: Record<string, number>
  upstream: { fetches: number; released: number; connects: number }
  cache: { hits: number; misses: number; hitRate: number; loads: number; coalesced: number; evictions: Record<string, number>; observerErrors: number; observerTimeouts: number }
  fileLock: { acquisitions: number; contended: number; wait: { p99: number; max: number }; hold: { p50: number; p99: number; max: number } }
  reports: Record<string, number>
}

const checks = new Checks()
const work = mkdtempSync(join(tmpdir(), 'asyncsafe-example-'))
const auditFile = join(work, 'audit.log')
const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'examples', 'service', 'main.ts')], {
  cwd: root,
  env: { ...process.env, PORT: '0', AUDIT_FILE: auditFile, DRAIN_MS: String(drainMs) },
  stdio: ['ignore', 'pipe', 'pipe'],
})
let stderr = ''
child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
  stderr += chunk
})
const lines = createInterface({ input: child.stdout })
const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
  child.once('exit', (code, signal) => {
    resolve({ code, signal, at: performance.now() })
  }),
)
let shutdown: ShutdownLine | undefined
const listening = new Promise<number>((resolve, reject) => {
  const timer = setTimeout(() => {
    reject(new Error(`the service did not listen within 30 s\n${stderr}`))
  }, 30_000)
  lines.on('line', (line) => {
    let message: { event?: string; port?: number }
    try {
      message = JSON.parse(line) as { event?: string; port?: number }
    } catch {
      return
    }
    if (message.event === 'listening') {
      clearTimeout(timer)
      resolve(message.port!)
    } else if (message.event === 'shutdown') shutdown = message as ShutdownLine
  })
  void exited.then(() => {
    clearTimeout(timer)
    reject(new Error(`the service exited before listening\n${stderr}`))
  })
})

try {
  const port = await listening
  const url = `http://127.0.0.1:${port}`
  console.log(`service listening on ${url}; ${amount} requests over ${connections} connections (key space ${keySpace}, bound ${maxSeconds} s)`)
  const instance = autocannon({
    url,
    connections,
    amount,
    timeout: 10,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `/items/${Math.floor(Math.random() * keySpace)}` }) }],
  })
  const stopper = setTimeout(() => {
    instance.stop()
  }, maxSeconds * 1_000)
  const result = await instance
  clearTimeout(stopper)
  const stats = (await (await fetch(`${url}/stats`)).json()) as { requests: Record<string, number> }

  const termAt = performance.now()
  child.kill('SIGTERM')
  const exit = await Promise.race([exited, sleep(drainMs + 10_000, undefined, { ref: false })])
  const exitMs = exit ? exit.at - termAt : Number.POSITIVE_INFINITY
  lines.close()

  const answered = result['2xx'] + result.non2xx
  const rps = answered / result.duration
  console.log('\n| metric | value |\n|---|---:|')
  console.log(`| requests answered | ${answered} of ${amount} in ${result.duration.toFixed(1)} s |`)
  console.log(`| requests/s (mean of per-second samples) | ${result.requests.average.toFixed(0)} |`)
  console.log(`| requests/s (answered / duration) | ${rps.toFixed(0)} |`)
  console.log(`| latency p50 / p90 / p99 / max (ms) | ${result.latency.p50} / ${result.latency.p90} / ${result.latency.p99} / ${result.latency.max} |`)
  console.log(`| errors / timeouts / non-2xx | ${result.errors} / ${result.timeouts} / ${result.non2xx} |`)
  if (shutdown) {
    const s = shutdown
    console.log(`| cache hit rate / loads / coalesced | ${(s.cache.hitRate * 100).toFixed(1)} % / ${s.cache.loads} / ${s.cache.coalesced} |`)
    console.log(`| cache removals notified (evicted/expired/replaced/cleared) | ${s.cache.evictions.evicted} / ${s.cache.evictions.expired} / ${s.cache.evictions.replaced} / ${s.cache.evictions.cleared} |`)
    console.log(`| upstream fetches / handles released / connects | ${s.upstream.fetches} / ${s.upstream.released} / ${s.upstream.connects} |`)
    console.log(`| prefetch tasks done / aborted with their request | ${s.requests.prefetchDone} / ${s.requests.prefetchAborted} |`)
    console.log(`| audit writes submitted / done / file appends / reported (dropped, failed, timed out) | ${s.audit.submitted} / ${s.audit.succeeded} / ${s.audit.batches} / ${(s.audit.dropped ?? 0) + (s.audit.failed ?? 0) + (s.audit.timedOut ?? 0) + (s.audit.refused ?? 0)} |`)
    console.log(`| audit file lock: acquisitions / contended / wait p99 / hold p99 (ms) | ${s.fileLock.acquisitions} / ${s.fileLock.contended} / ${s.fileLock.wait.p99.toFixed(2)} / ${s.fileLock.hold.p99.toFixed(2)} |`)
    console.log(`| shutdown drain / exit after SIGTERM (ms) | ${s.drainMs.toFixed(0)} / ${exitMs.toFixed(0)} (bound ${drainMs}) |`)
    console.log(`| reports to onError | ${JSON.stringify(s.reports)} |`)
  }
  console.log('')

  checks.check(answered === amount, `every request answered (${answered}/${amount})`)
  checks.check(result.errors === 0 && result.timeouts === 0 && result.non2xx === 0, `no failed request (errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx})`)
  checks.check(stats.requests.failed === 0, `the service counted no failed request (${stats.requests.failed})`)
  if (checks.check(shutdown !== undefined, 'the service printed its shutdown report', stderr)) {
    const s = shutdown!
    checks.check(s.unhandledRejections === 0, `no unhandled rejection (${s.unhandledRejections})`)
    checks.check(s.warnings === 0, `no process warning (${s.warnings})`)
    checks.check(s.problems.length === 0, 'shutdown drained: requests, audit pool, cache observers (every detached write done or reported)', s.problems.join('\n'))
    checks.check(s.upstream.released === s.upstream.fetches, `every upstream handle released by the eviction observer (${s.upstream.released}/${s.upstream.fetches})`)
  }
  checks.check(exit?.code === 0, `the service exited with code 0 (${exit ? String(exit.code ?? exit.signal) : 'still running'})`, stderr)
  checks.check(exitMs <= drainMs + 1_000, `exit within the drain bound (${exitMs.toFixed(0)} ms <= ${drainMs} + 1000 ms)`)
  checks.check(stderr.trim() === '', 'the service wrote nothing to stderr', stderr.slice(0, 4000))
} catch (error) {
  checks.check(false, 'load run', String(error))
} finally {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  rmSync(work, { recursive: true, force: true })
}
checks.finish('example:load')
