/**
 * Finds or starts a real MongoDB-wire server for tests, benchmarks and the demo, in this order:
 * MONGODB_URI if set; a `mongod` on PATH; a `ferretdb` on PATH or in Go's bin dir; FerretDB 1.24 built with
 * `go` from the Go module proxy; mongodb-memory-server-core (downloads a mongod where the internet allows).
 *
 * FerretDB stores its data in SQLite by default (tests, CI, the demo: nothing else to install). With the
 * `postgresql` backend (FERRETDB_BACKEND, or what the caller prefers: the benchmarks do) it runs on a
 * throwaway PostgreSQL cluster instead, FerretDB's production backend, when PostgreSQL's server binaries are
 * installed; otherwise it says so and uses SQLite.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync, chmodSync, cpSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { MongoClient } from 'mongodb'

export const FERRETDB_VERSION = 'v1.24.2'

export type FerretDbBackend = 'sqlite' | 'postgresql'

export interface MongoServer {
  uri: string
  description: string
  stop: () => Promise<void>
}

const log = (message: string): void => { process.stderr.write(`[mongo] ${message}\n`) }

function onPath (name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name)
    if (dir !== '' && existsSync(candidate)) return candidate
  }
  return null
}

/** A TCP port on loopback that nothing listens on right now. */
export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => { resolve(typeof address === 'object' && address !== null ? address.port : 0) })
    })
  })
}

async function waitUntilUp (uri: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode} before accepting connections`)
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1000 })
    try {
      await client.connect()
      await client.db('admin').command({ ping: 1 })
      return
    } catch (err) {
      lastError = err
    } finally {
      await client.close().catch(() => {})
    }
    await sleep(200)
  }
  throw new Error(`server did not answer within ${timeoutMs} ms: ${String(lastError)}`)
}

/**
 * Starts a database server in its own process group: Ctrl-C in a terminal signals the whole foreground group,
 * and the server must outlive the gateway's drain (which still writes job states), so its owner stops it last.
 * Should the owner die without stopping it, it is killed on the owner's exit.
 */
function spawnServer (binary: string, args: string[], options: SpawnOptions): ChildProcess {
  const child = spawn(binary, args, { ...options, detached: true })
  const killOnExit = (): void => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') }
  process.once('exit', killOnExit)
  child.once('exit', () => { process.off('exit', killOnExit) })
  return child
}

function stopper (child: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await Promise.race([exited, sleep(5000)])
      if (child.exitCode === null) child.kill('SIGKILL')
    }
    rmSync(dir, { recursive: true, force: true })
  }
}

async function startMongod (binary: string): Promise<MongoServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-mongod-'))
  const port = await freePort()
  const child = spawnServer(binary, ['--dbpath', dir, '--port', String(port), '--bind_ip', '127.0.0.1', '--quiet'], { stdio: 'ignore' })
  const uri = `mongodb://127.0.0.1:${port}`
  await waitUntilUp(uri, child)
  return { uri, description: `mongod (${binary})`, stop: stopper(child, dir) }
}

async function startFerretDb (binary: string, backend: FerretDbBackend): Promise<MongoServer> {
  let postgres: Awaited<ReturnType<typeof startPostgres>> = null
  if (backend === 'postgresql') {
    try {
      postgres = await startPostgres()
    } catch (err) {
      log(`${String(err)}; using SQLite`)
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'gateway-ferretdb-'))
  mkdirSync(join(dir, 'data'))
  const port = await freePort()
  const storage = postgres === null
    ? ['--handler=sqlite', `--sqlite-url=file:${join(dir, 'data')}/`]
    : ['--handler=postgresql', `--postgresql-url=${postgres.url}`]
  const child = spawnServer(binary, [
    ...storage,
    `--listen-addr=127.0.0.1:${port}`,
    '--debug-addr=127.0.0.1:0',
    `--state-dir=${dir}`,
    '--telemetry=disable',
    '--log-level=error'
  ], { stdio: ['ignore', 'ignore', 'inherit'] })
  const uri = `mongodb://127.0.0.1:${port}`
  const stopFerretDb = stopper(child, dir)
  const stop = async (): Promise<void> => {
    await stopFerretDb()
    await postgres?.stop()
  }
  try {
    await waitUntilUp(uri, child)
  } catch (err) {
    await stop()
    throw err
  }
  return { uri, description: `FerretDB on ${postgres === null ? 'SQLite' : postgres.description} (${binary})`, stop }
}

/** The bin dir of an installed PostgreSQL server: where `postgres` on PATH is, else Debian's newest. */
function postgresBinDir (): string | null {
  const candidates: string[] = []
  const onPathBinary = onPath('postgres')
  if (onPathBinary !== null) candidates.push(dirname(onPathBinary))
  const debian = '/usr/lib/postgresql'
  if (existsSync(debian)) {
    for (const version of readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))) candidates.push(join(debian, version, 'bin'))
  }
  return candidates.find((bin) => ['initdb', 'postgres', 'pg_isready'].every((name) => existsSync(join(bin, name)))) ?? null
}

/** PostgreSQL refuses to run as root: run it as the `postgres` (else `nobody`) account when we are root. */
function postgresAccount (): { uid: number, gid: number } | null {
  if (process.getuid?.() !== 0) return null
  for (const name of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' })
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' })
    if (uid.status === 0 && gid.status === 0) return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
  }
  throw new Error('running as root and neither a postgres nor a nobody account exists to run PostgreSQL as')
}

/**
 * A throwaway PostgreSQL cluster on loopback, with the server's default durability (fsync on, synchronous
 * commit): only where it lives is temporary. Null when no PostgreSQL server is installed.
 */
async function startPostgres (): Promise<{ url: string, description: string, stop: () => Promise<void> } | null> {
  const bin = postgresBinDir()
  if (bin === null) {
    log('FERRETDB_BACKEND=postgresql but no PostgreSQL server is installed (initdb, postgres, pg_isready); using SQLite')
    return null
  }
  const account = postgresAccount()
  const asAccount = account === null ? {} : { uid: account.uid, gid: account.gid }
  const dir = mkdtempSync(join(tmpdir(), 'gateway-postgres-'))
  if (account !== null) chownSync(dir, account.uid, account.gid)
  const init = spawnSync(join(bin, 'initdb'), ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], { encoding: 'utf8', ...asAccount })
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`initdb failed: ${init.stderr}`)
  }
  const port = await freePort()
  // Vacuum every second instead of every minute: FerretDB keeps each collection in one table, and the jobs
  // collection is a queue (each job inserts, updates and deletes its row). With the default nap, dead rows
  // pile up between vacuums and every scan of the live jobs reads tens of megabytes of them.
  const settings = ['listen_addresses=127.0.0.1', 'autovacuum_naptime=1s']
  const child = spawnServer(join(bin, 'postgres'), ['-D', dir, '-p', String(port), '-k', dir, ...settings.flatMap((setting) => ['-c', setting])], { stdio: ['ignore', 'ignore', 'ignore'], ...asAccount })
  // FerretDB, its only client, is stopped first, so PostgreSQL's default (smart) shutdown is quick.
  const stop = stopper(child, dir)
  const deadline = Date.now() + 30_000
  while (spawnSync(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)]).status !== 0) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`PostgreSQL (${bin}) did not start`)
    }
    await sleep(100)
  }
  const version = spawnSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout.match(/\d+(\.\d+)?/)?.[0] ?? ''
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, description: `PostgreSQL ${version}`.trim(), stop }
}

function goBinDir (go: string): string {
  const gobin = spawnSync(go, ['env', 'GOBIN'], { encoding: 'utf8' }).stdout.trim()
  if (gobin !== '') return gobin
  return join(spawnSync(go, ['env', 'GOPATH'], { encoding: 'utf8' }).stdout.trim(), 'bin')
}

/** A FerretDB binary that runs (`--version` exits 0); a half-built or broken one does not count. */
function runs (binary: string): boolean {
  return existsSync(binary) && spawnSync(binary, ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0
}

/** Runs a build step, printing a line every 15 s so a first start does not look hung; resolves to its stdout. */
async function step (what: string, command: string, args: string[], options: SpawnOptions = {}): Promise<string> {
  const started = Date.now()
  const ticker = setInterval(() => { log(`${what}: still working (${Math.round((Date.now() - started) / 1000)} s)`) }, 15_000)
  try {
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout?.on('data', (chunk: Buffer) => { stdout.push(chunk) })
    child.stderr?.on('data', (chunk: Buffer) => { stderr.push(chunk) })
    const code = await new Promise<number | null>((resolve, reject) => { child.once('error', reject).once('close', resolve) })
    if (code !== 0) throw new Error(`${what} failed: ${Buffer.concat(stderr).toString().trim().slice(-2000)}`)
    return Buffer.concat(stdout).toString()
  } finally {
    clearInterval(ticker)
  }
}

/**
 * Builds FerretDB into Go's bin dir, race-free: the module is built from a private copy (with the version file
 * its build expects written in) into a private file, checked, and renamed into place, so a process using the
 * installed binary, or building it at the same moment, never sees a half-written one.
 */
async function installFerretDb (go: string): Promise<string> {
  const target = join(goBinDir(go), 'ferretdb')
  log(`building FerretDB ${FERRETDB_VERSION} with go: once per machine, about a minute (downloads its modules)`)
  const work = mkdtempSync(join(tmpdir(), 'ferretdb-build-'))
  try {
    const download = await step('downloading the FerretDB module', go, ['mod', 'download', '-json', `github.com/FerretDB/FerretDB@${FERRETDB_VERSION}`])
    const { Dir } = JSON.parse(download) as { Dir: string }
    const src = join(work, 'src')
    cpSync(Dir, src, { recursive: true })
    spawnSync('chmod', ['-R', 'u+w', src])
    writeFileSync(join(src, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`)
    const built = join(work, 'ferretdb')
    await step('compiling FerretDB', go, ['build', '-trimpath', '-o', built, './cmd/ferretdb'], { cwd: src })
    if (!runs(built)) throw new Error('the FerretDB build does not run')
    mkdirSync(dirname(target), { recursive: true })
    // Same filesystem as the target, then an atomic rename over whatever is there.
    const staged = `${target}.tmp-${process.pid}`
    cpSync(built, staged)
    chmodSync(staged, 0o755)
    renameSync(staged, target)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  log(`FerretDB ${FERRETDB_VERSION} installed at ${target}`)
  return target
}

async function startMemoryServer (): Promise<MongoServer> {
  const moduleName = 'mongodb-memory-server-core'
  const { MongoMemoryServer } = await import(moduleName) as { MongoMemoryServer: { create: () => Promise<{ getUri: () => string, stop: () => Promise<boolean> }> } }
  const server = await MongoMemoryServer.create()
  return { uri: server.getUri(), description: 'mongodb-memory-server', stop: async () => { await server.stop() } }
}

/** `preferredBackend` is the caller's choice of FerretDB storage; FERRETDB_BACKEND, when set, overrides it. */
export async function provisionMongo (preferredBackend: FerretDbBackend = 'sqlite'): Promise<MongoServer> {
  const given = process.env.MONGODB_URI
  if (given !== undefined && given !== '') return { uri: given, description: 'MONGODB_URI', stop: async () => {} }

  const backend = process.env.FERRETDB_BACKEND ?? preferredBackend
  if (backend !== 'sqlite' && backend !== 'postgresql') throw new Error(`FERRETDB_BACKEND must be sqlite or postgresql, got ${backend}`)

  const mongod = onPath('mongod')
  if (mongod !== null) return startMongod(mongod)

  const go = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null)
  // A binary that does not run (a half-finished install from an older version of this script) is rebuilt quietly.
  const ferret = [onPath('ferretdb'), go === null ? null : join(goBinDir(go), 'ferretdb')].find((candidate) => candidate != null && runs(candidate))
  if (ferret != null) {
    try {
      return await startFerretDb(ferret, backend)
    } catch (err) {
      log(`${ferret} did not start (${String(err)}); rebuilding`)
    }
  }
  if (go !== null) return startFerretDb(await installFerretDb(go), backend)

  log('no mongod, ferretdb or go found; trying mongodb-memory-server-core')
  try {
    return await startMemoryServer()
  } catch (err) {
    throw new Error(`no MongoDB-wire server available: set MONGODB_URI, or install mongod, ferretdb or go (${String(err)})`)
  }
}
