import { buildApp } from '../src/app.js'
import { buildConfigSchema, loadConfig } from '../src/config.js'
import { benchIntegration } from './bench-integration.js'

const app = await buildApp({ config: loadConfig(process.env, buildConfigSchema([benchIntegration])), integrations: [benchIntegration] })
await app.ready()
process.stdout.write('ready\n')
process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
