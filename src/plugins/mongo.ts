import fp from 'fastify-plugin'
import { MongoClient, type Db } from 'mongodb'
import { createRequestStorage, type RequestStorage } from '../lib/storage-deadline.js'

declare module 'fastify' {
  interface FastifyInstance {
    mongo: { client: MongoClient, db: Db }
    /** Storage steps on request paths: 503 with Retry-After instead of waiting on a busy or absent MongoDB. */
    storage: RequestStorage
  }
}

/**
 * Whether the driver sees a server it can use, from its topology events: false as soon as an operation or a
 * heartbeat finds the server gone, true again when a heartbeat reaches it (every 500 ms while it is away).
 */
function trackReachability (client: MongoClient): () => boolean {
  let reachable = true
  client.on('topologyDescriptionChanged', (event) => {
    reachable = [...event.newDescription.servers.values()].some((server) => server.type !== 'Unknown')
  })
  return () => reachable
}

/** How long a MongoDB operation waits for a reachable server before it fails (the driver's server selection). */
export const MONGO_SERVER_SELECTION_TIMEOUT_MS = 10_000

/** Connects before anything else starts, so a wrong URI stops start-up with a clear message. */
export async function connectMongo (uri: string, dbName: string): Promise<{ client: MongoClient, db: Db }> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: MONGO_SERVER_SELECTION_TIMEOUT_MS, appName: 'integration-gateway' })
  try {
    await client.connect()
    const db = client.db(dbName)
    await db.command({ ping: 1 })
    return { client, db }
  } catch (err) {
    await client.close().catch(() => {})
    const reason = err instanceof Error ? err.message : String(err)
    throw new Error(`cannot use MongoDB at ${redactUri(uri)} (database ${dbName}): ${reason}`, { cause: err })
  }
}

/** The URI without its password, for messages and logs. */
export function redactUri (uri: string): string {
  return uri.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@')
}

export default fp(async (app) => {
  const mongo = await connectMongo(app.config.MONGODB_URI, app.config.MONGODB_DB)
  app.decorate('mongo', mongo)
  app.decorate('storage', createRequestStorage(app.config.STORAGE_REQUEST_TIMEOUT_MS, trackReachability(mongo.client)))
  // Registered first, so this hook runs last on close: everything else can still write while shutting down.
  app.addHook('onClose', async () => { await mongo.client.close() })
}, { name: 'mongo', dependencies: ['config'] })
