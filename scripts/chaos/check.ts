/**
 * The chaos run's verdict, read once the gateway is quiet: what every acknowledged request promised, against
 * the jobs in MongoDB, hr_clean.csv, the BOBO and TracOS folders, TracOS's work orders and what the AtHoc and
 * Oomnitza simulators received.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import type { Db } from 'mongodb'
import type { AthocSimulator } from '../../src/integrations/bobo/sandbox/athoc-simulator.js'
import type { OomnitzaSimulator } from '../../src/integrations/insight/sandbox/oomnitza-simulator.js'
import { CSV_COLUMNS } from '../../src/integrations/odoo/mapping.js'
import type { Load, Rec } from './load.js'

export type FindingType = 'lost' | 'duplicated' | 'stuck' | 'failed' | 'partial'

export interface Finding {
  type: FindingType
  integration: string
  what: string
  evidence?: unknown
}

export interface Dirs {
  hrDir: string
  hrCsv: string
  boboIncoming: string
  boboProcessed: string
  boboFailed: string
  tracosInbound: string
  tracosOutbound: string
  tracosArchive: string
  tracosRejected: string
}

/** A moment the gateway or its database went away: a resend to AtHoc across one is expected (at-least-once). */
export interface Disruption { from: number, to: number, what: string }

export interface CheckInput {
  db: Db
  load: Load
  dirs: Dirs
  athoc: AthocSimulator
  oomnitza: OomnitzaSimulator
  dutyField: string
  disruptions: Disruption[]
}

interface JobDoc { _id: string, kind: string, status: string, attempts: number, maxAttempts: number, error: unknown, result: unknown, createdAt: Date, finishedAt: Date | null }

function listNames (dir: string): string[] {
  try { return readdirSync(dir) } catch { return [] }
}

const isTemp = (name: string): boolean => name.startsWith('.tmp-') || /\.tmp$/.test(name) || /\.tmp\b/.test(name)

export async function check (input: CheckInput) {
  const { db, load, dirs } = input
  const findings: Finding[] = []
  const add = (f: Finding): void => { findings.push(f) }
  const acked = load.recs.filter((r) => r.acked)
  const detail: Record<string, Record<string, unknown>> = {}

  // ---- Jobs named by acknowledged requests --------------------------------------------------------------
  const jobIds = [...new Set(acked.flatMap((r) => r.jobId === undefined ? [] : [r.jobId]))]
  const live = await db.collection<JobDoc>('jobs').find({ _id: { $in: jobIds } }).toArray()
  const done = await db.collection<JobDoc>('jobs_done').find({ _id: { $in: jobIds } }).toArray()
  const jobs = new Map<string, JobDoc>()
  for (const j of live) jobs.set(j._id, j)
  for (const j of done) jobs.set(j._id, j) // a finished copy wins over a stale live one
  const jobOutcome = new Map<string, string>()
  const reportedJobs = new Set<string>()
  for (const rec of acked) {
    if (rec.jobId === undefined) {
      add({ type: 'lost', integration: rec.kind, what: `request #${rec.n} answered ${rec.status ?? '?'} without a job id`, evidence: brief(rec) })
      continue
    }
    const job = jobs.get(rec.jobId)
    if (job === undefined) {
      add({ type: 'lost', integration: rec.kind, what: `request #${rec.n}: its job ${rec.jobId} is in neither jobs nor jobs_done`, evidence: brief(rec) })
      continue
    }
    jobOutcome.set(job._id, job.status)
    if (reportedJobs.has(job._id)) continue
    if (job.status === 'queued' || job.status === 'running') {
      reportedJobs.add(job._id)
      add({ type: 'stuck', integration: rec.kind, what: `job ${job._id} (${job.kind}) is still ${job.status}`, evidence: { request: brief(rec), job } })
    } else if (job.status === 'failed' || job.status === 'cancelled') {
      reportedJobs.add(job._id)
      add({ type: 'failed', integration: rec.kind, what: `job ${job._id} (${job.kind}) ${job.status} after ${job.attempts}/${job.maxAttempts} attempts: ${JSON.stringify(job.error)}`, evidence: { request: brief(rec), job: { ...job, result: undefined } } })
    }
  }
  const leftLive = await db.collection<JobDoc>('jobs').find({ status: { $in: ['queued', 'running'] } }).toArray()
  for (const job of leftLive) {
    if (reportedJobs.has(job._id)) continue
    add({ type: 'stuck', integration: job.kind.split('.')[0] ?? job.kind, what: `job ${job._id} (${job.kind}) is still ${job.status} (not named by an acknowledged request)`, evidence: job })
  }
  const byStatus: Record<string, number> = {}
  for (const col of ['jobs', 'jobs_done']) {
    for (const row of await db.collection(col).aggregate<{ _id: { kind: string, status: string }, n: number }>([{ $group: { _id: { kind: '$kind', status: '$status' }, n: { $sum: 1 } } }]).toArray()) {
      const key = `${row._id.kind}:${row._id.status}`
      byStatus[key] = (byStatus[key] ?? 0) + row.n
    }
  }
  detail.jobs = { named: jobIds.length, byStatus }

  // ---- Odoo: every acknowledged event in hr_clean.csv, at its value or a newer one ---------------------------
  {
    const pending = await db.collection('odoo_events').countDocuments({ appliedAt: null })
    if (pending > 0) add({ type: 'stuck', integration: 'odoo', what: `${pending} webhook events still pending in odoo_events` })
    const lastAcked = new Map<number, { seq: number, rec: Rec }>()
    let ackedEvents = 0
    for (const rec of acked) {
      for (const e of rec.odoo?.events ?? []) {
        ackedEvents++
        const prev = lastAcked.get(e.id)
        if (prev === undefined || prev.seq < e.seq) lastAcked.set(e.id, { seq: e.seq, rec })
      }
    }
    let rows: string[][] = []
    if (!existsSync(dirs.hrCsv)) {
      add({ type: 'lost', integration: 'odoo', what: `${dirs.hrCsv} does not exist` })
    } else {
      try {
        rows = parse(readFileSync(dirs.hrCsv), { relax_column_count: false }) as string[][]
        if ((rows[0] ?? []).join(',') !== CSV_COLUMNS.join(',')) add({ type: 'partial', integration: 'odoo', what: `hr_clean.csv header is ${JSON.stringify(rows[0])}` })
        rows = rows.slice(1)
      } catch (err) {
        add({ type: 'partial', integration: 'odoo', what: `hr_clean.csv does not parse: ${(err as Error).message}` })
        rows = []
      }
    }
    const byNumber = new Map<string, string[][]>()
    for (const row of rows) byNumber.set(row[0] as string, [...(byNumber.get(row[0] as string) ?? []), row])
    for (const [pn, list] of byNumber) if (list.length > 1) add({ type: 'duplicated', integration: 'odoo', what: `personalNumber ${pn} appears ${list.length} times in hr_clean.csv`, evidence: list })
    // Rows written from a chaos edit must be exactly one version of that employee (never a mix of two).
    let mixed = 0
    for (const row of rows) {
      const m = /^C(\d+)$/.exec(row[1] ?? '')
      if (m === null) continue
      const v = load.odooHistory.get(Number(m[1]))
      const id = Number(row[0]) - 1000
      if (v === undefined || v.id !== id || row[2] !== `E${id}` || row[5] !== v.title || row[6] !== (v.active ? 'Active' : 'Inactive')) {
        mixed++
        add({ type: 'partial', integration: 'odoo', what: `hr_clean.csv row for ${row[0]} matches no version the simulator held`, evidence: { row, version: v } })
      }
    }
    let lostEvents = 0
    for (const rec of acked) {
      for (const e of rec.odoo?.events ?? []) {
        const row = (byNumber.get(String(e.id + 1000)) ?? [])[0]
        const m = /^C(\d+)$/.exec(row?.[1] ?? '')
        const shown = m === null ? null : Number(m[1])
        if (shown === null || shown < e.seq) {
          lostEvents++
          add({ type: 'lost', integration: 'odoo', what: `employee ${e.id}: request #${rec.n} (job ${rec.jobId ?? '?'}, ${rec.key === undefined ? 'unkeyed' : `key ${rec.key}`}) acknowledged edit C${e.seq}, the CSV shows ${row === undefined ? 'no row' : JSON.stringify(row.slice(0, 3))}`, evidence: { request: brief(rec), row, jobStatus: rec.jobId === undefined ? null : jobOutcome.get(rec.jobId) } })
        }
      }
    }
    const state = await db.collection('odoo_state').findOne({ _id: 'hr-csv' as never })
    detail.odoo = { requests: load.recs.filter((r) => r.kind.startsWith('odoo')).length, acknowledged: acked.filter((r) => r.kind.startsWith('odoo')).length, ackedEvents, employeesChecked: lastAcked.size, lostEvents, rows: rows.length, mixedRows: mixed, rewrites: (state as { rewrites?: number } | null)?.rewrites ?? null }
  }

  // ---- BOBO: each acknowledged upload processed once, each of its rows sent to AtHoc once ---------------------
  {
    const folders = { incoming: dirs.boboIncoming, processed: dirs.boboProcessed, failed: dirs.boboFailed }
    const where = new Map<string, string[]>()
    const contentsIn: Record<string, Map<string, string[]>> = { incoming: new Map(), processed: new Map(), failed: new Map() }
    for (const [folder, dir] of Object.entries(folders)) {
      for (const name of listNames(dir)) {
        if (name.startsWith('.')) {
          if (isTemp(name)) add({ type: 'partial', integration: 'bobo', what: `temp file ${join(dir, name)} left behind` })
          continue
        }
        where.set(name, [...(where.get(name) ?? []), folder])
        if (folder === 'incoming') add({ type: 'stuck', integration: 'bobo', what: `${name} is still in the incoming folder` })
        const content = readFileSync(join(dir, name), 'utf8')
        const map = contentsIn[folder] as Map<string, string[]>
        map.set(content, [...(map.get(content) ?? []), name])
      }
    }
    for (const [name, places] of where) if (places.length > 1) add({ type: 'duplicated', integration: 'bobo', what: `${name} is in ${places.join(' and ')}` })
    const uploads = load.recs.filter((r) => r.kind === 'bobo.upload' && r.bobo !== undefined)
    const known = new Set(uploads.map((r) => (r.bobo as NonNullable<Rec['bobo']>).content))
    for (const [folder, map] of Object.entries(contentsIn)) {
      for (const [content, names] of map) if (!known.has(content)) add({ type: 'partial', integration: 'bobo', what: `${folder}/${names.join(', ')} matches no upload (cut or altered content)`, evidence: content.slice(0, 300) })
    }
    // What AtHoc received, per login: each value with the time of the call.
    const sent = new Map<string, Array<{ value: string, at: number }>>()
    for (const call of input.athoc.syncCalls) {
      for (const user of call.users) {
        const login = String(user.LOGIN_ID ?? '')
        sent.set(login, [...(sent.get(login) ?? []), { value: String(user[input.dutyField] ?? ''), at: call.at }])
      }
    }
    // The simulator records a call when it applies it, after its latency: a call the gateway sent just before
    // it was killed is recorded just after. A kill up to a second before the first record still explains it.
    const disrupted = (a: number, b: number): boolean => input.disruptions.some((d) => d.to >= a - 1000 && d.from <= b)
    let processedOnce = 0
    let redelivered = 0
    let lostUploads = 0
    let duplicatedUploads = 0
    for (const rec of uploads) {
      const content = (rec.bobo as NonNullable<Rec['bobo']>).content
      const processed = contentsIn.processed?.get(content) ?? []
      const failed = contentsIn.failed?.get(content) ?? []
      const incoming = contentsIn.incoming?.get(content) ?? []
      const copies = processed.length + failed.length + incoming.length
      if (copies > 1) {
        duplicatedUploads++
        add({ type: 'duplicated', integration: 'bobo', what: `upload #${rec.n} (${rec.acked ? 'acknowledged' : 'not acknowledged'}, ${rec.key === undefined ? 'unkeyed' : `key ${rec.key}`}) is stored ${copies} times: processed ${JSON.stringify(processed)}, failed ${JSON.stringify(failed)}, incoming ${JSON.stringify(incoming)}`, evidence: brief(rec) })
      }
      if (rec.acked) {
        if (processed.length === 0 && failed.length === 0 && incoming.length === 0) {
          lostUploads++
          add({ type: 'lost', integration: 'bobo', what: `acknowledged upload #${rec.n} (job ${rec.jobId ?? '?'}) is in no BOBO folder`, evidence: brief(rec) })
        } else if (processed.length === 0 && failed.length > 0) {
          add({ type: 'failed', integration: 'bobo', what: `acknowledged upload #${rec.n} ended in the failed folder (${failed.join(', ')})`, evidence: brief(rec) })
        } else if (processed.length === 1) processedOnce++
      }
      if (processed.length === 0) continue
      for (const row of (rec.bobo as NonNullable<Rec['bobo']>).rows) {
        const hits = (sent.get(row.login) ?? []).filter((s) => s.value === row.value).sort((a, b) => a.at - b.at)
        if (hits.length === 0) {
          add({ type: 'lost', integration: 'bobo', what: `upload #${rec.n} is processed but AtHoc never got ${row.login} = ${JSON.stringify(row.value)}`, evidence: { request: brief(rec), received: sent.get(row.login) ?? [] } })
          continue
        }
        if (hits.length === 1) continue
        const unexplained = hits.slice(1).some((h, i) => !disrupted((hits[i] as { at: number }).at, h.at))
        if (unexplained) {
          add({ type: 'duplicated', integration: 'bobo', what: `AtHoc got ${row.login} = ${JSON.stringify(row.value)} ${hits.length} times with no kill in between (upload #${rec.n})`, evidence: { request: brief(rec), at: hits.map((h) => new Date(h.at).toISOString()) } })
        } else {
          redelivered++
        }
      }
    }
    const files = await db.collection('boboFiles').aggregate<{ _id: string, n: number }>([{ $group: { _id: '$status', n: { $sum: 1 } } }]).toArray()
    const missing = await db.collection('boboFiles').find({ status: 'missing' }).toArray()
    for (const m of missing) add({ type: 'lost', integration: 'bobo', what: `boboFiles record ${String(m._id)} (${String(m.name)}) is marked missing`, evidence: m })
    const batches = await db.collection('boboBatches').find({}).toArray()
    for (const b of batches) add({ type: 'stuck', integration: 'bobo', what: `batch ${String(b._id)} left in state ${String(b.state)}`, evidence: b })
    detail.bobo = {
      uploads: uploads.length,
      acknowledged: uploads.filter((r) => r.acked).length,
      processedOnce,
      lostUploads,
      duplicatedUploads,
      rowsRedeliveredAfterKill: redelivered,
      athocCalls: input.athoc.syncCalls.length,
      records: Object.fromEntries(files.map((f) => [f._id, f.n]))
    }
  }

  // ---- TracOS: every dropped file archived once, every order stored once, current and exported -------------
  {
    for (const name of listNames(dirs.tracosInbound)) {
      if (name.endsWith('.json') && !name.startsWith('.')) add({ type: 'stuck', integration: 'tracos', what: `${name} is still in the inbound folder` })
      else add({ type: 'partial', integration: 'tracos', what: `unexpected ${name} in the inbound folder` })
    }
    for (const name of listNames(dirs.tracosRejected)) add({ type: 'lost', integration: 'tracos', what: `a valid client file was rejected: ${name}`, evidence: name.endsWith('.error.json') ? safeRead(join(dirs.tracosRejected, name)) : undefined })
    const archived = listNames(dirs.tracosArchive)
    for (const name of archived) if (!/^c\d{6}(_\d{8}_\d{6}(_\d+)?)?\.json$/.test(name)) add({ type: 'partial', integration: 'tracos', what: `unexpected ${name} in the archive folder` })
    let lostFiles = 0
    for (const file of load.tracosFiles) {
      const stem = file.name.replace(/\.json$/, '')
      const copies = archived.filter((n) => n === file.name || new RegExp(`^${stem}_\\d{8}_\\d{6}(_\\d+)?\\.json$`).test(n))
      if (copies.length === 0 && !existsSync(join(dirs.tracosInbound, file.name))) {
        lostFiles++
        add({ type: 'lost', integration: 'tracos', what: `${file.name} is neither archived nor inbound` })
      }
      if (copies.length > 1) add({ type: 'duplicated', integration: 'tracos', what: `${file.name} is archived ${copies.length} times: ${copies.join(', ')}` })
      for (const copy of copies) if (safeRead(join(dirs.tracosArchive, copy)) !== file.text) add({ type: 'partial', integration: 'tracos', what: `archived ${copy} differs from what the client wrote` })
    }
    const numbers = [...load.tracosOrders.keys()]
    const docs = await db.collection('workorders').find({ number: { $in: numbers } }).toArray()
    const docsBy = new Map<number, Array<Record<string, unknown>>>()
    for (const d of docs) docsBy.set(d.number as number, [...(docsBy.get(d.number as number) ?? []), d])
    const outbound = listNames(dirs.tracosOutbound)
    for (const name of outbound) if (!/^workorder_\d+\.json$/.test(name)) add({ type: 'partial', integration: 'tracos', what: `${name} left in the outbound folder` })
    const outboundSet = new Set(outbound)
    let lostOrders = 0
    let stale = 0
    for (const [number, versions] of load.tracosOrders) {
      const expected = versions[versions.length - 1] as { file: string, status: string, summary: string }
      const stored = docsBy.get(number) ?? []
      if (stored.length === 0) {
        lostOrders++
        add({ type: 'lost', integration: 'tracos', what: `work order ${number} (from ${versions.map((v) => v.file).join(', ')}) is not in workorders` })
        continue
      }
      if (stored.length > 1) add({ type: 'duplicated', integration: 'tracos', what: `work order ${number} is stored ${stored.length} times` })
      const doc = stored[0] as Record<string, unknown>
      if (doc.status !== expected.status || doc.title !== expected.summary) {
        stale++
        add({ type: 'lost', integration: 'tracos', what: `work order ${number} holds ${String(doc.title)} / ${String(doc.status)}; the newest client file ${expected.file} says ${expected.summary} / ${expected.status}`, evidence: { versions, doc } })
      } else if (doc.isSynced !== true) {
        add({ type: 'stuck', integration: 'tracos', what: `work order ${number} is not synced (isSynced ${String(doc.isSynced)})` })
      }
      const name = `workorder_${number}.json`
      if (!outboundSet.has(name)) {
        add({ type: 'lost', integration: 'tracos', what: `work order ${number} was never exported (${name} missing)` })
        continue
      }
      let exported: Record<string, unknown>
      try {
        exported = JSON.parse(readFileSync(join(dirs.tracosOutbound, name), 'utf8')) as Record<string, unknown>
      } catch (err) {
        add({ type: 'partial', integration: 'tracos', what: `${name} does not parse: ${(err as Error).message}` })
        continue
      }
      const flags = ['isDeleted', 'isDone', 'isCanceled', 'isOnHold', 'isPending', 'isActive'].filter((f) => exported[f] === true)
      const flagFor: Record<string, string> = { deleted: 'isDeleted', completed: 'isDone', cancelled: 'isCanceled', on_hold: 'isOnHold', pending: 'isPending', in_progress: 'isActive' }
      if (exported.orderNo !== number || exported.summary !== expected.summary || flags.length !== 1 || flags[0] !== flagFor[expected.status]) {
        stale++
        add({ type: 'lost', integration: 'tracos', what: `${name} shows ${String(exported.summary)} ${flags.join('+')}; expected ${expected.summary} ${flagFor[expected.status] ?? '?'}`, evidence: exported })
      }
    }
    const dupNumbers = await db.collection('workorders').aggregate<{ _id: number, n: number }>([{ $group: { _id: '$number', n: { $sum: 1 } } }, { $match: { n: { $gt: 1 } } }]).toArray()
    for (const d of dupNumbers) if (!load.tracosOrders.has(d._id)) add({ type: 'duplicated', integration: 'tracos', what: `number ${d._id} appears ${d.n} times in workorders` })
    detail.tracos = { files: load.tracosFiles.length, archived: archived.length, orders: numbers.length, outbound: outbound.length, lostFiles, lostOrders, stale, runs: load.recs.filter((r) => r.kind === 'tracos.run').length, runsAcknowledged: acked.filter((r) => r.kind === 'tracos.run').length }
  }

  // ---- Insight: every serial an acknowledged (and succeeded) sync covered is one Oomnitza asset --------------
  {
    const counts = new Map<string, number>()
    for (const asset of input.oomnitza.assets.values()) {
      const serial = String(asset.serial_number ?? '')
      counts.set(serial, (counts.get(serial) ?? 0) + 1)
    }
    for (const [serial, n] of counts) if (n > 1) add({ type: 'duplicated', integration: 'insight', what: `Oomnitza holds ${n} assets with serial ${serial}`, evidence: input.oomnitza.bySerial(serial) })
    const posts = new Map<string, number>()
    for (const w of input.oomnitza.state.writes) if (w.method === 'POST') posts.set(String(w.body.serial_number), (posts.get(String(w.body.serial_number)) ?? 0) + 1)
    let lostSerials = 0
    let covered = 0
    for (const rec of acked) {
      if (rec.insight === undefined || rec.insight.dryRun) continue
      const status = rec.jobId === undefined ? undefined : jobOutcome.get(rec.jobId)
      if (status !== 'succeeded') continue
      for (const serial of rec.insight.serials) {
        covered++
        if ((counts.get(serial) ?? 0) === 0) {
          lostSerials++
          add({ type: 'lost', integration: 'insight', what: `sync #${rec.n} (job ${rec.jobId ?? '?'}, ${rec.insight.from}..${rec.insight.to}) succeeded but Oomnitza has no asset ${serial}`, evidence: brief(rec) })
        }
      }
    }
    detail.insight = { syncs: load.recs.filter((r) => r.kind === 'insight.sync').length, acknowledged: acked.filter((r) => r.kind === 'insight.sync').length, serialsShipped: load.insightShipped.length, serialsChecked: covered, assets: input.oomnitza.assets.size, creates: [...posts.values()].reduce((a, b) => a + b, 0), lostSerials }
  }

  // ---- Temp files anywhere in the data folders ------------------------------------------------------------
  for (const dir of [dirs.hrDir, dirs.boboIncoming, dirs.boboProcessed, dirs.boboFailed, dirs.tracosInbound, dirs.tracosOutbound, dirs.tracosArchive, dirs.tracosRejected]) {
    for (const name of listNames(dir)) {
      const path = join(dir, name)
      if (dir === dirs.hrDir && name !== 'hr_clean.csv') add({ type: 'partial', integration: 'odoo', what: `${path} left next to hr_clean.csv`, evidence: statSafe(path) })
      else if (isTemp(name) && !findings.some((f) => f.what.includes(name))) add({ type: 'partial', integration: 'files', what: `temp file ${path}`, evidence: statSafe(path) })
    }
  }

  const count = (type: FindingType): number => findings.filter((f) => f.type === type).length
  return {
    findings,
    detail,
    counts: { lost: count('lost'), duplicated: count('duplicated'), stuck: count('stuck'), failed: count('failed'), partialFiles: count('partial') }
  }
}

function safeRead (path: string): string | undefined {
  try { return readFileSync(path, 'utf8') } catch { return undefined }
}

function statSafe (path: string): { size: number, mtime: string } | undefined {
  try { const s = statSync(path); return { size: s.size, mtime: s.mtime.toISOString() } } catch { return undefined }
}

/** A request as the report shows it. */
export function brief (rec: Rec): Record<string, unknown> {
  return {
    n: rec.n,
    kind: rec.kind,
    path: rec.path,
    key: rec.key,
    acked: rec.acked,
    status: rec.status,
    jobId: rec.jobId,
    attempts: rec.attempts.map((a) => ({ at: new Date(a.at).toISOString(), gen: a.gen, ms: a.ms, status: a.status, error: a.error?.slice(0, 120) })),
    ...(rec.odoo === undefined ? {} : { events: rec.odoo.events }),
    ...(rec.insight === undefined ? {} : { insight: { from: rec.insight.from, to: rec.insight.to, serials: rec.insight.serials.length } }),
    ...(rec.bobo === undefined ? {} : { rows: rec.bobo.rows.length })
  }
}
