import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { LinkedQueue, QueueNode } from '../../src/internal/queue.js'

class Item extends QueueNode {
  constructor(readonly id: number) {
    super()
  }
}

describe('LinkedQueue', () => {
  it('behaves as an array with O(1) removal (model-based)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('push', 'shift', 'remove'), fc.nat(50))), (ops) => {
        const q = new LinkedQueue<Item>()
        const model: Item[] = []
        const all: Item[] = []
        let id = 0
        for (const [op, n] of ops) {
          if (op === 'push') {
            const item = new Item(id++)
            all.push(item)
            q.push(item)
            model.push(item)
          } else if (op === 'shift') {
            expect(q.shift()).toBe(model.shift())
          } else if (all.length > 0) {
            const item = all[n % all.length]!
            const idx = model.indexOf(item)
            expect(q.remove(item)).toBe(idx >= 0)
            if (idx >= 0) model.splice(idx, 1)
          }
          expect(q.size).toBe(model.length)
          expect([...q]).toEqual(model)
          expect(q.peek()).toBe(model[0])
        }
      }),
    )
  })
})
