import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { authHeaders } from '../helpers/app.js'
import { boboHarness, boboRow } from '../helpers/bobo-setup.js'
import { specProblems } from '../helpers/openapi.js'

const USERS: Array<[string, string]> = [['ann@example.org', '00452'], ['bob@example.org', '00453'], ['cid@example.org', '00454'], ['dee@example.org', '00455']]
const FIELD = 'On-Duty-DTG'

t.test('both formats upload, apply the intended on/off rule, and land in processed', async (t) => {
  const h = await boboHarness(t, { users: USERS })
  t.equal((await h.runJob('bobo.mapping-sync', { force: true })).status, 'succeeded')
  h.sim.user('bob@example.org')![FIELD] = '01/01/2024 08:00:00'

  const real = await h.upload([boboRow('BON', '00452', '20240617143000'), boboRow('BOF', '00453', '20240617143100')].join('\r\n'))
  t.equal(real.statusCode, 202, real.body)
  t.same(specProblems('POST', '/bobo/upload', real), [])
  const documented = await h.upload('Employee_ID,Status,Timestamp\n00454,On Duty,2024-06-17 09:15:00\n00455,Off Duty,2024-06-17 09:16:00\n')
  t.equal(documented.statusCode, 202, documented.body)
  t.equal(documented.json().files[0].format, 'header')

  const result = await h.process()
  t.equal(result.files, 2)
  t.equal(result.processed, 2)
  t.equal(h.sim.field('ann@example.org', FIELD), '17/06/2024 14:30:00', 'BON writes the event time, not now')
  t.equal(h.sim.field('bob@example.org', FIELD), '', 'BOF clears the field')
  t.equal(h.sim.field('cid@example.org', FIELD), '17/06/2024 09:15:00')
  t.equal(h.sim.field('dee@example.org', FIELD), '')
  t.same(await h.list(h.dirs.incoming), [])
  t.equal((await h.list(h.dirs.processed)).length, 2)
  t.equal(h.sim.syncCalls.length, 1, 'one SyncByCommonNames call for the batch')

  const files = await h.app.inject({ method: 'GET', url: '/bobo/files?status=processed', headers: authHeaders('read') })
  t.equal(files.statusCode, 200)
  t.same(specProblems('GET', '/bobo/files', files), [])
  t.equal(files.json().files.length, 2)
  t.equal(files.json().files[0].lastOutcome, 'processed')
  const log = await h.app.mongo.db.collection('boboProcessingLog').find({}).toArray()
  t.equal(log.length, 2)
  t.same(log.map((l) => l.usersUpdated).sort(), [2, 2])
})

t.test('bad rows are rejected with line numbers while good rows apply; a file without a valid row is refused', async (t) => {
  const h = await boboHarness(t, { users: USERS })
  await h.runJob('bobo.mapping-sync', { force: true })
  const res = await h.upload('\uFEFF' + [boboRow('BON', '00452', '20240617143000'), 'BON,00453,short', boboRow('BON', '00454', '20241399000000'), boboRow('ZZZ', '00455', '20240617143000')].join('\r\n') + '\r\n\r\n')
  t.equal(res.statusCode, 202, res.body)
  const [file] = res.json().files
  t.equal(file.accepted, 1)
  t.same(file.rejected.map((r: { line: number }) => r.line), [2, 3, 4])
  await h.process()
  t.equal(h.sim.field('ann@example.org', FIELD), '17/06/2024 14:30:00')
  t.equal(h.sim.field('cid@example.org', FIELD), undefined)
  const [entry] = await h.app.mongo.db.collection('boboProcessingLog').find({}).toArray()
  t.equal(entry?.rejected, 3)
  t.equal(entry?.rejectedRows[0].line, 2)

  const none = await h.upload('BON,00453,short\nhello world\n')
  t.equal(none.statusCode, 400)
  t.same(specProblems('POST', '/bobo/upload', none), [])
  t.match(none.json().details[0], { field: 'file 1 line 1' })
  const binary = await h.app.inject({ method: 'POST', url: '/bobo/upload', headers: { ...authHeaders(), 'content-type': 'text/csv' }, payload: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]) })
  t.equal(binary.statusCode, 400)
  const json = await h.app.inject({ method: 'POST', url: '/bobo/upload', headers: authHeaders(), payload: { rows: [] } })
  t.equal(json.statusCode, 415)
  t.match(json.json().message, 'Content-Type application/json is not accepted; send text/csv, application/csv, text/plain or multipart/form-data')
  t.same(specProblems('POST', '/bobo/upload', json), [])
  const untyped = await h.app.inject({ method: 'POST', url: '/bobo/upload', headers: authHeaders(), payload: 'BON,00452\n' })
  t.equal(untyped.statusCode, 415)
  t.match(untyped.json().message, 'the body has no Content-Type; send text/csv, application/csv, text/plain or multipart/form-data')
  t.same(await h.list(h.dirs.incoming), [], 'nothing stored')
  t.equal(await h.app.mongo.db.collection('boboFiles').countDocuments({ status: 'incoming' }), 0)
})

t.test('multipart: several files, client names never used as paths; oversize and too many files → 413', async (t) => {
  const h = await boboHarness(t, { users: USERS, env: { BOBO_UPLOAD_MAX_BYTES: '2048', BOBO_UPLOAD_MAX_FILES: '2' } })
  const boundary = '----bobo'
  const part = (name: string, body: string) => `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/csv\r\n\r\n${body}\r\n`
  const multipart = (parts: string[]) => h.app.inject({ method: 'POST', url: '/bobo/upload', headers: { ...authHeaders(), 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: parts.join('') + `--${boundary}--\r\n` })

  const ok = await multipart([part('../../../etc/evil.csv', boboRow('BON', '00452', '20240617143000')), part('second.csv', boboRow('BOF', '00453', '20240617143000'))])
  t.equal(ok.statusCode, 202, ok.body)
  const names = ok.json().files.map((f: { file: string }) => f.file)
  t.notMatch(ok.json().files[0].originalName, /\//, 'the client path is dropped')
  t.match(names[0], /^BOBO_\d{8}_\d{9}_[0-9a-f]{10}\.csv$/)
  t.same(await h.list(h.dirs.incoming), [...names].sort())
  t.same(await h.list(h.dirs.root), ['incoming'], 'nothing written outside the incoming folder')

  const big = boboRow('BON', '00452', '20240617143000') + '\n' + 'x'.repeat(3000)
  const tooBig = await multipart([part('big.csv', big)])
  t.equal(tooBig.statusCode, 413)
  t.same(specProblems('POST', '/bobo/upload', tooBig), [])
  const rawBig = await h.upload(big)
  t.equal(rawBig.statusCode, 413)
  const tooMany = await multipart([part('a.csv', boboRow('BON', '1', '20240617143000')), part('b.csv', boboRow('BON', '2', '20240617143000')), part('c.csv', boboRow('BON', '3', '20240617143000'))])
  t.equal(tooMany.statusCode, 413)
  t.equal((await h.list(h.dirs.incoming)).length, 2, 'refused uploads stored nothing')

  // Malformed forms (found by schemathesis against openapi.yaml): the client's mistake, a 400 naming the body.
  const malformed = [
    { 'content-type': 'multipart/form-data', payload: `${boboRow('BON', '00452', '20240617143000')}\n` },
    { 'content-type': `multipart/form-data; boundary=${boundary}`, payload: `--${boundary}\r\nNone--${boundary}--\r\n` },
    { 'content-type': `multipart/form-data; boundary=${boundary}`, payload: part('cut.csv', boboRow('BON', '1', '20240617143000')) }
  ]
  for (const { payload, ...headers } of malformed) {
    const res = await h.app.inject({ method: 'POST', url: '/bobo/upload', headers: { ...authHeaders(), ...headers }, payload })
    t.equal(res.statusCode, 400, res.body)
    t.match(res.json(), { message: /multipart form is malformed/, details: [{ field: 'body' }] })
    t.same(specProblems('POST', '/bobo/upload', res), [])
  }
  t.equal((await h.list(h.dirs.incoming)).length, 2, 'malformed uploads stored nothing')
})

t.test('latest event wins inside a batch and across batches; unknown employees are reported', async (t) => {
  const h = await boboHarness(t, { users: USERS })
  await h.runJob('bobo.mapping-sync', { force: true })
  // Older file carries the newest event for 00452; the newer file an older one.
  await h.upload([boboRow('BON', '00452', '20240617180000'), boboRow('BON', '00453', '20240617100000')].join('\n'))
  await h.upload([boboRow('BOF', '00452', '20240617170000'), boboRow('BOF', '00453', '20240617100000'), boboRow('BON', '99999', '20240617100000'), boboRow('BON', '452', '20240617100000')].join('\n'))
  const first = await h.process()
  t.equal(first.processed, 2)
  t.equal(first.unknownEmployees, 2, '99999 and 452 (leading zeros matter) are unknown')
  t.equal(h.sim.field('ann@example.org', FIELD), '17/06/2024 18:00:00')
  t.equal(h.sim.field('bob@example.org', FIELD), '', 'same time: the later file wins')
  const log = await h.app.mongo.db.collection('boboProcessingLog').find({}).sort({ name: 1 }).toArray()
  t.same(log.map((l) => l.unknownEmployees), [0, 2])

  // A late file with older events must not overwrite what AtHoc already holds.
  await h.upload([boboRow('BOF', '00452', '20240617120000'), boboRow('BON', '00454', '20240617120000')].join('\n'))
  const second = await h.process()
  t.equal(second.skippedOlder, 1)
  t.equal(second.processed, 1)
  t.equal(h.sim.field('ann@example.org', FIELD), '17/06/2024 18:00:00', 'older BOF skipped')
  t.equal(h.sim.field('cid@example.org', FIELD), '17/06/2024 12:00:00')
  t.same(h.sim.syncCalls.at(-1)?.users.map((u) => u.LOGIN_ID), ['cid@example.org'])
})

t.test('per-user outcomes: Partial, other errors and missing users retry the file; unknown AtHoc user counts as done; then the failed folder', async (t) => {
  const h = await boboHarness(t, { users: USERS, env: { BOBO_MAX_RETRIES: '2' } })
  await h.runJob('bobo.mapping-sync', { force: true })
  h.sim.removeUser('dee@example.org') // mapped, but gone from AtHoc: "does not exists in the Organization"
  h.sim.partial.add('bob@example.org')
  h.sim.omitted.add('cid@example.org')
  await h.upload([boboRow('BON', '00452', '20240617143000'), boboRow('BON', '00455', '20240617143000')].join('\n'))
  await h.upload(boboRow('BON', '00453', '20240617143000'))
  await h.upload(boboRow('BON', '00454', '20240617143000'))
  const first = await h.process()
  t.same([first.processed, first.retry, first.failed], [1, 2, 0])
  t.equal(h.sim.field('ann@example.org', FIELD), '17/06/2024 14:30:00')
  t.equal((await h.list(h.dirs.incoming)).length, 2)
  const retrying = await h.app.mongo.db.collection('boboFiles').find({ status: 'incoming' }).toArray()
  t.same(retrying.map((r) => r.retryCount), [1, 1])
  t.match(retrying.map((r) => r.lastError).sort(), [/Partial/, /missing from the AtHoc response/])

  h.sim.omitted.clear() // cid recovers, bob stays Partial
  const second = await h.process()
  t.same([second.processed, second.failed], [1, 1])
  t.equal(h.sim.field('cid@example.org', FIELD), '17/06/2024 14:30:00')
  t.equal((await h.list(h.dirs.failed)).length, 1)
  t.same(await h.list(h.dirs.incoming), [])
  const log = await h.app.mongo.db.collection('boboProcessingLog').find({ outcome: 'failed' }).toArray()
  t.match(log[0]?.error, /Exceeded max retry attempts \(2\)/)
  const detail = await h.app.inject({ method: 'GET', url: `/bobo/files/${log[0]?.fileId as string}`, headers: authHeaders('read') })
  t.equal(detail.statusCode, 200)
  t.same(specProblems('GET', '/bobo/files/{id}', detail), [])
  t.same(detail.json().attempts.map((a: { outcome: string }) => a.outcome), ['failed', 'retry'])
  t.match(detail.json().attempts[1].failures[0], { login: 'bob@example.org', reason: /Partial/ })
  const unknown = await h.app.inject({ method: 'GET', url: '/bobo/files/nope', headers: authHeaders('read') })
  t.equal(unknown.statusCode, 404)
  t.same(specProblems('GET', '/bobo/files/{id}', unknown), [])
})

t.test('AtHoc trouble: 429 with Retry-After and 5xx are retried, a hang times out and fails the chunk, an expired token is renewed', async (t) => {
  const h = await boboHarness(t, { users: USERS, env: { ATHOC_SYNC_CHUNK: '1', ATHOC_RETRIES: '2', ATHOC_TIMEOUT_MS: '500' } })
  await h.runJob('bobo.mapping-sync', { force: true })
  h.sim.inject({ operation: 'sync', status: 429, retryAfter: '1' })
  h.sim.inject({ operation: 'sync', status: 503 })
  let firstCall = 0
  h.sim.hooks.afterSync = (n) => { if (firstCall === 0) { firstCall = n; h.sim.expireTokens() } }
  const tokensBefore = h.sim.counts.token
  await h.upload([boboRow('BON', '00452', '20240617143000'), boboRow('BON', '00453', '20240617143000'), boboRow('BON', '00454', '20240617143000')].join('\n'))
  const started = Date.now()
  const result = await h.process()
  t.equal(result.processed, 1)
  t.ok(Date.now() - started >= 900, 'waited for Retry-After')
  t.ok(h.sim.counts.unauthorized >= 1, 'a call hit the expired token')
  t.equal(h.sim.counts.token, tokensBefore + 1, 'one new token after the 401')
  for (const [login] of USERS.slice(0, 3)) t.equal(h.sim.field(login, FIELD), '17/06/2024 14:30:00')

  h.sim.hooks.afterSync = undefined
  h.sim.inject({ operation: 'sync', hang: true, times: 3 })
  await h.upload(boboRow('BOF', '00452', '20240617150000'))
  const hung = await h.process()
  t.equal(hung.retry, 1)
  const [record] = await h.app.mongo.db.collection('boboFiles').find({ status: 'incoming' }).toArray()
  t.match(record?.lastError, /no answer within 500 ms/)
  t.equal(h.sim.field('ann@example.org', FIELD), '17/06/2024 14:30:00')
  const again = await h.process()
  t.equal(again.processed, 1)
  t.equal(h.sim.field('ann@example.org', FIELD), '')
})

t.test('drop folder: stable files are picked up, a file still being written waits for the next tick', async (t) => {
  const h = await boboHarness(t, { users: USERS, env: { BOBO_STABLE_MS: '1000' } })
  await h.runJob('bobo.mapping-sync', { force: true })
  await h.drop('BOBO_20240617_143000_output.csv', boboRow('BON', '00452', '20240617143000'))
  await h.drop('BOBO_20240617_143500_output.csv', boboRow('BON', '00453', '20240617143000') + '\n', 0)
  const growing = join(h.dirs.incoming, 'BOBO_20240617_143500_output.csv')
  const { appendFile } = await import('node:fs/promises')
  let writing = true
  const writer = (async () => {
    let n = 0
    while (writing) { await appendFile(growing, boboRow('BON', '00453', `2024061714${String(40 + (n++ % 10))}00`) + '\n'); await new Promise((resolve) => setTimeout(resolve, 100)) }
  })()
  const first = await h.process()
  writing = false
  await writer
  t.equal(first.files, 1)
  t.equal(first.unsettled, 1)
  t.equal(h.sim.field('bob@example.org', FIELD), undefined)
  const second = await h.process()
  t.equal(second.files, 1)
  t.match(h.sim.field('bob@example.org', FIELD), /^17\/06\/2024 14:4\d:00$/)
  t.same(await h.list(h.dirs.incoming), [])
  const content = await readFile(join(h.dirs.processed, 'BOBO_20240617_143000_output.csv'), 'utf8')
  t.match(content, /^BON,00452/)

  // A dropped file without one valid row goes straight to the failed folder; an empty one counts as done.
  await h.drop('garbage.csv', 'this is not,a BOBO export\n')
  await h.drop('empty.csv', '\r\n')
  const third = await h.process()
  t.same([third.processed, third.failed], [1, 1])
  t.same(await h.list(h.dirs.failed), ['garbage.csv'])
  const [entry] = await h.app.mongo.db.collection('boboProcessingLog').find({ name: 'garbage.csv' }).toArray()
  t.match(entry?.error, /no valid row: line 1: expected 10 columns/)
})

t.test('a batch interrupted after AtHoc answered is finished on the next run; one interrupted while sending is re-sent', async (t) => {
  const h = await boboHarness(t, { users: USERS })
  await h.runJob('bobo.mapping-sync', { force: true })
  const up = await h.upload(boboRow('BON', '00452', '20240617143000'))
  const name = up.json().files[0].file as string
  const files = h.app.mongo.db.collection('boboFiles')
  const record = await files.findOne({ name })
  // What a run killed between "moves planned" and "files moved" leaves behind.
  await h.app.mongo.db.collection('boboBatches').insertOne({
    _id: 'crashed-moving' as any,
    state: 'moving',
    createdAt: new Date(),
    fileIds: [record?._id],
    moves: [{ fileId: record?._id, from: join(h.dirs.incoming, name), to: join(h.dirs.processed, name), set: { status: 'processed', lastOutcome: 'processed', lastError: null, retryCount: 0, updatedAt: new Date() } }]
  })
  // And a run killed while sending (with a log record written for it).
  await h.app.mongo.db.collection('boboBatches').insertOne({ _id: 'crashed-sending' as any, state: 'sending', createdAt: new Date(), fileIds: [] })
  await h.app.mongo.db.collection('boboProcessingLog').insertOne({ _id: 'crashed-sending:x' as any, batchId: 'crashed-sending', outcome: 'processed' })
  const result = await h.process()
  t.same(result.reconciled, { finished: 1, interrupted: 1 })
  t.equal(result.files, 0, 'the finished file is not sent again')
  t.same(await h.list(h.dirs.processed), [name])
  t.equal((await files.findOne({ name }))?.status, 'processed')
  t.equal((await h.app.mongo.db.collection('boboProcessingLog').findOne({ _id: 'crashed-sending:x' as any }))?.outcome, 'interrupted')
  t.equal(await h.app.mongo.db.collection('boboBatches').countDocuments({}), 0)
})

t.test('bad AtHoc credentials fail the job and leave the files untouched', async (t) => {
  const h = await boboHarness(t, { users: USERS, env: { ATHOC_PASSWORD: 'wrong' } })
  await h.app.mongo.db.collection('workerMappings').insertOne({ _id: '00452' as any, login: 'ann@example.org', collar: '00452', updatedAt: new Date() })
  await h.upload(boboRow('BON', '00452', '20240617143000'))
  const run = await h.runJob('bobo.process')
  t.equal(run.status, 'failed')
  t.match(run.error, { code: 'ATHOC_AUTH', retryable: false })
  t.equal(h.sim.counts.sync, 0)
  const [record] = await h.app.mongo.db.collection('boboFiles').find({}).toArray()
  t.equal(record?.retryCount, 0)
  t.equal((await h.list(h.dirs.incoming)).length, 1)
})

t.test('record paging mode and a short server page size still fetch every user', async (t) => {
  const users: Array<[string, string]> = Array.from({ length: 250 }, (_, i) => [`p${i}@example.org`, `C${i}`])
  const h = await boboHarness(t, { users, sim: { pagingMode: 'record', maxPageSize: 100 }, env: { ATHOC_PAGING_MODE: 'record', ATHOC_PAGE_SIZE: '100' } })
  t.match((await h.runJob('bobo.mapping-sync', { force: true })).result, { status: 'completed', users: 250, mappings: 250 })
  t.equal(h.sim.counts.search, 3)
})

t.test('Idempotency-Key: a repeated upload stores nothing and answers 200 with the first files and job', async (t) => {
  for (const processOnUpload of ['true', 'false']) {
    const h = await boboHarness(t, { users: USERS, env: { BOBO_PROCESS_ON_UPLOAD: processOnUpload, JOBS_RUNNER_ENABLED: 'false' } })
    const csv = boboRow('BON', '00452', '20240617143000')
    const send = async (key: string) => await h.app.inject({ method: 'POST', url: '/bobo/upload', headers: { ...authHeaders(), 'content-type': 'text/csv', 'idempotency-key': key }, payload: csv })
    const first = await send('n8n-upload-1')
    t.equal(first.statusCode, 202)
    // A retry after a timeout, and two more sent at the same moment.
    const repeats = [await send('n8n-upload-1'), ...await Promise.all([send('n8n-upload-1'), send('n8n-upload-1')])]
    for (const again of repeats) {
      t.equal(again.statusCode, 200, `a repeat answers 200 (process on upload: ${processOnUpload})`)
      t.same(specProblems('POST', '/bobo/upload', again), [])
      t.same(again.json().files.map((f: { file: string }) => f.file), first.json().files.map((f: { file: string }) => f.file), 'the first request\'s files')
      t.equal(again.json().jobId, first.json().jobId)
    }
    t.equal(await h.app.mongo.db.collection('boboFiles').countDocuments({}), 1, 'registered once')
    t.equal((await h.list(h.dirs.incoming)).length, 1, 'and written once')
    const other = await send('n8n-upload-2')
    t.equal(other.statusCode, 202, 'another key is another upload')
    t.equal(await h.app.mongo.db.collection('boboFiles').countDocuments({}), 2)
  }
})

t.test('an upload enqueues bobo.process by default; POST /bobo/process runs it on demand', async (t) => {
  const h = await boboHarness(t, { users: USERS, env: { BOBO_PROCESS_ON_UPLOAD: 'true' } })
  await h.runJob('bobo.mapping-sync', { force: true })
  const res = await h.upload(boboRow('BON', '00452', '20240617143000'))
  t.equal(res.statusCode, 202)
  t.same(specProblems('POST', '/bobo/upload', res), [])
  const job = await h.app.jobs.get(res.json().jobId)
  t.equal(job?.kind, 'bobo.process')
  const { waitForStatus } = await import('../helpers/app.js')
  await waitForStatus(h.app, res.json().jobId, ['succeeded'], 30_000)
  t.equal(h.sim.field('ann@example.org', FIELD), '17/06/2024 14:30:00')

  const readOnly = await h.app.inject({ method: 'POST', url: '/bobo/process', headers: authHeaders('read') })
  t.equal(readOnly.statusCode, 403)
  const run = await h.app.inject({ method: 'POST', url: '/bobo/process', headers: authHeaders() })
  t.equal(run.statusCode, 202)
  t.same(specProblems('POST', '/bobo/process', run), [])
  const done = await waitForStatus(h.app, run.json().jobId, ['succeeded'], 30_000)
  t.match(done.result, { files: 0 })
})

t.test('an upload\'s own status link leads to the job that processed it, also when that was a later job', async (t) => {
  const h = await boboHarness(t, { users: USERS, env: { BOBO_PROCESS_ON_UPLOAD: 'true' } })
  await h.runJob('bobo.mapping-sync', { force: true })
  h.sim.omitted.add('cid@example.org') // the first job cannot update cid: the file waits for a retry
  const res = await h.upload(boboRow('BON', '00454', '20240617143000'))
  t.equal(res.statusCode, 202)
  t.same(specProblems('POST', '/bobo/upload', res), [])
  const [file] = res.json().files as Array<{ id: string, statusUrl: string }>
  t.equal(file?.statusUrl, `/bobo/files/${file?.id ?? ''}`)
  const { waitForStatus } = await import('../helpers/app.js')
  const uploadJob = await waitForStatus(h.app, res.json().jobId, ['succeeded'], 30_000)
  t.match(uploadJob.result, { retry: 1, processed: 0 })
  const status = async () => (await h.app.inject({ method: 'GET', url: file?.statusUrl ?? '', headers: authHeaders('read') })).json()
  t.match((await status()).file, { status: 'incoming', lastOutcome: 'retry', lastJobId: res.json().jobId })

  h.sim.omitted.clear()
  const later = await h.app.inject({ method: 'POST', url: '/bobo/process', headers: authHeaders() })
  await waitForStatus(h.app, later.json().jobId, ['succeeded'], 30_000)
  const detail = await status()
  t.match(detail.file, { status: 'processed', lastJobId: later.json().jobId, lastJobUrl: `/jobs/${later.json().jobId as string}` })
  t.same(detail.attempts.map((a: { jobId: string }) => a.jobId), [later.json().jobId, res.json().jobId], 'each attempt names its job')
  t.equal(h.sim.field('cid@example.org', FIELD), '17/06/2024 14:30:00')
})
