import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { startAthocSimulator, type AthocSimulator, type SimulatorOptions } from '../../src/integrations/bobo/sandbox/athoc-simulator.js'
import { createBoboIntegration } from '../../src/integrations/bobo/index.js'
import { systemIntegration } from '../../src/integrations/system/index.js'
import { authHeaders, build, testConfig, waitForStatus } from './app.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface BoboHarness {
  app: FastifyInstance
  sim: AthocSimulator
  dirs: { root: string, incoming: string, processed: string, failed: string }
  clock: { now: Date }
  /** Runs bobo.process once through the job engine and returns the job's result. */
  process: () => Promise<Record<string, any>>
  runJob: (kind: string, params?: Record<string, unknown>) => Promise<{ status: string, result: any, error: any }>
  upload: (csv: string, contentType?: string) => Promise<import('fastify').LightMyRequestResponse>
  drop: (name: string, csv: string, ageMs?: number) => Promise<void>
  list: (dir: string) => Promise<string[]>
}

/** A gateway with the BOBO integration pointed at a fresh AtHoc simulator and temporary folders. */
export async function boboHarness (t: Teardown, options: { env?: Record<string, string>, sim?: SimulatorOptions, users?: Array<[string, string]> } = {}): Promise<BoboHarness> {
  const root = await mkdtemp(join(tmpdir(), 'bobo-'))
  t.teardown(async () => { await rm(root, { recursive: true, force: true }) })
  const dirs = { root, incoming: join(root, 'incoming'), processed: join(root, 'processed'), failed: join(root, 'failed') }
  const sim = await startAthocSimulator(options.sim)
  t.teardown(() => sim.close())
  for (const [login, collar] of options.users ?? []) sim.addUser(login, { 'Collar-Number': collar })
  const clock = { now: new Date() }
  const integration = createBoboIntegration({ now: () => clock.now })
  const config = testConfig({
    ...sim.env(),
    BOBO_INCOMING_DIR: dirs.incoming,
    BOBO_PROCESSED_DIR: dirs.processed,
    BOBO_FAILED_DIR: dirs.failed,
    BOBO_STABLE_MS: '200',
    SCHEDULER_ENABLED: 'false',
    BOBO_PROCESS_ON_UPLOAD: 'false',
    ATHOC_RETRY_BASE_MS: '20',
    ATHOC_TIMEOUT_MS: '2000',
    ...options.env
  })
  const app = await build(t, { config, integrations: [systemIntegration, integration] })

  async function runJob (kind: string, params: Record<string, unknown> = {}) {
    const { job } = await app.jobs.enqueue(kind, params)
    const done = await waitForStatus(app, job._id, ['succeeded', 'failed'], 60_000)
    return { status: done.status, result: done.result as any, error: done.error }
  }
  return {
    app,
    sim,
    dirs,
    clock,
    runJob,
    async process () {
      const { status, result, error } = await runJob('bobo.process')
      if (status !== 'succeeded') throw new Error(`bobo.process ${status}: ${JSON.stringify(error)}`)
      return result
    },
    upload: async (csv, contentType = 'text/csv') => app.inject({ method: 'POST', url: '/bobo/upload', headers: { ...authHeaders(), 'content-type': contentType }, payload: csv }),
    async drop (name, csv, ageMs = 10_000) {
      const { mkdir } = await import('node:fs/promises')
      await mkdir(dirs.incoming, { recursive: true })
      const path = join(dirs.incoming, name)
      await writeFile(path, csv)
      const at = new Date(Date.now() - ageMs)
      await utimes(path, at, at)
    },
    async list (dir) {
      try { return (await readdir(dir)).filter((n) => !n.startsWith('.')).sort() } catch { return [] }
    }
  }
}

/** A real-format BOBO row: `BON|BOF,id,payroll,date,time,created,geo,lat,lon,acc`. */
export function boboRow (code: string, employeeId: string, created: string): string {
  return `${code},${employeeId},PAY${employeeId},${created.slice(0, 8)},${created.slice(8)},${created},1,51.5,-0.12,5.0`
}
