import { describe, it, expect, vi } from 'vitest'
import { EventEmitter } from 'node:events'
import { swap, swapWith, listen } from '../../src/guards/index.js'
import { abortListenerCount, expectNoUnhandledRejections, flushMicrotasks, untilAborted } from '../helpers.js'

expectNoUnhandledRejections()

interface Registry {
  progressCallback?: ((p: number) => void) | undefined
  name?: string
}

describe('swap', () => {
  it('ported: a swapped progress callback is the previous one again after the scope ends', () => {
    const first = vi.fn()
    const temporary = vi.fn()
    const registry: Registry = { progressCallback: first }
    {
      using _ = swap(registry, 'progressCallback', temporary)
      registry.progressCallback?.(0.5)
      expect(temporary).toHaveBeenCalledWith(0.5)
    }
    registry.progressCallback?.(1)
    expect(first).toHaveBeenCalledWith(1)
    expect(first).toHaveBeenCalledTimes(1)
    expect(temporary).toHaveBeenCalledTimes(1)
  })

  it('deletes the key again when it was absent (own-property check), letting an inherited value show', () => {
    const proto = { name: 'inherited' }
    const target = Object.create(proto) as Registry
    {
      using g = swap(target, 'name', 'own')
      expect(g.previous).toBeUndefined()
      expect(Object.hasOwn(target, 'name')).toBe(true)
    }
    expect(Object.hasOwn(target, 'name')).toBe(false)
    expect(target.name).toBe('inherited')
    // own undefined is restored as own undefined
    const t2: Registry = { progressCallback: undefined }
    {
      using _ = swap(t2, 'progressCallback', () => {})
    }
    expect(Object.hasOwn(t2, 'progressCallback')).toBe(true)
    expect(t2.progressCallback).toBeUndefined()
  })

  it('nested swaps restore in LIFO order', () => {
    const r: Registry = { name: 'a' }
    const seen: (string | undefined)[] = []
    {
      using _1 = swap(r, 'name', 'b')
      {
        using _2 = swap(r, 'name', 'c')
        seen.push(r.name)
      }
      seen.push(r.name)
    }
    seen.push(r.name)
    expect(seen).toEqual(['c', 'b', 'a'])
  })

  it('restores on early return, throw, and when the enclosing async flow is cancelled', async () => {
    const r: Registry = { name: 'orig' }
    const early = (): string => {
      using _ = swap(r, 'name', 'tmp')
      return r.name!
    }
    expect(early()).toBe('tmp')
    expect(r.name).toBe('orig')
    expect(() => {
      using _ = swap(r, 'name', 'tmp')
      throw new Error('boom')
    }).toThrow('boom')
    expect(r.name).toBe('orig')
    const ac = new AbortController()
    const flow = (async () => {
      using _ = swap(r, 'name', 'during flow')
      await untilAborted(ac.signal)
    })()
    await flushMicrotasks()
    expect(r.name).toBe('during flow')
    ac.abort(new Error('cancelled'))
    await expect(flow).rejects.toThrow('cancelled')
    expect(r.name).toBe('orig')
  })

  it('dispose twice is harmless (a later value set by someone else is not clobbered)', () => {
    const r: Registry = { name: 'a' }
    const g = swap(r, 'name', 'b')
    g[Symbol.dispose]()
    expect(g.restored).toBe(true)
    r.name = 'later'
    g[Symbol.dispose]()
    expect(r.name).toBe('later')
  })

  it('refuses a non-object target; dispose on a frozen target does not throw', () => {
    expect(() => swap(null as never, 'x' as never, 1 as never)).toThrow(TypeError)
    const r: Registry = { name: 'a' }
    const g = swap(r, 'name', 'b')
    Object.freeze(r)
    expect(() => {
      g[Symbol.dispose]()
    }).not.toThrow()
  })
})

describe('swapWith', () => {
  it('uses the getter and setter and restores on dispose, once', () => {
    let level = 'info'
    const set = vi.fn((v: string) => {
      level = v
    })
    {
      using g = swapWith(() => level, set, 'debug')
      expect(level).toBe('debug')
      expect(g.previous).toBe('info')
    }
    expect(level).toBe('info')
    expect(set).toHaveBeenCalledTimes(2)
  })

  it('restores on throw; dispose twice is harmless; a throwing setter on restore is swallowed', () => {
    let v = 1
    expect(() => {
      using _ = swapWith(
        () => v,
        (x) => {
          v = x
        },
        2,
      )
      throw new Error('boom')
    }).toThrow('boom')
    expect(v).toBe(1)
    let calls = 0
    const g = swapWith(
      () => 0,
      () => {
        if (++calls > 1) throw new Error('refused')
      },
      1,
    )
    expect(() => {
      g[Symbol.dispose]()
      g[Symbol.dispose]()
    }).not.toThrow()
    expect(calls).toBe(2)
    expect(() => swapWith(1 as never, () => {}, 1)).toThrow(TypeError)
  })
})

describe('listen: EventEmitter', () => {
  it('adds on scope entry, removes exactly that listener on exit; listener counts return to baseline', () => {
    const em = new EventEmitter()
    const other = vi.fn()
    const handler = vi.fn()
    em.on('data', other)
    em.on('data', handler) // someone else registered the same function too
    const before = em.listenerCount('data')
    {
      using _ = listen(em, 'data', handler)
      expect(em.listenerCount('data')).toBe(before + 1)
      em.emit('data', 1, 2)
      expect(handler).toHaveBeenCalledTimes(2)
      expect(handler).toHaveBeenLastCalledWith(1, 2)
    }
    expect(em.listenerCount('data')).toBe(before)
    em.emit('data', 3)
    // both foreign registrations are intact
    expect(other).toHaveBeenCalledTimes(2)
    expect(handler).toHaveBeenCalledTimes(3)
  })

  it('once: called at most once, the guard becomes inactive; dispose after is harmless', () => {
    const em = new EventEmitter()
    const handler = vi.fn()
    const g = listen(em, 'x', handler, { once: true })
    em.emit('x', 'a')
    em.emit('x', 'b')
    expect(handler).toHaveBeenCalledTimes(1)
    expect(g.active).toBe(false)
    expect(em.listenerCount('x')).toBe(0)
    g[Symbol.dispose]()
    g[Symbol.dispose]()
  })

  it('removes on early return, throw and cancellation of the enclosing flow', async () => {
    const em = new EventEmitter()
    const early = (): number => {
      using _ = listen(em, 'e', () => {})
      return em.listenerCount('e')
    }
    expect(early()).toBe(1)
    expect(em.listenerCount('e')).toBe(0)
    expect(() => {
      using _ = listen(em, 'e', () => {})
      throw new Error('boom')
    }).toThrow('boom')
    expect(em.listenerCount('e')).toBe(0)
    const ac = new AbortController()
    const flow = (async () => {
      using _ = listen(em, 'e', () => {})
      await untilAborted(ac.signal)
    })()
    await flushMicrotasks()
    expect(em.listenerCount('e')).toBe(1)
    ac.abort(new Error('cancel'))
    await expect(flow).rejects.toThrow('cancel')
    expect(em.listenerCount('e')).toBe(0)
  })

  it('a signal option removes the listener on abort and leaves the signal clean on dispose', () => {
    const em = new EventEmitter()
    const ac = new AbortController()
    const g = listen(em, 'e', () => {}, { signal: ac.signal })
    expect(abortListenerCount(ac.signal)).toBe(1)
    ac.abort()
    expect(em.listenerCount('e')).toBe(0)
    expect(g.active).toBe(false)
    const ac2 = new AbortController()
    const g2 = listen(em, 'e', () => {}, { signal: ac2.signal })
    g2[Symbol.dispose]()
    expect(abortListenerCount(ac2.signal)).toBe(0)
    expect(em.listenerCount('e')).toBe(0)
    // already aborted: nothing is added
    const g3 = listen(em, 'e', () => {}, { signal: ac.signal })
    expect(g3.active).toBe(false)
    expect(em.listenerCount('e')).toBe(0)
  })
})

describe('listen: EventTarget', () => {
  it('adds and removes exactly that listener; this is the target; capture is honoured', () => {
    const et = new EventTarget()
    const seen: unknown[] = []
    const handler = function (this: unknown, e: Event): void {
      seen.push([this, e.type])
    }
    const foreign = vi.fn()
    et.addEventListener('ping', foreign)
    {
      using _ = listen(et, 'ping', handler, { capture: true })
      et.dispatchEvent(new Event('ping'))
    }
    et.dispatchEvent(new Event('ping'))
    expect(seen).toEqual([[et, 'ping']])
    expect(foreign).toHaveBeenCalledTimes(2)
  })

  it('works on an AbortSignal (listener count back to baseline) and with once', () => {
    const ac = new AbortController()
    const before = abortListenerCount(ac.signal)
    const fn = vi.fn()
    {
      using _ = listen(ac.signal, 'abort', fn)
      expect(abortListenerCount(ac.signal)).toBe(before + 1)
    }
    expect(abortListenerCount(ac.signal)).toBe(before)
    const once = listen(ac.signal, 'abort', fn, { once: true })
    ac.abort()
    expect(fn).toHaveBeenCalledTimes(1)
    expect(once.active).toBe(false)
    expect(abortListenerCount(ac.signal)).toBe(0)
  })

  it('refuses bad input', () => {
    expect(() => listen({} as never, 'x', () => {})).toThrow(TypeError)
    expect(() => listen(new EventTarget(), 'x', 'no' as never)).toThrow(TypeError)
    expect(() => listen(new EventTarget(), Symbol('x'), () => {})).toThrow(TypeError)
    expect(() => listen(new EventEmitter(), 'x', () => {}, { once: 1 as never })).toThrow(TypeError)
  })
})
