/**
 * Attribute sets reused across measurements: one frozen object per lock (name, kind),
 * cache cause, pool... instead of one allocation per event. The memo is bounded, so
 * names made per key (a lock per user id) cost an allocation each instead of memory.
 *
 * @module
 */
import type { Attributes } from '@opentelemetry/api'

/** Distinct attribute sets kept; past this, new sets are built per event and not kept. */
const MAX_SETS = 1024

/** Builds and keeps attribute sets keyed by up to three strings. */
export class AttributeMemo {
  private readonly sets = new Map<string, Attributes>()

  /**
   * The attribute set for `keys` = values (a value `undefined` leaves its key out).
   *
   * @param id a string that identifies the combination (the values, joined)
   * @param keys attribute keys
   * @param values their values, same order
   */
  get(id: string, keys: readonly string[], values: readonly (string | undefined)[]): Attributes {
    const known = this.sets.get(id)
    if (known !== undefined) return known
    const attributes: Record<string, string> = {}
    for (let i = 0; i < keys.length; i++) {
      const value = values[i]
      if (value !== undefined) attributes[keys[i]!] = value
    }
    Object.freeze(attributes)
    if (this.sets.size < MAX_SETS) this.sets.set(id, attributes)
    return attributes
  }
}

/** A memo id from values that may be undefined (`\u0000` cannot occur in a meaningful name). */
export function memoId(...values: (string | undefined)[]): string {
  let id = ''
  for (const v of values) id += v === undefined ? '\u0001' : `${v}\u0000`
  return id
}
