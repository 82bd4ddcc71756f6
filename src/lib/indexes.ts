import type { Collection, Document, IndexSpecification, CreateIndexesOptions } from 'mongodb'

export interface IndexSpec {
  key: IndexSpecification
  name: string
  options?: Omit<CreateIndexesOptions, 'name'>
}

/**
 * Creates the indexes a collection lacks, one at a time. Asking FerretDB 1.24 to create several indexes that
 * already exist in one command drops the connection, so existing ones are skipped by name.
 */
export async function ensureIndexes<T extends Document> (collection: Collection<T>, specs: IndexSpec[]): Promise<void> {
  const existing = new Set<string>()
  try {
    for (const index of await collection.listIndexes().toArray()) existing.add(String(index.name))
  } catch (err) {
    // A collection that does not exist yet has no indexes (NamespaceNotFound).
    if ((err as { code?: number }).code !== 26) throw err
  }
  for (const spec of specs) {
    if (existing.has(spec.name)) continue
    await collection.createIndex(spec.key, { ...spec.options, name: spec.name })
  }
}
