import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { odooIntegration } from '../../src/integrations/odoo/index.js'
import { systemIntegration } from '../../src/integrations/system/index.js'
import { createOdooSimulator, type OdooSimulatorOptions } from '../../src/integrations/odoo/sandbox/simulator.js'
import { build } from './app.js'

interface Teardown { teardown: (fn: () => unknown) => void }

/** A started Odoo simulator, closed at teardown. */
export async function startSimulator (t: Teardown, options: OdooSimulatorOptions = {}) {
  const sim = createOdooSimulator(options)
  await sim.listen()
  t.teardown(() => sim.close())
  return sim
}

/** A temp folder for the CSV, removed at teardown. */
export function tempDir (t: Teardown): string {
  const dir = mkdtempSync(join(tmpdir(), 'odoo-test-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

/** Variables that point a gateway at the simulator and a temp CSV path. */
export function odooEnv (sim: { url: string, db: string, login: string, password: string }, csvPath: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ODOO_URL: sim.url,
    ODOO_DB: sim.db,
    ODOO_USERNAME: sim.login,
    ODOO_PASSWORD: sim.password,
    ODOO_CSV_PATH: csvPath,
    ODOO_TIMEOUT_MS: '5000',
    ODOO_EVENTS_DEBOUNCE_MS: '0',
    ODOO_RETRY_BASE_MS: '50',
    ODOO_RETRY_MAX_MS: '200',
    SCHEDULER_ENABLED: 'false',
    ...extra
  }
}

/** The real app with the Odoo integration against the simulator. */
export async function buildOdooApp (t: Teardown, env: Record<string, string>): Promise<FastifyInstance> {
  return build(t, { env, integrations: [systemIntegration, odooIntegration] })
}
