import { createRequire } from 'node:module'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { parseMethodResponse } from '../../src/integrations/odoo/xml-response.js'

const require = createRequire(import.meta.url)
const Deserializer = require('xmlrpc/lib/deserializer.js') as new () => { deserializeMethodResponse: (s: NodeJS.ReadableStream, cb: (err: { faultCode?: unknown, faultString?: unknown } | null | undefined, value?: unknown) => void) => void }
const Serializer = require('xmlrpc/lib/serializer.js') as { serializeMethodResponse: (v: unknown) => string, serializeFault: (f: unknown) => string }

/** What the xmlrpc package itself makes of a document: the reference the fast reader must match. */
function reference (xml: string): Promise<unknown> {
  return new Promise((resolve) => {
    const stream = new PassThrough()
    new Deserializer().deserializeMethodResponse(stream, (err, value) => {
      resolve(err ? { ok: false, fault: { faultCode: err.faultCode, faultString: err.faultString } } : { ok: true, value })
    })
    stream.end(xml)
  })
}

const values: unknown[] = [
  [{ id: 12, name: 'Ada & "Bob" <Lovelace>', work_email: false, department_id: [5, 'Engineering / Data'], active: true }],
  { server_version: '17.0', server_version_info: [17, 0, 0, 'final', 0], protocol_version: 1 },
  [], {}, '', 'José 李 ✓ emoji 😀', 7, -3, 1.5, false, true,
  ['line 1\nline 2', '  spaced  ', 'tab\there', 'apos\'s']
]

t.test('the fast reader returns exactly what the xmlrpc package returns', async (t) => {
  for (const value of values) {
    const xml = Serializer.serializeMethodResponse(value)
    t.same(parseMethodResponse(xml), await reference(xml), JSON.stringify(value))
  }
  const fault = Serializer.serializeFault({ faultCode: 3, faultString: 'Access Denied' })
  t.same(parseMethodResponse(fault), await reference(fault), 'fault')
})

t.test('hand-written documents: untyped strings, i8, nil, entities, self-closing tags, whitespace', async (t) => {
  const docs = [
    '<?xml version="1.0"?>\n<methodResponse>\n  <params>\n    <param>\n      <value>plain text</value>\n    </param>\n  </params>\n</methodResponse>\n',
    '<methodResponse><params><param><value><i8>9007199254740993</i8></value></param></params></methodResponse>',
    '<methodResponse><params><param><value><array><data><value><i4>4</i4></value><value><string/></value><value><string></string></value></data></array></value></param></params></methodResponse>',
    '<methodResponse><params><param><value><string>&#233;&#x4E2D;&amp;&lt;&gt;&quot;&apos;</string></value></param></params></methodResponse>',
    '<methodResponse><params><param><value><array><data/></array></value></param></params></methodResponse>',
    '<methodResponse><params><param><value><struct><member><name>a</name><value><boolean>0</boolean></value></member></struct></value></param></params></methodResponse>',
    '<?xml version="1.0" encoding="UTF-8"?><!-- a <comment> --><methodResponse ><params>\r\n<param><value ><string>x</string ></value></param></params></methodResponse>',
    '<methodResponse><params><param><value><struct><member><name>key.with_dots9</name><value><double>-0.5</double></value></member></struct></value></param></params></methodResponse>'
  ]
  for (const xml of docs) t.same(parseMethodResponse(xml), await reference(xml), xml.slice(0, 80))
})

t.test('anything unusual is left to the package (undefined)', async (t) => {
  t.equal(parseMethodResponse('<methodResponse><params><param><value><base64>aGk=</base64></value></param></params></methodResponse>'), undefined)
  t.equal(parseMethodResponse('<methodResponse><params><param><value><dateTime.iso8601>20260101T00:00:00</dateTime.iso8601></value></param></params></methodResponse>'), undefined)
  t.equal(parseMethodResponse('<methodResponse><params><param><value><![CDATA[x]]></value></param></params></methodResponse>'), undefined, 'an untyped CDATA value')
  t.equal(parseMethodResponse('<html><title>502</title></html>'), undefined)
  t.equal(parseMethodResponse('<methodResponse><params><param><value><int>12'), undefined, 'a truncated body')
  t.equal(parseMethodResponse('<methodResponse><params><param><value><string lang="en">x</string></value></param></params></methodResponse>'), undefined, 'an attribute')
  t.equal(parseMethodResponse('<methodResponse><params><param><value><!DOCTYPE x></value></param></params></methodResponse>'), undefined, 'a doctype')
  t.equal(parseMethodResponse('<methodResponse><params><param><value>< string>x</string></value></param></params></methodResponse>'), undefined, 'a stray <')
  t.equal(parseMethodResponse('<methodResponse><!-- unterminated'), undefined, 'an unterminated comment')
})

t.test('a large answer read from its bytes gives what the package gives, multi-byte characters intact', async (t) => {
  const names = ['José 李 ✓ 😀', 'Ada & "Bob" <Lovelace>', 'plain', 'Ольга Иванова']
  const page = Array.from({ length: 2000 }, (_, i) => ({ id: i + 1, name: `${names[i % names.length] as string} ${i}`, work_email: i % 7 === 0 ? false : `u${i}@example.com`, department_id: [i % 5, 'R&D, Labs'], active: i % 3 !== 0 }))
  const xml = Serializer.serializeMethodResponse(page)
  t.same(parseMethodResponse(Buffer.from(xml, 'utf8')), await reference(xml))
})

t.test('struct keys are read per record: a record whose keys differ from the one before is read as it is', async (t) => {
  const records = [{ id: 1, name: 'a' }, { id: 2, nom: 'b' }, { ident: 3, name: 'c' }, { id: 4, name: 'd', extra: true }, { 'id ': 5 }, { 'i&d': 6, ключ: 7 }, { id: 8 }]
  const xml = Serializer.serializeMethodResponse(records)
  t.same(parseMethodResponse(xml), await reference(xml))
  const python = xml.replace(/(<\/member>|<member>|<\/name>|<struct>|<data>)/g, '$1\n')
  t.same(parseMethodResponse(python), await reference(python), 'with Python\'s line breaks between tags')
})

t.test('numbers and booleans written with spaces or signs: read as the package reads them, or left to it', async (t) => {
  const docs = ['<int> 12 </int>', '<int>+7</int>', '<int>-0</int>', '<i4>0012</i4>', '<boolean> 1 </boolean>', '<boolean>1</boolean>',
    '<int>1234567890123456</int>', '<int>12x</int>']
  for (const inner of docs) {
    const xml = `<methodResponse><params><param><value>${inner}</value></param></params></methodResponse>`
    t.same(parseMethodResponse(xml) ?? await reference(xml), await reference(xml), inner)
  }
})

t.test('a CDATA section or comment holding `<` is read whole', async (t) => {
  const cdata = `<methodResponse><params><param><value><array><data><value><string>x</string></value><value><string><![CDATA[a ${'<b> '.repeat(10_000)}]]></string></value></data></array></value></param></params></methodResponse>`
  t.same(parseMethodResponse(cdata), await reference(cdata), 'CDATA')
  const comment = `<methodResponse><!-- ${'<x> '.repeat(10_000)} --><params><param><value><int>1</int></value></param></params></methodResponse>`
  t.same(parseMethodResponse(comment), await reference(comment), 'comment')
  const attribute = '<methodResponse><params><param><value><array><data><value><string lang="x">a</string></value></data></array></value></param></params></methodResponse>'
  t.equal(parseMethodResponse(attribute), undefined, 'markup it does not handle is still left to the package')
})

t.test('an answer cut anywhere is left to the package, never an exception', async (t) => {
  const xml = '<?xml version="1.0"?><!-- c --><methodResponse><params><param><value><array><data><value><string><![CDATA[x]]></string></value>' +
    '<value><struct><member><name>a</name><value><boolean>1</boolean></value></member></struct></value></data></array></value></param></params></methodResponse>'
  t.ok(parseMethodResponse(xml)?.ok, 'whole, it is read')
  for (let end = 0; end < xml.length; end++) t.equal(parseMethodResponse(xml.slice(0, end)), undefined, `cut at ${end}`)
})
