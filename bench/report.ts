/**
 * docs/benchmarks.md from one `npm run bench` run (all.ts): the run's header, one table of the gateway's
 * figures against references measured in the same run with their ratios and targets, the method, and notes on
 * what bounds each ratio that misses its target, with that run's figures.
 */

export type BenchName = 'jobs' | 'odoo' | 'tracos' | 'bobo' | 'insight'
export type BenchResults = Partial<Record<BenchName, { json?: Record<string, unknown>, error?: string, seconds: number }>>

export interface RunContext {
  date: string
  cores: number
  cpu: string
  memoryGiB: number
  kernel: string
  node: string
  server: string
  serverDetail: string
  loadBefore: number[]
  loadAfter: number[]
  minutes: number
}

interface JobRun { processes: number, jobs: number, completed: number, finished: boolean, seconds: number, jobsPerSec: number, executions: number, jobsRunTwiceOrMore: number, extraExecutions: number }
interface JobsJson {
  backlog: number
  budgetSeconds: number
  engine: { concurrency: number, concurrencyPerProcessInMulti: number, pollIntervalMs: number, single: JobRun & { commandsPerJob: Record<string, number>, p50ClaimLatencyMs: number, p99ClaimLatencyMs: number, cpuMsPerJob?: { bench: number, server: number } }, multi: JobRun }
  agenda: { version: string, settings: { processEveryMs: number, concurrency: number, lockLimit: number }, single: JobRun, multi: JobRun, serial: JobRun & { budgetSeconds: number } }
  writeCommandsPerJob: number
  serverFloor: { concurrentUpdatesPerSec: number, ceilingJobsPerSec: number, before: { concurrentUpdatesPerSec: number }, after: { concurrentUpdatesPerSec: number } }
}
interface CpuPerEvent { client: number, answering: number, server: number }
interface IntakeLevel {
  inFlight: number
  barePerSec: number
  unkeyedPerSec: number
  keyedPerSec: number
  insertsPerSec: number
  groupedInsertsPerSec: number
  keyedOverUnkeyed: number
  unkeyedOverBare: number
  unkeyedOverInsertFloor: number
  keyedOverInsertFloor: number
  unkeyedOverGroupedFloor: number
  keyedOverGroupedFloor: number
  runs: Record<'bare' | 'unkeyed' | 'keyed', number[]>
  cpuMsPerEvent: Record<'bare' | 'unkeyed' | 'keyed', CpuPerEvent>
}
interface OdooJson {
  fullSync: { employees: number, pageSize: number, concurrency: number, seconds: number, runsSeconds: number[], peakRssMb: number, idleRssMb: number, simulatorServeSeconds: number, simulatorServeRunsSeconds: number[], pages: number, servedMb: number, overServe: number, process: string, cpuSeconds: { syncs: Array<Record<'gateway' | 'simulator' | 'server' | 'bench', number>>, reads: Array<Record<'simulator' | 'reader', number>> } } | null
  webhookIntake: { events: number, levels: IntakeLevel[], batch: { eventsPerSec: number, bareEventsPerSec: number, insertManyDocsPerSec: number, overBare: number, overInsertFloor: number, cpuMsPerEvent: { gateway: CpuPerEvent, bare: CpuPerEvent } }, n8nShape: { p50AckMs: number, p99AckMs: number } | null } | null
}
interface TracosJson { orders: number, seconds: number, ordersPerSec: number, naivePerDocSeconds: number, speedup: number, naiveOrders: number, naiveExtrapolated: boolean }
interface BoboJson { rows: number, files: number, employees: number, seconds: number, athocCalls: number, seedCalls: number }
interface InsightJson { serials: number, seconds: number, sequentialSeconds: number, speedup: number, sequentialMeasuredSerials: number, sequentialExtrapolated: boolean, concurrency: number, oomnitzaLatencyMs: number }

type Holds = 'yes' | 'no' | '—'
interface Row { what: string, gateway: string, reference: string, ratio: string, target: string, holds: Holds }

const int = (n: number): string => Math.round(n).toLocaleString('en-US')
const dec = (n: number, digits = 1): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const times = (n: number): string => `${n >= 10 ? dec(n, 0) : dec(n, 2)}×`
const yes = (ok: boolean): Holds => ok ? 'yes' : 'no'
const cell = (text: string): string => text.replaceAll('|', '\\|')

function duplicates (run: JobRun): string {
  if (run.jobsRunTwiceOrMore === 0) return '0 duplicates'
  return `**${int(run.jobsRunTwiceOrMore)} of ${int(run.completed)} jobs ran more than once** (${int(run.extraExecutions)} extra executions)`
}

function unfinished (run: JobRun, budget: number): string {
  return run.finished ? '' : `; only ${int(run.completed)} of ${int(run.jobs)} jobs done when its ${budget} s budget ran out`
}

export function renderReport (context: RunContext, results: BenchResults): { markdown: string, holding: number, targets: number, failed: string[] } {
  const rows: Row[] = []
  const notes: string[] = []
  const failed: string[] = []
  const json = <T>(name: BenchName): T | null => {
    const result = results[name]
    if (result?.json === undefined) {
      failed.push(name)
      rows.push({ what: `bench:${name}`, gateway: `failed (${result?.error ?? 'not run'})`, reference: '', ratio: '', target: '', holds: 'no' })
      return null
    }
    return result.json as T
  }

  const jobs = json<JobsJson>('jobs')
  if (jobs !== null) {
    const { engine, agenda } = jobs
    const settings = `processEvery ${agenda.settings.processEveryMs} ms, concurrency ${agenda.settings.concurrency}, lockLimit ${agenda.settings.lockLimit}`
    for (const [label, mine, theirs] of [['one process', engine.single, agenda.single], ['three processes', engine.multi, agenda.multi]] as const) {
      const ratio = mine.jobsPerSec / theirs.jobsPerSec
      rows.push({
        what: `Jobs: ${int(mine.jobs)} no-op jobs, ${label}`,
        gateway: `${dec(mine.jobsPerSec)} jobs/s, ${duplicates(mine)}${unfinished(mine, jobs.budgetSeconds)}`,
        reference: `Agenda ${agenda.version} (${settings}), same server and jobs: ${dec(theirs.jobsPerSec)} jobs/s, ${duplicates(theirs)}${unfinished(theirs, jobs.budgetSeconds)}`,
        ratio: times(ratio),
        target: '≥ 5× Agenda\'s jobs/s, 0 duplicates',
        holds: yes(ratio >= 5 && mine.jobsRunTwiceOrMore === 0 && mine.finished)
      })
    }
    const serial = agenda.serial
    rows.push({
      what: 'Jobs: one process, Agenda taking one lock at a time',
      gateway: `${dec(engine.single.jobsPerSec)} jobs/s (row above)`,
      reference: `Agenda, concurrency 1, lockLimit 1: ${dec(serial.jobsPerSec)} jobs/s, ${duplicates(serial)}${unfinished(serial, serial.budgetSeconds)}`,
      ratio: times(engine.single.jobsPerSec / serial.jobsPerSec),
      target: '—',
      holds: '—'
    })
    const floor = jobs.serverFloor
    const share = engine.single.jobsPerSec / floor.ceilingJobsPerSec
    rows.push({
      what: 'Jobs: the engine against the server\'s write floor (one process)',
      gateway: `${dec(engine.single.jobsPerSec)} jobs/s`,
      reference: `${int(floor.ceilingJobsPerSec)} jobs/s: ${int(floor.concurrentUpdatesPerSec)} conditional updates/s (16 in flight) ÷ ${dec(jobs.writeCommandsPerJob, 2)} write round trips per job`,
      ratio: `${int(share * 100)} % of the limit`,
      target: 'a share of the limit',
      holds: '—'
    })
    const agendaDupes = agenda.single.jobsRunTwiceOrMore + agenda.multi.jobsRunTwiceOrMore
    if (agendaDupes > 0) {
      notes.push(`**Agenda's duplicates.** Agenda locks a job with a \`findOneAndUpdate\` on \`lockedAt\`; FerretDB applies \`findAndModify\` as a read then a write, so two lock attempts at once can take the same job. With lockLimit ${agenda.settings.lockLimit} one process makes several at once, and three processes more: ${int(agenda.single.jobsRunTwiceOrMore)} of ${int(agenda.single.completed)} jobs ran more than once in one process, ${int(agenda.multi.jobsRunTwiceOrMore)} of ${int(agenda.multi.completed)} in three. Taking one lock at a time (concurrency 1, lockLimit 1) it ran ${int(serial.completed)} jobs with ${serial.jobsRunTwiceOrMore === 0 ? 'no duplicate' : `${int(serial.jobsRunTwiceOrMore)} duplicates`}, at ${dec(serial.jobsPerSec)} jobs/s. The engine's claim does not rely on an atomic \`findAndModify\`: a claim record whose unique \`_id\` picks one winner, then updates fenced on status and lease owner.`)
    }
    const slowest = Math.min(engine.single.jobsPerSec / agenda.single.jobsPerSec, engine.multi.jobsPerSec / agenda.multi.jobsPerSec)
    if (slowest < 5) {
      notes.push(`**Engine against Agenda below 5×.** The engine did ${dec(engine.single.jobsPerSec)} jobs/s, ${int(share * 100)} % of the ${int(floor.ceilingJobsPerSec)} jobs/s this server's write floor allows it (${dec(jobs.writeCommandsPerJob, 2)} write round trips per job at ${int(floor.concurrentUpdatesPerSec)} conditional updates/s, measured before and after its run: ${int(floor.before.concurrentUpdatesPerSec)} and ${int(floor.after.concurrentUpdatesPerSec)}).`)
    }
    const cpu = engine.single.cpuMsPerJob
    notes.push(`**The engine against the write floor.**${cpu === undefined ? '' : ` Per job the server (FerretDB and PostgreSQL) spent ${dec(cpu.server, 2)} ms of CPU and the bench process (engine and producer) ${dec(cpu.bench, 2)} ms, on two cores.`} Per job the engine makes ${dec(jobs.writeCommandsPerJob, 2)} write round trips (${Object.entries(engine.single.commandsPerJob).map(([name, n]) => `${name} ${dec(n, 2)}`).join(', ')}, per job, command monitoring); the server completed ${int(floor.concurrentUpdatesPerSec)} conditional single-document updates/s with 16 in flight, so it allows about ${int(floor.ceilingJobsPerSec)} jobs/s to this engine; it reached ${int(share * 100)} %. FerretDB 1.x commits each updated document in a transaction of its own, so this floor is the server's, not the engine's (an estimate, not a hard bound: a batched insert or a delete by \`_id\` costs the server less than an update).`)
  }

  const odoo = json<OdooJson>('odoo')
  if (odoo?.webhookIntake != null) {
    const intake = odoo.webhookIntake
    const total = (c: CpuPerEvent): number => c.client + c.answering + c.server
    for (const level of intake.levels) {
      const cpu = level.cpuMsPerEvent
      rows.push({
        what: `Webhook intake: ${int(intake.events)} single unkeyed events, ${int(level.inFlight)} in flight`,
        gateway: `${int(level.unkeyedPerSec)} acks/s`,
        reference: `bare Fastify route answering 202, same load: ${int(level.barePerSec)} acks/s`,
        ratio: `${times(level.unkeyedOverBare)} (by CPU per request: ${times(total(cpu.bare) / total(cpu.unkeyed))})`,
        target: '≥ 0.5× the bare route',
        holds: yes(level.unkeyedOverBare >= 0.5)
      })
      rows.push({
        what: `Webhook intake: ${int(intake.events)} single keyed events (Idempotency-Key), ${int(level.inFlight)} in flight`,
        gateway: `${int(level.keyedPerSec)} acks/s`,
        reference: `unkeyed, same run: ${int(level.unkeyedPerSec)} acks/s`,
        ratio: `${times(level.keyedOverUnkeyed)} (by CPU per request: ${times(total(cpu.unkeyed) / total(cpu.keyed))})`,
        target: '≥ 0.8× unkeyed',
        holds: yes(level.keyedOverUnkeyed >= 0.8)
      })
      rows.push({
        what: `Webhook intake against the server's insert floor, ${int(level.inFlight)} in flight`,
        gateway: `unkeyed ${int(level.unkeyedPerSec)}, keyed ${int(level.keyedPerSec)} acks/s`,
        reference: `plain driver, ${int(level.inFlight)} writers: ${int(level.insertsPerSec)} insertOne/s; grouped into one insertMany at a time: ${int(level.groupedInsertsPerSec)} docs/s`,
        ratio: `${times(level.unkeyedOverInsertFloor)}, ${times(level.keyedOverInsertFloor)} the insertOne; ${times(level.unkeyedOverGroupedFloor)}, ${times(level.keyedOverGroupedFloor)} the grouped`,
        target: '—',
        holds: '—'
      })
    }
    const batch = intake.batch
    rows.push({
      what: `Webhook intake: the ${int(intake.events)} events as one batch request`,
      gateway: `${int(batch.eventsPerSec)} events/s`,
      reference: `bare route, same request: ${int(batch.bareEventsPerSec)} events/s; one insertMany of ${int(intake.events)}: ${int(batch.insertManyDocsPerSec)} docs/s`,
      ratio: `${times(batch.overBare)} the bare route, ${times(batch.overInsertFloor)} the insertMany`,
      target: '—',
      holds: '—'
    })
    const short = intake.levels.filter((l) => l.unkeyedOverBare < 0.5 || l.keyedOverUnkeyed < 0.8)
    /** The CPU ratio a gateway answering at the bare route's own cost would reach: the rest is storing the event. */
    const storeCeiling = (l: IntakeLevel): number => {
      const { bare, unkeyed } = l.cpuMsPerEvent
      return total(bare) / (unkeyed.client + bare.answering + unkeyed.server)
    }
    const ms = (n: number): string => dec(n, 2)
    const pct = (part: number, whole: number): string => `${int((part / whole) * 100)} %`
    const cpuLine = (l: IntakeLevel): string => {
      const { bare, unkeyed, keyed } = l.cpuMsPerEvent
      return `at ${int(l.inFlight)} in flight, unkeyed ${ms(total(unkeyed))} ms (gateway ${ms(unkeyed.answering)}, FerretDB and PostgreSQL ${ms(unkeyed.server)}, client ${ms(unkeyed.client)}), keyed ${ms(total(keyed))} ms (${ms(keyed.answering)}, ${ms(keyed.server)}, ${ms(keyed.client)}), bare route ${ms(total(bare))} ms (${ms(bare.answering)}, ${ms(bare.server)}, ${ms(bare.client)})`
    }
    notes.push('**Webhook intake: what a request costs.** A webhook is answered once its event is stored (what makes the 202 safe to rely on); the bare route stores nothing. ' +
      `With as many writers, the plain driver stored ${intake.levels.map((l) => `${int(l.groupedInsertsPerSec)} docs/s (${int(l.inFlight)} in flight, ${times(l.groupedInsertsPerSec / l.unkeyedPerSec)} the gateway's unkeyed acks)`).join(', ')} grouped into one insertMany at a time, as the gateway groups them, and ${intake.levels.map((l) => `${int(l.insertsPerSec)}`).join(', ')} docs/s with one insertOne each. ` +
      `Client, gateway, FerretDB and PostgreSQL share two cores (with whatever else runs on the machine), and the CPU they spent per event was ${intake.levels.map(cpuLine).join('; ')}. ` +
      `The bare route's CPU per request over the gateway's (the ratio in brackets in the table) is what two saturated cores would allow; of the gateway path's CPU, the gateway process took ${intake.levels.map((l) => pct(l.cpuMsPerEvent.unkeyed.answering, total(l.cpuMsPerEvent.unkeyed))).join(', ')} and the server ${intake.levels.map((l) => pct(l.cpuMsPerEvent.unkeyed.server, total(l.cpuMsPerEvent.unkeyed))).join(', ')}. ${intake.levels.every((l) => l.cpuMsPerEvent.unkeyed.answering > l.cpuMsPerEvent.unkeyed.server) ? 'The gateway\'s own work per request (authentication, validation, the intake, the MongoDB driver, naming the job) weighs more than the database\'s.' : 'The gateway\'s own work per request (authentication, validation, the intake, the MongoDB driver, naming the job) and the database\'s weigh about alike.'}`)
    if (short.length > 0) {
      notes.push(`**Webhook intake below target** at ${short.map((l) => `${int(l.inFlight)} in flight (unkeyed ${times(l.unkeyedOverBare)} the bare route, keyed ${times(l.keyedOverUnkeyed)} unkeyed; acks/s of the ${l.runs.unkeyed.length} alternated sends of each shape: bare ${l.runs.bare.map(int).join(', ')}; unkeyed ${l.runs.unkeyed.map(int).join(', ')}; keyed ${l.runs.keyed.map(int).join(', ')})`).join('; ')}. ` +
        'A keyed request makes no extra round trip (its key is its first event\'s `_id`), and its CPU per request is in the note above. A send is 1,000 requests, under a second, so a moment of load from elsewhere on the machine moves one send by a large factor; each ratio is the median of the rounds\' own ratios, and the spread of the sends shows how far to trust a ratio near its target. ' +
        `**What bounds it.** By CPU alone, a gateway that spent no more per request than the bare route itself (same client, same server work per stored event) would reach at most ${short.map((l) => `${times(storeCeiling(l))} at ${int(l.inFlight)} in flight`).join(', ')}: FerretDB and PostgreSQL spend ${short.map((l) => `${ms(l.cpuMsPerEvent.unkeyed.server)} ms`).join(', ')} per stored event, against ${short.map((l) => `${ms(total(l.cpuMsPerEvent.bare))} ms`).join(', ')} for the bare route's whole request. The gateway's own work over the bare route's (authentication, validation, the intake, the driver: ${short.map((l) => `${ms(l.cpuMsPerEvent.unkeyed.answering - l.cpuMsPerEvent.bare.answering)} ms`).join(', ')} per request) brings the CPU ratio to ${short.map((l) => times(total(l.cpuMsPerEvent.bare) / total(l.cpuMsPerEvent.unkeyed))).join(', ')}. Where the measured ratio is below the CPU ratio, the gateway's sends kept the cores less busy than the bare route's: each of its answers waits for its insert to commit, the bare route's for nothing.`)
    }
    notes.push(`**Batch.** A ${int(intake.events)}-event request is one insertMany of ${int(intake.events)} documents for the gateway; it stored them at ${times(batch.overInsertFloor)} the rate of the plain driver's insertMany of the same size in this run, while the bare route only parses the JSON (${times(batch.overBare)}). Per event the server spent ${dec(batch.cpuMsPerEvent.gateway.server, 3)} ms of CPU and the gateway ${dec(batch.cpuMsPerEvent.gateway.answering, 3)}: the batch path is bound by the server's insert, not by HTTP.`)
  }
  if (odoo?.fullSync != null) {
    const sync = odoo.fullSync
    rows.push({
      what: `Odoo full sync: ${int(sync.employees)} employees to the HR CSV (compiled gateway, own process)`,
      gateway: `${dec(sync.seconds, 2)} s (${sync.runsSeconds.map((s) => dec(s, 2)).join(', ')})`,
      reference: `simulator serving the same ${int(sync.pages)} pages (${dec(sync.servedMb)} MB) to a client that only reads them: ${dec(sync.simulatorServeSeconds, 2)} s (${sync.simulatorServeRunsSeconds.map((s) => dec(s, 2)).join(', ')})`,
      ratio: times(sync.overServe),
      target: '≤ 2× the serve time',
      holds: yes(sync.overServe <= 2)
    })
    rows.push({
      what: 'Odoo full sync: peak RSS of the gateway process',
      gateway: `${int(sync.peakRssMb)} MB (${int(sync.idleRssMb)} MB idle)`,
      reference: '200 MB',
      ratio: times(sync.peakRssMb / 200),
      target: '≤ 200 MB',
      holds: yes(sync.peakRssMb <= 200)
    })
    const syncCpu = (side: 'gateway' | 'simulator' | 'server'): number => sync.cpuSeconds.syncs.reduce((sum, c) => sum + c[side], 0) / sync.cpuSeconds.syncs.length
    const readCpu = (side: 'simulator' | 'reader'): number => sync.cpuSeconds.reads.reduce((sum, c) => sum + c[side], 0) / sync.cpuSeconds.reads.length
    notes.push(`**Full sync: what it costs.** ${sync.overServe > 2 ? `Above 2× the serve time (${times(sync.overServe)}). ` : ''}Per sync the gateway process spent ${dec(syncCpu('gateway'), 2)} s of CPU (reading ${dec(sync.servedMb)} MB of XML-RPC, mapping ${int(sync.employees)} employees, streaming the CSV), the simulator ${dec(syncCpu('simulator'), 2)} s serving it and the MongoDB-wire server ${dec(syncCpu('server'), 2)} s; the reader spent ${dec(readCpu('reader'), 2)} s and the simulator ${dec(readCpu('simulator'), 2)} s. ` +
      `With ${sync.concurrency === 1 ? 'one call at Odoo at a time (ODOO_SYNC_CONCURRENCY=1, the default)' : `${sync.concurrency} calls at Odoo at a time`}, the gateway reads a page while the simulator serves the next, so the two share the machine's two cores: the gateway's own CPU per page is ${times(syncCpu('gateway') / Math.max(0.01, syncCpu('simulator')))} the simulator's for the same pages, and the sync takes ${times(sync.overServe)} the serve time.`)
  }

  const tracos = json<TracosJson>('tracos')
  if (tracos !== null) {
    rows.push({
      what: `TracOS: ${int(tracos.orders)} work orders end to end (POST /tracos/run)`,
      gateway: `${int(tracos.ordersPerSec)} orders/s (${dec(tracos.seconds, 2)} s)`,
      reference: `the seeds' per-order upsert path: ${int(1 / tracos.naivePerDocSeconds)} orders/s (${int(tracos.naiveOrders)} orders${tracos.naiveExtrapolated ? ', per order' : ''})`,
      ratio: times(tracos.speedup),
      target: '≥ 10×',
      holds: yes(tracos.speedup >= 10)
    })
    if (tracos.speedup < 10) {
      notes.push(`**TracOS below 10×.** Each outbound file is a temp file, an fdatasync and a rename, so the run is bound by this virtual disk, whose file creation cost moves from minute to minute; the per-order path it is compared with is bound by one commit per order. ${int(tracos.ordersPerSec)} orders/s against ${int(1 / tracos.naivePerDocSeconds)} in this run.`)
    }
  }
  const bobo = json<BoboJson>('bobo')
  if (bobo !== null) {
    rows.push({
      what: `BOBO: ${int(bobo.files)} files × ${int(bobo.rows / bobo.files)} rows, ${int(bobo.employees)} employees: AtHoc calls`,
      gateway: `${int(bobo.athocCalls)} calls (${dec(bobo.seconds, 2)} s)`,
      reference: `the seeds' one call per 10 files: ${int(bobo.seedCalls)} calls`,
      ratio: `${times(bobo.seedCalls / bobo.athocCalls)} fewer`,
      target: '—',
      holds: '—'
    })
  }
  const insight = json<InsightJson>('insight')
  if (insight !== null) {
    rows.push({
      what: `Insight: ${int(insight.serials)} serials into Oomnitza (${insight.oomnitzaLatencyMs} ms per call)`,
      gateway: `${dec(insight.seconds)} s (${insight.concurrency} calls in flight, batched lookups)`,
      reference: `one request at a time, a lookup per serial: ${dec(insight.sequentialSeconds)} s${insight.sequentialExtrapolated ? ` (measured on ${int(insight.sequentialMeasuredSerials)}, scaled)` : ''}`,
      ratio: times(insight.speedup),
      target: '≥ 8×',
      holds: yes(insight.speedup >= 8)
    })
  }

  const targeted = rows.filter((r) => r.holds !== '—')
  const holding = targeted.filter((r) => r.holds === 'yes').length
  const table = [
    '| What | Gateway | Reference (same run) | Ratio | Target | Holds |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${[r.what, r.gateway, r.reference, r.ratio, r.target, r.holds].map(cell).join(' | ')} |`)
  ].join('\n')
  const load = (l: number[]): string => l.map((n) => dec(n, 2)).join(', ')
  const raw = Object.entries(results).map(([name, r]) => `${name}: ${r?.json === undefined ? `failed (${r?.error ?? ''})` : JSON.stringify(r.json)}`).join('\n')
  const markdown = `# Benchmarks

Written by \`npm run bench\` (bench/all.ts); every figure below comes from that one run and the file is rewritten
by the next one. This 2-core VM's absolute speed moves about 2× from hour to hour, so each of the gateway's
figures stands beside a reference measured in the same run on the same server, and the targets are ratios.

- Run: ${context.date.slice(0, 16).replace('T', ' ')} UTC, ${dec(context.minutes)} minutes; load average ${load(context.loadBefore)} before, ${load(context.loadAfter)} after (other work shared the machine)
- Machine: ${context.cores} cores, ${context.cpu}, ${context.memoryGiB} GiB, Linux ${context.kernel}
- Server: ${context.server}, provisioned for the run by \`scripts/with-mongo.ts --ferretdb-backend=postgresql\`
- Node.js ${context.node}
- Targets holding: ${holding} of ${targeted.length}

${table}

## Method

- **Same run, interleaved.** One server for the whole run; each reference runs beside what it bounds, in an
  order that makes a drift of the machine's speed weigh on both (engine, Agenda, Agenda, engine; read, sync,
  sync, read; bare, unkeyed, keyed, then keyed, unkeyed, bare). Absolute figures are context for the ratios only.
- **Jobs** (\`bench/jobs.ts\`). The engine (${jobs === null ? '' : `${jobs.engine.concurrency} jobs at a time, ${jobs.engine.concurrencyPerProcessInMulti} per process in three, ${jobs.engine.pollIntervalMs} ms poll`}) and Agenda 6 with
  \`@agendajs/mongo-backend\` (${jobs === null ? '' : `processEvery ${jobs.agenda.settings.processEveryMs} ms, concurrency ${jobs.agenda.settings.concurrency}, lockLimit ${jobs.agenda.settings.lockLimit}`}) run the same no-op handler; one
  producer keeps at most ${jobs?.backlog ?? 50} jobs live, enqueuing 100 at a time, as triggers arrive. Three processes are
  child processes on one database, fed by the bench. Every handler call is counted per job id (over IPC from
  the worker processes), so a job run twice is seen whichever library ran it; jobs/s counts jobs whose final
  state was written. Each run has a ${jobs?.budgetSeconds ?? 90} s budget: a library that does not finish is stopped and what it
  completed is reported over the budget. The write floor is the plain driver's conditional \`findOneAndUpdate\`
  with 16 in flight, measured before and after the engine's one-process run.
- **Webhook intake** (\`bench/odoo.ts\`). The compiled gateway (\`node dist/server.js\` with the Docker image's
  NODE_OPTIONS) and a bare Fastify app (\`bench/bare-route.ts\`: JSON parser, one POST route answering 202, no
  auth, no database) each in their own process, driven by the same undici client: 1,000 single-event
  requests per send with N connections opened anew, timed until the last answer; after each gateway send
  the bench waits until the events are applied. Each shape is sent ${odoo?.webhookIntake?.levels[0]?.runs.unkeyed.length ?? 5} times per level in alternating order
  and the median kept; a ratio is the median of the rounds' own ratios (a round sends the three shapes back to
  back). The insert floor is the plain driver on a collection with the events' indexes: an
  event-sized document per \`insertOne\` with N writers, the same writers' documents grouped into one
  \`insertMany\` at a time, and one \`insertMany\` of 1,000. CPU per event is each process's user and system
  time from /proc over the send (the server: FerretDB and PostgreSQL with its backends).
- **Odoo full sync** (\`bench/odoo.ts\`, \`bench/odoo-reader.ts\`). A fresh gateway process and an empty CSV for
  each sync, timed from the request to the job's own \`finishedAt\`; peak RSS is that process's VmHWM. The
  reference makes the gateway's calls (authenticate, the user's companies, \`search\`, then \`search_read\` by pages of ${odoo?.fullSync?.pageSize ?? 500} ids, ${(odoo?.fullSync?.concurrency ?? 1) === 1 ? 'one page at a time' : `${odoo?.fullSync?.concurrency ?? 1} pages at a time`} as
  ODOO_SYNC_CONCURRENCY=${odoo?.fullSync?.concurrency ?? 1}) to the same simulator process and drops the answers unread.
- **TracOS** (\`bench/tracos.ts\`): the per-order path upserts each order and marks it synced one round trip
  at a time (the seeds' approach), on ${int(tracos?.naiveOrders ?? 1000)} orders. **BOBO** (\`bench/bobo.ts\`): the original makes one
  SyncByCommonNames call per batch of 10 files (its BATCH_SIZE), counted by that rule. **Insight**
  (\`bench/insight.ts\`): the official connector's one request at a time, measured on ${int(insight?.sequentialMeasuredSerials ?? 1000)} serials${insight?.sequentialExtrapolated === true ? ' and scaled' : ''}.

## What bounds the ratios

${notes.map((n) => `- ${n}`).join('\n')}

<details><summary>The run's raw JSON lines</summary>

\`\`\`
${raw}
\`\`\`

</details>
`
  return { markdown, holding, targets: targeted.length, failed }
}
