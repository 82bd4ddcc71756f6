import { unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { DAY_MS, syncDirectory, type Logger } from '../../integration.js'
import type { BoboStore } from './store.js'

/**
 * Job bobo.purge-processed: the original's PROCESSED_FILES_PURGE_DAYS. Files processed more than `days` ago are
 * deleted from the processed folder with their records, and processing-log entries older than that go too.
 * Failed files are kept: they wait for a person. Records are deleted before their files, so a crash in
 * between leaves at most an unlisted file, never a record whose name a newer file has taken since.
 */
export function createProcessedRetention (deps: { store: BoboStore, processedDir: string, days: number, now: () => Date }) {
  async function run (ctx: { log: Logger }) {
    const cutoff = new Date(deps.now().getTime() - deps.days * DAY_MS)
    const old = await deps.store.files.find({ status: 'processed', updatedAt: { $lt: cutoff } }).toArray()
    let filesDeleted = 0
    for (let i = 0; i < old.length; i += 1000) {
      const slice = old.slice(i, i + 1000)
      await deps.store.files.deleteMany({ _id: { $in: slice.map((r) => r._id) } })
      for (const record of slice) {
        try {
          await unlink(join(deps.processedDir, record.name))
          filesDeleted++
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
        }
      }
    }
    if (filesDeleted > 0) await syncDirectory(deps.processedDir)
    const logEntries = (await deps.store.log.deleteMany({ at: { $lt: cutoff } })).deletedCount
    ctx.log.info({ records: old.length, filesDeleted, logEntries, cutoff }, 'bobo processed files purged')
    return { cutoff: cutoff.toISOString(), records: old.length, filesDeleted, logEntries }
  }
  return { run }
}
