/**
 * `gracefulKill`: terminate a process and its whole process group without blocking.
 *
 * @module
 */

import type { ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { constants } from 'node:os'
import { armTimer, disarmTimer, type TimerHandle } from '../internal/timers.js'
import { checkNonNegativeFinite, checkOptionalBoolean, checkOptions, checkPositiveFinite, describe, knownOptions } from '../internal/validate.js'

/** How the target ended. */
export type KillOutcome = 'already-exited' | 'graceful' | 'forced'

/** Options of {@link gracefulKill}. */
export interface GracefulKillOptions {
  /** The polite signal sent first. Default `'SIGTERM'`. */
  readonly signal?: NodeJS.Signals | number | undefined
  /** How long to wait after the polite signal before SIGKILL, and again after SIGKILL (ms). Default 500. */
  readonly graceMs?: number | undefined
  /** Interval between checks (ms, > 0). Default 10. */
  readonly pollMs?: number | undefined
  /** Signal the target's whole process group and wait until every member is gone. Default true. */
  readonly group?: boolean | undefined
}

const KILL_OPTIONS = knownOptions(['signal', 'graceMs', 'pollMs', 'group'], { timeoutMs: 'graceMs', timeout: 'graceMs', killSignal: 'signal', intervalMs: 'pollMs', interval: 'pollMs', detached: 'group' })

/** Floor of the wait after SIGKILL (ms), so `graceMs: 0` does not reject a kill still in delivery. */
const MIN_KILL_WAIT_MS = 100

interface ProcStat {
  readonly state: string
  readonly pgid: number
}

const HAS_PROC = (() => {
  if (process.platform !== 'linux') return false
  try {
    readFileSync('/proc/self/stat', 'utf8')
    return true
  } catch {
    return false
  }
})()

/** Whether `/proc` is used; switched off only by tests of the portable fallback. */
let useProc = HAS_PROC

/**
 * Turns the `/proc` strategy off (or back on, where available) to exercise the portable
 * fallback on Linux.
 *
 * @internal
 */
export function setProcfsForTesting(enabled: boolean): void {
  useProc = enabled && HAS_PROC
}

/** `/proc/PID/stat`: state and process group; `undefined` when the process does not exist. */
function readStat(pid: number | 'self'): ProcStat | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const pgid = Number(fields[2])
  return { state: fields[0] ?? '', pgid: Number.isInteger(pgid) ? pgid : 0 }
}

/** A zombie (`Z`) or dead (`X`) process has exited; only its parent's reaping is missing. */
function isGone(stat: ProcStat | undefined): boolean {
  return stat === undefined || stat.state === 'Z' || stat.state === 'X'
}

/** Whether `pid` is a live member of process group `pgid` (a reused pid elsewhere is not). */
function isLiveMember(pid: number, pgid: number): boolean {
  const stat = readStat(pid)
  return stat?.pgid === pgid && !isGone(stat)
}

/** Live members of process group `pgid` (zombies excluded), found by scanning all of `/proc`. */
function scanGroup(pgid: number): number[] {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return []
  }
  const members: number[] = []
  for (const entry of entries) {
    const c = entry.charCodeAt(0)
    if (c < 48 || c > 57) continue
    const pid = Number(entry)
    if (isLiveMember(pid, pgid)) members.push(pid)
  }
  return members
}

/** `kill(pid, 0)`: true when the process exists (EPERM: it exists but is not ours). */
function answers(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code
}

function isChildProcess(value: unknown): value is ChildProcess {
  return typeof value === 'object' && value !== null && typeof (value as ChildProcess).kill === 'function' && 'exitCode' in value && typeof (value as ChildProcess).once === 'function'
}

function checkSignalName(value: unknown): NodeJS.Signals | number {
  if (typeof value === 'string') {
    if (Object.hasOwn(constants.signals, value)) return value as NodeJS.Signals
    throw new RangeError(`asyncsafe: signal must be a signal name such as 'SIGTERM', received ${describe(value)}`)
  }
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value > 0 && Object.values(constants.signals).includes(value)) return value
    throw new RangeError(`asyncsafe: signal must be a valid signal number, received ${describe(value)}`)
  }
  throw new TypeError(`asyncsafe: signal must be a signal name or number, received ${describe(value)}`)
}

function checkPid(value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(`asyncsafe: target must be a ChildProcess or a pid, received ${describe(value)}`)
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`asyncsafe: pid must be a positive integer, received ${describe(value)}`)
  if (value === process.pid) throw new RangeError(`asyncsafe: pid must not be the current process, received ${value}`)
  return value
}

/** What to signal and how to tell whether it is gone. */
interface Target {
  readonly pid: number
  /** Process group to signal (never ours); undefined: the pid alone. */
  readonly pgid: number | undefined
  readonly child: ChildProcess | undefined
}

function childExited(child: ChildProcess | undefined): boolean {
  return child !== undefined && (child.exitCode !== null || child.signalCode !== null)
}

/**
 * Tells whether the target (leader or any group member) is still alive. A scan of all of
 * `/proc` reads one file per host process, so it is done only once the leader is gone,
 * and then the members it found are polled alone; one more full scan confirms the group
 * is empty once they are all gone (a new member can only be forked by a live one, which
 * that scan then finds).
 */
class Liveness {
  readonly #target: Target
  /** Live group members found by the last full scan (undefined: no scan yet). */
  #members: number[] | undefined

  constructor(target: Target) {
    this.#target = target
  }

  alive(): boolean {
    const target = this.#target
    if (!useProc) {
      // Without /proc: a reaped child is gone; otherwise ask the leader (zombies still answer).
      if (childExited(target.child)) return false
      return answers(target.pid)
    }
    if (!isGone(readStat(target.pid))) return true
    const pgid = target.pgid
    if (pgid === undefined) return false
    const known = this.#members
    if (known !== undefined) {
      const members = known.filter((pid) => isLiveMember(pid, pgid))
      this.#members = members
      if (members.length > 0) return true
    }
    const members = scanGroup(pgid)
    this.#members = members
    return members.length > 0
  }
}

function resolveTarget(pid: number, child: ChildProcess | undefined, group: boolean): Target {
  if (!group) return { pid, pgid: undefined, child }
  if (!useProc) {
    // Without /proc the group is unknown: only a child of ours is signalled as a group
    // (`kill(-pid)`), since our own group's id can never be the pid of a child of ours.
    return { pid, pgid: child === undefined ? undefined : pid, child }
  }
  const own = readStat('self')?.pgid
  const stat = readStat(pid)
  // A leader that has exited (or was reaped) may leave members: its pid is still their pgid.
  const pgid = stat !== undefined ? stat.pgid : pid
  if (pgid <= 1 || pgid === own) return { pid, pgid: undefined, child }
  return { pid, pgid, child }
}

/** Sends `signal`; false when nothing was there to receive it. Other errors (EPERM) throw. */
function send(target: Target, signal: NodeJS.Signals | number): boolean {
  if (target.pgid !== undefined) {
    try {
      process.kill(-target.pgid, signal)
      return true
    } catch (error) {
      if (errnoCode(error) !== 'ESRCH') throw error
      // No such group (the target never led one): fall back to the pid alone.
    }
  }
  try {
    process.kill(target.pid, signal)
    return true
  } catch (error) {
    if (errnoCode(error) === 'ESRCH') return false
    throw error
  }
}

/** Resolves after `ms` (any duration: armTimer re-arms past 2^31-1 ms), on the global timer of the moment (fake timers included). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => armTimer(ms, resolve))
}

/** Polls with timers until the target is gone or `ms` passed; true when gone. */
async function waitGone(liveness: Liveness, ms: number, pollMs: number): Promise<boolean> {
  const deadline = performance.now() + ms
  for (;;) {
    if (!liveness.alive()) return true
    const left = deadline - performance.now()
    if (left <= 0) return false
    await sleep(Math.min(pollMs, left))
  }
}

/** Waits (bounded by `ms`, at least 100 ms) for Node to reap a child it spawned, so its 'exit' has fired when we return. */
async function reap(child: ChildProcess | undefined, ms: number): Promise<void> {
  if (child === undefined || childExited(child)) return
  let onExit!: () => void
  let timer: TimerHandle | undefined
  await new Promise<void>((resolve) => {
    onExit = resolve
    child.once('exit', resolve)
    timer = armTimer(Math.max(ms, MIN_KILL_WAIT_MS), resolve)
  })
  disarmTimer(timer)
  child.off('exit', onExit)
}

/**
 * Terminates a process and its process group politely, then by force, without ever
 * blocking the event loop: sends `signal` (default SIGTERM) to the target's process
 * group, polls with timers every `pollMs` until every member of the group is gone,
 * sends SIGKILL after `graceMs`, and waits up to another `graceMs` (at least 100 ms) for that.
 *
 * Hazard it prevents: a kill path that slept the thread while polling, checked only the
 * group leader (surviving grandchildren and zombies were misreported), and reported
 * success on platforms where it checked nothing.
 *
 * - Group: on Linux the group is read from `/proc/PID/stat`. A target sharing our own
 *   process group is signalled alone: our group is never signalled. "Gone" means no live
 *   process left in the group, leader included (found by scanning `/proc`). Spawn children
 *   with `detached: true` so each leads its own group.
 * - Zombies (state `Z`) count as gone: where PID 1 does not reap orphans (containers),
 *   killed members linger as zombies that still answer `kill(pid, 0)`.
 * - A `ChildProcess` target is reaped: the promise settles after its `'exit'` event (bounded
 *   by `graceMs`), so no zombie of ours is left behind.
 * - Other platforms (no `/proc`): liveness is `kill(pid, 0)` on the leader only (EPERM
 *   counts as alive), and only a `ChildProcess` target is signalled as a group (`kill(-pid)`);
 *   a bare pid is signalled alone there.
 * - Errors: rejects with `RangeError` for pid 0, negative or non-integer pids and the
 *   current process, `TypeError` for other targets, and with the system error if the target
 *   cannot be signalled (EPERM). Rejects with an `Error` if the group survives SIGKILL for
 *   another `graceMs` (at least 100 ms).
 *
 * @param target a `ChildProcess` or a pid
 * @param options `signal` ('SIGTERM'), `graceMs` (500), `pollMs` (10), `group` (true)
 * @returns `'already-exited'` when nothing was alive, `'graceful'` when the polite signal
 *   sufficed, `'forced'` when SIGKILL was needed
 * @example
 * ```ts
 * const worker = spawn('node', ['worker.js'], { detached: true })
 * const outcome = await gracefulKill(worker, { graceMs: 2_000 }) // 'graceful' | 'forced' | 'already-exited'
 * ```
 */
export async function gracefulKill(target: ChildProcess | number, options?: GracefulKillOptions): Promise<KillOutcome> {
  const opts = checkOptions<GracefulKillOptions>('gracefulKill: options', options, KILL_OPTIONS)
  const signal = opts.signal === undefined ? 'SIGTERM' : checkSignalName(opts.signal)
  const graceMs = opts.graceMs === undefined ? 500 : checkNonNegativeFinite('graceMs', opts.graceMs)
  const pollMs = opts.pollMs === undefined ? 10 : checkPositiveFinite('pollMs', opts.pollMs)
  const group = checkOptionalBoolean('group', opts.group) ?? true
  let child: ChildProcess | undefined
  let pid: number
  if (isChildProcess(target)) {
    child = target
    if (target.pid === undefined) return 'already-exited' // it never started
    pid = checkPid(target.pid)
  } else {
    pid = checkPid(target)
  }

  const resolved = resolveTarget(pid, child, group)
  const liveness = new Liveness(resolved)
  if (!liveness.alive()) {
    await reap(child, graceMs)
    return 'already-exited'
  }
  if (!send(resolved, signal)) {
    await reap(child, graceMs)
    return 'already-exited'
  }
  if (await waitGone(liveness, graceMs, pollMs)) {
    await reap(child, graceMs)
    return 'graceful'
  }
  send(resolved, 'SIGKILL')
  // SIGKILL is not instantaneous: even with graceMs 0, allow it a short bounded moment.
  const killWaitMs = Math.max(graceMs, MIN_KILL_WAIT_MS)
  if (await waitGone(liveness, killWaitMs, pollMs)) {
    await reap(child, graceMs)
    return 'forced'
  }
  throw new Error(`asyncsafe: process ${pid}${resolved.pgid === undefined ? '' : ` (group ${resolved.pgid})`} survived SIGKILL for ${killWaitMs} ms`)
}
