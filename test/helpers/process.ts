import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface Spawned {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

/** Runs a TypeScript entry point in a real child process (through tsx, like `npm start`). */
export function spawnTs (script: string, env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | null>((resolve) => { child.on('exit', (code) => { resolve(code) }) })
  return { child, stdout: () => out, stderr: () => err, exited }
}

/** Starts the fixture worker and resolves once it is ready. */
export async function startWorker (env: Record<string, string>, timeoutMs = 20_000): Promise<Spawned> {
  const worker = spawnTs('test/helpers/worker.ts', env)
  const deadline = Date.now() + timeoutMs
  while (!worker.stdout().includes('ready')) {
    if (worker.child.exitCode !== null) throw new Error(`worker exited early: ${worker.stderr()}`)
    if (Date.now() > deadline) throw new Error(`worker not ready after ${timeoutMs} ms: ${worker.stderr()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return worker
}

export async function stopWorker (worker: Spawned, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (worker.child.exitCode !== null) return
  worker.child.kill(signal)
  await worker.exited
}
