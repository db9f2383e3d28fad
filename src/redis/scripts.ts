/**
 * The Lua scripts behind the leases, and how they are run: `EVALSHA` first (one round
 * trip, no script text on the wire), `EVAL` once when the server answers `NOSCRIPT`
 * (first use, or after a restart or `SCRIPT FLUSH`), which also loads it again.
 *
 * Every script runs atomically on the primary, so "check the owner, then act" is one step.
 */
import { createHash } from 'node:crypto'
import type { RedisClient } from './types.js'

/** A Lua script with its SHA-1. */
export interface Script {
  readonly source: string
  readonly sha: string
  readonly keys: number
}

function script(source: string, keys: number): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex'), keys }
}

/**
 * Grant: `SET lock owner NX PX lease`, and in the same step the next fencing token
 * (`INCR fence`). A missing counter (first use, or lost: a restart without persistence,
 * `FLUSHALL`, eviction) is seeded from the server clock in microseconds, so tokens stay
 * above every earlier one unless the server's wall clock went back.
 * KEYS: lock, fence. ARGV: owner, leaseMs.
 * Returns `{1, token}` when granted, else `{0, pttl, currentToken}`.
 */
export const ACQUIRE = script(
  `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if redis.call('EXISTS', KEYS[2]) == 0 then
    local t = redis.call('TIME')
    redis.call('SET', KEYS[2], t[1] .. string.format('%06d', tonumber(t[2])))
  end
  return {1, redis.call('INCR', KEYS[2])}
end
return {0, redis.call('PTTL', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0')}`,
  2,
)

/**
 * Release by the owner only: compare-and-delete, then `PUBLISH` a wake-up. With a
 * result (single flight), the result is stored in the same step.
 * KEYS: lock, result. ARGV: owner, channel, result payload ('' for none), result ttl ms.
 * Returns 1 when the owner released it, 0 when it was no longer the owner.
 */
export const RELEASE = script(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4]) end
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], 'released')
  return 1
end
return 0`,
  2,
)

/**
 * Extend by the owner only: compare-and-pexpire. KEYS: lock. ARGV: owner, leaseMs.
 * Returns 1 when extended, 0 when the lease was gone or someone else's.
 */
export const EXTEND = script(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`,
  1,
)

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT')
}

/** Runs `s` with `keys` and `args`: EVALSHA, falling back to EVAL on NOSCRIPT. */
export async function runScript(client: RedisClient, s: Script, args: readonly (string | number)[]): Promise<unknown> {
  try {
    return await client.evalsha(s.sha, s.keys, ...args)
  } catch (error) {
    if (!isNoScript(error)) throw error
    return client.eval(s.source, s.keys, ...args)
  }
}
