/**
 * Finds or starts a real MongoDB-wire server for tests, benchmarks and the demo, in this order:
 * MONGODB_URI if set; a `mongod` on PATH; a `ferretdb` on PATH or in Go's bin dir; FerretDB 1.24 built with
 * `go` from the Go module proxy; mongodb-memory-server-core (downloads a mongod where the internet allows).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync, cpSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { MongoClient } from 'mongodb'

export const FERRETDB_VERSION = 'v1.24.2'

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
  const child = spawn(binary, ['--dbpath', dir, '--port', String(port), '--bind_ip', '127.0.0.1', '--quiet'], { stdio: 'ignore' })
  const uri = `mongodb://127.0.0.1:${port}`
  await waitUntilUp(uri, child)
  return { uri, description: `mongod (${binary})`, stop: stopper(child, dir) }
}

async function startFerretDb (binary: string): Promise<MongoServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-ferretdb-'))
  mkdirSync(join(dir, 'data'))
  const port = await freePort()
  const child = spawn(binary, [
    '--handler=sqlite',
    `--sqlite-url=file:${join(dir, 'data')}/`,
    `--listen-addr=127.0.0.1:${port}`,
    '--debug-addr=127.0.0.1:0',
    `--state-dir=${dir}`,
    '--telemetry=disable',
    '--log-level=error'
  ], { stdio: ['ignore', 'ignore', 'inherit'] })
  const uri = `mongodb://127.0.0.1:${port}`
  await waitUntilUp(uri, child)
  return { uri, description: `FerretDB on SQLite (${binary})`, stop: stopper(child, dir) }
}

function goBinDir (go: string): string {
  const gobin = spawnSync(go, ['env', 'GOBIN'], { encoding: 'utf8' }).stdout.trim()
  if (gobin !== '') return gobin
  return join(spawnSync(go, ['env', 'GOPATH'], { encoding: 'utf8' }).stdout.trim(), 'bin')
}

/**
 * Installs FerretDB into Go's bin dir. `go install …@version` is tried first; where the module proxy refuses
 * the deprecation lookup, or the installed binary lacks its embedded version file, the module is downloaded
 * and built from a copy with that file written in.
 */
function installFerretDb (go: string): string {
  const target = join(goBinDir(go), 'ferretdb')
  const works = (): boolean => existsSync(target) && spawnSync(target, ['--version'], { encoding: 'utf8' }).status === 0
  log(`building FerretDB ${FERRETDB_VERSION} with go (about a minute, once per machine)`)
  const install = spawnSync(go, ['install', `github.com/FerretDB/FerretDB/cmd/ferretdb@${FERRETDB_VERSION}`], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
  if (install.status === 0 && works()) return target
  const download = spawnSync(go, ['mod', 'download', '-json', `github.com/FerretDB/FerretDB@${FERRETDB_VERSION}`], { encoding: 'utf8' })
  if (download.status !== 0) throw new Error(`go mod download failed: ${download.stderr || download.stdout}`)
  const { Dir } = JSON.parse(download.stdout) as { Dir: string }
  const src = mkdtempSync(join(tmpdir(), 'ferretdb-src-'))
  try {
    cpSync(Dir, src, { recursive: true })
    spawnSync('chmod', ['-R', 'u+w', src])
    writeFileSync(join(src, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`)
    mkdirSync(goBinDir(go), { recursive: true })
    const build = spawnSync(go, ['build', '-trimpath', '-o', target, './cmd/ferretdb'], { cwd: src, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
    if (build.status !== 0) throw new Error(`go build of FerretDB failed: ${build.stderr}`)
    chmodSync(target, 0o755)
  } finally {
    rmSync(src, { recursive: true, force: true })
  }
  if (!works()) throw new Error(`FerretDB built at ${target} but does not run`)
  return target
}

async function startMemoryServer (): Promise<MongoServer> {
  const moduleName = 'mongodb-memory-server-core'
  const { MongoMemoryServer } = await import(moduleName) as { MongoMemoryServer: { create: () => Promise<{ getUri: () => string, stop: () => Promise<boolean> }> } }
  const server = await MongoMemoryServer.create()
  return { uri: server.getUri(), description: 'mongodb-memory-server', stop: async () => { await server.stop() } }
}

export async function provisionMongo (): Promise<MongoServer> {
  const given = process.env.MONGODB_URI
  if (given !== undefined && given !== '') return { uri: given, description: 'MONGODB_URI', stop: async () => {} }

  const mongod = onPath('mongod')
  if (mongod !== null) return startMongod(mongod)

  const go = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null)
  const ferret = onPath('ferretdb') ?? (go !== null && existsSync(join(goBinDir(go), 'ferretdb')) ? join(goBinDir(go), 'ferretdb') : null)
  if (ferret !== null) {
    try {
      return await startFerretDb(ferret)
    } catch (err) {
      log(`${ferret} did not start (${String(err)}); rebuilding`)
    }
  }
  if (go !== null) return startFerretDb(installFerretDb(go))

  log('no mongod, ferretdb or go found; trying mongodb-memory-server-core')
  try {
    return await startMemoryServer()
  } catch (err) {
    throw new Error(`no MongoDB-wire server available: set MONGODB_URI, or install mongod, ferretdb or go (${String(err)})`)
  }
}
