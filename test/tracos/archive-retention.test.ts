import { mkdir, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { createArchiveRetention } from '../../src/integrations/tracos/archive-retention.js'
import { authHeaders, waitForStatus } from '../helpers/app.js'
import { buildTracos, clientOrder, list, runTracos, tracosDirs, writeJson } from '../helpers/tracos-env.js'

const log = pino({ level: 'silent' })
const DAY_MS = 86_400_000

t.test('archived files older than the retention are deleted, counted from when they were archived', async (t) => {
  const dirs = await tracosDirs(t)
  await mkdir(dirs.archive)
  await mkdir(dirs.rejected)
  for (const name of ['1.json', '2.json', 'batch.json']) await writeFile(join(dirs.archive, name), '{}')
  // A client file written long ago but archived just now: its mtime is old, yet it stays.
  await utimes(join(dirs.archive, '1.json'), new Date('2020-01-01'), new Date('2020-01-01'))
  await writeFile(join(dirs.rejected, 'bad.json'), '{')

  const today = createArchiveRetention({ archiveDir: dirs.archive, days: 30, concurrency: 4 })
  t.match(await today.run({ log }), { scanned: 3, deleted: 0 })
  t.same(await list(dirs.archive), ['1.json', '2.json', 'batch.json'])

  const in29Days = createArchiveRetention({ archiveDir: dirs.archive, days: 30, concurrency: 4, now: () => new Date(Date.now() + 29 * DAY_MS) })
  t.match(await in29Days.run({ log }), { deleted: 0 })

  const in31Days = createArchiveRetention({ archiveDir: dirs.archive, days: 30, concurrency: 4, now: () => new Date(Date.now() + 31 * DAY_MS) })
  const result = await in31Days.run({ log })
  t.match(result, { scanned: 3, deleted: 3 })
  t.ok(new Date(result.cutoff).getTime() > Date.now(), 'the cutoff is 30 days before the injected clock')
  t.same(await list(dirs.archive), [])
  t.same(await list(dirs.rejected), ['bad.json'], 'rejected files are never pruned')

  const missing = createArchiveRetention({ archiveDir: join(dirs.root, 'nowhere'), days: 30, concurrency: 4 })
  t.match(await missing.run({ log }), { scanned: 0, deleted: 0 }, 'no archive folder yet: nothing to do')
})

t.test('the gateway schedules tracos.prune-archive daily unless the retention is 0, and its job keeps fresh files', async (t) => {
  const dirs = await tracosDirs(t)
  const app = await buildTracos(t, dirs)
  await writeJson(dirs.inbound, '7.json', clientOrder(7))
  await runTracos(app)
  t.same(await list(dirs.archive), ['7.json'])

  const schedules = (await app.inject({ method: 'GET', url: '/schedules', headers: authHeaders('read') })).json().data as Array<Record<string, unknown>>
  t.match(schedules.find((s) => s.id === 'tracos.prune-archive'), { kind: 'tracos.prune-archive', enabled: true, everyMs: DAY_MS })

  const { job } = await app.jobs.enqueue('tracos.prune-archive', {})
  const done = await waitForStatus(app, job._id, ['succeeded', 'failed'])
  t.equal(done.status, 'succeeded')
  t.match(done.result, { scanned: 1, deleted: 0 })
  t.same(await list(dirs.archive), ['7.json'], 'a file archived today stays')

  const keepAll = await buildTracos(t, await tracosDirs(t), { TRACOS_ARCHIVE_RETENTION_DAYS: '0' })
  const keepAllSchedules = (await keepAll.inject({ method: 'GET', url: '/schedules', headers: authHeaders('read') })).json().data as Array<Record<string, unknown>>
  t.match(keepAllSchedules.find((s) => s.id === 'tracos.prune-archive'), { enabled: false })
})
