import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { boboHarness } from '../helpers/bobo-setup.js'

/** A throw-away self-signed certificate for 127.0.0.1 (needs the openssl CLI). */
async function selfSigned (t: { teardown: (fn: () => unknown) => void }): Promise<{ key: string, cert: string } | null> {
  const dir = await mkdtemp(join(tmpdir(), 'bobo-tls-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' })
  } catch {
    return null
  }
  return { key: await readFile(join(dir, 'key.pem'), 'utf8'), cert: await readFile(join(dir, 'cert.pem'), 'utf8') }
}

t.test('TLS certificates are verified unless ATHOC_TLS_INSECURE=true', async (t) => {
  const tls = await selfSigned(t)
  if (tls === null) { t.comment('skipped: openssl is not available'); return }
  const users: Array<[string, string]> = [['ann@example.org', '00452']]
  const strict = await boboHarness(t, { users, sim: { tls }, env: { ATHOC_RETRIES: '0' } })
  t.match(strict.sim.url, /^https:/)
  const refused = await strict.runJob('bobo.mapping-sync', { force: true })
  t.match(refused.result, { status: 'error', message: /certificate/i })
  t.equal(strict.sim.counts.token, 0, 'no credentials sent to an unverified server')

  const insecure = await boboHarness(t, { users, sim: { tls }, env: { ATHOC_TLS_INSECURE: 'true' } })
  t.match((await insecure.runJob('bobo.mapping-sync', { force: true })).result, { status: 'completed', users: 1 })
})
