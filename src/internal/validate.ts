/**
 * Eager validation helpers. Every public constructor and method validates its input
 * at once and throws `TypeError` (wrong type) or `RangeError` (right type, bad value)
 * naming the option and the value received.
 */

import type { AbortSignal } from './types.js'

/** Renders a received value for an error message without calling user code. */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value)
    case 'bigint':
      return `${String(value)}n`
    case 'function':
      return 'a function'
    case 'symbol':
      return value.toString()
    case 'undefined':
      return 'undefined'
    case 'boolean':
      return String(value)
    default:
      if (value === null) return 'null'
      if (Array.isArray(value)) return 'an array'
      return `an object (${Object.prototype.toString.call(value)})`
  }
}

function fail(kind: 'type' | 'range', option: string, expected: string, value: unknown): never {
  const message = `asyncsafe: ${option} must be ${expected}, received ${describe(value)}`
  throw kind === 'type' ? new TypeError(message) : new RangeError(message)
}

/** A positive safe integer (counts, capacities, permits). */
export function checkPositiveInteger(option: string, value: unknown): number {
  if (typeof value !== 'number') fail('type', option, 'a positive integer', value)
  if (!Number.isSafeInteger(value) || value < 1) fail('range', option, 'a positive integer', value)
  return value
}

/** A non-negative safe integer. */
export function checkNonNegativeInteger(option: string, value: unknown): number {
  if (typeof value !== 'number') fail('type', option, 'a non-negative integer', value)
  if (!Number.isSafeInteger(value) || value < 0) fail('range', option, 'a non-negative integer', value)
  return value
}

/** A timeout: `undefined` (none), a non-negative number, or `Infinity` (none). */
export function checkTimeout(option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number') fail('type', option, 'a non-negative number of milliseconds or Infinity', value)
  if (Number.isNaN(value) || value < 0) fail('range', option, 'a non-negative number of milliseconds or Infinity', value)
  return value === Infinity ? undefined : value
}

/** A non-negative finite number (durations such as TTLs and intervals). */
export function checkNonNegativeFinite(option: string, value: unknown): number {
  if (typeof value !== 'number') fail('type', option, 'a non-negative finite number', value)
  if (!Number.isFinite(value) || value < 0) fail('range', option, 'a non-negative finite number', value)
  return value
}

/** A positive finite number (intervals that may not be 0). */
export function checkPositiveFinite(option: string, value: unknown): number {
  if (typeof value !== 'number') fail('type', option, 'a positive finite number', value)
  if (!Number.isFinite(value) || value <= 0) fail('range', option, 'a positive finite number', value)
  return value
}

/** A finite number, any sign (priorities). */
export function checkFiniteNumber(option: string, value: unknown): number {
  if (typeof value !== 'number') fail('type', option, 'a finite number', value)
  if (!Number.isFinite(value)) fail('range', option, 'a finite number', value)
  return value
}

/** A function. */
export function checkFunction<F extends (...args: never[]) => unknown>(option: string, value: unknown): F {
  if (typeof value !== 'function') fail('type', option, 'a function', value)
  return value as F
}

/** An optional function. */
export function checkOptionalFunction<F extends (...args: never[]) => unknown>(option: string, value: unknown): F | undefined {
  if (value === undefined) return undefined
  return checkFunction<F>(option, value)
}

/** An optional AbortSignal (duck-typed, so signals from other realms pass). */
export function checkSignal(option: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as AbortSignal).aborted !== 'boolean' ||
    typeof (value as AbortSignal).addEventListener !== 'function'
  ) {
    fail('type', option, 'an AbortSignal', value)
  }
  return value as AbortSignal
}

/**
 * The option names an options object may carry, for {@link checkOptions}. Build it once
 * per API (module level), not per call.
 */
export interface KnownOptions {
  /** @internal */ readonly names: ReadonlySet<string>
  /** @internal Hints for likely mistakes: a key's intended name, or a sentence. */
  readonly hints: Readonly<Record<string, string>>
}

/**
 * Declares the option names an API accepts. `hints` maps a likely mistake to the
 * intended option name (`{ max: 'capacity' }`) or to a sentence explaining where it
 * belongs (`{ timeoutMs: 'pass it to each wait: lock({ timeoutMs })' }`).
 */
export function knownOptions(names: readonly string[], hints: Readonly<Record<string, string>> = {}): KnownOptions {
  return { names: new Set(names), hints }
}

/** Levenshtein distance, stopping early past `limit` (option names are short). */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    let best = i
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      const d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost)
      row.push(d)
      if (d < best) best = d
    }
    if (best > limit) return limit + 1
    prev = row
  }
  return prev[b.length]!
}

/** What to suggest for an unknown key: a hint, else the closest known name, if any is close. */
function suggestion(key: string, known: KnownOptions): string {
  const hint = known.hints[key]
  if (hint !== undefined) return known.names.has(hint) ? ` (did you mean "${hint}"?)` : ` (${hint})`
  const lower = key.toLowerCase()
  let best: string | undefined
  let bestDistance = Math.min(2, Math.floor(key.length / 3))
  for (const name of known.names) {
    if (name.toLowerCase() === lower || name === `${key}Ms`) return ` (did you mean "${name}"?)`
    const d = editDistance(lower, name.toLowerCase(), bestDistance)
    if (d <= bestDistance && (best === undefined || d < bestDistance)) {
      best = name
      bestDistance = d
    }
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`
}

/** Throws the TypeError for an options object with a key `known` does not list. */
function unknownOption(option: string, key: string, known: KnownOptions): never {
  const list = [...known.names].join(', ')
  throw new TypeError(`asyncsafe: ${option} has no option "${key}"${suggestion(key, known)}; known options: ${list}`)
}

/**
 * An optional options object. With `known`, every own enumerable string key must be a
 * known option name: an unknown key is a `TypeError` naming it and, when one is close,
 * the intended one (a misspelled option silently ignored is a default silently used).
 */
export function checkOptions<T extends object>(option: string, value: unknown, known?: KnownOptions): Partial<T> {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object') fail('type', option, 'an options object', value)
  if (known !== undefined) {
    for (const key in value) {
      if (!known.names.has(key) && Object.prototype.hasOwnProperty.call(value, key)) unknownOption(option, key, known)
    }
  }
  return value
}

/** An optional string (names). */
export function checkOptionalString(option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') fail('type', option, 'a string', value)
  return value
}

/** An optional boolean. */
export function checkOptionalBoolean(option: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'boolean') fail('type', option, 'a boolean', value)
  return value
}
