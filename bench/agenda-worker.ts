/** A process running Agenda on MONGODB_URI / MONGODB_DB for the jobs bench's multi-process run (see agenda.ts). */
import { createBenchAgenda } from './agenda.js'
import { ipcReporter } from './executions.js'

const report = ipcReporter()
const bench = await createBenchAgenda(process.env.MONGODB_URI as string, process.env.MONGODB_DB as string, report.ran, report.done)
await bench.agenda.start()
process.stdout.write('ready\n')
process.on('SIGTERM', () => { report.flush(); void bench.close().then(() => process.exit(0)) })
