/**
 * `npm run soak` (default 60 s) and `npm run soak:ci` (10 s): a bounded randomized run
 * that mixes every primitive with injected faults (throwing and hanging observers,
 * loaders and tasks, aborts, timeouts, hung holders), then tears everything down and
 * checks:
 * - no unhandled rejection, no process warning (every primitive has an onError);
 * - invariants held throughout: one Mutex holder, no writer beside a reader, semaphore
 *   permits never over capacity;
 * - stats consistent: every cache removal notified exactly once (per value, and the
 *   observer's count equals the cache's eviction counters), every detached task
 *   accounted for (started = succeeded + failed + timedOut, every failure, timeout,
 *   drop and refusal reported once), lock queues empty, semaphore fully available;
 * - no active timer or handle of ours left (process.getActiveResourcesInfo() against
 *   the baseline taken before the run);
 * - heap after GC within HEAP_BOUND_MB of the baseline (run with --expose-gc).
 *
 * Options: `--seconds N` (default 60), `--seed N` (default: random, printed),
 * `--actors N` (default 24).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { ErrorContext } from '../src/index.js'
import { Mutex, RwLock, Semaphore } from '../src/locks/index.js'
import { LruTtlCache } from '../src/cache/index.js'
import { createBatcher, every, linkSignals, listen, onAbort, spawnGuarded, swap, TaskScope, timeoutSignal } from '../src/guards/index.js'
import { DetachedPool, Initializer, retry, SingleFlightGroup } from '../src/tasks/index.js'
import { onSignals, watchEventLoop } from '../src/node/index.js'
import { Checks } from './lib.js'

const HEAP_BOUND_MB = 5

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`)
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`soak: --${name} must be a non-negative number`)
  return value
}
const seconds = arg('seconds', 60)
const seed = arg('seed', Math.floor(Math.random() * 2 ** 31))
const actors = arg('actors', 24)

// ---------------------------------------------------------------- harness
let state = seed >>> 0 || 1
/** mulberry32: a small seeded PRNG (the run is still timing-dependent; the seed fixes the choices). */
function random(): number {
  state = (state + 0x6d2b79f5) >>> 0
  let t = state
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const chance = (p: number): boolean => random() < p
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1))

const gc = (globalThis as { gc?: () => void }).gc
const heapMb = async (): Promise<number> => {
  for (let i = 0; i < 4; i++) {
    gc?.()
    await sleep(10)
  }
  return process.memoryUsage().heapUsed / 1e6
}
const resources = (): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1)
  return counts
}

let unhandled = 0
let warnings = 0
const warningNames: string[] = []
process.on('unhandledRejection', (reason) => {
  unhandled++
  console.error('unhandled rejection:', reason)
})
process.on('warning', (warning) => {
  warnings++
  if (warningNames.length < 10) warningNames.push(`${warning.name}: ${warning.message}`)
})

const reports = new Map<string, number>()
const onError = (_error: unknown, context: ErrorContext): void => {
  const key = `${context.area}:${context.event}`
  reports.set(key, (reports.get(key) ?? 0) + 1)
}
const violations: string[] = []
const violate = (what: string): void => {
  if (violations.length < 20) violations.push(what)
}
const ops = new Map<string, number>()
const count = (what: string): void => {
  ops.set(what, (ops.get(what) ?? 0) + 1)
}
/** A rejection we expect (aborts, timeouts, injected faults): observed, counted. */
const expected = (what: string) => (): void => {
  count(`${what} (rejected as injected)`)
}

class Injected extends Error {
  override name = 'Injected'
}

/** A wait that honours its signal (or not: `ignoreSignal`), bounded by `ms`. */
async function work(ms: number, signal?: AbortSignal, ignoreSignal = false): Promise<void> {
  await sleep(ms, undefined, ignoreSignal || !signal ? {} : { signal })
}

// ---------------------------------------------------------------- baseline
const watch = watchEventLoop({ thresholdMs: 250, onStall: () => { count('event-loop stall (>250 ms)') } })
watch[Symbol.dispose]() // load the module and its lazy parts before the baseline
await sleep(50)
const baselineResources = resources()
const baselineHeap = await heapMb()
console.log(`soak: ${seconds} s, seed ${seed}, ${actors} actors, node ${process.version}${gc ? '' : ' (no --expose-gc: heap check is approximate)'}`)

// ---------------------------------------------------------------- the primitives under test
const mutex = new Mutex({ name: 'soak-mutex', longHoldMs: 40, onLongHold: () => { count('mutex long hold') } })
let mutexHolders = 0
const rw = new RwLock({ name: 'soak-rw' })
let readers = 0
let writers = 0
const semaphore = new Semaphore(4, { name: 'soak-sem' })
let permitsHeld = 0

interface Value {
  readonly id: number
}
// Notifications per value, by id, in a compact array (not the values themselves, so the
// heap check measures the library and not this bookkeeping).
let notifications = new Uint8Array(1 << 14)
let nextValue = 0
const newValue = (): Value => {
  const id = nextValue++
  if (id >= notifications.length) {
    const grown = new Uint8Array(notifications.length * 2)
    grown.set(notifications)
    notifications = grown
  }
  return { id }
}
let observerCalls = 0
const cache = new LruTtlCache<number, Value>({
  name: 'soak-cache',
  capacity: 64,
  ttlMs: 30,
  notifyConcurrency: 4,
  notifyTimeoutMs: 25,
  onError,
  // The accounting observer: every removal, exactly once per value.
  onEvict: ({ value }) => {
    observerCalls++
    const times = ++notifications[value.id]!
    if (times > 1) violate(`cache value ${value.id} notified ${times} times`)
  },
})
// A faulty observer: throws, rejects, hangs past the notify timeout, calls back in.
const faulty = cache.observe(async ({ key }, { signal }) => {
  const roll = random()
  if (roll < 0.05) throw new Injected('observer throws')
  if (roll < 0.1) return Promise.reject(new Injected('observer rejects'))
  if (roll < 0.13) return work(60, signal, true) // hangs past notifyTimeoutMs, ignoring its signal
  if (roll < 0.16) return work(60, signal) // honours the abort
  if (roll < 0.2) await cache.delete(key + 1) // re-entry
  return undefined
})

const flights = new SingleFlightGroup<number, number>()
let initRuns = 0
const initializer = new Initializer(
  async (signal) => {
    initRuns++
    await work(int(1, 15), signal, chance(0.1))
    if (chance(0.2)) throw new Injected('init fails')
    return initRuns
  },
  { name: 'soak-init', timeoutMs: 10, onError },
)
const pool = new DetachedPool({ name: 'soak-pool', concurrency: 4, timeoutMs: 15, maxQueue: 16, onError })
const poolCounts = { submitted: 0, accepted: 0, notAccepted: 0 }
const scope = new TaskScope({ name: 'soak-scope', settleTimeoutMs: 20, onError })
const target = new EventTarget()
let listened = 0
let tickerTicks = 0
let batched = 0

// ---------------------------------------------------------------- scenarios
const scenarios: Record<string, () => Promise<void>> = {
  async mutex() {
    const controller = new AbortController()
    if (chance(0.1)) controller.abort(new Injected('aborted before the call'))
    else if (chance(0.2)) setTimeout(() => { controller.abort(new Injected('aborted while waiting')) }, int(0, 3))
    try {
      using _guard = await mutex.lock({ signal: controller.signal, timeoutMs: chance(0.3) ? int(0, 5) : undefined })
      if (++mutexHolders !== 1) violate(`mutex has ${mutexHolders} holders`)
      await work(chance(0.02) ? 50 : int(0, 2)) // sometimes a long (hung) hold
      mutexHolders--
      count('mutex hold')
    } catch {
      count('mutex wait aborted/timed out')
    }
    const tried = mutex.tryLock()
    if (tried) {
      if (++mutexHolders !== 1) violate(`mutex has ${mutexHolders} holders (tryLock)`)
      mutexHolders--
      tried.release()
      tried.release()
    }
    await mutex
      .runExclusive(() => {
        if (chance(0.2)) throw new Injected('runExclusive body throws')
      })
      .catch(expected('runExclusive'))
  },
  async rwlock() {
    const write = chance(0.3)
    try {
      using _guard = write ? await rw.write({ timeoutMs: int(0, 10) }) : await rw.read({ signal: AbortSignal.timeout(int(1, 10)) })
      if (write) {
        if (++writers !== 1 || readers !== 0) violate(`writer beside ${readers} readers / ${writers} writers`)
      } else if (++readers < 1 || writers !== 0) violate(`reader beside a writer`)
      await work(int(0, 2))
      if (write) writers--
      else readers--
      count(write ? 'rw write' : 'rw read')
    } catch {
      count('rw wait aborted/timed out')
    }
  },
  async semaphore() {
    const n = int(1, 4)
    try {
      using _permit = await semaphore.acquire(n, { timeoutMs: chance(0.5) ? int(0, 8) : undefined })
      permitsHeld += n
      if (permitsHeld > 4) violate(`${permitsHeld} permits held of 4`)
      await work(int(0, 3))
      permitsHeld -= n
      count('semaphore acquire')
    } catch {
      count('semaphore wait timed out')
    }
  },
  async cache() {
    const key = int(0, 200)
    const roll = random()
    if (roll < 0.35) {
      await cache.set(key, newValue(), chance(0.2) ? { ttlMs: int(0, 10) } : undefined)
      count('cache set')
    } else if (roll < 0.55) {
      const controller = new AbortController()
      if (chance(0.15)) setTimeout(() => { controller.abort(new Injected('caller leaves')) }, int(0, 5))
      await cache
        .getOrLoad(
          key,
          async (_k, { signal }) => {
            await work(int(0, 8), signal, chance(0.1))
            if (chance(0.15)) throw new Injected('loader fails')
            return newValue()
          },
          { signal: controller.signal, timeoutMs: chance(0.2) ? int(0, 6) : undefined },
        )
        .then(() => { count('cache getOrLoad') }, expected('cache getOrLoad'))
    } else if (roll < 0.75) {
      cache.get(key)
      cache.has(key + 1)
      cache.peek(key + 2)
      count('cache read')
    } else if (roll < 0.9) {
      await cache.delete(key)
      count('cache delete')
    } else if (roll < 0.98) {
      await cache.pruneExpired()
      count('cache prune')
    } else {
      await cache.clear()
      count('cache clear')
    }
  },
  async guards() {
    const roll = random()
    if (roll < 0.3) {
      await using task = spawnGuarded(
        async (signal) => {
          const r = random()
          if (r < 0.15) throw new Injected('guarded task fails')
          if (r < 0.2) return work(30, signal, true) // ignores its signal past settleTimeoutMs
          await work(int(0, 5), signal)
          return undefined
        },
        { name: 'soak-task', settleTimeoutMs: 10, onError },
      )
      if (chance(0.3)) await task.done.catch(expected('guarded task'))
      count('spawnGuarded')
    } else if (roll < 0.45) {
      if (scope.size < 50) {
        const child = scope.spawn(async (signal) => {
          await work(int(0, 10), signal)
          if (chance(0.1)) throw new Injected('scope child fails')
        })
        child.done.catch(expected('scope child'))
      }
      if (chance(0.1)) scope.abortAll(new Injected('abort all'))
      count('scope spawn')
    } else if (roll < 0.55) {
      {
        using _ticker = every(1, () => {
          tickerTicks++
        }, { until: () => chance(0.3), immediate: chance(0.5), onError })
        await work(int(0, 5))
      }
      count('every')
    } else if (roll < 0.65) {
      {
        using batch = createBatcher<number>({
          flush: (items) => {
            batched += items.length
            if (chance(0.1)) throw new Injected('flush fails')
          },
          minIntervalMs: int(0, 3),
          maxPending: int(1, 5),
          flushOnDispose: chance(0.5),
          onError,
        })
        for (let i = int(0, 6); i > 0; i--) batch.request(i)
        if (chance(0.3)) batch.flushNow()
        await work(int(0, 4))
      }
      count('createBatcher')
    } else if (roll < 0.8) {
      const controller = new AbortController()
      const registry: { hook?: () => void } = {} // one per run: swaps of one key by concurrent flows do not nest
      {
        using linked = linkSignals(controller.signal, AbortSignal.timeout(int(1, 20)))
        using timeout = timeoutSignal(int(0, 5))
        using _off = onAbort(linked.signal, () => { count('onAbort fired') })
        using _listener = listen(target, 'tick', () => {
          listened++
        })
        using _restore = swap(registry, 'hook', () => undefined)
        if (registry.hook === undefined) violate('swap did not install the value')
        target.dispatchEvent(new Event('tick'))
        if (chance(0.3)) controller.abort(new Injected('abort'))
        await work(int(0, 3), timeout.signal).catch(expected('timeoutSignal'))
      }
      if (registry.hook !== undefined) violate('swap did not restore an absent key')
      count('signals/listen/swap')
    } else {
      {
        using _sigs = onSignals(['SIGUSR2'], () => { count('SIGUSR2') })
      }
      count('onSignals')
    }
  },
  async tasks() {
    const roll = random()
    if (roll < 0.25) {
      const controller = new AbortController()
      if (chance(0.2)) setTimeout(() => { controller.abort(new Injected('get leaves')) }, int(0, 5))
      await initializer.get({ signal: controller.signal }).then(() => { count('initializer ready') }, expected('initializer get'))
      if (chance(0.05)) initializer.reset()
      if (chance(0.05)) initializer.start()
    } else if (roll < 0.45) {
      const key = int(0, 5)
      await flights
        .run(
          key,
          async (signal) => {
            await work(int(0, 5), signal)
            if (chance(0.2)) throw new Injected('flight fails')
            return key
          },
          { signal: chance(0.2) ? AbortSignal.timeout(int(0, 4)) : undefined },
        )
        .then((v) => {
          if (v !== key) violate(`single flight for ${key} returned ${v}`)
          count('single flight')
        }, expected('single flight'))
    } else if (roll < 0.85) {
      // Sometimes a burst, past the queue cap (16): the newest are dropped and reported.
      for (let i = chance(0.05) ? int(10, 30) : 1; i > 0; i--) {
        poolCounts.submitted++
        const accepted = pool.run(async (signal) => {
          const r = random()
          if (r < 0.1) throw new Injected('detached task fails')
          if (r < 0.15) return work(40, signal, true) // hung: ignores its timeout's abort
          return work(int(0, 10), signal)
        })
        if (accepted) poolCounts.accepted++
        else poolCounts.notAccepted++
        count('detached run')
      }
    } else {
      await retry(
        (attempt) => {
          if (chance(0.6)) throw new Injected(`attempt ${attempt} fails`)
          return attempt
        },
        { attempts: 3, baseMs: 1, maxMs: 4, signal: chance(0.2) ? AbortSignal.timeout(int(0, 3)) : undefined },
      ).then(() => { count('retry') }, expected('retry'))
    }
  },
}
const names = Object.keys(scenarios)

// ---------------------------------------------------------------- run
const started = performance.now()
const deadline = started + seconds * 1_000
const stallWatch = watchEventLoop({ thresholdMs: 250, onStall: () => { count('event-loop stall (>250 ms)') } })
let iterations = 0
await Promise.all(
  Array.from({ length: actors }, async () => {
    while (performance.now() < deadline) {
      iterations++
      await scenarios[pick(names)]!()
    }
  }),
)
const runMs = performance.now() - started

// ---------------------------------------------------------------- teardown
stallWatch[Symbol.dispose]()
faulty[Symbol.dispose]()
await scope[Symbol.asyncDispose]()
pool.close()
await pool.drain({ timeoutMs: 2_000 }).catch((error: unknown) => { violate(`pool drain: ${String(error)}`) })
await initializer[Symbol.asyncDispose]()
flights[Symbol.dispose]()
await cache[Symbol.asyncDispose]()
await cache.settled()
semaphore.close()
await sleep(150) // tasks that ignore their signal (bounded hangs) settle; their timers end
await sleep(0)

// ---------------------------------------------------------------- checks
const checks = new Checks()
const cacheStats = cache.stats()
const { evicted, expired, deleted, replaced, cleared } = cacheStats.evictions
const removals = evicted + expired + deleted + replaced + cleared
const notifiedTwice = notifications.subarray(0, nextValue).filter((n) => n > 1).length
const poolStats = pool.stats()
const reportsOf = (key: string): number => reports.get(key) ?? 0

console.log(`\nran ${(runMs / 1000).toFixed(1)} s: ${iterations} scenario runs, ${nextValue} cache values, ${observerCalls} notifications`)
console.log('\n| operation | count |\n|---|---:|')
for (const [what, n] of [...ops].sort((a, b) => b[1] - a[1])) console.log(`| ${what} | ${n} |`)
console.log(`\nreports to onError: ${JSON.stringify(Object.fromEntries([...reports].sort()))}`)
console.log(`cache: ${JSON.stringify(cacheStats)}`)
console.log(`guards: ${tickerTicks} ticks, ${batched} items batched, ${listened} events heard`)
console.log(`pool: ${JSON.stringify({ ...poolCounts, ...poolStats })}\n`)

checks.check(unhandled === 0, `no unhandled rejection (${unhandled})`)
checks.check(warnings === 0, `no process warning (${warnings})`, warningNames.join('\n'))
checks.check(violations.length === 0, 'invariants held (one mutex holder, no writer beside a reader, permits within capacity, swap restored, single flight values)', violations.join('\n'))
checks.check(notifiedTwice === 0, `no cache value notified twice (${notifiedTwice})`)
checks.check(observerCalls === removals, `accounting observer saw every removal once (${observerCalls} calls, ${removals} removals counted by the cache)`)
checks.check(cacheStats.size === 0 && cacheStats.pendingNotifications === 0, `cache empty and settled after dispose (size ${cacheStats.size}, pending ${cacheStats.pendingNotifications})`)
checks.check(cacheStats.observerErrors === reportsOf('cache:observer-error') && cacheStats.observerTimeouts === reportsOf('cache:observer-timeout'), `cache observer failures reported once each (${cacheStats.observerErrors} errors, ${cacheStats.observerTimeouts} timeouts)`)
checks.check(
  poolStats.started === poolStats.succeeded + poolStats.failed + poolStats.timedOut && poolStats.running === 0 && poolStats.queued === 0,
  `every detached task accounted for (${poolStats.started} started = ${poolStats.succeeded} ok + ${poolStats.failed} failed + ${poolStats.timedOut} timed out)`,
)
checks.check(
  poolCounts.accepted === poolStats.started && poolCounts.notAccepted === poolStats.dropped + poolStats.refused,
  `detached submissions: ${poolCounts.submitted} = ${poolCounts.accepted} accepted + ${poolCounts.notAccepted} dropped/refused`,
)
checks.check(
  reportsOf('detached:error') === poolStats.failed && reportsOf('detached:timeout') === poolStats.timedOut && reportsOf('detached:dropped') === poolStats.dropped,
  `every detached failure, timeout and drop reported once (${reportsOf('detached:error')}/${reportsOf('detached:timeout')}/${reportsOf('detached:dropped')})`,
)
checks.check(mutex.waiting === 0 && !mutex.locked && rw.waiting === 0 && !rw.locked && semaphore.waiting === 0 && semaphore.available === 4, 'every lock free, no waiter left, semaphore fully available')
checks.check(scope.size === 0, `task scope empty after dispose (${scope.size})`)

// The injected hangs are bounded (at most 60 ms past their abort); on a loaded machine
// give them up to 2 s to end before calling what is left a leak.
const excess = (): string[] =>
  [...resources()].filter(([type, n]) => n > (baselineResources.get(type) ?? 0)).map(([type, n]) => `${type}: ${n} (baseline ${baselineResources.get(type) ?? 0})`)
let leaked = excess()
for (let waited = 0; leaked.length > 0 && waited < 2_000; waited += 50) {
  await sleep(50)
  leaked = excess()
}
checks.check(leaked.length === 0, `no active timer or handle left beyond the baseline (${process.getActiveResourcesInfo().join(', ') || 'none'})`, leaked.join('\n'))

const endHeap = await heapMb()
checks.check(endHeap - baselineHeap <= HEAP_BOUND_MB, `heap after GC ${endHeap.toFixed(1)} MB vs ${baselineHeap.toFixed(1)} MB at start (+${(endHeap - baselineHeap).toFixed(1)} MB, bound +${HEAP_BOUND_MB} MB)`)
checks.finish(`soak (seed ${seed})`)
// A leaked handle would keep the process alive: end it here either way.
process.exit(process.exitCode ?? 0)
