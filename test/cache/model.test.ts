/**
 * Model-based tests: random command sequences run against LruTtlCache and against a
 * plain reference model (an array in recency order, most recently used first), with an
 * injected clock for TTLs and observers whose completion order is chosen by
 * `fc.scheduler()`. Values are unique (a re-set of the very same value is its own
 * command), so a notification names its removal. After every command: contents,
 * recency order, size <= capacity and stats match; at the end, the multiset of
 * (key, value, cause) notifications matches, each key's notifications to an observer
 * started in removal order with at most one running per key, and the concurrency bound
 * held.
 *
 * The model also covers stale-while-revalidate: a grace window (`graceMs`) in which an
 * expired entry is invisible to lookups but kept, served stale by a getOrLoad whose
 * (synchronous) loader fails, and replaced by one whose loader succeeds; and early
 * refresh (`refreshAheadRatio`) on getOrLoad hits.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { LruTtlCache, type EvictionCause } from '../../src/cache/index.js'
import { expectNoUnhandledRejections } from '../helpers.js'

expectNoUnhandledRejections()

type Key = 'a' | 'b' | 'c' | 'd' | 'e'
const KEYS: Key[] = ['a', 'b', 'c', 'd', 'e']

interface ModelEntry {
  key: Key
  value: number
  exp: number
  ttl: number | undefined
}

interface Model {
  capacity: number
  defaultTtl: number | undefined
  /** Grace window past expiry (0: none). */
  grace: number
  /** refreshAheadRatio (0: none). */
  ratio: number
  now: number
  entries: ModelEntry[] // most recently used first
  removals: Removal[]
  /** Expiries counted but not notified: the very same value was set over its expired entry. */
  silentExpired: number
  nextValue: number
  hits: number
  misses: number
  loads: number
  loadErrors: number
  refreshes: number
  refreshErrors: number
  staleHits: number
  staleOnError: number
}

type Removal = [Key, number, EvictionCause]

interface Real {
  cache: LruTtlCache<Key, number>
  clock: { t: number }
  started: Removal[]
  running: number
  maxRunning: number
  runningPerKey: Map<Key, number>
  maxRunningPerKey: number
  promises: Promise<unknown>[]
  reports: number
}

function modelFind(m: Model, key: Key): number {
  return m.entries.findIndex((e) => e.key === key)
}

/** Whether an entry is past its expiry and its grace window (dead: removed as 'expired' when found). */
function dead(m: Model, e: ModelEntry): boolean {
  return e.exp + m.grace < m.now
}

function modelRemove(m: Model, index: number, cause: EvictionCause): void {
  const [e] = m.entries.splice(index, 1)
  const expired = dead(m, e!)
  m.removals.push([e!.key, e!.value, expired ? 'expired' : cause])
}

/** Looks a key up like get/has/peek: a dead entry is removed and notified; one in its grace window is kept but missed. */
function modelLive(m: Model, key: Key): number {
  const i = modelFind(m, key)
  if (i === -1) return -1
  if (m.entries[i]!.exp < m.now) {
    if (dead(m, m.entries[i]!)) modelRemove(m, i, 'expired')
    return -1
  }
  return i
}

function check(m: Model, r: Real): void {
  expect(r.cache.size).toBe(m.entries.length)
  expect(r.cache.size).toBeLessThanOrEqual(m.capacity)
  const s = r.cache.stats()
  expect({ hits: s.hits, misses: s.misses }).toEqual({ hits: m.hits, misses: m.misses })
  expect({ loads: s.loads, loadErrors: s.loadErrors, refreshes: s.refreshes, refreshErrors: s.refreshErrors, staleHits: s.staleHits, staleOnError: s.staleOnError }).toEqual({
    loads: m.loads,
    loadErrors: m.loadErrors,
    refreshes: m.refreshes,
    refreshErrors: m.refreshErrors,
    staleHits: m.staleHits,
    staleOnError: m.staleOnError,
  })
  const counts: Record<EvictionCause, number> = { evicted: 0, expired: 0, deleted: 0, replaced: 0, cleared: 0, invalidated: 0 }
  for (const [, , cause] of m.removals) counts[cause]++
  counts.expired += m.silentExpired
  expect(s.evictions).toEqual(counts)
}

/** Sets a fresh value, or with `same` the value already stored under the key (if any). */
class SetCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly key: Key,
    readonly same: boolean,
    readonly ttl: number | undefined,
  ) {}
  check = (): boolean => true
  static applyToModel(m: Model, key: Key, value: number, ttlMs: number | undefined): void {
    const ttl = ttlMs ?? m.defaultTtl
    const exp = ttl === undefined ? Infinity : m.now + ttl
    const i = modelFind(m, key)
    if (i !== -1) {
      const old = m.entries[i]!
      m.entries.splice(i, 1)
      if (dead(m, old)) {
        if (Object.is(old.value, value)) m.silentExpired++
        else m.removals.push([old.key, old.value, 'expired'])
      } else if (!Object.is(old.value, value)) m.removals.push([old.key, old.value, 'replaced'])
    } else if (m.entries.length === m.capacity) {
      modelRemove(m, m.entries.length - 1, 'evicted')
    }
    m.entries.unshift({ key, value, exp, ttl })
  }
  async run(m: Model, r: Real): Promise<void> {
    const i = this.same ? modelFind(m, this.key) : -1
    const value = i === -1 ? m.nextValue++ : m.entries[i]!.value
    SetCommand.applyToModel(m, this.key, value, this.ttl)
    r.promises.push(r.cache.set(this.key, value, this.ttl === undefined ? undefined : { ttlMs: this.ttl }))
    check(m, r)
  }
  toString = (): string => `set(${this.key}, ${this.same ? 'same' : 'fresh'}${this.ttl === undefined ? '' : `, ttl ${this.ttl}`})`
}

class GetCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: Key) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    const i = modelLive(m, this.key)
    let expected: number | undefined
    if (i === -1) {
      m.misses++
    } else {
      m.hits++
      const [e] = m.entries.splice(i, 1)
      m.entries.unshift(e!)
      expected = e!.value
    }
    expect(r.cache.get(this.key)).toBe(expected)
    check(m, r)
  }
  toString = (): string => `get(${this.key})`
}

/**
 * getOrLoad with a synchronous loader that succeeds (or, with `fail`, throws): a hit
 * (past the early-refresh point, the loader runs and its value replaces the live one),
 * a stale entry in its grace window (refreshed at once, or served stale when the loader
 * fails), or a miss that loads and stores at once (or rejects).
 */
class GetOrLoadCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly key: Key,
    readonly fail: boolean,
  ) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    const found = modelFind(m, this.key)
    const stale = found !== -1 && m.entries[found]!.exp < m.now && !dead(m, m.entries[found]!) ? m.entries[found]! : undefined
    const i = modelLive(m, this.key)
    const value = m.nextValue++
    let expected: number | undefined
    const failure = new Error('load failed')
    const load = (): void => {
      m.loads++
      if (this.fail) m.loadErrors++
      else SetCommand.applyToModel(m, this.key, value, undefined)
    }
    if (i !== -1) {
      m.hits++
      const [e] = m.entries.splice(i, 1)
      m.entries.unshift(e!)
      expected = e!.value
      if (m.ratio !== 0 && e!.ttl !== undefined && m.now >= e!.exp - e!.ttl * (1 - m.ratio)) {
        m.refreshes++
        if (this.fail) m.refreshErrors++
        load()
      }
    } else {
      m.misses++
      if (stale !== undefined) {
        m.refreshes++
        // Used: moved to the head like a hit, then refreshed.
        m.entries.splice(m.entries.indexOf(stale), 1)
        m.entries.unshift(stale)
        if (this.fail) {
          m.refreshErrors++
          m.staleHits++
          m.staleOnError++
          expected = stale.value
        } else expected = value
      } else if (!this.fail) expected = value
      load()
    }
    const p = r.cache.getOrLoad(
      this.key,
      this.fail
        ? () => {
            throw failure
          }
        : () => value,
    )
    check(m, r)
    if (expected === undefined) await expect(p).rejects.toBe(failure)
    else expect(await p).toBe(expected)
  }
  toString = (): string => `getOrLoad(${this.key}${this.fail ? ', failing' : ''})`
}

class PeekCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly key: Key,
    readonly useHas: boolean,
  ) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    const i = modelLive(m, this.key)
    if (this.useHas) expect(r.cache.has(this.key)).toBe(i !== -1)
    else expect(r.cache.peek(this.key)).toBe(i === -1 ? undefined : m.entries[i]!.value)
    check(m, r)
  }
  toString = (): string => `${this.useHas ? 'has' : 'peek'}(${this.key})`
}

class DeleteCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: Key) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    const i = modelFind(m, this.key)
    let expected = false
    if (i !== -1) {
      expected = !dead(m, m.entries[i]!)
      modelRemove(m, i, 'deleted')
    }
    const p = r.cache.delete(this.key)
    r.promises.push(p.then((removed) => expect(removed).toBe(expected)))
    check(m, r)
  }
  toString = (): string => `delete(${this.key})`
}

class AdvanceCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    m.now += this.ms
    r.clock.t += this.ms
    check(m, r)
  }
  toString = (): string => `advance(${this.ms})`
}

class PruneCommand implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    let n = 0
    // The cache prunes least recently used first; the multiset is what we compare.
    for (let i = m.entries.length - 1; i >= 0; i--) {
      if (dead(m, m.entries[i]!)) {
        modelRemove(m, i, 'expired')
        n++
      }
    }
    r.promises.push(r.cache.pruneExpired().then((removed) => expect(removed).toBe(n)))
    check(m, r)
  }
  toString = (): string => 'pruneExpired()'
}

class ClearCommand implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    while (m.entries.length > 0) modelRemove(m, m.entries.length - 1, 'cleared')
    r.promises.push(r.cache.clear())
    check(m, r)
  }
  toString = (): string => 'clear()'
}

class KeysCommand implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    for (let i = 0; i < m.entries.length; ) {
      if (dead(m, m.entries[i]!)) modelRemove(m, i, 'expired')
      else i++
    }
    // Entries in their grace window are kept but not shown.
    expect(r.cache.entries()).toEqual(m.entries.filter((e) => e.exp >= m.now).map((e) => [e.key, e.value]))
    check(m, r)
  }
  toString = (): string => 'entries()'
}

const key = fc.constantFrom(...KEYS)
const setCommand = fc
  .tuple(key, fc.boolean(), fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }))
  .map(([k, same, t]) => new SetCommand(k, same, t))
const getCommand = key.map((k) => new GetCommand(k))
const getOrLoadCommand = fc.tuple(key, fc.boolean()).map(([k, fail]) => new GetOrLoadCommand(k, fail))
const advanceCommand = fc.integer({ min: 0, max: 15 }).map((ms) => new AdvanceCommand(ms))
// Sets, gets, loads and clock moves are repeated to weight them: they drive evictions, expiries and refreshes.
const commands = fc.commands(
  [
    setCommand,
    setCommand,
    setCommand,
    setCommand,
    getCommand,
    getCommand,
    getOrLoadCommand,
    getOrLoadCommand,
    advanceCommand,
    fc.tuple(key, fc.boolean()).map(([k, h]) => new PeekCommand(k, h)),
    key.map((k) => new DeleteCommand(k)),
    fc.constant(new PruneCommand()),
    fc.constant(new ClearCommand()),
    fc.constant(new KeysCommand()),
  ],
  { maxCommands: 60, size: 'large' },
)

function sortRemovals(removals: Removal[]): string[] {
  return removals.map(([k, v, c]) => `${k}:${v}:${c}`).sort()
}

function perKey(removals: Removal[]): Map<Key, string[]> {
  const out = new Map<Key, string[]>()
  for (const [k, v, c] of removals) {
    const list = out.get(k) ?? []
    list.push(`${k}:${v}:${c}`)
    out.set(k, list)
  }
  return out
}

describe('LruTtlCache against a reference model', () => {
  it('matches contents, recency, size, stats and notifications under scheduled observers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 4 }),
        fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom(0, 0, 5, 20),
        fc.constantFrom(0, 0.25, 0.5, 0.8),
        commands,
        async (s, capacity, defaultTtl, concurrency, grace, ratio, cmds) => {
          const clock = { t: 0 }
          const real: Real = { cache: undefined as never, clock, started: [], running: 0, maxRunning: 0, runningPerKey: new Map(), maxRunningPerKey: 0, promises: [], reports: 0 }
          real.cache = new LruTtlCache<Key, number>({
            capacity,
            ttlMs: defaultTtl,
            graceMs: grace === 0 ? undefined : grace,
            refreshAheadRatio: ratio === 0 ? undefined : ratio,
            onError: () => {
              real.reports++
            },
            clock: () => clock.t,
            notifyConcurrency: concurrency,
            notifyTimeoutMs: Infinity,
            onEvict: async ({ key: k, value, cause }) => {
              real.started.push([k, value, cause])
              real.running++
              real.maxRunning = Math.max(real.maxRunning, real.running)
              const sameKey = (real.runningPerKey.get(k) ?? 0) + 1
              real.runningPerKey.set(k, sameKey)
              real.maxRunningPerKey = Math.max(real.maxRunningPerKey, sameKey)
              try {
                await s.schedule(Promise.resolve(), `observer ${k}:${value}:${cause}`)
              } finally {
                real.running--
                real.runningPerKey.set(k, real.runningPerKey.get(k)! - 1)
              }
            },
          })
          const model: Model = {
            capacity,
            defaultTtl,
            grace,
            ratio,
            now: 0,
            entries: [],
            removals: [],
            silentExpired: 0,
            nextValue: 0,
            hits: 0,
            misses: 0,
            loads: 0,
            loadErrors: 0,
            refreshes: 0,
            refreshErrors: 0,
            staleHits: 0,
            staleOnError: 0,
          }
          await fc.asyncModelRun(() => ({ model, real }), cmds)
          // Observers start in microtasks as slots free up: release scheduled tasks until none is pending.
          while (real.cache.stats().pendingNotifications > 0) {
            if (s.count() > 0) await s.waitNext(1)
            else await new Promise((resolve) => setImmediate(resolve))
          }
          await Promise.all(real.promises)
          await real.cache.settled()
          expect(sortRemovals(real.started)).toEqual(sortRemovals(model.removals))
          // Each key's notifications started in removal order, one at a time.
          expect(perKey(real.started)).toEqual(perKey(model.removals))
          expect(real.maxRunningPerKey).toBeLessThanOrEqual(1)
          expect(real.maxRunning).toBeLessThanOrEqual(concurrency)
          expect(real.cache.stats().pendingNotifications).toBe(0)
          // Every failed refresh was reported, and nothing else was.
          await new Promise((resolve) => setImmediate(resolve))
          expect(real.reports).toBe(model.refreshErrors)
        },
      ),
      { numRuns: 150 },
    )
  })
})
