/**
 * The lease under every distributed primitive: a Redis key holding a random owner
 * token with a PX expiry, granted together with a fencing token, extended and deleted
 * only by its owner (Lua compare-and-pexpire, compare-and-delete), and renewed in the
 * background while held.
 *
 * Renewal: every `renewEveryMs` the holder extends the lease to `leaseMs`. Each extend
 * is bounded by the time the lease is still known to be valid; the holder's signal
 * aborts with a `LeaseLostError` when an extend finds the lease gone (`'lost'`), or when
 * no extend succeeded before that validity ran out (`'expired'`). Validity is counted
 * conservatively from the moment an extend (or the grant) was *sent*, minus a drift
 * margin, so the signal aborts before the server can let the key expire (unless this
 * process is paused: then the fencing token is what protects storage).
 */
import { randomBytes } from 'node:crypto'
import { TimeoutError } from '../errors.js'
import { armTimer, disarmTimer, type TimerHandle } from '../internal/timers.js'
import { reportError, type OnError } from '../internal/report.js'
import { LeaseLostError } from './errors.js'
import { ACQUIRE, EXTEND, RELEASE, runScript } from './scripts.js'
import type { RedisClient } from './types.js'

/** The Redis names used for one lock key. */
export interface LeaseKeys {
  /** The lease itself (value: the owner token). */
  readonly lock: string
  /** The fencing counter (no expiry). */
  readonly fence: string
  /** A single-flight result (short expiry). */
  readonly result: string
  /** Pub/sub channel announcing releases. */
  readonly channel: string
}

/** Keys for `key`: `key`, `key:fence`, `key:result`; channel `key:released`. */
export function leaseKeys(key: string): LeaseKeys {
  return { lock: key, fence: `${key}:fence`, result: `${key}:result`, channel: `${key}:released` }
}

/** This process's random prefix of owner tokens (96 bits), drawn once. */
const processToken = randomBytes(12).toString('hex')
let ownerSequence = 0

/**
 * A fresh owner token, unique across processes: the process's random prefix and a
 * counter (an owner token must be unique, not secret; drawing 128 random bits per grant
 * cost more CPU than the rest of the grant).
 */
export function ownerToken(): string {
  return `${processToken}:${(++ownerSequence).toString(36)}`
}

/** What one grant attempt found. */
export type Attempt = { readonly granted: true; readonly token: number } | { readonly granted: false; readonly pttl: number; readonly current: number }

/** One `SET NX PX` + `INCR` attempt. */
export async function attemptLease(client: RedisClient, keys: LeaseKeys, owner: string, leaseMs: number): Promise<Attempt> {
  const reply = (await runScript(client, ACQUIRE, [keys.lock, keys.fence, owner, Math.ceil(leaseMs)])) as number[]
  if (reply[0] === 1) return { granted: true, token: Number(reply[1]) }
  return { granted: false, pttl: Number(reply[1]), current: Number(reply[2]) }
}

/** Compare-and-delete (and publish a wake-up); with `result`, stores it in the same step. True when it was still ours. */
export async function releaseLease(client: RedisClient, keys: LeaseKeys, owner: string, result?: { payload: string; ttlMs: number }): Promise<boolean> {
  const reply = await runScript(client, RELEASE, [keys.lock, keys.result, owner, keys.channel, result?.payload ?? '', Math.ceil(result?.ttlMs ?? 0)])
  return reply === 1
}

/** Compare-and-pexpire. True when it was still ours. */
export async function extendLease(client: RedisClient, keys: LeaseKeys, owner: string, leaseMs: number): Promise<boolean> {
  return (await runScript(client, EXTEND, [keys.lock, owner, Math.ceil(leaseMs)])) === 1
}

const noop = (): void => {}

/**
 * `promise`, or a `TimeoutError` after `ms`. The command may still run on the server
 * later; callers account for that (a late extend only extends our own lease, a late
 * grant is released by whoever abandoned it).
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  if (ms === Infinity) return promise
  return new Promise<T>((resolve, reject) => {
    const timer = armTimer(Math.max(0, ms), () => {
      promise.catch(noop)
      reject(new TimeoutError(`asyncsafe redis: ${what} got no answer within ${Math.round(ms)} ms`, { timeoutMs: ms }))
    })
    promise.then(
      (value) => {
        disarmTimer(timer)
        resolve(value)
      },
      (error: unknown) => {
        disarmTimer(timer)
        reject(error)
      },
    )
  })
}

/** Settings of a held lease. */
export interface LeaseSettings {
  readonly client: RedisClient
  readonly keys: LeaseKeys
  readonly leaseMs: number
  /** Infinity: no renewal. */
  readonly renewEveryMs: number
  readonly name: string | undefined
  readonly onError: OnError | undefined
}

/** Fraction of the lease counted as possible clock drift between us and the server (Redlock's 1 %), plus 2 ms. */
const DRIFT = 0.01

function validityOf(leaseMs: number): number {
  return leaseMs - leaseMs * DRIFT - 2
}

/**
 * A lease held by this process: renews it, aborts `signal` when it is lost, releases it.
 * `sentAt` is when the granting command was sent (`performance.now()`).
 */
export class HeldLease {
  /** Created on first use of `signal` (most holders never look at it), or when it must abort. */
  private controller: AbortController | undefined = undefined
  private lostWhy: 'lost' | 'expired' | 'not-renewed' | undefined = undefined
  private validUntil: number
  private timer: TimerHandle | undefined
  private state: 'held' | 'lost' | 'released' = 'held'
  private releasing: Promise<boolean> | undefined

  constructor(
    private readonly settings: LeaseSettings,
    readonly owner: string,
    readonly fencingToken: number,
    sentAt: number,
  ) {
    this.validUntil = sentAt + validityOf(settings.leaseMs)
    this.schedule(settings.renewEveryMs === Infinity ? Infinity : settings.renewEveryMs)
  }

  /** Aborts with a `LeaseLostError` when the lease is lost (or with the dispose reason). */
  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal
  }

  /** True until released or lost. */
  get held(): boolean {
    return this.state === 'held'
  }

  /** Arms the next step: a renewal after `ms`, never later than the validity deadline. */
  private schedule(ms: number): void {
    const untilExpiry = this.validUntil - performance.now()
    if (ms >= untilExpiry) {
      this.timer = armTimer(Math.max(0, untilExpiry), expire, this)
      return
    }
    this.timer = armTimer(ms, renew, this)
  }

  /** @internal The validity passed with no confirmed renewal. */
  expireNow(): void {
    this.timer = undefined
    if (this.state !== 'held') return
    this.lose(this.settings.renewEveryMs === Infinity ? 'not-renewed' : 'expired', undefined)
  }

  /** @internal One renewal. */
  renewNow(): void {
    this.timer = undefined
    if (this.state !== 'held') return
    const { client, keys, leaseMs, renewEveryMs } = this.settings
    const sentAt = performance.now()
    const budget = this.validUntil - sentAt
    withDeadline(extendLease(client, keys, this.owner, leaseMs), budget, `renewal of "${keys.lock}"`).then(
      (extended) => {
        if (this.state !== 'held') return
        if (!extended) {
          this.lose('lost', undefined)
          return
        }
        this.validUntil = sentAt + validityOf(leaseMs)
        this.schedule(renewEveryMs)
      },
      (error: unknown) => {
        if (this.state !== 'held') return
        if (performance.now() >= this.validUntil) {
          this.lose('expired', error)
          return
        }
        // Try again soon, well before the validity runs out.
        this.schedule(Math.min(renewEveryMs, Math.max(10, (this.validUntil - performance.now()) / 3)))
      },
    )
  }

  private lose(why: 'lost' | 'expired' | 'not-renewed', cause: unknown): void {
    this.state = 'lost'
    this.lostWhy = why
    disarmTimer(this.timer)
    this.timer = undefined
    ;(this.controller ??= new AbortController()).abort(new LeaseLostError(why, this.settings.keys.lock, this.fencingToken, { cause }))
  }

  /**
   * Stops renewing and deletes the lease if it is still ours (also after `'expired'`: it
   * may still be). Resolves true when this call deleted it; never rejects (a failure is
   * reported and the lease then expires by itself). Idempotent.
   */
  release(result?: { payload: string; ttlMs: number }, abortReason?: unknown): Promise<boolean> {
    if (this.releasing !== undefined) return this.releasing
    const wasLostToOther = this.lostWhy === 'lost'
    this.state = 'released'
    disarmTimer(this.timer)
    this.timer = undefined
    if (abortReason !== undefined && this.lostWhy === undefined) (this.controller ??= new AbortController()).abort(abortReason)
    const { client, keys } = this.settings
    this.releasing = wasLostToOther
      ? Promise.resolve(false)
      : releaseLease(client, keys, this.owner, result).catch((error: unknown) => {
          reportError(this.settings.onError, error, { area: 'redis', event: 'release-error', name: this.settings.name, key: keys.lock })
          return false
        })
    return this.releasing
  }
}

function renew(lease: HeldLease): void {
  lease.renewNow()
}

function expire(lease: HeldLease): void {
  lease.expireNow()
}
