/**
 * XML-RPC method calls, written directly. The `xmlrpc` package's Serializer builds an element tree for every
 * value (xmlbuilder): about 1 ms for the call that reads one page of 500 employees, a tenth of the gateway's
 * work per page. The calls the gateway makes hold strings, numbers, booleans, null, arrays and plain objects;
 * anything else (a Date, a Buffer, a value the package would refuse) is left to the package (`undefined`).
 * test/odoo/xml-request.unit.test.ts checks that the package reads these calls as it reads its own.
 */

class Unsupported extends Error {}

// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/
const SPECIAL = /[&<>\r]/g
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' }

function text (value: string): string {
  // Characters XML 1.0 cannot carry: the package refuses them too (with its own error).
  if (NOT_XML.test(value)) throw new Unsupported('not XML text')
  return value.replace(SPECIAL, (c) => ESCAPES[c] as string)
}

function isPlainObject (value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

function value (v: unknown, out: string[], depth: number): void {
  if (depth > 64) throw new Unsupported('too deep')
  switch (typeof v) {
    case 'string': out.push(v === '' ? '<value><string/></value>' : `<value><string>${text(v)}</string></value>`); return
    case 'boolean': out.push(`<value><boolean>${v ? 1 : 0}</boolean></value>`); return
    case 'number':
      if (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v))) throw new Unsupported('not a plain number')
      out.push(Number.isInteger(v) ? `<value><int>${v}</int></value>` : `<value><double>${v}</double></value>`)
      return
    case 'object':
      if (v === null) { out.push('<value><nil/></value>'); return }
      if (Array.isArray(v)) {
        out.push('<value><array><data>')
        for (const item of v) value(item, out, depth + 1)
        out.push('</data></array></value>')
        return
      }
      if (!isPlainObject(v)) throw new Unsupported('not a plain object')
      out.push('<value><struct>')
      for (const [key, member] of Object.entries(v)) {
        out.push(`<member><name>${text(key)}</name>`)
        value(member, out, depth + 1)
        out.push('</member>')
      }
      out.push('</struct></value>')
      return
    default: throw new Unsupported(typeof v)
  }
}

/** The call's XML; `undefined` for anything this writer leaves to the package's Serializer. */
export function serializeMethodCall (method: string, params: unknown[]): string | undefined {
  try {
    const out = [`<?xml version="1.0"?><methodCall><methodName>${text(method)}</methodName><params>`]
    for (const param of params) {
      out.push('<param>')
      value(param, out, 0)
      out.push('</param>')
    }
    out.push('</params></methodCall>')
    return out.join('')
  } catch (err) {
    if (err instanceof Unsupported) return undefined
    throw err
  }
}
