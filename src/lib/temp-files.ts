import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { readdir, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'

/** Temp files of atomic writes start with this; folder scans skip dot files. */
export const TEMP_PREFIX = '.tmp-'

/** Another host's temp file this old is abandoned: an atomic write lives for milliseconds. */
const FOREIGN_TEMP_MAX_AGE_MS = 60 * 60_000

const host = hostname().replace(/[^\w.-]/g, '_')

/** `.tmp-<host>-<pid>-<random>`: names the writer, so a temp file left by a killed process can be recognised. */
export function tempFileName (): string {
  return `${TEMP_PREFIX}${host}-${process.pid}-${randomBytes(6).toString('hex')}`
}

function processAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Removes temp files whose writer is gone: on this host, one whose process no longer runs (killed mid-write);
 * from elsewhere (a shared folder) or of an older naming, one older than an hour. Returns how many it removed.
 */
export async function removeAbandonedTempFiles (dir: string, now = Date.now()): Promise<number> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return 0
  }
  let removed = 0
  for (const name of names.filter((n) => n.startsWith(TEMP_PREFIX))) {
    const match = new RegExp(`^${TEMP_PREFIX.replace('.', '\\.')}(.+)-(\\d+)-[0-9a-f]+$`).exec(name)
    const ours = match !== null && match[1] === host
    const abandoned = ours
      ? !processAlive(Number(match?.[2]))
      : await stat(join(dir, name)).then((s) => now - s.mtimeMs > FOREIGN_TEMP_MAX_AGE_MS, () => false)
    if (abandoned && await unlink(join(dir, name)).then(() => true, () => false)) removed++
  }
  return removed
}
