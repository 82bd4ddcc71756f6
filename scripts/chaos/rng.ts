/** Seeded pseudo-random numbers for the chaos run: one independent stream per purpose (kills, load). */

/** mulberry32: small, fast, good enough to spread kill moments and pick load. */
function mulberry32 (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** FNV-1a of the seed and a stream name, so `kills` and `load` never share numbers. */
function streamSeed (seed: number, stream: string): number {
  let h = 0x811c9dc5
  for (const ch of `${seed}:${stream}`) {
    h ^= ch.charCodeAt(0)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}

export class Rng {
  private readonly next: () => number
  constructor (seed: number, stream: string) {
    this.next = mulberry32(streamSeed(seed, stream))
  }

  float (): number { return this.next() }
  /** An integer in [lo, hi]. */
  int (lo: number, hi: number): number { return lo + Math.floor(this.next() * (hi - lo + 1)) }
  chance (p: number): boolean { return this.next() < p }
  pick<T> (items: readonly T[]): T { return items[Math.floor(this.next() * items.length)] as T }
  /** Exponential with the given mean, clamped. */
  exp (mean: number, min: number, max: number): number {
    return Math.min(max, Math.max(min, Math.round(-Math.log(1 - this.next()) * mean)))
  }

  /** Picks a key by weight. */
  weighted<K extends string> (weights: Record<K, number>): K {
    const entries = Object.entries(weights) as Array<[K, number]>
    const total = entries.reduce((sum, [, w]) => sum + w, 0)
    let x = this.next() * total
    for (const [key, w] of entries) {
      if (x < w) return key
      x -= w
    }
    return (entries[entries.length - 1] as [K, number])[0]
  }
}
