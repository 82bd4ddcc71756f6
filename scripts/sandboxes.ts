/**
 * The sandbox upstreams: simulators (real servers on loopback) and seeded folders that stand in for Odoo,
 * TracOS's client ERP, AtHoc, Insight and Oomnitza. `npm run demo` and the dashboard's browser test start
 * them all and point the gateway at them with the variables each returns.
 */
import { startBoboSandbox } from '../src/integrations/bobo/sandbox/demo.js'
import { startInsightSandbox } from '../src/integrations/insight/sandbox/demo.js'
import { odooSandbox } from '../src/integrations/odoo/sandbox/demo.js'
import { startTracosSandbox } from '../src/integrations/tracos/sandbox/index.js'

/** A sandbox upstream: started before the gateway; `env` points the gateway at it. */
export interface Sandbox {
  name: string
  env: Record<string, string>
  /** Lines for the demo's "Try:" list; `BASE` is replaced by the gateway URL and `KEY` by the demo API key. */
  examples?: string[]
  close: () => Promise<void>
}

export interface SandboxOptions {
  /** Folder for the sandbox's files (CSV output, inbound/outbound folders, …). */
  dataDir: string
  /** The MongoDB-wire server, for sandboxes that seed data (e.g. TracOS work orders). */
  mongoUri: string
  /** The database the gateway uses. */
  mongoDb: string
}

/** One entry per integration: each starts its simulators and returns the variables that point at them. */
export const sandboxes: Array<(options: SandboxOptions) => Promise<Sandbox>> = [
  odooSandbox,
  startTracosSandbox,
  startBoboSandbox,
  startInsightSandbox
]

/** Starts every sandbox; on a failure the ones already started are closed again. */
export async function startSandboxes (options: SandboxOptions): Promise<Sandbox[]> {
  const started: Sandbox[] = []
  try {
    for (const start of sandboxes) started.push(await start(options))
  } catch (err) {
    await closeSandboxes(started)
    throw err
  }
  return started
}

export async function closeSandboxes (started: Sandbox[]): Promise<void> {
  for (const sandbox of started.reverse()) await sandbox.close().catch(() => {})
}
