/**
 * Log redaction: the value of a secret-named field becomes the censor, in a log line's object and in a child
 * logger's bindings, at the top and two levels down. pino's `redact` option did this with wildcard paths, which
 * ran its redactor over every binding of every request's child logger, strings included (~20 µs a request);
 * this looks only at objects, one Set lookup per key.
 */

/** How deep secrets are looked for: the line's own fields (1) and two levels below them. */
const DEPTH = 3

/** Only containers a log line is made of are walked; Buffers, Dates, driver objects and the like are not. */
function walkable (value: object): boolean {
  if (Array.isArray(value) || value instanceof Error) return true
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/** A shallow copy that keeps what a serializer reads: an Error stays an Error with its message and stack. */
function shallowCopy (value: object): Record<string, unknown> {
  if (Array.isArray(value)) return [...value] as unknown as Record<string, unknown>
  const copy = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>
  return Object.defineProperties(copy, Object.getOwnPropertyDescriptors(value))
}

export function createRedactor (secretFields: Iterable<string>, censor: string): <T>(value: T) => T {
  const secret = new Set(secretFields)
  function redact (value: unknown, depth: number): unknown {
    if (depth === 0 || value === null || typeof value !== 'object' || !walkable(value)) return value
    let copy: Record<string, unknown> | null = null
    for (const key of Object.keys(value)) {
      const inner = (value as Record<string, unknown>)[key]
      const next = secret.has(key) && inner !== undefined ? censor : redact(inner, depth - 1)
      if (next === inner) continue
      // Copied on the first change only: the caller's object is never modified.
      copy ??= shallowCopy(value)
      Object.defineProperty(copy, key, { value: next, enumerable: true, writable: true, configurable: true })
    }
    return copy ?? value
  }
  return <T>(value: T): T => redact(value, DEPTH) as T
}
