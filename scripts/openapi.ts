/**
 * npm run openapi — writes openapi.yaml, the API document, generated from the routes' schemas. It builds the
 * gateway with every integration (no job runner, no scheduler) on a throwaway database, with every setting at
 * its default, and takes the document @fastify/swagger makes of its routes (src/plugins/docs.ts adds the static
 * parts). The gateway serves the same document at /openapi.yaml; a test fails when the committed file is stale.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MongoClient } from 'mongodb'
import { buildApp } from '../src/app.js'
import { buildConfigSchema, loadConfig } from '../src/config.js'
import { integrations } from '../src/integrations/index.js'
import { OPENAPI_PATH } from '../src/plugins/docs.js'

/** The document as `npm run openapi` writes it, built against the MongoDB at `mongoUri`. */
export async function renderOpenapi (mongoUri: string): Promise<string> {
  const scratch = mkdtempSync(join(tmpdir(), 'openapi-'))
  const database = `openapi_${randomBytes(6).toString('hex')}`
  const schema = buildConfigSchema(integrations)
  const env: Record<string, string> = {
    MONGODB_URI: mongoUri,
    MONGODB_DB: database,
    GATEWAY_API_KEYS: 'openapi-generation',
    JOBS_RUNNER_ENABLED: 'false',
    SCHEDULER_ENABLED: 'false',
    LOG_LEVEL: 'warn'
  }
  // Folders and files the integrations would create under data/ go to a scratch directory instead.
  for (const [name, property] of Object.entries(schema.properties)) {
    const fallback = (property as { default?: unknown }).default
    if (typeof fallback === 'string' && fallback.startsWith('data/')) env[name] = join(scratch, fallback)
  }
  const app = await buildApp({ config: loadConfig(env, schema), logStream: process.stderr })
  try {
    await app.ready()
    return app.swagger({ yaml: true })
  } finally {
    await app.close()
    const client = new MongoClient(mongoUri)
    await client.db(database).dropDatabase().finally(() => client.close())
    rmSync(scratch, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const uri = process.env.MONGODB_URI
  if (uri === undefined || uri === '') throw new Error('MONGODB_URI is not set: run `npm run openapi`, which provisions a server')
  writeFileSync(OPENAPI_PATH, await renderOpenapi(uri))
  process.stdout.write(`wrote ${OPENAPI_PATH}\n`)
}
