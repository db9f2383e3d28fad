/**
 * KeyedMutex and KeyedRwLock: per-key exclusion and independence, the canonical order of
 * multi-key requests, failures partway through one (abort, timeout, full queue) releasing
 * what was taken, per-key state freed when idle (1e6 keys), statistics summed over keys,
 * long holds with their key, re-entry detection, bad input.
 * (The single-key rules shared with Mutex run in conformance.test.ts; random
 * interleavings in keyed-properties.test.ts.)
 */
import { describe, expect, it, vi } from 'vitest'
import { KeyedLockGuard, KeyedMutex, KeyedRwLock } from '../../src/locks/index.js'
import { QueueFullError, ReentrancyError, TimeoutError } from '../../src/errors.js'
import { compareKeys } from '../../src/locks/keyed-core.js'
import { abortListenerCount, deferred, expectNoUnhandledRejections, flushMicrotasks } from '../helpers.js'

expectNoUnhandledRejections()

/** Whether `p` has settled (after the microtasks queued so far ran). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false
  p.then(
    () => (done = true),
    () => (done = true),
  )
  await flushMicrotasks()
  return done
}

describe('KeyedMutex: one mutex per key', () => {
  it('excludes requests for the same key and lets different keys run side by side', async () => {
    const km = new KeyedMutex<string>()
    const a1 = await km.lock('a')
    const b1 = await km.lock('b') // another key: granted while 'a' is held
    const a2 = km.lock('a')
    expect(await settled(a2)).toBe(false)
    expect(km.isLocked('a')).toBe(true)
    expect(km.isLocked('b')).toBe(true)
    expect(km.isLocked('c')).toBe(false)
    expect(km.size).toBe(2)
    expect(km.waiting).toBe(1)
    b1.release()
    expect(await settled(a2)).toBe(false)
    a1.release()
    const g = await a2
    expect(g.keys).toEqual(['a'])
    expect(km.isLocked('a')).toBe(true) // handed straight to the waiter
    g.release()
    expect(km.size).toBe(0)
  })

  it('grants each key in FIFO order, independently of the other keys', async () => {
    const km = new KeyedMutex<string>()
    const order: string[] = []
    const holdA = await km.lock('a')
    const holdB = await km.lock('b')
    const done = ['a1', 'b1', 'a2', 'b2', 'a3'].map((id) => km.runExclusive(id[0]!, () => void order.push(id)))
    holdB.release()
    await flushMicrotasks()
    expect(order).toEqual(['b1', 'b2'])
    holdA.release()
    await Promise.all(done)
    expect(order).toEqual(['b1', 'b2', 'a1', 'a2', 'a3'])
    expect(km.size).toBe(0)
  })

  it('keys compare like Map keys: "1" and 1 differ, objects by identity, NaN and -0 as Map does', async () => {
    const km = new KeyedMutex<unknown>()
    const o1 = {}
    const guards = [km.tryLock('1'), km.tryLock(1), km.tryLock(o1), km.tryLock({}), km.tryLock(Number.NaN), km.tryLock(0)]
    expect(guards.every((g) => g !== undefined)).toBe(true)
    expect(km.tryLock(o1)).toBeUndefined()
    expect(km.tryLock(Number.NaN)).toBeUndefined()
    expect(km.tryLock(-0)).toBeUndefined()
    expect(km.size).toBe(6)
    expect(km.keys()).toEqual(['1', 1, o1, {}, Number.NaN, 0])
    // String keys that name Object.prototype members are keys like any other.
    const proto = km.tryLock(['__proto__', 'constructor', 'toString'])!
    expect(km.tryLock('__proto__')).toBeUndefined()
    expect(km.isLocked('constructor')).toBe(true)
    proto.release()
    expect(km.isLocked('__proto__')).toBe(false)
    for (const g of guards) g!.release()
    expect(km.size).toBe(0)
  })

  it('runExclusive runs fn synchronously when the keys are free, passes values and errors through, releases on throw', async () => {
    const km = new KeyedMutex<string>()
    let ran = false
    const p = km.runExclusive(['x', 'y'], () => {
      ran = true
      expect(km.isLocked('x') && km.isLocked('y')).toBe(true)
      return 7
    })
    expect(ran).toBe(true)
    await expect(p).resolves.toBe(7)
    const boom = new Error('boom')
    await expect(km.runExclusive(['x', 'y'], () => Promise.reject(boom))).rejects.toBe(boom)
    await expect(
      km.runExclusive('x', () => {
        throw boom
      }),
    ).rejects.toBe(boom)
    expect(km.size).toBe(0)
  })
})

describe('several keys: one canonical order, no leak on failure', () => {
  it('deduplicates and sorts: numbers, bigints, strings, booleans, symbols, then objects by an id given when first sorted', () => {
    const km = new KeyedMutex<unknown>()
    const first = { n: 1 }
    const second = { n: 2 }
    km.tryLock([first, second])!.release() // ids are given the first time objects are sorted
    const sym = Symbol('s')
    const g = km.tryLock([second, 'b', 10, true, sym, 9, 'a', 2n, first, false, 'b', 10, Number.NaN, -1])!
    expect(g.keys).toEqual([-1, 9, 10, Number.NaN, 2n, 'a', 'b', false, true, sym, first, second])
    g.release()
    expect(km.size).toBe(0)
    // A total order: antisymmetric and consistent for registered symbols and null too.
    const values: unknown[] = [Symbol.for('x'), Symbol.for('y'), null, first, 1, '1', 1n, true]
    for (const a of values) {
      for (const b of values) {
        expect(Math.sign(compareKeys(a, b)) + Math.sign(compareKeys(b, a))).toBe(0)
        expect(compareKeys(a, b) === 0).toBe(a === b)
      }
    }
  })

  it('the keys are taken in canonical order whatever order the caller lists them in', async () => {
    const km = new KeyedMutex<string>()
    const holdB = await km.lock('b')
    const ab = km.lock(['b', 'a']) // takes 'a', then waits for 'b'
    await flushMicrotasks()
    expect(km.isLocked('a')).toBe(true)
    expect(km.tryLock('a')).toBeUndefined()
    holdB.release()
    const g = await ab
    expect(g.keys).toEqual(['a', 'b'])
    g.release()
    expect(km.size).toBe(0)
  })

  it('crossed transfers complete (a naive per-key lock deadlocks here)', async () => {
    const km = new KeyedMutex<string>()
    const log: string[] = []
    const gate = deferred()
    const t1 = km.runExclusive(['x', 'y'], async () => {
      await gate.promise
      log.push('x→y')
    })
    const t2 = km.runExclusive(['y', 'x'], () => void log.push('y→x'))
    gate.resolve()
    await Promise.all([t1, t2])
    expect(log).toEqual(['x→y', 'y→x'])
  })

  it('an abort partway releases the keys already taken, removes its listener and frees idle keys', async () => {
    const km = new KeyedMutex<string>()
    const holdC = await km.lock('c')
    const ac = new AbortController()
    const abc = km.lock(['c', 'a', 'b'], { signal: ac.signal })
    await flushMicrotasks()
    expect(km.isLocked('a') && km.isLocked('b')).toBe(true) // taken, waiting for 'c'
    const waitsForA = km.lock('a')
    const reason = new Error('client left')
    ac.abort(reason)
    await expect(abc).rejects.toBe(reason)
    expect(km.isLocked('b')).toBe(false)
    const a = await waitsForA // 'a' was handed on
    expect(abortListenerCount(ac.signal)).toBe(0)
    a.release()
    holdC.release()
    expect(km.size).toBe(0)
    expect(km.waiting).toBe(0)
    expect(km.stats()).toMatchObject({ aborts: 1, timeouts: 0 })
  })

  it('a timeout bounds the whole request: keys taken are released, one timeout counted, no timer left', async () => {
    vi.useFakeTimers()
    const km = new KeyedMutex<string>({ name: 'acct' })
    const holdB = await km.lock('b')
    const ac = new AbortController()
    const ab = km.lock(['a', 'b'], { timeoutMs: 50, signal: ac.signal })
    const error = ab.catch((e: unknown) => e)
    await flushMicrotasks()
    expect(km.isLocked('a')).toBe(true)
    expect(vi.getTimerCount()).toBe(1) // one timer for the request, not one per key
    await vi.advanceTimersByTimeAsync(49)
    expect(km.isLocked('a')).toBe(true)
    await vi.advanceTimersByTimeAsync(1)
    const e = await error
    expect(e).toBeInstanceOf(TimeoutError)
    expect((e as TimeoutError).timeoutMs).toBe(50)
    expect((e as Error).message).toBe('KeyedMutex "acct": wait for keys ["a", "b"] timed out after 50 ms')
    expect(km.isLocked('a')).toBe(false)
    expect(km.keys()).toEqual(['b'])
    expect(vi.getTimerCount()).toBe(0)
    expect(abortListenerCount(ac.signal)).toBe(0)
    expect(km.stats()).toMatchObject({ timeouts: 1, aborts: 0 })
    holdB.release()
    expect(km.size).toBe(0)
  })

  it('a granted request clears its timer and listener', async () => {
    vi.useFakeTimers()
    const km = new KeyedMutex<string>()
    const hold = await km.lock('b')
    const ac = new AbortController()
    const ab = km.lock(['a', 'b'], { timeoutMs: 1_000, signal: ac.signal })
    await flushMicrotasks()
    hold.release()
    const g = await ab
    expect(vi.getTimerCount()).toBe(0)
    expect(abortListenerCount(ac.signal)).toBe(0)
    g.release()
  })

  it('timeoutMs 0 takes every key or none; a signal aborted before the call takes nothing even when free', async () => {
    const km = new KeyedMutex<string>()
    const hold = await km.lock('b')
    await expect(km.lock(['a', 'b'], { timeoutMs: 0 })).rejects.toBeInstanceOf(TimeoutError)
    expect(km.isLocked('a')).toBe(false)
    expect(km.keys()).toEqual(['b'])
    const g = await km.lock(['a', 'c'], { timeoutMs: 0 })
    g.release()
    hold.release()
    const ac = new AbortController()
    ac.abort('early')
    await expect(km.lock(['a', 'b'], { signal: ac.signal })).rejects.toBe('early')
    await expect(km.lock('a', { signal: ac.signal })).rejects.toBe('early')
    let ran = false
    await expect(km.runExclusive(['a', 'b'], () => (ran = true), { signal: ac.signal })).rejects.toBe('early')
    expect(ran).toBe(false)
    expect(km.size).toBe(0)
    expect(km.stats()).toMatchObject({ timeouts: 1, aborts: 3, acquisitions: 3 })
  })

  it('a multi-key grant racing an abort is handed on; the callback does not run', async () => {
    const km = new KeyedMutex<string>()
    const hold = await km.lock('b')
    const ac = new AbortController()
    let ran = false
    const racing = km.runExclusive(['a', 'b'], () => (ran = true), { signal: ac.signal })
    await flushMicrotasks()
    hold.release() // grants 'b' to `racing`...
    ac.abort(new Error('late')) // ...aborted before its callback could start
    await expect(racing).rejects.toThrow('late')
    expect(ran).toBe(false)
    expect(km.size).toBe(0)
  })

  it('release is idempotent and frees every key; using releases at the end of the scope', async () => {
    const km = new KeyedMutex<number>()
    const g = await km.lock([3, 1, 2])
    expect(g).toBeInstanceOf(KeyedLockGuard)
    expect(g.keys).toEqual([1, 2, 3])
    expect(g.released).toBe(false)
    g.release()
    g.release()
    expect(g.released).toBe(true)
    expect(km.size).toBe(0)
    {
      using _g = await km.lock([1, 2])
      expect(km.isLocked(1) && km.isLocked(2)).toBe(true)
    }
    expect(km.size).toBe(0)
  })
})

describe('maxPending', () => {
  it('refuses at once, with QueueFullError, a request that would queue behind maxPending waiters of a key', async () => {
    const km = new KeyedMutex<string>({ name: 'jobs', maxPending: 2 })
    const hold = await km.lock('a')
    const w1 = km.lock('a')
    const w2 = km.runExclusive('a', () => 'ran')
    const refused = km.lock('a')
    await expect(refused).rejects.toBeInstanceOf(QueueFullError)
    await expect(refused).rejects.toMatchObject({ name: 'QueueFullError', maxPending: 2, message: 'KeyedMutex "jobs" key "a": 2 waiters already queued (maxPending)' })
    await expect(km.runExclusive('a', () => 'never')).rejects.toBeInstanceOf(QueueFullError)
    expect(km.waiting).toBe(2)
    // Other keys are not affected.
    ;(await km.lock('b')).release()
    hold.release()
    ;(await w1).release()
    await expect(w2).resolves.toBe('ran')
    expect(km.stats().queueFull).toBe(2)
    expect(km.size).toBe(0)
  })

  it('a multi-key request is refused before it takes anything when one of its keys is full', async () => {
    const km = new KeyedMutex<string>({ maxPending: 1 })
    const hold = await km.lock('b')
    const w = km.lock('b')
    await expect(km.lock(['a', 'b'])).rejects.toBeInstanceOf(QueueFullError)
    expect(km.isLocked('a')).toBe(false)
    expect(km.keys()).toEqual(['b'])
    hold.release()
    ;(await w).release()
    expect(km.size).toBe(0)
  })

  it('a key found full later, after earlier keys were taken, releases them', async () => {
    const km = new KeyedMutex<string>({ maxPending: 1 })
    const holdA = await km.lock('a')
    const holdC = await km.lock('c')
    const abc = km.lock(['a', 'b', 'c']) // waits for 'a' (1 waiter: allowed)
    await flushMicrotasks()
    const cWaiter = km.lock('c') // 'c' is now full
    holdA.release() // abc takes 'a', then 'b', then finds 'c' full
    await expect(abc).rejects.toBeInstanceOf(QueueFullError)
    expect(km.isLocked('a') || km.isLocked('b')).toBe(false)
    holdC.release()
    ;(await cWaiter).release()
    expect(km.size).toBe(0)
  })

  it('maxPending 0 refuses every request that cannot be granted at once; Infinity (the default) never refuses', async () => {
    const km = new KeyedMutex<string>({ maxPending: 0 })
    const hold = await km.lock('a')
    await expect(km.lock('a')).rejects.toBeInstanceOf(QueueFullError)
    hold.release()
    const unbounded = new KeyedMutex<string>({ maxPending: Infinity })
    const h = await unbounded.lock('a')
    const waits = Array.from({ length: 50 }, () => unbounded.runExclusive('a', () => 1))
    expect(unbounded.waiting).toBe(50)
    h.release()
    await Promise.all(waits)
  })
})

describe('per-key state is freed when the key is idle', () => {
  it('1e6 distinct keys, one after another: at most one key is ever active and none is left', async () => {
    const km = new KeyedMutex<number>()
    const rw = new KeyedRwLock<string>()
    let maxSize = 0
    const N = 1_000_000
    for (let i = 0; i < N; i++) {
      if (i % 3 === 0) {
        const g = await km.lock(i)
        if (km.size > maxSize) maxSize = km.size
        g.release()
      } else if (i % 3 === 1) {
        await km.runExclusive(i, () => {
          if (km.size > maxSize) maxSize = km.size
        })
      } else {
        km.tryLock([i, -i])!.release()
      }
      if (i % 100_000 === 0) {
        await rw.runRead(`k${i}`, () => undefined)
        expect(km.size).toBe(0)
      }
    }
    expect(maxSize).toBe(1)
    expect(km.size).toBe(0)
    expect(rw.size).toBe(0)
    const st = km.stats()
    expect(st.acquisitions).toBe(N + Math.floor(N / 3)) // the try calls take two keys
    expect(st.hold.count).toBe(st.acquisitions)
  })

  it('keys are freed after waits that time out or abort, and after refused requests', async () => {
    vi.useFakeTimers()
    const km = new KeyedMutex<string>()
    const ac = new AbortController()
    const hold = await km.lock('a')
    const t = km.lock('a', { timeoutMs: 10 }).catch((e: unknown) => e)
    const ab = km.lock(['a', 'z'], { signal: ac.signal }).catch((e: unknown) => e)
    await flushMicrotasks()
    ac.abort('gone')
    await vi.advanceTimersByTimeAsync(10)
    expect(await t).toBeInstanceOf(TimeoutError)
    expect(await ab).toBe('gone')
    expect(km.keys()).toEqual(['a'])
    await expect(km.lock('a', { timeoutMs: 0 })).rejects.toBeInstanceOf(TimeoutError)
    hold.release()
    expect(km.size).toBe(0)
  })
})

describe('statistics summed over keys, long holds with their key', () => {
  it('counts every key of every request exactly, including keys already freed', async () => {
    let now = 0
    const km = new KeyedMutex<string>({ name: 'stats', clock: () => now })
    const g = await km.lock(['a', 'b'])
    const w = km.lock('a')
    now = 5
    expect(g.acquiredAt).toBe(0)
    expect(g.heldMs).toBe(5)
    g.release()
    now = 6
    expect(g.heldMs).toBe(5) // frozen at release
    now = 7
    ;(await w).release()
    km.tryLock('c')!.release()
    const st = km.stats()
    expect(st).toMatchObject({ name: 'stats', acquisitions: 4, contended: 1, timeouts: 0, aborts: 0, longHolds: 0, queueFull: 0 })
    expect(st.wait).toMatchObject({ count: 4, max: 5 })
    expect(st.hold).toMatchObject({ count: 4, max: 5 })
    expect(st.hold.mean).toBeCloseTo((5 + 5 + 2 + 0) / 4)
  })

  it('reports a long hold once per key, while held, with the key', async () => {
    vi.useFakeTimers()
    const reports: { key: unknown; heldMs: number; name: string | undefined }[] = []
    const km = new KeyedMutex<string>({ name: 'slow', longHoldMs: 100, clock: () => Date.now(), onLongHold: ({ key, heldMs, name }) => reports.push({ key, heldMs, name }) })
    const g = await km.lock(['p', 'q'])
    const quick = await km.lock('r')
    quick.release()
    await vi.advanceTimersByTimeAsync(99)
    expect(reports).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(reports).toEqual([
      { key: 'p', heldMs: 100, name: 'slow' },
      { key: 'q', heldMs: 100, name: 'slow' },
    ])
    expect(g.heldMs).toBe(100)
    g.release()
    expect(km.stats().longHolds).toBe(2)
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('detectReentry', () => {
  it('refuses a key the same flow holds (single or multi-key), allows other keys and other flows', async () => {
    const km = new KeyedMutex<string>({ name: 'r', detectReentry: true })
    await km.runExclusive(['a', 'b'], async () => {
      await expect(km.lock('b')).rejects.toBeInstanceOf(ReentrancyError)
      await expect(km.runExclusive(['c', 'a'], () => 1)).rejects.toBeInstanceOf(ReentrancyError)
      expect(km.tryLock('a')).toBeUndefined()
      await expect(km.runExclusive('c', () => 'other key')).resolves.toBe('other key')
    })
    expect(km.size).toBe(0)
    // lock(): the caller's later continuations count as the holder of every key.
    const flow = async (): Promise<unknown> => {
      const g = await km.lock(['x', 'y'])
      await Promise.resolve()
      const refused = await km.lock('y').catch((e: unknown) => e)
      g.release()
      ;(await km.lock('y')).release() // released: no longer refused
      return refused
    }
    expect(await flow()).toBeInstanceOf(ReentrancyError)
    expect(km.size).toBe(0)
  })

  it('KeyedRwLock refuses a read of a key the flow reads (the read-while-a-writer-waits deadlock)', async () => {
    const rw = new KeyedRwLock<string>({ detectReentry: true })
    const gate = deferred()
    let inner: unknown
    const reader = rw.runRead('doc', async () => {
      await gate.promise
      inner = await rw.read('doc').catch((e: unknown) => e) // behind the queued writer: would deadlock
    })
    const writer = rw.write('doc') // another flow: queued behind the reader
    expect(rw.waiting).toBe(1)
    gate.resolve()
    await reader
    expect(inner).toBeInstanceOf(ReentrancyError)
    ;(await writer).release()
    expect(rw.size).toBe(0)
  })
})

describe('KeyedRwLock', () => {
  it('readers of a key share it, a writer is alone, a queued writer is not overtaken by later readers', async () => {
    const rw = new KeyedRwLock<string>({ name: 'docs' })
    const r1 = await rw.read('d')
    const r2 = await rw.read(['d', 'e'])
    expect(rw.isLocked('d') && !rw.isWriteLocked('d')).toBe(true)
    expect(rw.tryWrite('d')).toBeUndefined()
    const w = rw.write('d')
    const r3 = rw.read('d')
    expect(rw.tryRead('d')).toBeUndefined() // someone waits
    expect(await settled(r3)).toBe(false)
    const other = rw.tryWrite('f') // another key: free
    expect(other).toBeDefined()
    other!.release()
    r1.release()
    r2.release()
    const wg = await w
    expect(rw.isWriteLocked('d')).toBe(true)
    expect(await settled(r3)).toBe(false)
    wg.release()
    ;(await r3).release()
    expect(rw.size).toBe(0)
  })

  it('runRead/runWrite over several keys', async () => {
    const rw = new KeyedRwLock<number>()
    const order: string[] = []
    const w = rw.runWrite([2, 1], async () => {
      order.push('write')
      await Promise.resolve()
    })
    const r = rw.runRead([1], () => order.push('read'))
    await Promise.all([w, r])
    expect(order).toEqual(['write', 'read'])
    expect(rw.stats().acquisitions).toBe(3)
    expect(rw.name).toBeUndefined()
    expect(rw.keys()).toEqual([])
  })
})

describe('bad input', () => {
  const km = new KeyedMutex<string>()
  const rw = new KeyedRwLock<string>()

  it('keys: undefined, an empty array, or undefined inside an array is a TypeError (rejected by promise methods, thrown by try*)', async () => {
    await expect(km.lock(undefined as never)).rejects.toThrow(/KeyedMutex.lock: keys must be a key or a non-empty array of keys .* received undefined/)
    await expect(km.lock([])).rejects.toThrow(/received an empty array/)
    await expect(km.runExclusive(['a', undefined as never], () => 1)).rejects.toThrow(/received undefined at index 1/)
    await expect(rw.write([])).rejects.toBeInstanceOf(TypeError)
    expect(() => km.tryLock([])).toThrow(TypeError)
    expect(() => rw.tryRead(undefined as never)).toThrow(TypeError)
    expect(km.size + rw.size).toBe(0)
  })

  it('a non-function fn rejects with TypeError, also on the fast path', async () => {
    await expect(km.runExclusive('a', 5 as never)).rejects.toThrow(/KeyedMutex.runExclusive: fn must be a function, received 5/)
    await expect(rw.runRead(['a', 'b'], null as never)).rejects.toBeInstanceOf(TypeError)
    expect(km.size + rw.size).toBe(0)
  })

  it('unknown options are refused, naming the key and the intended one', async () => {
    expect(() => new KeyedMutex({ timeout: 5 } as never)).toThrow(/KeyedMutex: options has no option "timeout" \(pass it to each wait: lock\(key, \{ timeoutMs \}\)\)/)
    expect(() => new KeyedRwLock({ maxpending: 5 } as never)).toThrow(/"maxpending" \(did you mean "maxPending"\?\)/)
    expect(() => new KeyedMutex({ domainReentrant: true } as never)).toThrow(/did you mean "detectReentry"/)
    await expect(km.lock('a', { timeout: 5 } as never)).rejects.toThrow(/KeyedMutex.lock: options has no option "timeout" \(did you mean "timeoutMs"\?\)/)
    await expect(km.lock('a', { timeoutMs: -1 })).rejects.toBeInstanceOf(RangeError)
    expect(() => new KeyedMutex({ maxPending: -1 })).toThrow(RangeError)
    expect(() => new KeyedMutex({ maxPending: 1.5 })).toThrow(RangeError)
    expect(() => new KeyedMutex({ longHoldMs: 0 })).toThrow(RangeError)
    expect(km.size).toBe(0)
  })
})
