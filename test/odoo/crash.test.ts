import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { MongoClient } from 'mongodb'
import pLimit from 'p-limit'
import t from 'tap'
import { freePort } from '../../scripts/mongo-server.js'
import { generateEmployees } from '../../src/integrations/odoo/sandbox/employees.js'
import type { SimEmployee } from '../../src/integrations/odoo/sandbox/employees.js'
import { dropDatabaseAfter, freshDbName, mongoUri, TEST_API_KEY, waitFor } from '../helpers/app.js'
import { contentFor } from '../helpers/odoo-writer-content.js'
import { spawnTs, type Spawned } from '../helpers/process.js'
import { startSimulator, tempDir } from '../helpers/odoo-sandbox.js'

const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex')

/** The real server entry point (src/server.ts) in its own process, ready once /health answers. */
async function startGateway (env: Record<string, string>): Promise<{ proc: Spawned, base: string }> {
  const port = await freePort()
  const proc = spawnTs('src/server.ts', { ...env, PORT: String(port), HOST: '127.0.0.1' })
  const base = `http://127.0.0.1:${port}`
  await waitFor(async () => {
    if (proc.child.exitCode !== null) throw new Error(`gateway exited: ${proc.stderr()}`)
    try {
      return (await fetch(`${base}/health`)).status === 200
    } catch {
      return false
    }
  }, 60_000, 'the gateway to start')
  return { proc, base }
}

async function kill9 (proc: Spawned): Promise<void> {
  proc.child.kill('SIGKILL')
  await proc.exited
}

t.test('a gateway killed with SIGKILL between accepting webhooks and applying them: every event applied after restart', async (t) => {
  const sim = await startSimulator(t, { employees: generateEmployees(120) })
  const csvPath = join(tempDir(t), 'hr_clean.csv')
  const dbName = freshDbName()
  dropDatabaseAfter(t, dbName)
  const env = {
    MONGODB_URI: mongoUri(),
    MONGODB_DB: dbName,
    LOG_LEVEL: 'silent',
    GATEWAY_API_KEYS: TEST_API_KEY,
    SCHEDULER_ENABLED: 'false',
    JOBS_POLL_INTERVAL_MS: '50',
    JOBS_LEASE_MS: '3000',
    // A retryable hiccup of a loaded machine (SQLITE_BUSY, a slow answer) must not wait out production backoff.
    JOBS_BACKOFF_BASE_MS: '100',
    JOBS_BACKOFF_MAX_MS: '1000',
    ODOO_URL: sim.url,
    ODOO_DB: sim.db,
    ODOO_USERNAME: sim.login,
    ODOO_PASSWORD: sim.password,
    ODOO_CSV_PATH: csvPath,
    ODOO_EVENTS_DEBOUNCE_MS: '100'
  }
  const mongo = new MongoClient(mongoUri())
  t.teardown(() => mongo.close())
  const db = mongo.db(dbName)

  // Odoo answers slowly: the first events job is still reading when the gateway dies.
  sim.setDelay(2000)
  let gateway = await startGateway(env)
  t.teardown(async () => { if (gateway.proc.child.exitCode === null) await kill9(gateway.proc) })
  const send = async (base: string, ids: number[]) => {
    const limit = pLimit(10)
    return Promise.all(ids.map((id) => limit(async () => {
      const e = sim.employees.get(id) as SimEmployee
      sim.upsert({ ...e, name: `Crash${id} Test` })
      const res = await fetch(`${base}/odoo/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': TEST_API_KEY },
        body: JSON.stringify({ event: 'update', employee_id: id })
      })
      return res.status
    })))
  }
  const first = await send(gateway.base, Array.from({ length: 30 }, (_, i) => i + 1))
  t.ok(first.every((s) => s === 202), 'first 30 webhooks accepted')
  await waitFor(async () => await db.collection('jobs').countDocuments({ kind: 'odoo.employee-events', status: 'running' }) > 0, 30_000, 'the events job to be running')
  const second = await send(gateway.base, Array.from({ length: 20 }, (_, i) => i + 31))
  t.ok(second.every((s) => s === 202), '20 more accepted while the job runs')
  await kill9(gateway.proc)
  t.equal(await db.collection('odoo_events').countDocuments({ appliedAt: null }), 50, 'all 50 events are stored and none applied')
  t.notOk(existsSync(csvPath), 'nothing was written before the kill')

  sim.setDelay(0)
  gateway = await startGateway(env)
  await waitFor(async () => {
    const pending = await db.collection('odoo_events').countDocuments({ appliedAt: null })
    const open = await db.collection('jobs').countDocuments({ kind: 'odoo.employee-events', status: { $in: ['queued', 'running'] } })
    return pending === 0 && open === 0
  }, 120_000, 'every event to be applied after the restart')
  const csv = readFileSync(csvPath, 'utf8')
  const applied = Array.from({ length: 50 }, (_, i) => i + 1).filter((id) => csv.includes(`\n${1000 + id},Crash${id},Test,`))
  t.equal(applied.length, 50, 'every event is in the CSV')
  gateway.proc.child.kill('SIGTERM')
  await gateway.proc.exited
})

t.test('a crash during a CSV write never leaves a partial or empty file', async (t) => {
  const dir = tempDir(t)
  const csvPath = join(dir, 'hr_clean.csv')
  const rows = 20000
  const valid = new Set([sha(contentFor('A', rows)), sha(contentFor('B', rows))])
  writeFileSync(csvPath, contentFor('B', rows))
  let kills = 0
  let midWrite = 0
  for (let round = 0; round < 6; round++) {
    const writer = spawnTs('test/helpers/odoo-writer.ts', { CSV_PATH: csvPath, ROWS: String(rows) })
    await waitFor(async () => writer.stdout().includes('ready') || writer.child.exitCode !== null, 30_000, 'the writer to start')
    // Let it complete a few writes, then kill it at a random moment.
    await waitFor(async () => (writer.stdout().match(/wrote/g)?.length ?? 0) >= 1 + round % 3, 30_000, 'some writes')
    await sleep(Math.floor(Math.random() * 40))
    writer.child.kill('SIGKILL')
    await writer.exited
    kills++
    if (readdirSync(dir).some((name) => name.endsWith('.tmp'))) midWrite++
    const content = readFileSync(csvPath)
    t.ok(content.length > 0 && valid.has(sha(content)), `after kill ${kills} the file is one complete version`)
  }
  t.comment(`${midWrite} of ${kills} kills landed in the middle of a write (a temp file was left)`)
  // The next writer removes leftover temp files before it writes.
  const writer = spawnTs('test/helpers/odoo-writer.ts', { CSV_PATH: csvPath, ROWS: '10' })
  await waitFor(async () => writer.stdout().includes('wrote 1'), 30_000, 'a write')
  writer.child.kill('SIGKILL')
  await writer.exited
  t.ok(readdirSync(dir).filter((name) => name.endsWith('.tmp')).length <= 1, 'stale temp files are cleaned up by the next writer')
})
