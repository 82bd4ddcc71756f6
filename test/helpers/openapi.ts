import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import type { LightMyRequestResponse } from 'fastify'
import { parse } from 'yaml'
import { ROOT } from './process.js'

interface Operation { responses: Record<string, { $ref?: string, content?: Record<string, { schema?: unknown }> }> }
interface Spec { paths: Record<string, Record<string, Operation>>, components: { responses: Record<string, Operation['responses'][string]> } }

export const spec = parse(readFileSync(`${ROOT}/openapi.yaml`, 'utf8')) as Spec

const ajv = new Ajv2020({ strict: false, allErrors: true })
addFormats.default(ajv)
ajv.addSchema({ ...spec, $id: 'openapi.yaml' })

/**
 * Checks a real response against openapi.yaml: the status code must be documented for the operation, and a
 * JSON body must match the documented schema. Returns the problems (empty when it conforms).
 */
export function specProblems (method: string, path: string, res: LightMyRequestResponse): string[] {
  const operation = spec.paths[path]?.[method.toLowerCase()]
  if (operation === undefined) return [`${method} ${path} is not documented`]
  let documented = operation.responses[String(res.statusCode)]
  if (documented === undefined) return [`${method} ${path} answered ${res.statusCode}, which is not documented (${Object.keys(operation.responses).join(', ')})`]
  if (documented.$ref !== undefined) documented = spec.components.responses[documented.$ref.split('/').pop() as string] ?? {}
  const contentType = String(res.headers['content-type'] ?? '').split(';')[0] ?? ''
  if (documented.content === undefined) return res.body === '' ? [] : [`${method} ${path} ${res.statusCode} has a body but none is documented`]
  const media = documented.content[contentType]
  if (media === undefined) return [`${method} ${path} ${res.statusCode} answered ${contentType}, documented: ${Object.keys(documented.content).join(', ')}`]
  if (contentType !== 'application/json' || media.schema === undefined) return []
  const validate = ajv.compile(resolveRefs(media.schema) as object)
  if (validate(res.json())) return []
  return (validate.errors ?? []).map((e) => `${method} ${path} ${res.statusCode}: ${e.instancePath || '(body)'} ${e.message ?? ''}`)
}

/** `#/components/...` references inside a schema point into the spec document registered above. */
function resolveRefs (schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema).replaceAll('"$ref":"#/', '"$ref":"openapi.yaml#/'))
}

/** Whether a body conforms to the schema openapi.yaml documents under `#/components/schemas/<name>`. */
export function documentedSchemaAccepts (name: string, body: unknown): boolean {
  return ajv.validate({ $ref: `openapi.yaml#/components/schemas/${name}` }, body)
}
