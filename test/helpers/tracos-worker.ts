/**
 * A gateway process running the TracOS integration (configured from the environment), for the SIGKILL test.
 * Prints `ready` once the job runner is up.
 */
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { systemIntegration } from '../../src/integrations/system/index.js'
import { tracosIntegration } from '../../src/integrations/tracos/index.js'
import { testConfigSchema } from './app.js'

const app = await buildApp({ config: loadConfig(process.env, testConfigSchema), integrations: [systemIntegration, tracosIntegration] })
await app.ready()
process.stdout.write('ready\n')
process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
