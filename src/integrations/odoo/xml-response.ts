/**
 * A fast reader for XML-RPC method responses. The `xmlrpc` package's SAX-based Deserializer costs ~50 ms per
 * page of 500 employees, which made a 100k-employee sync CPU-bound; this tokenizer reads the same documents
 * about 20× faster. It handles what Odoo sends (string incl. CDATA, int/i4, i8 as a string like the package, boolean,
 * double, nil, array, struct, fault) and returns `undefined` for anything else (base64, dateTime, attributes, odd markup),
 * in which case the caller falls back to the package's Deserializer so the semantics stay the package's.
 */

export type ParsedResponse = { ok: true, value: unknown } | { ok: false, fault: { faultCode?: unknown, faultString?: unknown } }

class Unsupported extends Error {}

const ENTITY = /&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g
function decode (text: string): string {
  if (!text.includes('&')) return text
  return text.replace(ENTITY, (_, e: string) => {
    switch (e) {
      case 'amp': return '&'
      case 'lt': return '<'
      case 'gt': return '>'
      case 'quot': return '"'
      case 'apos': return '\''
      default: return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10))
    }
  })
}

/** Bytes per decoded piece: well under V8's large-object size (128 KB) even for two-byte (non-Latin-1) text. */
const PIECE_BYTES = 16 * 1024
const LT_CODE = 0x3c

/**
 * An XML body decoded as a list of short strings, each starting at a `<` (a byte UTF-8 never uses inside a
 * multi-byte character). One string per page of 500 employees would be ~0.5 MB of two-byte text, which V8
 * allocates in large-object space, where it stays until the next full GC: at 200 pages a sync that holds
 * almost nothing grew the heap by ~150 MB. Short pieces are young objects that die in the next scavenge.
 */
export function xmlPieces (body: Buffer): string[] {
  const pieces: string[] = []
  let start = 0
  while (start < body.length) {
    let end = body.indexOf(LT_CODE, start + PIECE_BYTES)
    if (end === -1) end = body.length
    pieces.push(body.toString('utf8', start, end))
    start = end
  }
  return pieces
}

const GT_CODE = 0x3e
const SLASH = 0x2f
const QUESTION = 0x3f
const BANG = 0x21

function isNameStart (c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
}
/** `[A-Za-z0-9_.]` */
function isNameChar (c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e
}
function isSpace (c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
}

/** Element names of XML-RPC answers, by length: a tag's name is one of these, without a new string per tag. */
const KNOWN_NAMES = new Map<number, string[]>()
for (const known of ['methodResponse', 'params', 'param', 'value', 'string', 'int', 'i4', 'i8', 'boolean', 'double', 'array', 'data', 'struct', 'member', 'name', 'fault', 'nil']) {
  KNOWN_NAMES.set(known.length, [...(KNOWN_NAMES.get(known.length) ?? []), known])
}
function tagName (xml: string, start: number, end: number): string {
  for (const known of KNOWN_NAMES.get(end - start) ?? []) if (xml.startsWith(known, start)) return known
  return xml.slice(start, end)
}

/**
 * Parses a methodResponse given whole or as pieces that each start at a `<` (see `xmlPieces`); `undefined`
 * means "not handled here, use the reference parser".
 */
export function parseMethodResponse (body: string | string[]): ParsedResponse | undefined {
  // Tags (no `<` inside) and text runs (up to the next `<`) never cross a piece boundary, since each piece
  // starts at a `<`. A comment, declaration or CDATA section may hold a `<` and so be cut: it is then read
  // again joined with the next piece.
  const pieces = typeof body === 'string' ? [body] : body
  let piece = 0
  let xml = pieces[0] ?? ''
  let pos = 0
  let kind = 0 // 1 open, 2 close, 3 self-closing, 4 text, 5 CDATA
  let name = ''
  let text = ''
  // A function, not inline comparisons: TypeScript would otherwise keep narrowings across next().
  const at = (k: number, tag?: string): boolean => kind === k && (tag === undefined || name === tag)

  /** Continues the current piece with the next one; false at the last piece. */
  function joinNext (): boolean {
    if (piece + 1 >= pieces.length) return false
    xml = xml.slice(pos) + (pieces[++piece] as string)
    pos = 0
    return true
  }

  /**
   * The next token: tags without attributes and text runs; declarations and comments are skipped. A scanner
   * rather than a regular expression: a page of 500 employees has ~35,000 tokens, and a match array plus
   * captured substrings for each made the parse the sync's main source of garbage.
   */
  function next (): void {
    for (;;) {
      if (pos >= xml.length) {
        if (++piece >= pieces.length) throw new Unsupported('unexpected end')
        xml = pieces[piece] as string
        pos = 0
        continue
      }
      if (xml.charCodeAt(pos) !== LT_CODE) {
        let end = xml.indexOf('<', pos)
        if (end === -1) end = xml.length
        kind = 4
        text = xml.slice(pos, end)
        pos = end
        return
      }
      const second = xml.charCodeAt(pos + 1)
      if (second === QUESTION || second === BANG) {
        const [open, close] = second === QUESTION
          ? ['<?', '?>']
          : xml.startsWith('<!--', pos) ? ['<!--', '-->'] : xml.startsWith('<![CDATA[', pos) ? ['<![CDATA[', ']]>'] : ['', '']
        if (open === '') {
          // Too short to tell (cut at the piece end), or markup not handled.
          if (xml.length - pos < 9 && joinNext()) continue
          throw new Unsupported('markup not handled')
        }
        const end = xml.indexOf(close, pos + open.length)
        if (end === -1) {
          if (joinNext()) continue
          throw new Unsupported('unterminated markup')
        }
        const inner = pos + open.length
        pos = end + close.length
        if (open !== '<![CDATA[') continue // declaration or comment
        kind = 5 // CDATA: taken as is
        text = xml.slice(inner, end)
        return
      }
      let i = pos + 1
      const closing = second === SLASH
      if (closing) i++
      const nameStart = i
      if (!isNameStart(xml.charCodeAt(i))) {
        if (i >= xml.length && joinNext()) continue
        throw new Unsupported('markup not handled')
      }
      i++
      while (isNameChar(xml.charCodeAt(i))) i++
      const nameEnd = i
      while (isSpace(xml.charCodeAt(i))) i++
      const selfClosing = xml.charCodeAt(i) === SLASH
      if (selfClosing) i++
      if (xml.charCodeAt(i) !== GT_CODE) throw new Unsupported('markup not handled')
      name = tagName(xml, nameStart, nameEnd)
      kind = closing ? 2 : selfClosing ? 3 : 1
      pos = i + 1
      return
    }
  }
  /** Next tag, skipping whitespace between tags. */
  function nextTag (): void {
    next()
    while (at(4)) {
      if (text.trim() !== '') throw new Unsupported('text between tags')
      next()
    }
  }
  function expectOpen (tag: string): void {
    nextTag()
    if (!at(1, tag)) throw new Unsupported(`expected <${tag}>`)
  }
  function expectClose (tag: string): void {
    nextTag()
    if (!at(2, tag)) throw new Unsupported(`expected </${tag}>`)
  }
  /** Text (and CDATA sections) up to the closing tag; empty when the element closes at once. */
  function textUntil (tag: string): string {
    let value = ''
    for (;;) {
      next()
      if (at(2, tag)) return value
      if (at(4)) value += decode(text)
      else if (at(5)) value += text
      else throw new Unsupported(`expected text in <${tag}>`)
    }
  }

  /** Reads a value after its `<value>` open tag, including the closing `</value>`. */
  function value (): unknown {
    next()
    let leading = ''
    if (at(4)) {
      leading = text
      next()
    }
    if (at(2, 'value')) return decode(leading) // an untyped value is a string
    if (leading.trim() !== '') throw new Unsupported('mixed content')
    let result: unknown
    if (at(3)) {
      switch (name) {
        case 'string': result = ''; break
        case 'nil': result = null; break
        case 'array': result = []; break
        case 'struct': result = {}; break
        default: throw new Unsupported(`<${name}/>`)
      }
    } else if (at(1)) {
      switch (name) {
        case 'string': result = textUntil('string'); break
        case 'int':
        case 'i4': {
          const raw = textUntil(name).trim()
          if (!/^[+-]?\d+$/.test(raw)) throw new Unsupported('bad int')
          result = parseInt(raw, 10)
          break
        }
        case 'i8': result = textUntil('i8').trim(); break
        case 'boolean': {
          const raw = textUntil('boolean').trim()
          if (raw !== '0' && raw !== '1') throw new Unsupported('bad boolean')
          result = raw === '1'
          break
        }
        case 'double': {
          const raw = textUntil('double').trim()
          result = parseFloat(raw)
          if (Number.isNaN(result)) throw new Unsupported('bad double')
          break
        }
        case 'array': {
          const items: unknown[] = []
          nextTag()
          if (at(3, 'data')) {
            expectClose('array')
          } else {
            if (!at(1, 'data')) throw new Unsupported('expected <data>')
            for (;;) {
              nextTag()
              if (at(2, 'data')) break
              if (!at(1, 'value')) throw new Unsupported('expected <value>')
              items.push(value())
            }
            expectClose('array')
          }
          result = items
          break
        }
        case 'struct': {
          const members: Record<string, unknown> = {}
          for (;;) {
            nextTag()
            if (at(2, 'struct')) break
            if (!at(1, 'member')) throw new Unsupported('expected <member>')
            expectOpen('name')
            const key = textUntil('name')
            expectOpen('value')
            members[key] = value()
            expectClose('member')
          }
          result = members
          break
        }
        default: throw new Unsupported(`<${name}>`)
      }
    } else {
      throw new Unsupported('expected a type')
    }
    expectClose('value')
    return result
  }

  try {
    expectOpen('methodResponse')
    nextTag()
    if (at(1, 'fault')) {
      expectOpen('value')
      const fault = value() as { faultCode?: unknown, faultString?: unknown }
      expectClose('fault')
      expectClose('methodResponse')
      return { ok: false, fault }
    }
    if (!at(1, 'params')) return undefined
    expectOpen('param')
    expectOpen('value')
    const result = value()
    expectClose('param')
    expectClose('params')
    expectClose('methodResponse')
    return { ok: true, value: result }
  } catch (err) {
    if (err instanceof Unsupported) return undefined
    throw err
  }
}
