import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { MongoClient } from 'mongodb'
import { buildApp } from '../../src/app.js'
import { buildConfigSchema, loadConfig, type Config } from '../../src/config.js'
import { integrations } from '../../src/integrations/index.js'
import type { Integration } from '../../src/integration.js'
import { systemIntegration } from '../../src/integrations/system/index.js'
import { fixtureIntegration } from './fixture-integration.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export function mongoUri (): string {
  const uri = process.env.MONGODB_URI
  if (uri === undefined || uri === '') throw new Error('MONGODB_URI is not set: run tests with `npm test`, which provisions a server')
  return uri
}

/** A database name no other test uses. */
export function freshDbName (): string {
  return `test_${randomBytes(6).toString('hex')}`
}

/** Keys every test gateway accepts: one that may trigger and read, one that may only read. */
export const TEST_API_KEY = 'test-trigger-key-0123456789'
export const TEST_READ_KEY = 'test-read-key-0123456789'

/** Headers that authenticate a test request (trigger key unless `read` is asked for). */
export function authHeaders (kind: 'trigger' | 'read' = 'trigger'): Record<string, string> {
  return { 'x-api-key': kind === 'trigger' ? TEST_API_KEY : TEST_READ_KEY }
}

/** Configuration as the server would load it from the environment, with fast timings for tests. */
export function testEnv (overrides: Record<string, string> = {}): Record<string, string> {
  return {
    MONGODB_URI: mongoUri(),
    MONGODB_DB: freshDbName(),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    JOBS_POLL_INTERVAL_MS: '50',
    JOBS_LEASE_MS: '3000',
    JOBS_BACKOFF_BASE_MS: '50',
    JOBS_BACKOFF_MAX_MS: '200',
    SHUTDOWN_DRAIN_MS: '2000',
    GATEWAY_API_KEYS: TEST_API_KEY,
    GATEWAY_READ_KEYS: TEST_READ_KEY,
    // Load shedding is for production: on a busy CI machine it would answer 503 to unrelated tests.
    PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
    PRESSURE_MAX_EVENT_LOOP_UTILIZATION: '0',
    ...overrides
  }
}

/** Every real integration's variables plus the fixture integration's. */
export const testConfigSchema = buildConfigSchema([...integrations, fixtureIntegration])

export function testConfig (overrides: Record<string, string> = {}): Config {
  return loadConfig(testEnv(overrides), testConfigSchema)
}

/** Drops the test database when the test ends. */
export function dropDatabaseAfter (t: Teardown, dbName: string): void {
  t.teardown(async () => {
    const client = new MongoClient(mongoUri())
    try {
      await client.db(dbName).dropDatabase()
    } finally {
      await client.close()
    }
  })
}

export interface BuildOptions {
  config?: Config
  env?: Record<string, string>
  integrations?: Integration[]
  /** Keep the database after close (another app instance in the test still uses it). */
  keepDatabase?: boolean
}

/** Builds the real app (real MongoDB) with the fixture integration, ready, closed at teardown. */
export async function build (t: Teardown, options: BuildOptions = {}): Promise<FastifyInstance> {
  const config = options.config ?? testConfig(options.env)
  const app = await buildApp({ config, integrations: options.integrations ?? [systemIntegration, fixtureIntegration] })
  if (options.keepDatabase !== true) dropDatabaseAfter(t, config.MONGODB_DB)
  t.teardown(() => app.close())
  await app.ready()
  return app
}

export async function waitFor<T> (check: () => Promise<T | null | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== null && value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Waits until a job reaches one of the given states and returns it. */
export async function waitForStatus (app: FastifyInstance, id: string, statuses: string[], timeoutMs = 15_000) {
  return waitFor(async () => {
    const job = await app.jobs.get(id)
    return job !== null && statuses.includes(job.status) ? job : null
  }, timeoutMs, `job ${id} to become ${statuses.join('|')}`)
}
