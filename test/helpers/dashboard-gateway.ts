import { MongoClient } from 'mongodb'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { systemIntegration } from '../../src/integrations/system/index.js'
import { TEST_API_KEY, TEST_READ_KEY, mongoUri, testEnv } from './app.js'
import { dashboardStandIns, type StandInControls } from './dashboard-stand-ins.js'

export interface DashboardGateway {
  baseUrl: string
  triggerKey: string
  readKey: string
  /** Makes the TracOS run fail (an upstream outage) or work again. */
  setTracosDown: (down: boolean) => Promise<void>
  close: () => Promise<void>
}

/**
 * The gateway the browser test looks at, listening on loopback. The one place that chooses what runs behind
 * the dashboard: today stand-ins of the four integrations (they live on other branches); once merged, swap
 * `dashboardStandIns(controls)` for the real integrations and start their sandboxes here.
 */
export async function startDashboardGateway (): Promise<DashboardGateway> {
  const controls: StandInControls = { tracosDown: false }
  const integrations = [systemIntegration, ...dashboardStandIns(controls)]
  const env = testEnv({ JOBS_POLL_INTERVAL_MS: '100', JOBS_LEASE_MS: '10000', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn' })
  const config = loadConfig({ ...env, PORT: '0' })
  const app = await buildApp({ config, integrations })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('the gateway did not listen on a TCP port')
  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    triggerKey: TEST_API_KEY,
    readKey: TEST_READ_KEY,
    async setTracosDown (down) { controls.tracosDown = down },
    async close () {
      await app.close()
      const client = new MongoClient(mongoUri())
      try { await client.db(config.MONGODB_DB).dropDatabase() } finally { await client.close() }
    }
  }
}
