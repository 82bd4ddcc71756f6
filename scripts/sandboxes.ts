/**
 * The sandbox upstreams: each integration's stand-ins (simulators on loopback, seeded folders) for Odoo,
 * TracOS's client ERP, AtHoc, Insight and Oomnitza. `npm run demo` and the dashboard's browser test start
 * them all and point the gateway at them with the variables each returns.
 */
import type { Integration, Sandbox, SandboxOptions } from '../src/integration.js'

export interface StartedSandbox extends Sandbox {
  /** The integration it stands in for. */
  name: string
}

/** Starts every sandbox the integrations declare; on a failure the ones already started are closed again. */
export async function startSandboxes (integrations: Integration[], options: SandboxOptions): Promise<StartedSandbox[]> {
  const started: StartedSandbox[] = []
  try {
    for (const integration of integrations) {
      if (integration.sandbox !== undefined) started.push({ name: integration.name, ...await integration.sandbox(options) })
    }
  } catch (err) {
    await closeSandboxes(started)
    throw err
  }
  return started
}

export async function closeSandboxes (started: Sandbox[]): Promise<void> {
  for (const sandbox of started.reverse()) await sandbox.close().catch(() => {})
}
