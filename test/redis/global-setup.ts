/**
 * vitest global setup for the redis tests: decides once whether they run, and kills any
 * test server a crashed worker left behind (PID files in .tmp/redis-pids).
 */
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { PID_DIR, REDIS_REQUIRED, SKIP_MESSAGE, redisBinary } from './server.js'

function killLeftovers(): void {
  let pids: string[] = []
  try {
    pids = readdirSync(PID_DIR)
  } catch {
    return
  }
  for (const name of pids) {
    const pid = Number(name)
    if (Number.isSafeInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 'SIGCONT')
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    rmSync(join(PID_DIR, name), { force: true })
  }
}

export default function setup(): () => void {
  if (redisBinary() === undefined) {
    if (REDIS_REQUIRED) throw new Error(`ASYNCSAFE_REDIS_REQUIRED=1 but ${SKIP_MESSAGE}`)
    console.warn(`\n${SKIP_MESSAGE}\n`)
  }
  return killLeftovers
}
