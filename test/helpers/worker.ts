/**
 * A gateway process for tests that need real separate processes (SIGKILL, several instances). Config comes
 * from the environment like the real server; it registers the fixture integration and prints `ready`.
 */
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { systemIntegration } from '../../src/integrations/system/index.js'
import { testConfigSchema } from './app.js'
import { fixtureIntegration } from './fixture-integration.js'

const app = await buildApp({ config: loadConfig(process.env, testConfigSchema), integrations: [systemIntegration, fixtureIntegration] })
await app.ready()
process.stdout.write('ready\n')
const stop = async (): Promise<void> => {
  await app.close()
  process.exit(0)
}
process.on('SIGTERM', () => { void stop() })
process.on('SIGINT', () => { void stop() })
