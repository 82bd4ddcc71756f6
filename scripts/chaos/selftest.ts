/**
 * `--self-test`: after the real verdict, breaks the end state on purpose in every way the checks claim to see
 * (a stale CSV row, a duplicated row, a file in two folders, a stray incoming file, a missing export, a duplicate
 * asset, an AtHoc resend with no kill around it, temp files) and checks that each is reported. Guards the chaos
 * run against checks that pass because they look at nothing.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Finding } from './check.js'
import { check, type CheckInput } from './check.js'

interface Expectation { integration: string, type: Finding['type'], what: string }

export async function selfTest (input: CheckInput, before: Finding[]): Promise<{ ok: boolean, missed: string[], applied: string[] }> {
  const { dirs, load } = input
  const expectations: Expectation[] = []
  const applied: string[] = []

  // Odoo: an acknowledged employee's row goes back to an old version, and another row appears twice.
  const lines = readFileSync(dirs.hrCsv, 'utf8').split('\n')
  const ackedEvent = load.recs.find((r) => r.acked && (r.odoo?.events.length ?? 0) > 0)?.odoo?.events[0]
  if (ackedEvent !== undefined) {
    const index = lines.findIndex((l) => l.startsWith(`${ackedEvent.id + 1000},`))
    if (index > 0) {
      lines[index] = `${ackedEvent.id + 1000},C0,E${ackedEvent.id},x@example.com,,T0,Active`
      expectations.push({ integration: 'odoo', type: 'lost', what: 'stale row' })
    }
  }
  if (lines[1] !== undefined && lines[1] !== '') {
    lines.splice(2, 0, lines[1])
    expectations.push({ integration: 'odoo', type: 'duplicated', what: 'row twice' })
  }
  writeFileSync(dirs.hrCsv, lines.join('\n'))
  applied.push('hr_clean.csv: one stale row, one row twice')

  // BOBO: a processed file also in failed; an unknown file waiting in incoming; AtHoc told twice, no kill near.
  const processed = readdirSync(dirs.boboProcessed).filter((n) => !n.startsWith('.'))
  if (processed[0] !== undefined) {
    mkdirSync(dirs.boboFailed, { recursive: true })
    copyFileSync(join(dirs.boboProcessed, processed[0]), join(dirs.boboFailed, processed[0]))
    expectations.push({ integration: 'bobo', type: 'duplicated', what: 'file in two folders' })
    applied.push(`bobo: ${processed[0]} copied into failed`)
  }
  writeFileSync(join(dirs.boboIncoming, 'BOBO_selftest.csv'), 'BON,999999,PAY,20260101,000000,20260101000000,1,0,0,0\n')
  expectations.push({ integration: 'bobo', type: 'stuck', what: 'file left in incoming' })
  const call = input.athoc.syncCalls.find((c) => c.users.length > 0)
  const upload = load.recs.find((r) => r.acked && r.bobo !== undefined)
  if (call !== undefined && upload?.bobo !== undefined) {
    const row = upload.bobo.rows[0] as { login: string, value: string }
    input.athoc.syncCalls.push({ at: Date.now() + 3_600_000, users: [{ LOGIN_ID: row.login, [input.dutyField]: row.value }] })
    expectations.push({ integration: 'bobo', type: 'duplicated', what: 'AtHoc resend without a kill' })
    applied.push(`athoc: ${row.login} sent again an hour later`)
  }

  // TracOS: an exported order's file disappears.
  const outbound = readdirSync(dirs.tracosOutbound).filter((n) => /^workorder_\d+\.json$/.test(n))
  if (outbound[0] !== undefined) {
    unlinkSync(join(dirs.tracosOutbound, outbound[0]))
    expectations.push({ integration: 'tracos', type: 'lost', what: 'outbound file missing' })
    applied.push(`tracos: ${outbound[0]} deleted`)
  }

  // Insight: a second asset for a serial Oomnitza already holds.
  const asset = [...input.oomnitza.assets.values()][0]
  if (asset !== undefined) {
    input.oomnitza.seed({ serial_number: asset.serial_number, model: 'duplicate' })
    expectations.push({ integration: 'insight', type: 'duplicated', what: 'two assets, one serial' })
    applied.push(`oomnitza: second asset for ${String(asset.serial_number)}`)
  }

  // Temp files.
  writeFileSync(join(dirs.hrDir, '.hr_clean.csv.selftest.tmp'), 'personalNumber')
  expectations.push({ integration: 'odoo', type: 'partial', what: 'temp file next to the CSV' })
  writeFileSync(join(dirs.boboProcessed, '.tmp-selftest-1-abc'), 'x')
  expectations.push({ integration: 'bobo', type: 'partial', what: 'temp file in processed' })

  const after = await check(input)
  const countOf = (list: Finding[], e: Expectation): number => list.filter((f) => f.integration === e.integration && f.type === e.type).length
  const missed: string[] = []
  const seen = new Map<string, number>()
  for (const e of expectations) {
    const key = `${e.integration}:${e.type}`
    seen.set(key, (seen.get(key) ?? 0) + 1)
  }
  for (const [key, expected] of seen) {
    const [integration, type] = key.split(':') as [string, Finding['type']]
    const grew = countOf(after.findings, { integration, type, what: '' }) - countOf(before, { integration, type, what: '' })
    if (grew < expected) missed.push(`${key}: expected at least ${expected} new finding(s), got ${grew} (${expectations.filter((e) => `${e.integration}:${e.type}` === key).map((e) => e.what).join(', ')})`)
  }
  return { ok: missed.length === 0, missed, applied }
}
