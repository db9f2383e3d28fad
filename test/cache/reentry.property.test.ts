/**
 * Re-entrant observers under random interleavings: observers that call set, delete,
 * get and clear on their own cache (awaiting or not, before or after an await), with a
 * bound of 1 to 4 and no timeout. Nothing may deadlock, and a conservation law must
 * hold: every value ever inserted (all distinct) is, at the end, either still stored
 * or was notified exactly once, never both; size <= capacity; stats agree. And per key:
 * notifications start in removal order (a key's values are removed in the order they
 * were stored under it), and a call starts while another call for the same key runs
 * only if that one is already inside its own cache call (it may be waiting for this
 * one, which therefore must not wait for it).
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { LruTtlCache } from '../../src/cache/index.js'
import { expectNoUnhandledRejections } from '../helpers.js'

expectNoUnhandledRejections()

type Op = 'set' | 'delete' | 'get' | 'clear' | 'none'
const action = fc.record({
  op: fc.constantFrom<Op>('set', 'set', 'delete', 'get', 'clear', 'none'),
  key: fc.integer({ min: 0, max: 3 }),
  awaitIt: fc.boolean(),
  yieldFirst: fc.boolean(),
})

describe('re-entrant observers', () => {
  it('never deadlock or corrupt the cache, whatever the interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(action, { minLength: 1, maxLength: 12 }),
        fc.array(fc.tuple(fc.constantFrom<'set' | 'delete'>('set', 'set', 'delete'), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 12 }),
        async (s, capacity, concurrency, actions, driver) => {
          let nextValue = 0
          const inserted = new Set<number>()
          const notified: number[] = []
          const storedPerKey = new Map<number, number[]>()
          const startedPerKey = new Map<number, number[]>()
          const runningPerKey = new Map<number, Set<{ inCacheCall: boolean }>>()
          const overlaps: string[] = []
          const store = (key: number, v: number): void => {
            inserted.add(v)
            storedPerKey.set(key, [...(storedPerKey.get(key) ?? []), v])
          }
          let budget = 25 // observer-initiated operations, so cascades end
          let step = 0
          const pending: Promise<unknown>[] = []
          const cache: LruTtlCache<number, number> = new LruTtlCache<number, number>({
            capacity,
            notifyConcurrency: concurrency,
            notifyTimeoutMs: Infinity,
            onEvict: async ({ key, value }) => {
              notified.push(value)
              startedPerKey.set(key, [...(startedPerKey.get(key) ?? []), value])
              const running = runningPerKey.get(key) ?? new Set()
              runningPerKey.set(key, running)
              for (const other of running) if (!other.inCacheCall) overlaps.push(`${key}:${value}`)
              const me = { inCacheCall: false }
              running.add(me)
              try {
                await observe(me)
              } finally {
                running.delete(me)
              }
            },
          })
          const observe = async (me: { inCacheCall: boolean }): Promise<void> => {
              const a = actions[step++ % actions.length]!
              if (a.yieldFirst) await s.schedule(Promise.resolve(), 'observer yields')
              if (budget-- <= 0) return
              me.inCacheCall = true
              let p: Promise<unknown> | undefined
              switch (a.op) {
                case 'set': {
                  const v = nextValue++
                  store(a.key, v)
                  p = cache.set(a.key, v)
                  break
                }
                case 'delete':
                  p = cache.delete(a.key)
                  break
                case 'clear':
                  p = cache.clear()
                  break
                case 'get':
                  cache.get(a.key)
                  break
                case 'none':
                  break
              }
              if (p !== undefined) {
                if (a.awaitIt) await p
                else pending.push(p)
              }
          }
          for (const [op, key] of driver) {
            if (op === 'set') {
              const v = nextValue++
              store(key, v)
              pending.push(cache.set(key, v))
            } else {
              pending.push(cache.delete(key))
            }
          }
          // Drive the scheduler until nothing is pending; a deadlock would spin here forever.
          let spins = 0
          while (cache.stats().pendingNotifications > 0) {
            if (s.count() > 0) await s.waitNext(1)
            else await new Promise((resolve) => setImmediate(resolve))
            if (++spins > 2_000) throw new Error(`deadlock: ${cache.stats().pendingNotifications} notifications pending`)
          }
          await Promise.all(pending)
          const present = cache.values()
          expect(cache.size).toBeLessThanOrEqual(capacity)
          expect(present).toHaveLength(cache.size)
          expect(new Set(cache.keys()).size).toBe(cache.size)
          // Conservation: each inserted value is either present or notified exactly once.
          expect(new Set(notified).size).toBe(notified.length)
          for (const v of present) expect(notified).not.toContain(v)
          expect([...present, ...notified].sort((a, b) => a - b)).toEqual([...inserted].sort((a, b) => a - b))
          // Per key: notifications started in removal order, never beside a call not inside a cache call.
          for (const [key, stored] of storedPerKey) {
            expect(startedPerKey.get(key) ?? [], `key ${key}`).toEqual(stored.filter((v) => !present.includes(v)))
          }
          expect(overlaps).toEqual([])
          const st = cache.stats()
          const removals = (Object.values(st.evictions) as number[]).reduce((a, b) => a + b, 0)
          expect(removals).toBe(notified.length)
          expect(st).toMatchObject({ observerErrors: 0, observerTimeouts: 0, pendingNotifications: 0 })
        },
      ),
      { numRuns: 150 },
    )
  })
})
