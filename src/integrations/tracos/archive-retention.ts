import { lstat, readdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import pLimit from 'p-limit'
import { DAY_MS, syncDirectory, type Logger } from '../../integration.js'

export interface ArchivePruneResult {
  cutoff: string
  scanned: number
  deleted: number
}

/**
 * Job tracos.prune-archive: imported inbound files kept in the archive folder longer than `days` are deleted,
 * so the folder does not grow with every file the client ever sent (their orders live on in TracOS). A file's
 * age counts from its inode change time, which the move into the archive sets (its mtime is the client's).
 * Rejected files are never pruned: they wait for a person.
 */
export function createArchiveRetention (deps: { archiveDir: string, days: number, concurrency: number, now?: () => Date }) {
  const now = deps.now ?? (() => new Date())

  async function run (ctx: { log: Logger, signal?: AbortSignal }): Promise<ArchivePruneResult> {
    const cutoff = new Date(now().getTime() - deps.days * DAY_MS)
    let names: string[]
    try {
      names = (await readdir(deps.archiveDir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      names = []
    }
    const limit = pLimit(deps.concurrency)
    let deleted = 0
    await Promise.all(names.map((name) => limit(async () => {
      ctx.signal?.throwIfAborted()
      const path = join(deps.archiveDir, name)
      try {
        if ((await lstat(path)).ctime >= cutoff) return
        await unlink(path)
        deleted++
      } catch (err) {
        // Gone meanwhile (a person tidying up): nothing left to do for it.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
    })))
    if (deleted > 0) await syncDirectory(deps.archiveDir)
    ctx.log.info({ cutoff, scanned: names.length, deleted }, 'tracos archive pruned')
    return { cutoff: cutoff.toISOString(), scanned: names.length, deleted }
  }

  return { run }
}
