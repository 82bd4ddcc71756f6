/** A gateway process with the no-op bench jobs, for the jobs bench's multi-process run; reports executions over IPC. */
import { buildApp } from '../src/app.js'
import { buildConfigSchema, loadConfig } from '../src/config.js'
import { benchIntegration } from './bench-integration.js'
import { ipcReporter } from './executions.js'

const report = ipcReporter()
const app = await buildApp({ config: loadConfig(process.env, buildConfigSchema([benchIntegration()])), integrations: [benchIntegration(report.ran)] })
app.jobs.runner.events.on('finished', ({ job, outcome }) => { if (outcome === 'succeeded') report.done(job._id) })
await app.ready()
process.stdout.write('ready\n')
process.on('SIGTERM', () => { report.flush(); void app.close().then(() => process.exit(0)) })
