import { describe, it, expect } from 'vitest'
import { ponyfills, DisposableStack, AsyncDisposableStack, SuppressedError, nativeDisposableStacks } from '../../src/guards/stacks.js'
import type { AsyncDisposableStackConstructor, DisposableStackConstructor, SuppressedErrorConstructor } from '../../src/guards/stacks.js'
import { expectNoUnhandledRejections } from '../helpers.js'

expectNoUnhandledRejections()

interface Impl {
  DisposableStack: DisposableStackConstructor
  AsyncDisposableStack: AsyncDisposableStackConstructor
  SuppressedError: SuppressedErrorConstructor
}

const g = globalThis as unknown as Partial<Impl>
const hasNative = typeof g.DisposableStack === 'function' && typeof g.AsyncDisposableStack === 'function' && typeof g.SuppressedError === 'function'

function suite(label: string, impl: Impl): void {
  describe(`DisposableStack (${label})`, () => {
    it('disposes in reverse order, once', () => {
      const log: string[] = []
      const stack = new impl.DisposableStack()
      stack.use({ [Symbol.dispose]: () => log.push('a') })
      stack.defer(() => log.push('b'))
      expect(stack.adopt(42, (v) => log.push(`c${v}`))).toBe(42)
      stack.use(null)
      stack.use(undefined)
      expect(stack.disposed).toBe(false)
      stack.dispose()
      expect(log).toEqual(['c42', 'b', 'a'])
      expect(stack.disposed).toBe(true)
      stack.dispose()
      stack[Symbol.dispose]()
      expect(log).toHaveLength(3)
    })

    it('works with using, on normal exit and on throw', () => {
      const log: string[] = []
      {
        using stack = new impl.DisposableStack()
        stack.defer(() => log.push('exit'))
      }
      expect(() => {
        using stack = new impl.DisposableStack()
        stack.defer(() => log.push('throw'))
        throw new Error('boom')
      }).toThrow('boom')
      expect(log).toEqual(['exit', 'throw'])
    })

    it('calls dispose with the value as this', () => {
      const res = {
        closed: false,
        [Symbol.dispose]() {
          this.closed = true
        },
      }
      const stack = new impl.DisposableStack()
      expect(stack.use(res)).toBe(res)
      stack.dispose()
      expect(res.closed).toBe(true)
    })

    it('refuses non-disposables with TypeError and use after dispose with ReferenceError', () => {
      const stack = new impl.DisposableStack()
      expect(() => stack.use({} as Disposable)).toThrow(TypeError)
      expect(() => stack.use(42 as unknown as Disposable)).toThrow(TypeError)
      expect(() => {
        stack.defer(42 as unknown as () => void)
      }).toThrow(TypeError)
      expect(() => stack.adopt(1, 'x' as unknown as () => void)).toThrow(TypeError)
      stack.dispose()
      expect(() => stack.use(null)).toThrow(ReferenceError)
      expect(() => {
        stack.defer(() => {})
      }).toThrow(ReferenceError)
      expect(() => stack.adopt(1, () => {})).toThrow(ReferenceError)
      expect(() => stack.move()).toThrow(ReferenceError)
    })

    it('move transfers the resources and marks the source disposed', () => {
      const log: string[] = []
      const a = new impl.DisposableStack()
      a.defer(() => log.push('x'))
      const b = a.move()
      expect(a.disposed).toBe(true)
      expect(b.disposed).toBe(false)
      a.dispose()
      expect(log).toEqual([])
      b.dispose()
      expect(log).toEqual(['x'])
      expect(b).toBeInstanceOf(impl.DisposableStack)
    })

    it('disposes every resource even when some throw, chaining SuppressedError', () => {
      const e1 = new Error('first')
      const e2 = new Error('second')
      const log: string[] = []
      const stack = new impl.DisposableStack()
      stack.defer(() => log.push('last'))
      stack.defer(() => {
        throw e2
      })
      stack.defer(() => {
        throw e1
      })
      let caught: unknown
      try {
        stack.dispose()
      } catch (error) {
        caught = error
      }
      expect(log).toEqual(['last'])
      expect(caught).toBeInstanceOf(impl.SuppressedError)
      const s = caught as InstanceType<SuppressedErrorConstructor>
      expect(s.name).toBe('SuppressedError')
      expect(s.error).toBe(e2)
      expect(s.suppressed).toBe(e1)
    })

    it('a single failure is thrown as is', () => {
      const e = new Error('only')
      const stack = new impl.DisposableStack()
      stack.defer(() => {
        throw e
      })
      expect(() => {
        stack.dispose()
      }).toThrow(e)
    })

    it('has the toStringTag', () => {
      expect(Object.prototype.toString.call(new impl.DisposableStack())).toBe('[object DisposableStack]')
      expect(Object.prototype.toString.call(new impl.AsyncDisposableStack())).toBe('[object AsyncDisposableStack]')
    })
  })

  describe(`AsyncDisposableStack (${label})`, () => {
    it('disposes in reverse order, awaiting each, once', async () => {
      const log: string[] = []
      const stack = new impl.AsyncDisposableStack()
      stack.use({
        [Symbol.asyncDispose]: async () => {
          await Promise.resolve()
          log.push('async')
        },
      })
      stack.use({ [Symbol.dispose]: () => log.push('sync') })
      stack.defer(async () => {
        await new Promise((r) => setImmediate(r))
        log.push('deferred')
      })
      stack.adopt('v', async (v) => {
        log.push(`adopt:${v}`)
      })
      await stack.disposeAsync()
      expect(log).toEqual(['adopt:v', 'deferred', 'sync', 'async'])
      expect(stack.disposed).toBe(true)
      await stack.disposeAsync()
      await stack[Symbol.asyncDispose]()
      expect(log).toHaveLength(4)
    })

    it('works with await using, also on throw', async () => {
      const log: string[] = []
      await expect(
        (async () => {
          await using stack = new impl.AsyncDisposableStack()
          stack.defer(async () => {
            log.push('disposed')
          })
          throw new Error('boom')
        })(),
      ).rejects.toThrow('boom')
      expect(log).toEqual(['disposed'])
    })

    it('combines async failures with SuppressedError and disposes the rest', async () => {
      const e1 = new Error('first')
      const e2 = new Error('second')
      const log: string[] = []
      const stack = new impl.AsyncDisposableStack()
      stack.defer(() => {
        log.push('last')
      })
      stack.defer(async () => {
        throw e2
      })
      stack.defer(() => {
        throw e1
      })
      const caught = await stack.disposeAsync().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(log).toEqual(['last'])
      expect(caught).toBeInstanceOf(impl.SuppressedError)
      expect((caught as InstanceType<SuppressedErrorConstructor>).error).toBe(e2)
      expect((caught as InstanceType<SuppressedErrorConstructor>).suppressed).toBe(e1)
    })

    it('refuses non-disposables and use after dispose', async () => {
      const stack = new impl.AsyncDisposableStack()
      expect(() => stack.use({} as AsyncDisposable)).toThrow(TypeError)
      stack.use(null)
      await stack.disposeAsync()
      expect(() => stack.use(null)).toThrow(ReferenceError)
      expect(() => stack.move()).toThrow(ReferenceError)
    })

    it('move transfers resources', async () => {
      const log: string[] = []
      const a = new impl.AsyncDisposableStack()
      a.defer(() => {
        log.push('x')
      })
      const b = a.move()
      expect(a.disposed).toBe(true)
      await a.disposeAsync()
      expect(log).toEqual([])
      await b.disposeAsync()
      expect(log).toEqual(['x'])
    })
  })

  describe(`SuppressedError (${label})`, () => {
    it('carries error, suppressed and message', () => {
      const e = new impl.SuppressedError('a', 'b', 'msg')
      expect(e).toBeInstanceOf(Error)
      expect(e.name).toBe('SuppressedError')
      expect(e.error).toBe('a')
      expect(e.suppressed).toBe('b')
      expect(e.message).toBe('msg')
      expect(Object.keys(e)).not.toContain('error')
    })
  })
}

suite('ponyfill', ponyfills)
describe.runIf(hasNative)('native', () => {
  suite('native', g as Impl)
})

describe('exports', () => {
  it('exports the native classes when present, the ponyfills otherwise, and patches no global', () => {
    expect(nativeDisposableStacks).toBe(hasNative)
    if (hasNative) {
      expect(DisposableStack).toBe(g.DisposableStack)
      expect(AsyncDisposableStack).toBe(g.AsyncDisposableStack)
      expect(SuppressedError).toBe(g.SuppressedError)
    } else {
      expect(DisposableStack).toBe(ponyfills.DisposableStack)
      expect(AsyncDisposableStack).toBe(ponyfills.AsyncDisposableStack)
      expect(g.DisposableStack).toBeUndefined()
      expect(g.AsyncDisposableStack).toBeUndefined()
    }
  })
})

describe('PonyfillSuppressedError', () => {
  it('behaves like the native class', () => {
    const e = new ponyfills.PonyfillSuppressedError(1, 2)
    expect(e).toBeInstanceOf(Error)
    expect(e.name).toBe('SuppressedError')
    expect(e.message).toBe('')
    expect([e.error, e.suppressed]).toEqual([1, 2])
    expect(Object.getOwnPropertyDescriptor(e, 'error')?.enumerable).toBe(false)
  })
})
