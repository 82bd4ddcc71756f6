import { stat } from 'node:fs/promises'
import { join } from 'node:path'

const pad = (n: number): string => String(n).padStart(2, '0')

export async function exists (path: string): Promise<boolean> {
  try { await stat(path); return true } catch { return false }
}

/**
 * A name in `dir` not taken yet: the given one, or with a `_YYYYMMDD_HHMMSS[_n]` suffix before the extension.
 * `alsoFree` names companions that must be free too (a file's `.error.json` report).
 */
export async function freeName (dir: string, name: string, now: Date, alsoFree: (candidate: string) => string[] = () => []): Promise<string> {
  const free = async (candidate: string): Promise<boolean> => {
    for (const n of [candidate, ...alsoFree(candidate)]) if (await exists(join(dir, n))) return false
    return true
  }
  if (await free(name)) return name
  const dot = name.lastIndexOf('.')
  const stem = dot > 0 ? name.slice(0, dot) : name
  const ext = dot > 0 ? name.slice(dot) : ''
  const stamp = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}_${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`
  for (let n = 0; ; n++) {
    const candidate = `${stem}_${stamp}${n === 0 ? '' : `_${n}`}${ext}`
    if (await free(candidate)) return candidate
  }
}
