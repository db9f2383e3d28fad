/**
 * The lazy task signal must be an AbortSignal in every way a task can observe. Each case runs
 * on what `createTaskAbort()` hands out on this runtime (a lazy proxy on Node 20, a plain
 * AbortController elsewhere) and on a forced `LazyAbortController` wherever the internals it
 * relies on exist (Node 20 and, for comparison, newer Node), next to a plain AbortController
 * as the reference: the same assertions must hold for all of them.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { EventEmitter, getEventListeners, once, setMaxListeners } from 'node:events'
import * as events from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { inspect, types } from 'node:util'
import { createTaskAbort, LazyAbortController, useLazySignals, type TaskAbort } from '../../src/internal/lazy-signal.js'

const nodeMajor = Number(process.versions.node.split('.')[0])
const lazyByDefault = useLazySignals()
const lazyPossible = useLazySignals(true)
useLazySignals(lazyByDefault)
afterAll(() => {
  useLazySignals(lazyByDefault)
})

const kinds: [string, () => TaskAbort][] = [
  ['plain AbortController (reference)', () => new AbortController()],
  ['createTaskAbort()', createTaskAbort],
]
if (lazyPossible) kinds.push(['LazyAbortController (forced)', () => new LazyAbortController()])

/** Uses its arguments (reads whose side effects are the point). */
function touch(...values: unknown[]): number {
  return values.length
}

function materialized(c: TaskAbort): boolean | undefined {
  return c instanceof LazyAbortController ? c.materialized : undefined
}

describe('runtime choice', () => {
  it('hands out lazy signals on Node 20 only', () => {
    expect(lazyByDefault).toBe(nodeMajor === 20)
    expect(createTaskAbort() instanceof LazyAbortController).toBe(nodeMajor === 20)
  })
})

describe.each(kinds)('%s', (_label, make) => {
  it('is an AbortSignal: instanceof, prototype, tag, keys, identity', () => {
    const c = make()
    const s = c.signal
    expect(c.signal).toBe(s)
    expect(s).toBeInstanceOf(AbortSignal)
    expect(s).toBeInstanceOf(EventTarget)
    expect(Object.getPrototypeOf(s)).toBe(AbortSignal.prototype)
    expect(Object.prototype.toString.call(s)).toBe('[object AbortSignal]')
    expect('aborted' in s && 'reason' in s && 'throwIfAborted' in s && 'onabort' in s).toBe(true)
    expect(s.addEventListener).toBe(EventTarget.prototype.addEventListener)
    expect(s.dispatchEvent).toBe(EventTarget.prototype.dispatchEvent)
    expect(s.throwIfAborted).toBe(AbortSignal.prototype.throwIfAborted)
    expect(Object.keys(s)).toEqual([])
    expect(JSON.stringify(s)).toBe('{}')
    expect(Reflect.ownKeys(s)).toEqual(Reflect.ownKeys(new AbortController().signal))
    expect(Object.getOwnPropertyNames(s)).toEqual([])
  })

  it('aborted, reason and throwIfAborted before and after an abort, without creating the real signal', () => {
    const c = make()
    const s = c.signal
    expect(s.aborted).toBe(false)
    expect(s.reason).toBeUndefined()
    expect(() => {
      s.throwIfAborted()
    }).not.toThrow()
    const reason = new Error('stop')
    c.abort(reason)
    c.abort(new Error('second abort is ignored'))
    expect(s.aborted).toBe(true)
    expect(s.reason).toBe(reason)
    expect(() => {
      s.throwIfAborted()
    }).toThrow(reason)
    expect(materialized(c)).not.toBe(true)
  })

  it('abort() without a reason gives an AbortError DOMException', () => {
    const c = make()
    c.abort()
    expect(c.signal.reason).toBeInstanceOf(DOMException)
    expect((c.signal.reason as DOMException).name).toBe('AbortError')
  })

  it('an abort before the first listener: the real signal is born aborted, listeners added later never run', () => {
    const c = make()
    c.abort('early')
    let calls = 0
    c.signal.addEventListener('abort', () => calls++)
    expect(c.signal.aborted).toBe(true)
    expect(c.signal.reason).toBe('early')
    expect(calls).toBe(0)
    expect(getEventListeners(c.signal, 'abort')).toHaveLength(1)
  })

  it('listeners: once, removeEventListener, this / target / currentTarget, duplicates ignored', () => {
    const c = make()
    const s = c.signal
    const seen: { self: unknown; target: unknown; current: unknown; type: string; trusted: boolean }[] = []
    function listener(this: unknown, event: Event): void {
      seen.push({ self: this, target: event.target, current: event.currentTarget, type: event.type, trusted: event.isTrusted })
    }
    s.addEventListener('abort', listener, { once: true })
    s.addEventListener('abort', listener, { once: true })
    const removed = (): void => {
      throw new Error('removed listener ran')
    }
    s.addEventListener('abort', removed)
    s.removeEventListener('abort', removed)
    expect(getEventListeners(s, 'abort')).toEqual([listener])
    c.abort('r')
    c.abort('again')
    expect(seen).toEqual([{ self: s, target: s, current: s, type: 'abort', trusted: true }])
    expect(getEventListeners(s, 'abort')).toHaveLength(0)
  })

  it('onabort: set, read back, called once with the event', () => {
    const c = make()
    const s = c.signal
    const calls: unknown[] = []
    const handler = (event: Event): void => {
      calls.push(event.target)
    }
    expect(s.onabort).toBeNull()
    s.onabort = handler
    expect(s.onabort).toBe(handler)
    c.abort('x')
    expect(calls).toEqual([s])
  })

  it('the { signal } option of addEventListener, on it and with it', () => {
    const c = make()
    const other = make()
    let calls = 0
    // A listener on a plain target removed when the lazy signal aborts...
    const target = new EventTarget()
    target.addEventListener('ping', () => calls++, { signal: c.signal })
    target.dispatchEvent(new Event('ping'))
    c.abort()
    target.dispatchEvent(new Event('ping'))
    expect(calls).toBe(1)
    // ...and a listener on the lazy signal removed when another one aborts.
    other.signal.addEventListener('abort', () => calls++, { signal: c.signal })
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(0) // c is already aborted: not added
    const third = make()
    other.signal.addEventListener('abort', () => calls++, { signal: third.signal })
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(1)
    third.abort()
    expect(getEventListeners(other.signal, 'abort')).toHaveLength(0)
    other.abort()
    expect(calls).toBe(1)
  })

  it('events.getEventListeners, setMaxListeners and addAbortListener work on it', () => {
    const c = make()
    const s = c.signal
    setMaxListeners(50, s)
    const fn = (): void => {}
    s.addEventListener('abort', fn)
    expect(getEventListeners(s, 'abort')).toEqual([fn])
    let called = 0
    const addAbortListener = (events as { addAbortListener?: (signal: AbortSignal, fn: () => void) => Disposable }).addAbortListener
    const handle = addAbortListener?.(s, () => called++)
    c.abort()
    expect(called).toBe(addAbortListener === undefined ? 0 : 1)
    handle?.[Symbol.dispose]()
  })

  it('AbortSignal.any([lazy, other]): an abort of either reaches the composite, not the other way', () => {
    const a = make()
    const b = new AbortController()
    const any1 = AbortSignal.any([a.signal, b.signal])
    a.abort('from lazy')
    expect(any1.aborted).toBe(true)
    expect(any1.reason).toBe('from lazy')
    expect(b.signal.aborted).toBe(false)

    const c = make()
    const d = new AbortController()
    const any2 = AbortSignal.any([d.signal, c.signal])
    d.abort('from other')
    expect(any2.reason).toBe('from other')
    expect(c.signal.aborted).toBe(false)

    const e = make()
    e.abort('already')
    expect(AbortSignal.any([e.signal]).reason).toBe('already')

    // Composite of a composite (Node follows the source signals through it).
    const f = make()
    const nested = AbortSignal.any([AbortSignal.any([f.signal]), new AbortController().signal])
    f.abort('deep')
    expect(nested.reason).toBe('deep')
  })

  it('timers/promises setTimeout with { signal } rejects with an AbortError caused by the reason', async () => {
    const c = make()
    const pending = sleep(60_000, 'v', { signal: c.signal })
    const reason = new Error('cancel sleep')
    c.abort(reason)
    await expect(pending).rejects.toMatchObject({ name: 'AbortError', cause: reason })
    const already = make()
    already.abort('x')
    await expect(sleep(1, 'v', { signal: already.signal })).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('events.once(emitter, name, { signal }) leaves on abort and resolves otherwise', async () => {
    const emitter = new EventEmitter()
    const c = make()
    const waiting = once(emitter, 'x', { signal: c.signal })
    c.abort('gone')
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' })
    expect(emitter.listenerCount('x')).toBe(0)
    const d = make()
    const ok = once(emitter, 'y', { signal: d.signal })
    emitter.emit('y', 42)
    await expect(ok).resolves.toEqual([42])
    expect(getEventListeners(d.signal, 'abort')).toHaveLength(0)
  })

  it('fetch to a local server is aborted through it', async () => {
    const server = createServer(() => {
      // Never answers: only the abort ends the request.
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as AddressInfo
      const c = make()
      const reason = new Error('fetch cancelled')
      const request = fetch(`http://127.0.0.1:${port}/`, { signal: c.signal })
      setTimeout(() => {
        c.abort(reason)
      }, 20)
      await expect(request).rejects.toBe(reason)
      const already = make()
      already.abort('before')
      await expect(fetch(`http://127.0.0.1:${port}/`, { signal: already.signal })).rejects.toBe('before')
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('util.inspect says what a signal says, and does not create the real one', () => {
    const c = make()
    expect(inspect(c.signal)).toBe('AbortSignal { aborted: false }')
    c.abort('x')
    expect(inspect(c.signal)).toBe('AbortSignal { aborted: true }')
    expect(inspect({ s: c.signal })).toContain('AbortSignal')
    expect(materialized(c)).not.toBe(true)
  })

  it('own properties: set, define (also non-configurable), delete, read back', () => {
    const c = make()
    const s = c.signal as AbortSignal & Record<string, unknown>
    s.tag = 'mine'
    expect(s.tag).toBe('mine')
    expect(Object.keys(s)).toEqual(['tag'])
    Object.defineProperty(s, 'fixed', { value: 1, configurable: false, writable: false, enumerable: false })
    expect(s.fixed).toBe(1)
    expect(Object.getOwnPropertyDescriptor(s, 'fixed')).toEqual({ value: 1, configurable: false, writable: false, enumerable: false })
    expect(Reflect.deleteProperty(s, 'fixed')).toBe(false)
    expect(delete s.tag).toBe(true)
    expect('tag' in s).toBe(false)
    expect(Object.getOwnPropertyNames(s)).toEqual(['fixed'])
  })

  it('an own dispatchEvent assigned by the caller is used by the abort, as on a plain signal', () => {
    const c = make()
    const s = c.signal as AbortSignal & { dispatchEvent: (e: Event) => boolean }
    const dispatched: string[] = []
    s.dispatchEvent = (e) => {
      dispatched.push(e.type)
      return true
    }
    expect(Object.getOwnPropertyNames(s)).toEqual(['dispatchEvent'])
    c.abort()
    expect(dispatched).toEqual(['abort'])
  })

  it('dispatchEvent by hand reaches its listeners with target = the signal', () => {
    const c = make()
    const targets: unknown[] = []
    c.signal.addEventListener('custom', (e) => targets.push(e.target))
    c.signal.dispatchEvent(new Event('custom'))
    expect(targets).toEqual([c.signal])
    expect(c.signal.aborted).toBe(false)
  })
})

describe.runIf(lazyPossible)('LazyAbortController specifics', () => {
  it('creates the real signal only on real use, and an abort afterwards still reaches it', () => {
    const c = new LazyAbortController()
    const s = c.signal
    touch(s.aborted, s.reason, s instanceof AbortSignal, 'aborted' in s, s.addEventListener, Object.getPrototypeOf(s))
    expect(c.materialized).toBe(false)
    let calls = 0
    s.addEventListener('abort', () => calls++)
    expect(c.materialized).toBe(true)
    c.abort('late')
    expect(calls).toBe(1)
    expect(s.reason).toBe('late')
  })

  it('is a proxy, and refuses to be frozen or re-prototyped (a frozen signal could not abort)', () => {
    const c = new LazyAbortController()
    expect(types.isProxy(c.signal)).toBe(true)
    expect(() => Object.freeze(c.signal)).toThrow(TypeError)
    expect(() => Object.setPrototypeOf(c.signal, {})).toThrow(TypeError)
    expect(Object.setPrototypeOf(c.signal, AbortSignal.prototype)).toBe(c.signal)
    c.abort('still works')
    expect(c.signal.aborted).toBe(true)
  })
})
