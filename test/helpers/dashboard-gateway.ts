import { mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MongoClient } from 'mongodb'
import { closeSandboxes, startSandboxes } from '../../scripts/sandboxes.js'
import { buildApp } from '../../src/app.js'
import { buildConfigSchema, loadConfig } from '../../src/config.js'
import { integrations } from '../../src/integrations/index.js'
import { TEST_API_KEY, TEST_READ_KEY, freshDbName, mongoUri, testEnv } from './app.js'

export interface DashboardGateway {
  baseUrl: string
  triggerKey: string
  readKey: string
  /** Makes TracOS runs fail (the client ERP's inbound folder goes missing) or work again. */
  setTracosDown: (down: boolean) => Promise<void>
  close: () => Promise<void>
}

/**
 * The gateway the browser test looks at, listening on loopback: every real integration, pointed at the same
 * sandbox simulators `npm run demo` uses. Odoo answers slowly and in small pages so a run's progress can be
 * watched (and cancelled) in the page.
 */
export async function startDashboardGateway (): Promise<DashboardGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dashboard-test-'))
  const mongoDb = freshDbName()
  const sandboxes = await startSandboxes(integrations, { dataDir, mongoUri: mongoUri(), mongoDb })
  const sandboxEnv: Record<string, string> = Object.assign({}, ...sandboxes.map((s) => s.env))
  const env = testEnv({
    ...sandboxEnv,
    MONGODB_DB: mongoDb,
    JOBS_POLL_INTERVAL_MS: '100',
    JOBS_LEASE_MS: '10000',
    ODOO_PAGE_SIZE: '20',
    // Only the runs the test starts: a timer-driven TracOS run would add a second failure to the list.
    TRACOS_SYNC_INTERVAL: 'off',
    // BOBO's drop-folder and mapping checks tick every few seconds and would keep replacing its "last run".
    BOBO_POLL_INTERVAL: 'off',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn'
  })
  await fetch(`${sandboxEnv.ODOO_URL}/__sim/control`, { method: 'POST', body: JSON.stringify({ action: 'delay', ms: 400 }) })
  const config = loadConfig({ ...env, PORT: '0' }, buildConfigSchema(integrations))
  const app = await buildApp({ config, integrations })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('the gateway did not listen on a TCP port')
  const inbound = String(config.TRACOS_INBOUND_DIR)
  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    triggerKey: TEST_API_KEY,
    readKey: TEST_READ_KEY,
    async setTracosDown (down) {
      if (down) renameSync(inbound, `${inbound}.away`)
      else renameSync(`${inbound}.away`, inbound)
    },
    async close () {
      await app.close()
      await closeSandboxes(sandboxes)
      rmSync(dataDir, { recursive: true, force: true })
      const client = new MongoClient(mongoUri())
      try { await client.db(mongoDb).dropDatabase() } finally { await client.close() }
    }
  }
}
