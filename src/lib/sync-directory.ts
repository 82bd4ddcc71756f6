import { open } from 'node:fs/promises'

/** Errors of platforms that cannot open or flush a folder (a rename into it is still atomic there). */
const UNSUPPORTED = new Set(['EISDIR', 'EPERM', 'EINVAL', 'ENOTSUP', 'EBADF'])

/**
 * fsyncs a folder so that the renames and new names in it survive a power cut: the last step of every atomic
 * file write (temp file, fsync, rename, this). Best effort where the platform refuses it; other errors throw.
 */
export async function syncDirectory (dir: string): Promise<void> {
  let handle
  try {
    handle = await open(dir, 'r')
  } catch (err) {
    if (UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) return
    throw err
  }
  try {
    await handle.sync()
  } catch (err) {
    if (!UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) throw err
  } finally {
    await handle.close()
  }
}
