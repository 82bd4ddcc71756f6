import { stat } from 'node:fs/promises'
import { join } from 'node:path'

const pad = (n: number): string => String(n).padStart(2, '0')

export async function exists (path: string): Promise<boolean> {
  try { await stat(path); return true } catch { return false }
}

/** A name in `dir` not taken yet: the given one, or with a `_YYYYMMDD_HHMMSS[_n]` suffix before the extension. */
export async function freeName (dir: string, name: string, now: Date): Promise<string> {
  if (!(await exists(join(dir, name)))) return name
  const dot = name.lastIndexOf('.')
  const stem = dot > 0 ? name.slice(0, dot) : name
  const ext = dot > 0 ? name.slice(dot) : ''
  const stamp = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}_${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`
  for (let n = 0; ; n++) {
    const candidate = `${stem}_${stamp}${n === 0 ? '' : `_${n}`}${ext}`
    if (!(await exists(join(dir, candidate)))) return candidate
  }
}
