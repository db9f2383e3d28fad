/**
 * Validation of the options shared by the Redis primitives.
 */
import { checkFunction, checkOptionalFunction, checkOptionalString, checkPositiveFinite } from '../internal/validate.js'
import type { OnError } from '../internal/report.js'
import type { RedisClient, RedisSubscriber } from './types.js'

/** Default lease (ms). */
export const DEFAULT_LEASE_MS = 10_000
/** Default bounded re-check while waiting (ms). */
export const DEFAULT_POLL_MS = 1_000

/** Options every Redis primitive takes. */
export interface RedisConnectionOptions {
  /** Your connection (an ioredis `Redis`): scripts and PUBLISH go there. asyncsafe never closes it. */
  readonly client: RedisClient
  /**
   * A connection for pub/sub (SUBSCRIBE puts a connection in subscriber mode). Yours if
   * you pass it (never closed by asyncsafe). Absent: asyncsafe creates `client.duplicate()`
   * when first needed, shares it among every asyncsafe object on `client`, and
   * disconnects it when the last of them is disposed.
   */
  readonly subscriber?: RedisSubscriber | undefined
  /** Receives background failures (renewal, release, subscriber errors). Without it they become process warnings. */
  readonly onError?: OnError | undefined
}

/** Parsed connection options. */
export interface ParsedConnection {
  readonly client: RedisClient
  readonly subscriber: RedisSubscriber | undefined
  readonly onError: OnError | undefined
}

export function parseConnection(o: Partial<RedisConnectionOptions>): ParsedConnection {
  const client = o.client
  if (client === null || typeof client !== 'object') {
    throw new TypeError('asyncsafe: options.client must be a Redis client (an ioredis Redis instance)')
  }
  const methods = client as unknown as Record<string, unknown>
  checkFunction('options.client.evalsha', methods.evalsha)
  checkFunction('options.client.eval', methods.eval)
  checkFunction('options.client.publish', methods.publish)
  checkFunction('options.client.get', methods.get)
  const subscriber = o.subscriber
  if (subscriber !== undefined) {
    if (subscriber === null || typeof subscriber !== 'object') throw new TypeError('asyncsafe: options.subscriber must be a Redis connection (an ioredis Redis instance)')
    const sub = subscriber as unknown as Record<string, unknown>
    checkFunction('options.subscriber.subscribe', sub.subscribe)
    checkFunction('options.subscriber.on', sub.on)
  } else {
    checkFunction('options.client.duplicate', methods.duplicate)
  }
  return { client, subscriber, onError: checkOptionalFunction<OnError>('options.onError', o.onError) }
}

/** A non-empty key. */
export function checkKey(option: string, value: unknown): string {
  const key = checkOptionalString(option, value)
  if (key === undefined || key === '') throw new TypeError(`asyncsafe: ${option} must be a non-empty string`)
  return key
}

/** `leaseMs`: at least 10 ms (renewal needs room), finite. */
export function checkLease(value: unknown): number {
  if (value === undefined) return DEFAULT_LEASE_MS
  const ms = checkPositiveFinite('options.leaseMs', value)
  if (ms < 10) throw new RangeError(`asyncsafe: options.leaseMs must be at least 10, received ${ms}`)
  return ms
}

/** `renewEveryMs`: below `leaseMs`, or Infinity for no renewal. Default a third of the lease. */
export function checkRenew(value: unknown, leaseMs: number): number {
  if (value === undefined) return leaseMs / 3
  if (value === Infinity) return Infinity
  const ms = checkPositiveFinite('options.renewEveryMs', value)
  if (ms >= leaseMs * 0.9) throw new RangeError(`asyncsafe: options.renewEveryMs must be below 90 % of leaseMs (${leaseMs}), or Infinity for no renewal, received ${ms}`)
  return ms
}

/** `pollMs`: the bounded re-check while waiting. */
export function checkPoll(value: unknown): number {
  return value === undefined ? DEFAULT_POLL_MS : checkPositiveFinite('options.pollMs', value)
}
