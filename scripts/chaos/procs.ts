/**
 * The processes the chaos run owns: FerretDB and the gateway, each in a process group of its own
 * (`detached: true`), so `process.kill(-pid, 'SIGKILL')` takes down the whole group at once. Every group
 * started is remembered and killed when the chaos process exits, however it exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { MongoClient } from 'mongodb'
import { request } from 'undici'
import { provisionMongo } from '../mongo-server.js'

const groups = new Set<number>()

/** SIGKILLs every process group still running (sync: safe in an 'exit' handler). */
export function killAllGroups (): void {
  for (const pid of groups) {
    try { process.kill(-pid, 'SIGKILL') } catch { /* gone */ }
  }
  groups.clear()
}

interface Owned { child: ChildProcess, exited: Promise<void> }

function spawnGroup (command: string, args: string[], options: { cwd?: string, env: Record<string, string>, logPath: string }): Owned {
  const fd = openSync(options.logPath, 'a')
  let child: ChildProcess
  try {
    child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', fd, fd] })
  } finally {
    closeSync(fd)
  }
  const pid = child.pid
  if (pid === undefined) throw new Error(`could not start ${command}`)
  groups.add(pid)
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => { groups.delete(pid); resolve() })
    child.once('error', () => { groups.delete(pid); resolve() })
  })
  return { child, exited }
}

async function killGroup (owned: Owned, signal: NodeJS.Signals = 'SIGKILL', waitMs = 10_000): Promise<void> {
  const pid = owned.child.pid as number
  if (owned.child.exitCode !== null || owned.child.signalCode !== null) return
  try { process.kill(-pid, signal) } catch { /* already gone */ }
  const done = await Promise.race([owned.exited.then(() => true), sleep(waitMs).then(() => false)])
  if (!done) {
    try { process.kill(-pid, 'SIGKILL') } catch { /* gone */ }
    await owned.exited
  }
}

function onPath (name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name)
  }
  return null
}

function goBinFerret (): string | null {
  const go = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null)
  const candidates: string[] = [join(homedir(), 'go', 'bin', 'ferretdb')]
  if (go !== null) {
    const gobin = spawnSync(go, ['env', 'GOBIN'], { encoding: 'utf8' }).stdout?.trim() ?? ''
    const gopath = spawnSync(go, ['env', 'GOPATH'], { encoding: 'utf8' }).stdout?.trim() ?? ''
    if (gobin !== '') candidates.unshift(join(gobin, 'ferretdb'))
    if (gopath !== '') candidates.unshift(join(gopath, 'bin', 'ferretdb'))
  }
  return candidates.find((c) => existsSync(c)) ?? null
}

/**
 * The FerretDB binary: on PATH or in Go's bin dir; otherwise scripts/mongo-server.ts builds it (once per
 * machine) and it is looked for again.
 */
export async function ferretBinary (): Promise<string> {
  const found = onPath('ferretdb') ?? goBinFerret()
  if (found !== null) return found
  process.stderr.write('[chaos] no ferretdb binary found; provisioning one the way the tests do\n')
  const saved = process.env.MONGODB_URI
  delete process.env.MONGODB_URI
  try {
    const server = await provisionMongo('sqlite')
    await server.stop()
  } finally {
    if (saved !== undefined) process.env.MONGODB_URI = saved
  }
  const built = onPath('ferretdb') ?? goBinFerret()
  if (built === null) throw new Error('no ferretdb binary: install Go (FerretDB is built with it) or put ferretdb on PATH')
  return built
}

async function pingable (uri: string): Promise<boolean> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 })
  try {
    await client.connect()
    await client.db('admin').command({ ping: 1 })
    return true
  } catch {
    return false
  } finally {
    await client.close().catch(() => {})
  }
}

/** FerretDB on SQLite in `dir`, on a fixed port: restartable on the same port and data after a SIGKILL. */
export function createFerret (binary: string, dir: string, port: number, logPath: string) {
  mkdirSync(join(dir, 'data'), { recursive: true })
  const uri = `mongodb://127.0.0.1:${port}`
  let owned: Owned | null = null
  return {
    uri,
    get pid (): number | null { return owned?.child.pid ?? null },
    async start (timeoutMs = 30_000): Promise<void> {
      owned = spawnGroup(binary, [
        '--handler=sqlite',
        `--sqlite-url=file:${join(dir, 'data')}/`,
        `--listen-addr=127.0.0.1:${port}`,
        '--debug-addr=127.0.0.1:0',
        `--state-dir=${dir}`,
        '--telemetry=disable',
        '--log-level=warn'
      ], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir }, logPath })
      const deadline = Date.now() + timeoutMs
      const current = owned
      while (!(await pingable(uri))) {
        if (current.child.exitCode !== null) throw new Error(`FerretDB exited with code ${current.child.exitCode} at start (log: ${logPath})`)
        if (Date.now() > deadline) throw new Error(`FerretDB did not answer within ${timeoutMs} ms (log: ${logPath})`)
        await sleep(100)
      }
    },
    async kill (): Promise<void> {
      if (owned !== null) await killGroup(owned, 'SIGKILL')
    },
    async stop (): Promise<void> {
      if (owned !== null) await killGroup(owned, 'SIGTERM', 5000)
    }
  }
}

export type Ferret = ReturnType<typeof createFerret>

function logTail (path: string, lines = 12): string {
  try { return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') } catch { return '(no log)' }
}

/** One gateway process (`node --import tsx src/server.ts`) in its own process group. */
export interface GatewayProcess {
  generation: number
  pid: number
  logPath: string
  startedAt: number
  readyAt: number
  kill: () => Promise<void>
  stop: () => Promise<void>
  alive: () => boolean
  exitCode: () => number | null
}

/** Starts a gateway and, unless `wait` is false (a kill during start-up), waits until /health answers. */
export async function startGateway (options: { root: string, env: Record<string, string>, base: string, logPath: string, generation: number, timeoutMs?: number, wait?: boolean }): Promise<GatewayProcess> {
  const startedAt = Date.now()
  const owned = spawnGroup(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: options.root, env: options.env, logPath: options.logPath })
  const deadline = startedAt + (options.timeoutMs ?? 60_000)
  for (;;) {
    if (options.wait === false) break
    if (owned.child.exitCode !== null) throw new Error(`gateway generation ${options.generation} exited with code ${owned.child.exitCode} at start (log: ${options.logPath}):\n${logTail(options.logPath)}`)
    const ok = await request(`${options.base}/health`, { headersTimeout: 1000, bodyTimeout: 1000 })
      .then(async (res) => { await res.body.dump(); return res.statusCode === 200 }, () => false)
    if (ok) break
    if (Date.now() > deadline) {
      await killGroup(owned)
      throw new Error(`gateway generation ${options.generation} did not answer /health within ${options.timeoutMs ?? 60_000} ms (log: ${options.logPath})`)
    }
    await sleep(50)
  }
  return {
    generation: options.generation,
    pid: owned.child.pid as number,
    logPath: options.logPath,
    startedAt,
    readyAt: options.wait === false ? Number.NaN : Date.now(),
    kill: () => killGroup(owned, 'SIGKILL'),
    stop: () => killGroup(owned, 'SIGTERM', 15_000),
    alive: () => owned.child.exitCode === null && owned.child.signalCode === null,
    exitCode: () => owned.child.exitCode
  }
}
