/**
 * A real `redis-server` (or `valkey-server`) for the tests and the benchmark: started on
 * a random free loopback port with no persistence and its own temp dir, stopped by PID.
 *
 * - The binary: `$REDIS_SERVER`, else `redis-server`, else `valkey-server` on PATH.
 * - `ASYNCSAFE_REDIS_REQUIRED=1` (set by .ci/run) turns "no binary" into a failure; without
 *   it the redis tests are skipped with one message (see global-setup.ts).
 * - Every server started here is killed on process exit (SIGKILL by PID) and its PID is
 *   written to `.tmp/redis-pids/`, so the global teardown kills what a crashed worker left.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where PID files of running test servers live (cleaned by the global teardown). */
export const PID_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.tmp', 'redis-pids')

/** Whether CI demands the redis tests (no skipping). */
export const REDIS_REQUIRED = process.env.ASYNCSAFE_REDIS_REQUIRED === '1'

function onPath(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' })
  const path = r.stdout.trim()
  return r.status === 0 && path !== '' ? path : undefined
}

let cachedBinary: string | null | undefined

/** The server binary, or undefined when none is installed. */
export function redisBinary(): string | undefined {
  if (cachedBinary === undefined) {
    const env = process.env.REDIS_SERVER
    cachedBinary = (env !== undefined && env !== '' && existsSync(env) ? env : undefined) ?? onPath('redis-server') ?? onPath('valkey-server') ?? null
  }
  return cachedBinary ?? undefined
}

/** The one message printed when the redis tests are skipped. */
export const SKIP_MESSAGE = 'asyncsafe/redis tests SKIPPED: no redis-server or valkey-server on PATH (apt-get install redis-server, or set REDIS_SERVER=/path/to/binary); CI sets ASYNCSAFE_REDIS_REQUIRED=1 and fails instead'

/** A free loopback port (the OS picks it; a race with another process is retried by the caller). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      srv.close(() => {
        resolve(port)
      })
    })
  })
}

const running = new Set<RedisServer>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const server of running) server.killNow()
  })
}

/** A running test server. */
export class RedisServer {
  readonly port: number
  readonly host = '127.0.0.1'
  private child: ChildProcess | undefined
  private readonly dir: string
  private readonly extraArgs: readonly string[]
  private exited: Promise<void> = Promise.resolve()

  private constructor(port: number, dir: string, extraArgs: readonly string[]) {
    this.port = port
    this.dir = dir
    this.extraArgs = extraArgs
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://${this.host}:${this.port}`
  }

  /** The server's PID while it runs. */
  get pid(): number | undefined {
    return this.child?.pid
  }

  /**
   * Starts a server on a random free loopback port.
   *
   * @param extraArgs more `redis-server` arguments, e.g. `['--notify-keyspace-events', 'Kg']`
   */
  static async start(extraArgs: readonly string[] = []): Promise<RedisServer> {
    const bin = redisBinary()
    if (bin === undefined) throw new Error(SKIP_MESSAGE)
    installExitHook()
    let lastError: unknown
    for (let attempt = 0; attempt < 5; attempt++) {
      const dir = mkdtempSync(join(tmpdir(), 'asyncsafe-redis-'))
      const server = new RedisServer(await freePort(), dir, extraArgs)
      try {
        await server.launch()
        running.add(server)
        return server
      } catch (error) {
        lastError = error
        await server.stop()
      }
    }
    throw lastError
  }

  /** Starts the process on `this.port` and waits until it accepts connections. */
  private async launch(): Promise<void> {
    const bin = redisBinary()!
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--daemonize', 'no', '--protected-mode', 'no', '--enable-debug-command', 'local', ...this.extraArgs]
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve()
      else child.once('exit', () => {
        resolve()
      })
    })
    if (child.pid !== undefined) {
      mkdirSync(PID_DIR, { recursive: true })
      writeFileSync(join(PID_DIR, String(child.pid)), `${process.pid}\n`)
    }
    let output = ''
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`redis-server on port ${this.port} not ready after 10 s:\n${output}`))
      }, 10_000)
      const onData = (chunk: Buffer): void => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer)
          child.stdout?.off('data', onData)
          resolve()
        }
      }
      child.stdout?.on('data', onData)
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${output}`))
      })
    })
    // Keep draining its output so a chatty server never blocks on a full pipe.
    child.stdout?.resume()
    child.stderr?.resume()
    ;(child.stdout as unknown as { unref?: () => void } | null)?.unref?.()
    ;(child.stderr as unknown as { unref?: () => void } | null)?.unref?.()
    child.unref()
  }

  /** SIGSTOP: the server stops answering (a network stall) until `resume()`. */
  pause(): void {
    if (this.child?.pid !== undefined) process.kill(this.child.pid, 'SIGSTOP')
  }

  /** SIGCONT after `pause()`. */
  resume(): void {
    if (this.child?.pid !== undefined) process.kill(this.child.pid, 'SIGCONT')
  }

  /** Kills the server (SIGKILL: all data is gone, no persistence) and waits for its exit. */
  async kill(): Promise<void> {
    const child = this.child
    if (child === undefined) return
    // The child is unref'd while it runs; waiting for its exit must keep the process alive.
    child.ref()
    this.killNow()
    await this.exited
  }

  /** Starts a fresh server (empty) on the same port after `kill()`. */
  async restart(): Promise<void> {
    await this.kill()
    // The port was ours; a quick re-bind can still race TIME_WAIT, so retry briefly.
    let lastError: unknown
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await this.launch()
        running.add(this)
        return
      } catch (error) {
        lastError = error
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
    throw lastError
  }

  /** Synchronous SIGKILL by PID (exit hook). */
  killNow(): void {
    const pid = this.child?.pid
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGCONT')
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
      rmSync(join(PID_DIR, String(pid)), { force: true })
    }
    this.child = undefined
    running.delete(this)
  }

  /** Kills the server and removes its temp dir. */
  async stop(): Promise<void> {
    await this.kill()
    rmSync(this.dir, { recursive: true, force: true })
  }
}
