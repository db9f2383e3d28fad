/**
 * Nested notifications (caused by an observer's own cache call) keep their key's order
 * for that observer: they neither pass an earlier queued call of the same key nor run
 * beside a later root call of it, and a bound of 1 still cannot deadlock.
 */
import { describe, expect, it } from 'vitest'
import { LruTtlCache } from '../../src/cache/index.js'
import { deferred, expectNoUnhandledRejections, flushMicrotasks } from '../helpers.js'

expectNoUnhandledRejections()

/** An observer log of `start <value>` / `end <value>` and the values of key `k` running now. */
function recorder() {
  const log: string[] = []
  const runningK = new Set<string>()
  const overlaps: string[] = []
  return {
    log,
    overlaps,
    begin(key: string, value: string): void {
      log.push(`start ${value}`)
      if (key === 'k') {
        if (runningK.size !== 0) overlaps.push(`${value} beside ${[...runningK].join(',')}`)
        runningK.add(value)
      }
    },
    end(key: string, value: string): void {
      log.push(`end ${value}`)
      if (key === 'k') runningK.delete(value)
    },
  }
}

describe.each([1, 4])('nested notifications with notifyConcurrency %i', (bound) => {
  it('do not start before an earlier queued call of the same key (they promote it)', async () => {
    const gate = deferred()
    const rec = recorder()
    const cache: LruTtlCache<string, string> = new LruTtlCache<string, string>({
      capacity: 10,
      notifyConcurrency: bound,
      notifyTimeoutMs: Infinity,
      onEvict: async ({ key, value }) => {
        rec.begin(key, value)
        if (value === 'k1') await gate.promise
        if (key === 'x') await cache.set('k', 'k4') // replaces k3: nested
        rec.end(key, value)
      },
    })
    void cache.set('k', 'k1')
    void cache.set('k', 'k2') // replaced k1 (holds the chain until the gate opens)
    void cache.set('k', 'k3') // replaced k2, queued behind k1
    void cache.set('x', 'x1')
    void cache.set('x', 'x2') // replaced x1: its observer sets k
    await flushMicrotasks()
    gate.resolve()
    await cache.settled()
    const kStarts = rec.log.filter((l) => l.startsWith('start k'))
    expect(kStarts).toEqual(['start k1', 'start k2', 'start k3'])
    expect(rec.overlaps).toEqual([])
    expect(cache.get('k')).toBe('k4')
    expect(cache.stats()).toMatchObject({ pendingNotifications: 0, observerTimeouts: 0, observerErrors: 0 })
  })

  it('hold a later root call of the same key back until they settled', async () => {
    const gate = deferred()
    const rec = recorder()
    const cache: LruTtlCache<string, string> = new LruTtlCache<string, string>({
      capacity: 10,
      notifyConcurrency: bound,
      notifyTimeoutMs: Infinity,
      onEvict: async ({ key, value }) => {
        rec.begin(key, value)
        if (key === 'x') void cache.set('k', 'k2') // replaces k1: nested, not awaited
        if (value === 'k1') await gate.promise
        rec.end(key, value)
      },
    })
    void cache.set('k', 'k1')
    void cache.set('x', 'x1')
    void cache.set('x', 'x2') // replaced x1: its observer replaces k1 (nested, slow)
    await flushMicrotasks()
    expect(rec.log).toEqual(['start x1', 'end x1', 'start k1'])
    void cache.set('k', 'k3') // replaced k2: a root call of the same key
    await flushMicrotasks()
    expect(rec.log).toEqual(['start x1', 'end x1', 'start k1']) // k2 waits for k1
    gate.resolve()
    await cache.settled()
    expect(rec.log.slice(3)).toEqual(['end k1', 'start k2', 'end k2'])
    expect(rec.overlaps).toEqual([])
  })
})
