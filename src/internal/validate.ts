/**
 * Eager validation helpers. Every public constructor and method validates its input
 * at once and throws `TypeError` (wrong type) or `RangeError` (right type, bad value)
 * naming the option and the value received.
 */

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

/** An optional options object. */
export function checkOptions<T extends object>(option: string, value: unknown): Partial<T> {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object') fail('type', option, 'an options object', value)
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
