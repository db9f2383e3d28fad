/**
 * An intrusive doubly-linked FIFO queue: O(1) push, shift and removal of any node.
 * Waiters that abort or time out leave the queue at once, wherever they are, without
 * scanning or leaving tombstones behind.
 */

/** A node of a `LinkedQueue`. Extend it; the queue owns `prev`/`next`/`queued`. */
export class QueueNode {
  /** @internal */ prev: QueueNode | null = null
  /** @internal */ next: QueueNode | null = null
  /** @internal True while the node is in a queue. */ queued = false
}

/** FIFO of `QueueNode`s with O(1) removal. */
export class LinkedQueue<T extends QueueNode> {
  private head: T | null = null
  private tail: T | null = null
  private count = 0

  /** Number of nodes in the queue. */
  get size(): number {
    return this.count
  }

  /** The first node, without removing it. */
  peek(): T | undefined {
    return this.head ?? undefined
  }

  /** Appends `node` (which must not be queued). */
  push(node: T): void {
    node.prev = this.tail
    node.next = null
    node.queued = true
    if (this.tail === null) this.head = node
    else this.tail.next = node
    this.tail = node
    this.count++
  }

  /** The last node, without removing it. */
  peekLast(): T | undefined {
    return this.tail ?? undefined
  }

  /** Inserts `node` (which must not be queued) right after `ref`, or at the head when `ref` is undefined. O(1). */
  insertAfter(node: T, ref: T | undefined): void {
    if (ref === undefined) {
      node.prev = null
      node.next = this.head
      if (this.head === null) this.tail = node
      else this.head.prev = node
      this.head = node
    } else {
      node.prev = ref
      node.next = ref.next
      if (ref.next === null) this.tail = node
      else ref.next.prev = node
      ref.next = node
    }
    node.queued = true
    this.count++
  }

  /** Removes and returns the first node. */
  shift(): T | undefined {
    const node = this.head
    if (node === null) return undefined
    this.remove(node)
    return node
  }

  /** Removes `node` if it is queued; returns whether it was. O(1). */
  remove(node: T): boolean {
    if (!node.queued) return false
    const { prev, next } = node
    if (prev === null) this.head = next as T | null
    else prev.next = next
    if (next === null) this.tail = prev as T | null
    else next.prev = prev
    node.prev = null
    node.next = null
    node.queued = false
    this.count--
    return true
  }

  /** Iterates from head to tail. Do not remove nodes other than the current one while iterating. */
  *[Symbol.iterator](): IterableIterator<T> {
    let node = this.head
    while (node !== null) {
      const next = node.next as T | null
      yield node
      node = next
    }
  }
}
