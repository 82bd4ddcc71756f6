/**
 * Uploads as a real client sends them, over one keep-alive connection: a refused upload answers and never
 * leaves the connection hanging; temp files of an upload killed mid-write do not stay behind.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises'
import t from 'tap'
import { Client } from 'undici'
import { TEST_API_KEY } from '../helpers/app.js'
import { keyedFileName } from '../../src/integrations/bobo/files.js'
import { boboHarness, boboRow } from '../helpers/bobo-setup.js'

const USERS: Array<[string, string]> = [['ann@example.org', '00452']]

t.test('an upload refused part-way (two parts over the size limit) answers 413 and closes the connection cleanly', async (t) => {
  const h = await boboHarness(t, { users: USERS, env: { BOBO_UPLOAD_MAX_BYTES: '65536' } })
  await h.app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = h.app.server.address() as { port: number }
  // One connection, reused for every request as long as the server keeps it open (what curl and n8n do).
  const client = new Client(`http://127.0.0.1:${port}`, { pipelining: 1, headersTimeout: 20_000, bodyTimeout: 20_000 })
  t.teardown(() => client.close())
  const boundary = '----bobo-big'
  const big = `${boboRow('BON', '00452', '20240617143000')}\n${'x'.repeat(200_000)}\n`
  const part = (name: string) => `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/csv\r\n\r\n${big}\r\n`
  for (let round = 0; round < 3; round++) {
    const refused = await client.request({
      method: 'POST',
      path: '/bobo/upload',
      headers: { 'x-api-key': TEST_API_KEY, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: `${part('a.csv')}${part('b.csv')}--${boundary}--\r\n`
    })
    const body = await refused.body.json() as { message: string }
    t.equal(refused.statusCode, 413, `round ${round}: 413`)
    t.match(body.message, /larger than BOBO_UPLOAD_MAX_BYTES \(65536 bytes\)/, 'the limit is named')
    t.equal(refused.headers.connection, 'close', 'the connection is closed after the answer')
    // The next request (on a new connection where needed) is answered at once.
    const next = await client.request({ method: 'GET', path: '/health' })
    t.equal(next.statusCode, 200, `round ${round}: the next request is answered`)
    await next.body.dump()
  }
  t.same(await h.list(h.dirs.incoming), [], 'nothing stored')
})

t.test('temp files whose writer is gone are removed at start and by the process job; live ones are kept', async (t) => {
  const h = await boboHarness(t, { users: USERS })
  const host = hostname().replace(/[^\w.-]/g, '_')
  const dead = spawnSync(process.execPath, ['-e', '0']).pid as number
  await mkdir(h.dirs.incoming, { recursive: true })
  await writeFile(join(h.dirs.incoming, `.tmp-${host}-${dead}-0a1b2c`), 'half an upload')
  await writeFile(join(h.dirs.incoming, `.tmp-${host}-${process.pid}-0a1b2d`), 'being written right now')
  await writeFile(join(h.dirs.incoming, '.tmp-elsewhere-1-0a1b2e'), 'another host, an hour ago')
  const hourAgo = new Date(Date.now() - 2 * 3_600_000)
  await utimes(join(h.dirs.incoming, '.tmp-elsewhere-1-0a1b2e'), hourAgo, hourAgo)
  await writeFile(join(h.dirs.incoming, '.tmp-elsewhere-2-0a1b2f'), 'another host, just now')
  await h.drop('drop.csv', boboRow('BON', '00452', '20240617143000'), 60_000)
  const result = await h.process()
  t.match(result, { files: 1 })
  t.same((await readdir(h.dirs.incoming)).sort(), [`.tmp-${host}-${process.pid}-0a1b2d`, '.tmp-elsewhere-2-0a1b2f'].sort(), 'only the live writers\' temp files remain')
})

t.test('a keyed upload whose first attempt died after writing its file is stored and processed once, whichever comes first: the re-send or the drop scan', async (t) => {
  const h = await boboHarness(t, { users: USERS })
  const csv = boboRow('BON', '00452', '20240617143000')
  const send = (key: string) => h.app.inject({ method: 'POST', url: '/bobo/upload', headers: { 'x-api-key': TEST_API_KEY, 'content-type': 'text/csv', 'idempotency-key': key }, payload: csv })
  /** What a gateway killed between writing the file and registering it leaves: the file under the key's name. */
  const orphan = async (key: string): Promise<string> => {
    const name = keyedFileName(createHash('sha256').update(key).digest('hex').slice(0, 32), 0)
    await mkdir(h.dirs.incoming, { recursive: true })
    await writeFile(join(h.dirs.incoming, name), csv)
    const old = new Date(Date.now() - 60_000)
    await utimes(join(h.dirs.incoming, name), old, old)
    return name
  }
  const records = (name: string) => h.app.mongo.db.collection('boboFiles').find({ name }).toArray()

  // The re-send first: it finds the file and registers it; processing then takes it once.
  const first = await orphan('resend-first')
  const resent = await send('resend-first')
  t.equal(resent.statusCode, 202, resent.body)
  t.same(resent.json().files.map((f: { file: string }) => f.file), [first])
  await h.process()
  t.match(await records(first), [{ source: 'upload', status: 'processed' }], 'one record, processed')
  t.same(await h.list(h.dirs.processed), [first])

  // The drop scan first: it registers the file under the id the re-send uses; the re-send is then a repeat.
  const second = await orphan('scan-first')
  await h.process()
  const again = await send('scan-first')
  t.equal(again.statusCode, 200, 'the re-send is answered as a repeat')
  t.same(again.json().files.map((f: { file: string }) => f.file), [second])
  t.match(await records(second), [{ source: 'upload', status: 'processed' }], 'one record, processed once')
  t.same(await h.list(h.dirs.incoming), [], 'nothing written again')
  t.same((await h.list(h.dirs.processed)).sort(), [first, second].sort())
})
