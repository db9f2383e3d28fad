/**
 * The example service: a small HTTP API on node:http that uses asyncsafe the way a real
 * service does. (Inside this repository it imports the sources; an application writes
 * `from 'asyncsafe/cache'`, `'asyncsafe/locks'` and so on.)
 *
 * - `GET /items/:id`: an item from the upstream, through an `LruTtlCache` whose async
 *   eviction observer releases the upstream handle; concurrent misses of one id are
 *   coalesced by `getOrLoad` (one upstream fetch);
 * - the upstream connection is slow to open: an `Initializer` opens it once (started at
 *   boot, joined by every request that arrives meanwhile);
 * - per request, `spawnGuarded` prefetches the related items in the background, tied to
 *   the request: it is aborted when the client goes away, and when the handler's
 *   `await using` scope ends (bounded wait for it to settle);
 * - every request appends an audit line through a `DetachedPool` (bounded concurrency,
 *   per-write timeout, capped queue, every failure reported) to a file shared by every
 *   writer, written under a `Mutex` whose statistics are served at `/stats`;
 * - `shutdown()` drains it all: stops accepting, waits for in-flight requests, closes and
 *   drains the audit pool, disposes the cache (every handle released), the initializer.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { appendFile, readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import type { ErrorContext } from '../../src/index.js'
import { LruTtlCache } from '../../src/cache/index.js'
import { Mutex } from '../../src/locks/index.js'
import { spawnGuarded } from '../../src/guards/index.js'
import { DetachedPool, Initializer } from '../../src/tasks/index.js'
import { connectUpstream, type ItemHandle, type UpstreamClient } from './upstream.js'

/** Options of {@link createService}. */
export interface ServiceOptions {
  /** The shared audit log file. */
  readonly auditFile: string
  /** How long opening the upstream takes (ms). Default 200. */
  readonly connectMs?: number
  /** Cache capacity. Default 500. */
  readonly capacity?: number
  /** Cache TTL (ms). Default 2000. */
  readonly ttlMs?: number
  /** Bound on the whole shutdown (ms). Default 5000. */
  readonly drainMs?: number
}

/** What `shutdown()` reports. */
export interface ShutdownReport {
  readonly ok: boolean
  readonly drainMs: number
  readonly drainBoundMs: number
  readonly inflightAtEnd: number
  readonly requests: RequestStats
  readonly audit: { submitted: number; accepted: number; notAccepted: number; batches: number; writtenAfterTimeout: number; lines: number } & ReturnType<DetachedPool['stats']>
  readonly upstream: { fetches: number; released: number; connects: number }
  readonly cache: ReturnType<LruTtlCache<string, ItemHandle>['stats']>
  readonly fileLock: ReturnType<Mutex['stats']>
  readonly reports: Record<string, number>
  readonly problems: string[]
}

interface RequestStats {
  total: number
  ok: number
  notFound: number
  failed: number
  aborted: number
  prefetchDone: number
  prefetchAborted: number
}

/** Builds the service; `listen()` starts it, `shutdown()` drains and stops it. */
export function createService(options: ServiceOptions) {
  const drainBoundMs = options.drainMs ?? 5_000
  const reports: Record<string, number> = {}
  const onError = (error: unknown, context: ErrorContext): void => {
    const key = `${context.area}:${context.event}`
    reports[key] = (reports[key] ?? 0) + 1
    if (process.env.SERVICE_VERBOSE) console.error(`[report] ${key} ${context.name ?? ''}: ${String(error)}`)
  }

  const upstreamStats = { fetches: 0, released: 0, connects: 0 }
  const upstream = new Initializer<UpstreamClient>((signal) => connectUpstream(signal, options.connectMs ?? 200, upstreamStats), {
    name: 'upstream',
    timeoutMs: 5_000,
    onError,
  })

  const cache = new LruTtlCache<string, ItemHandle>({
    name: 'items',
    capacity: options.capacity ?? 500,
    ttlMs: options.ttlMs ?? 2_000,
    // Async observer: runs after the state change, bounded and isolated; never under a lock.
    onEvict: async ({ value }) => value.release(),
    notifyConcurrency: 16,
    notifyTimeoutMs: 1_000,
    onError,
  })
  const load = async (id: string, { signal }: { signal: AbortSignal }): Promise<ItemHandle> => {
    const client = await upstream.get({ signal })
    return client.fetch(id, signal)
  }

  // The audit log: one file shared by every writer. Each write is a detached task (the
  // response does not wait for it). Writers queue their line, then take the file lock;
  // the holder appends every line queued so far in one call (group commit), so a write
  // is done once its line is on disk and lines stay in order.
  const fileLock = new Mutex({
    name: 'audit-file',
    longHoldMs: 250,
    onLongHold: (info) => {
      onError(new Error(`audit file held ${info.heldMs.toFixed(0)} ms`), { area: 'lock', event: 'long-hold', name: info.name })
    },
  })
  const audit = new DetachedPool({ name: 'audit', concurrency: 128, timeoutMs: 2_000, maxQueue: 5_000, onError })
  const auditCounts = { submitted: 0, accepted: 0, notAccepted: 0, batches: 0, writtenAfterTimeout: 0 }
  let pendingLines: { text: string; written: boolean }[] = []
  const writeAudit = async (text: string, signal: AbortSignal): Promise<void> => {
    const line = { text, written: false }
    pendingLines.push(line)
    try {
      using _held = await fileLock.lock({ signal })
      if (line.written) return // an earlier holder's batch carried it
      const batch = pendingLines
      pendingLines = []
      await appendFile(options.auditFile, batch.map((l) => l.text).join(''))
      for (const l of batch) l.written = true
      auditCounts.batches++
    } catch (error) {
      // Timed out (the pool aborted our signal) before the line was taken: withdraw it.
      if (!line.written) pendingLines = pendingLines.filter((l) => l !== line)
      throw error
    } finally {
      if (line.written && signal.aborted) auditCounts.writtenAfterTimeout++
    }
  }

  const requests: RequestStats = { total: 0, ok: 0, notFound: 0, failed: 0, aborted: 0, prefetchDone: 0, prefetchAborted: 0 }
  let inflight = 0
  let idle: (() => void) | undefined
  let closing = false

  const stats = () => ({
    requests: { ...requests, inflight },
    upstream: { state: upstream.state, ...upstreamStats },
    cache: cache.stats(),
    fileLock: fileLock.stats(),
    audit: { ...auditCounts, ...audit.stats() },
    reports: { ...reports },
  })

  async function route(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://service')
    if (url.pathname === '/stats') return send(res, 200, stats())
    if (url.pathname === '/healthz') return send(res, closing ? 503 : 200, { upstream: upstream.state })
    const match = /^\/items\/([\w-]{1,64})$/.exec(url.pathname)
    if (req.method !== 'GET' || !match) {
      requests.notFound++
      return send(res, 404, { error: 'not found' })
    }
    const id = match[1]!

    // Background work tied to this request: warm the cache with the related items.
    // Aborted if the client leaves (parent signal) and when this scope ends.
    await using prefetch = spawnGuarded(
      async (taskSignal) => {
        const client = await upstream.get({ signal: taskSignal })
        const related = await client.related(id, taskSignal)
        await Promise.all(related.map((rid) => cache.getOrLoad(rid, load, { signal: taskSignal })))
      },
      { name: 'prefetch', signal, settleTimeoutMs: 1_000, onError },
    )
    prefetch.done.then(
      () => {
        requests.prefetchDone++
      },
      () => {
        requests.prefetchAborted++
      },
    )

    const handle = await cache.getOrLoad(id, load, { signal, timeoutMs: 2_000 })
    auditCounts.submitted++
    if (audit.run((auditSignal) => writeAudit(`${new Date().toISOString()} GET /items/${id} ${handle.item.price}\n`, auditSignal))) auditCounts.accepted++
    else auditCounts.notAccepted++ // dropped or refused: the pool has reported it to onError
    requests.ok++
    send(res, 200, handle.item)
  }

  const server = createServer((req, res) => {
    requests.total++
    inflight++
    const controller = new AbortController()
    res.once('close', () => {
      if (!res.writableFinished) controller.abort(new Error('client went away'))
    })
    route(req, res, controller.signal)
      .catch((error: unknown) => {
        if (controller.signal.aborted) requests.aborted++
        else requests.failed++
        if (!res.headersSent) send(res, 503, { error: String(error) })
        else res.destroy()
      })
      .finally(() => {
        if (--inflight === 0) idle?.()
      })
  })
  server.keepAliveTimeout = 2_000

  upstream.start() // open the slow dependency at boot; early requests join that run

  return {
    server,
    stats,
    /** Listens on 127.0.0.1; resolves with the port. */
    async listen(port = 0): Promise<number> {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject)
          resolve()
        })
      })
      return (server.address() as AddressInfo).port
    },
    /** Stops accepting, drains requests, audit writes, cache observers; bounded by `drainMs`. */
    async shutdown(): Promise<ShutdownReport> {
      const started = performance.now()
      const problems: string[] = []
      const remaining = (): number => Math.max(0, drainBoundMs - (performance.now() - started))
      closing = true
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeIdleConnections()
      if (inflight > 0) {
        const drained = new Promise<void>((resolve) => (idle = resolve))
        const timer = new Promise<'late'>((resolve) => setTimeout(resolve, remaining(), 'late').unref())
        if ((await Promise.race([drained, timer])) === 'late') problems.push(`${inflight} request(s) still in flight after the drain bound`)
      }
      server.closeAllConnections()
      await closed

      audit.close() // refuse new writes; queued ones still run
      await audit.drain({ timeoutMs: remaining() }).catch((error: unknown) => problems.push(`audit drain: ${String(error)}`))
      await cache[Symbol.asyncDispose]() // clear: every handle is notified 'cleared' and released
      await upstream[Symbol.asyncDispose]()

      const lines = (await readFile(options.auditFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).length
      const drainMs = performance.now() - started
      if (drainMs > drainBoundMs) problems.push(`shutdown took ${drainMs.toFixed(0)} ms > ${drainBoundMs} ms`)
      const auditStats = audit.stats()
      const settled = auditStats.succeeded + auditStats.failed + auditStats.timedOut
      if (auditStats.running !== 0 || auditStats.queued !== 0) problems.push(`audit pool not idle: ${JSON.stringify(auditStats)}`)
      if (settled !== auditStats.started) problems.push(`audit: ${auditStats.started} started but ${settled} settled`)
      if (auditCounts.accepted !== auditStats.started) problems.push(`audit: ${auditCounts.accepted} accepted but ${auditStats.started} started`)
      if (lines !== auditStats.succeeded + auditCounts.writtenAfterTimeout) problems.push(`audit: ${auditStats.succeeded} writes succeeded (+${auditCounts.writtenAfterTimeout} after their timeout) but the file has ${lines} lines`)
      const reportedAudit = (reports['detached:error'] ?? 0) + (reports['detached:timeout'] ?? 0) + (reports['detached:dropped'] ?? 0) + (reports['detached:refused'] ?? 0)
      const unaccounted = auditCounts.submitted - auditStats.succeeded - reportedAudit
      if (unaccounted !== 0) problems.push(`audit: ${unaccounted} write(s) neither done nor reported`)
      const cacheStats = cache.stats()
      if (cacheStats.size !== 0 || cacheStats.pendingNotifications !== 0) problems.push(`cache not drained: size ${cacheStats.size}, pending ${cacheStats.pendingNotifications}`)
      return {
        ok: problems.length === 0,
        drainMs,
        drainBoundMs,
        inflightAtEnd: inflight,
        requests: { ...requests },
        audit: { ...auditCounts, lines, ...auditStats },
        upstream: { ...upstreamStats },
        cache: cacheStats,
        fileLock: fileLock.stats(),
        reports: { ...reports },
        problems,
      }
    },
  }
}

/** The service object returned by {@link createService}. */
export type Service = ReturnType<typeof createService>

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
