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
}

interface Model {
  capacity: number
  defaultTtl: number | undefined
  now: number
  entries: ModelEntry[] // most recently used first
  removals: Removal[]
  /** Expiries counted but not notified: the very same value was set over its expired entry. */
  silentExpired: number
  nextValue: number
  hits: number
  misses: number
  loads: number
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
}

function modelFind(m: Model, key: Key): number {
  return m.entries.findIndex((e) => e.key === key)
}

function modelRemove(m: Model, index: number, cause: EvictionCause): void {
  const [e] = m.entries.splice(index, 1)
  const expired = e!.exp < m.now
  m.removals.push([e!.key, e!.value, expired ? 'expired' : cause])
}

/** Looks a key up like get/has/peek: an expired entry is removed and notified. */
function modelLive(m: Model, key: Key): number {
  const i = modelFind(m, key)
  if (i === -1) return -1
  if (m.entries[i]!.exp < m.now) {
    modelRemove(m, i, 'expired')
    return -1
  }
  return i
}

function check(m: Model, r: Real): void {
  expect(r.cache.size).toBe(m.entries.length)
  expect(r.cache.size).toBeLessThanOrEqual(m.capacity)
  const s = r.cache.stats()
  expect({ hits: s.hits, misses: s.misses }).toEqual({ hits: m.hits, misses: m.misses })
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
      if (old.exp < m.now) {
        if (Object.is(old.value, value)) m.silentExpired++
        else m.removals.push([old.key, old.value, 'expired'])
      } else if (!Object.is(old.value, value)) m.removals.push([old.key, old.value, 'replaced'])
    } else if (m.entries.length === m.capacity) {
      modelRemove(m, m.entries.length - 1, 'evicted')
    }
    m.entries.unshift({ key, value, exp })
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

/** getOrLoad with a synchronous loader: a hit, or a miss that loads and stores at once. */
class GetOrLoadCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly key: Key) {}
  check = (): boolean => true
  async run(m: Model, r: Real): Promise<void> {
    const i = modelLive(m, this.key)
    const value = m.nextValue++
    let expected: number
    if (i === -1) {
      m.misses++
      m.loads++
      SetCommand.applyToModel(m, this.key, value, undefined)
      expected = value
    } else {
      m.hits++
      const [e] = m.entries.splice(i, 1)
      m.entries.unshift(e!)
      expected = e!.value
    }
    const p = r.cache.getOrLoad(this.key, () => value)
    check(m, r)
    expect(r.cache.stats().loads).toBe(m.loads)
    expect(await p).toBe(expected)
  }
  toString = (): string => `getOrLoad(${this.key})`
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
      expected = m.entries[i]!.exp >= m.now
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
      if (m.entries[i]!.exp < m.now) {
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
      if (m.entries[i]!.exp < m.now) modelRemove(m, i, 'expired')
      else i++
    }
    expect(r.cache.entries()).toEqual(m.entries.map((e) => [e.key, e.value]))
    check(m, r)
  }
  toString = (): string => 'entries()'
}

const key = fc.constantFrom(...KEYS)
const setCommand = fc
  .tuple(key, fc.boolean(), fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }))
  .map(([k, same, t]) => new SetCommand(k, same, t))
const getCommand = key.map((k) => new GetCommand(k))
const advanceCommand = fc.integer({ min: 0, max: 15 }).map((ms) => new AdvanceCommand(ms))
// Sets, gets and clock moves are repeated to weight them: they drive evictions and expiries.
const commands = fc.commands(
  [
    setCommand,
    setCommand,
    setCommand,
    setCommand,
    getCommand,
    getCommand,
    key.map((k) => new GetOrLoadCommand(k)),
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
        commands,
        async (s, capacity, defaultTtl, concurrency, cmds) => {
          const clock = { t: 0 }
          const real: Real = { cache: undefined as never, clock, started: [], running: 0, maxRunning: 0, runningPerKey: new Map(), maxRunningPerKey: 0, promises: [] }
          real.cache = new LruTtlCache<Key, number>({
            capacity,
            ttlMs: defaultTtl,
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
          const model: Model = { capacity, defaultTtl, now: 0, entries: [], removals: [], silentExpired: 0, nextValue: 0, hits: 0, misses: 0, loads: 0 }
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
        },
      ),
      { numRuns: 150 },
    )
  })
})
