/**
 * Attribute sets reused across measurements: one frozen object per lock (name, kind),
 * cache and cause, pool... instead of one allocation per event, found through nested
 * maps keyed by the values themselves (no string is built per event). The memo is
 * bounded, so names made per key (a lock per user id) cost an allocation each instead
 * of memory.
 *
 * @module
 */
import type { Attributes } from '@opentelemetry/api'

/** Distinct attribute sets kept per memo; past this, new sets are built per event and not kept. */
const MAX_SETS = 1024

type Value = string | undefined

/** Attribute sets of one shape: fixed keys, up to three values, `undefined` leaving its key out. */
export class AttributeMemo {
  private readonly keys: readonly string[]
  private readonly root = new Map<Value, Map<Value, Map<Value, Attributes>>>()
  private size = 0

  /** @param keys the attribute keys, in the order `get` takes their values (one to three) */
  constructor(...keys: string[]) {
    this.keys = keys
  }

  /** The attribute set for these values (same order as the keys; missing ones are undefined). */
  get(a: Value, b?: Value, c?: Value): Attributes {
    let second = this.root.get(a)
    let third = second?.get(b)
    const known = third?.get(c)
    if (known !== undefined) return known
    const attributes: Record<string, string> = {}
    const values = [a, b, c]
    for (let i = 0; i < this.keys.length; i++) {
      const value = values[i]
      if (value !== undefined) attributes[this.keys[i]!] = value
    }
    Object.freeze(attributes)
    if (this.size < MAX_SETS) {
      if (second === undefined) this.root.set(a, (second = new Map<Value, Map<Value, Attributes>>()))
      if (third === undefined) second.set(b, (third = new Map<Value, Attributes>()))
      third.set(c, attributes)
      this.size++
    }
    return attributes
  }
}
