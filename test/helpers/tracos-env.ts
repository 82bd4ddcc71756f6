import { mkdtemp, mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { systemIntegration } from '../../src/integrations/system/index.js'
import { tracosIntegration } from '../../src/integrations/tracos/index.js'
import { authHeaders, build, freshDbName, waitForStatus } from './app.js'
import type { RunResult } from '../../src/integrations/tracos/sync.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface TracosDirs { root: string, inbound: string, outbound: string, archive: string, rejected: string }

/** Fresh inbound/outbound/archive/rejected folders under a temp root, removed at teardown. */
export async function tracosDirs (t: Teardown): Promise<TracosDirs> {
  const root = await mkdtemp(join(tmpdir(), 'tracos-test-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  const dirs = { root, inbound: join(root, 'inbound'), outbound: join(root, 'outbound'), archive: join(root, 'archive'), rejected: join(root, 'rejected') }
  await mkdir(dirs.inbound)
  return dirs
}

export function tracosEnv (dirs: TracosDirs, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    MONGODB_DB: freshDbName(),
    SCHEDULER_ENABLED: 'false',
    TRACOS_INBOUND_DIR: dirs.inbound,
    TRACOS_OUTBOUND_DIR: dirs.outbound,
    TRACOS_ARCHIVE_DIR: dirs.archive,
    TRACOS_REJECTED_DIR: dirs.rejected,
    TRACOS_MONGO_RETRY_DELAY_MS: '50',
    JOBS_LEASE_MS: '30000',
    ...overrides
  }
}

/** The real gateway with the TracOS integration, pointed at the folders. */
export async function buildTracos (t: Teardown, dirs: TracosDirs, overrides: Record<string, string> = {}): Promise<FastifyInstance> {
  return build(t, { env: tracosEnv(dirs, overrides), integrations: [systemIntegration, tracosIntegration] })
}

/** The job result as the API returns it: the run's own result type. */
export type RunResultBody = RunResult

/** POST /tracos/run and wait for the job; returns the job (result or error). */
export async function runTracos (app: FastifyInstance, body?: Record<string, unknown>, statuses = ['succeeded']) {
  const res = await app.inject({ method: 'POST', url: '/tracos/run', headers: authHeaders(), ...(body === undefined ? {} : { payload: body }) })
  if (res.statusCode !== 202) throw new Error(`POST /tracos/run answered ${res.statusCode}: ${res.body}`)
  const job = await waitForStatus(app, res.json().jobId as string, ['succeeded', 'failed', 'cancelled'], 120_000)
  if (!statuses.includes(job.status)) throw new Error(`tracos.run ${job.status}: ${JSON.stringify(job.error)}`)
  return { job, result: job.result as RunResultBody, response: res }
}

/** Writes a client file; `ageMs` back-dates it, as a file the client finished writing that long ago. */
export async function writeJson (dir: string, name: string, value: unknown, ageMs = 0): Promise<void> {
  const path = join(dir, name)
  await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value))
  if (ageMs > 0) {
    const at = new Date(Date.now() - ageMs)
    await utimes(path, at, at)
  }
}

export async function readJson (dir: string, name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(dir, name), 'utf8')) as Record<string, unknown>
}

export async function list (dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort()
}

/** A valid client order (flags all false = in progress) with overrides. */
export function clientOrder (orderNo: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    orderNo,
    isCanceled: false,
    isDeleted: false,
    isDone: false,
    isOnHold: false,
    isPending: false,
    summary: `Order #${orderNo}`,
    creationDate: '2026-02-10T08:15:00.123456+00:00',
    lastUpdateDate: '2026-02-11T09:00:00Z',
    deletedDate: null,
    ...overrides
  }
}
