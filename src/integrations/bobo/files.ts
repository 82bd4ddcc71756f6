import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { copyFile, link, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { exists, syncDirectory, tempFileName } from '../../integration.js'

/** Writes a file atomically: temp file in the same folder, fsync, rename, fsync the folder. Never overwrites. */
export async function writeFileAtomic (path: string, data: Buffer | string): Promise<void> {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true })
  const temp = join(dir, tempFileName())
  const handle = await open(temp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o640)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    // link() fails with EEXIST instead of replacing: an existing file is never overwritten.
    await link(temp, path)
  } finally {
    await unlink(temp).catch(() => {})
  }
  await syncDirectory(dir)
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')

/** `BOBO_YYYYMMDD_HHMMSS_<random>.csv` (UTC): sortable by arrival, unique, never derived from a client's name. */
export function generatedFileName (now: Date): string {
  const d = now
  return `BOBO_${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}_${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}${pad(d.getUTCMilliseconds(), 3)}_${randomBytes(5).toString('hex')}.csv`
}

/**
 * The name of a file uploaded with an Idempotency-Key: derived from the key, so the same upload sent again after
 * a crash finds the file its first attempt wrote. `BOBO_KEY_<32 hex>_<index>.csv`.
 */
export function keyedFileName (keyHash: string, index: number): string {
  return `BOBO_KEY_${keyHash}_${index}.csv`
}

/** The record id of a keyed upload's file, from its name (null for any other name): both the intake and the drop scan use it. */
export function keyedRecordId (name: string): string | null {
  const match = /^BOBO_KEY_([0-9a-f]{32})_(\d+)\.csv$/.exec(name)
  return match === null ? null : `upload-${match[1] as string}-${match[2] as string}`
}

export interface FolderEntry { name: string, size: number, mtimeMs: number }

/** Regular files in a folder (temp files and hidden files skipped); an absent folder is empty. */
export async function listFolder (dir: string): Promise<FolderEntry[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const entries: FolderEntry[] = []
  for (const name of names) {
    if (name.startsWith('.')) continue
    try {
      const s = await stat(join(dir, name))
      if (s.isFile()) entries.push({ name, size: s.size, mtimeMs: s.mtimeMs })
    } catch { /* gone meanwhile */ }
  }
  return entries
}

/**
 * Moves a file so that a crash at any point leaves it in exactly one of the two places (or both, while a
 * cross-device copy is in flight, which the next attempt repairs). Idempotent: a move already done is a no-op.
 */
export async function moveFile (from: string, to: string, options: { syncDirs?: boolean } = {}): Promise<'moved' | 'already' | 'missing'> {
  const source = await exists(from)
  if (!source) return (await exists(to)) ? 'already' : 'missing'
  await mkdir(dirname(to), { recursive: true })
  try {
    await rename(from, to)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err
    const temp = join(dirname(to), tempFileName())
    await copyFile(from, temp)
    const handle = await open(temp, 'r+')
    try { await handle.sync() } finally { await handle.close() }
    await rename(temp, to)
    await syncDirectory(dirname(to))
    await unlink(from)
  }
  if (options.syncDirs !== false) {
    await syncDirectory(dirname(to))
    await syncDirectory(dirname(from))
  }
  return 'moved'
}
