/** hr_clean.csv on disk: atomic, unchanged-aware streamed writes and streamed reads. */
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { createReadStream } from 'node:fs'
import { parse as parseStream } from 'csv-parse'
import { syncDirectory } from '../../integration.js'
import { CSV_COLUMNS, type CsvRow } from './mapping.js'

function tempPrefix (path: string): string {
  return `.${basename(path)}.`
}

export interface WriteOutcome {
  written: boolean
  hash: string
  previousHash: string | null
}

/** SHA-256 of a file's bytes, or null when it does not exist (read as a stream: no copy of a large file). */
export async function hashFile (path: string): Promise<string | null> {
  const hash = createHash('sha256')
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  return hash.digest('hex')
}

/** Rows of an existing CSV file kept by `keep`, parsed as a stream (a large file is never held whole). */
export async function readCsvFileRows (path: string, keep: (row: CsvRow) => boolean): Promise<CsvRow[] | null> {
  const rows: CsvRow[] = []
  let header = true
  let handle
  try {
    handle = await open(path, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  try {
    // 16 KiB reads (not the default 64): csv-parse handles each chunk in one synchronous go, and on a busy
    // 2-core host a 64 KiB chunk held the event loop for ~25 ms, which webhook answers waited behind.
    const parser = handle.createReadStream({ autoClose: false, highWaterMark: 16 * 1024 }).pipe(parseStream({ relax_column_count: false }))
    for await (const record of parser as AsyncIterable<string[]>) {
      if (header) {
        header = false
        if (record.join(',') !== CSV_COLUMNS.join(',')) throw new Error(`unexpected CSV header ${JSON.stringify(record.join(','))}`)
        continue
      }
      if (keep(record as CsvRow)) rows.push(record as CsvRow)
    }
  } finally {
    await handle.close()
  }
  return rows
}

/**
 * Streams a file into place atomically: `produce` writes chunks to a temp file in the same directory while
 * they are hashed; when the hash equals the current file's, the temp file is dropped and the file is left
 * untouched (its mtime too), otherwise it is fsynced and renamed over the target. A failure removes the temp
 * file. Memory stays bounded whatever the file size.
 */
export async function writeStreamIfChanged (path: string, produce: (write: (chunk: string) => Promise<void>) => Promise<void>): Promise<WriteOutcome> {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true })
  const prefix = tempPrefix(path)
  for (const name of await readdir(dir)) {
    if (name.startsWith(prefix) && name.endsWith('.tmp')) await rm(join(dir, name), { force: true })
  }
  const temp = join(dir, `${prefix}${randomBytes(6).toString('hex')}.tmp`)
  const handle = await open(temp, 'w', 0o644)
  const hash = createHash('sha256')
  // Chunks are kept as bytes (outside the JS heap, freed with their small Buffer objects) and written together
  // once a megabyte is pending: joining them into one string would put each megabyte in V8's large-object
  // space, where it lives until the next full GC.
  let pending: Buffer[] = []
  let pendingBytes = 0
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return
    const buffers = pending
    pending = []
    pendingBytes = 0
    await handle.writev(buffers)
  }
  let renamed = false
  try {
    await produce(async (chunk) => {
      const bytes = Buffer.from(chunk, 'utf8')
      hash.update(bytes)
      pending.push(bytes)
      pendingBytes += bytes.length
      if (pendingBytes >= 1 << 20) await flush()
    })
    await flush()
    const digest = hash.digest('hex')
    const previousHash = await hashFile(path)
    if (previousHash === digest) return { written: false, hash: digest, previousHash }
    await handle.sync()
    await handle.close()
    await rename(temp, path)
    renamed = true
    await syncDirectory(dir)
    return { written: true, hash: digest, previousHash }
  } finally {
    if (!renamed) {
      await handle.close().catch(() => {})
      await rm(temp, { force: true })
    }
  }
}
