import { MongoClient } from 'mongodb'

/**
 * The MongoDB-wire server a benchmark ran against, for its JSON line: what the server says of itself, plus
 * FerretDB's storage when `with-mongo` provisioned it (MONGODB_SERVER, e.g. "FerretDB on PostgreSQL 15.18 (…)").
 */
export async function describeServer (uri: string): Promise<string> {
  const client = new MongoClient(uri)
  try {
    const info = await client.db('admin').command({ buildInfo: 1 })
    if (typeof info.ferretdbVersion !== 'string') return `MongoDB ${String(info.version)}`
    const storage = /^FerretDB on ([^(]+?)\s*(\(|$)/.exec(process.env.MONGODB_SERVER ?? '')?.[1]
    return `FerretDB ${info.ferretdbVersion}${storage === undefined ? '' : ` on ${storage}`}`
  } finally {
    await client.close()
  }
}
