import type { FastifySchemaValidationError } from 'fastify'
import type { ErrorDetail } from './http-errors.js'

/** An Ajv error as Fastify hands it over; Ajv's `verbose` option adds the schemas. */
interface AjvError extends FastifySchemaValidationError {
  schemaPath: string
  parentSchema?: Record<string, unknown>
  schema?: unknown
}

type Schema = Record<string, unknown>

const PROPERTY_KEYWORDS = new Set(['required', 'dependentRequired', 'additionalProperties', 'discriminator'])

/**
 * Ajv's errors for one part of a request (`body`, `querystring`, `params`, `headers`) in the gateway's words:
 * each names its field and says what it must be, with the allowed values and limits as numbers. Body fields
 * are named by their path in the body (`from`, `events/3/employee_id`; the body as a whole is `body`), the other
 * parts with their name in front (`querystring/limit`).
 */
export function describeValidationErrors (errors: FastifySchemaValidationError[], context: string | undefined): ErrorDetail[] {
  const details: ErrorDetail[] = []
  for (const error of explainUnions((errors as AjvError[]).filter((e) => e.keyword !== 'if'))) {
    const detail = describeOne(error, context)
    if (!details.some((d) => d.field === detail.field && d.message === detail.message)) details.push(detail)
  }
  return details
}

/**
 * A failed `anyOf`/`oneOf` comes with the errors of every alternative. When the value has the type of only one
 * alternative and that one failed on a property inside it (`data/active`), its errors are the ones to tell;
 * otherwise one error says which alternatives there are ("must be a positive integer or a numeric string").
 */
function explainUnions (errors: AjvError[]): AjvError[] {
  let remaining = errors
  const unions = errors.filter((e) => (e.keyword === 'anyOf' || e.keyword === 'oneOf')).sort((a, b) => b.schemaPath.length - a.schemaPath.length)
  for (const union of unions) {
    if (!remaining.includes(union)) continue
    const prefix = `${union.schemaPath}/`
    // Items of an array share their schema paths: a branch error belongs to this union only at or below its value.
    const within = (path: string): boolean => path === union.instancePath || path.startsWith(`${union.instancePath}/`)
    const inside = remaining.filter((e) => e.schemaPath.startsWith(prefix) && within(e.instancePath))
    const branchOf = (e: AjvError): string => e.schemaPath.slice(prefix.length).split('/')[0] ?? ''
    const branches = [...new Set(inside.map(branchOf))]
    const typeMatched = branches.filter((b) => !inside.some((e) => branchOf(e) === b && e.keyword === 'type' && e.instancePath === union.instancePath && e.schemaPath === `${prefix}${b}/type`))
    const matched = typeMatched.length === 1 ? inside.filter((e) => branchOf(e) === typeMatched[0]) : []
    const deeper = matched.length > 0 && matched.every((e) => e.instancePath.length > union.instancePath.length || PROPERTY_KEYWORDS.has(e.keyword))
    remaining = remaining.filter((e) => !inside.includes(e) || (deeper && matched.includes(e)))
    if (deeper) remaining = remaining.filter((e) => e !== union)
  }
  return remaining
}

/** One validation failure in the gateway's words: the field it concerns, and what it must be (with numbers). */
function describeOne (v: AjvError, context: string | undefined): ErrorDetail {
  const params = v.params as Record<string, unknown>
  const segments = v.instancePath.split('/').filter(Boolean).map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
  const field = (extra?: unknown): string => {
    const path = [...segments, ...(typeof extra === 'string' ? [extra] : [])]
    if (context === 'body' || context === undefined) return path.length === 0 ? 'body' : path.join('/')
    return [context, ...path].join('/')
  }
  const parent = v.parentSchema ?? {}
  switch (v.keyword) {
    case 'required':
      return { field: field(params.missingProperty), message: 'is required' }
    case 'dependentRequired':
      return { field: field(params.missingProperty), message: `is required when ${String(params.property)} is given` }
    case 'additionalProperties': {
      const allowed = Object.keys((parent.properties as object | undefined) ?? {})
      const none = segments.length > 0 ? 'this object takes no fields' : `the ${context ?? 'body'} takes no fields`
      return { field: field(params.additionalProperty), message: `is not allowed (${allowed.length > 0 ? `allowed: ${allowed.join(', ')}` : none})` }
    }
    case 'discriminator': {
      const tag = String(params.tag)
      if (params.tagValue === undefined) return { field: field(tag), message: 'is required' }
      return { field: field(tag), message: `must be one of ${list(discriminatorValues(parent, tag))}` }
    }
    case 'enum':
      return { field: field(), message: `must be one of ${list(params.allowedValues as unknown[])}` }
    case 'const':
      return { field: field(), message: `must be ${JSON.stringify(params.allowedValue)}` }
    case 'anyOf': case 'oneOf': {
      const alternatives = ((parent[v.keyword] as Schema[] | undefined) ?? []).map(phrase)
      return { field: field(), message: `must be ${alternatives.length > 0 ? words(alternatives) : 'valid'}` }
    }
    case 'minimum':
      return { field: field(), message: `must be at least ${String(params.limit)}` }
    case 'maximum':
      return { field: field(), message: `must be at most ${String(params.limit)}` }
    case 'exclusiveMinimum':
      return { field: field(), message: `must be more than ${String(params.limit)}` }
    case 'exclusiveMaximum':
      return { field: field(), message: `must be less than ${String(params.limit)}` }
    case 'minLength':
      return { field: field(), message: `must be at least ${String(params.limit)} characters long` }
    case 'maxLength':
      return { field: field(), message: `must be at most ${String(params.limit)} characters long` }
    case 'minItems':
      return { field: field(), message: `must hold at least ${items(params.limit)}` }
    case 'maxItems':
      return { field: field(), message: `must hold at most ${items(params.limit)}` }
    case 'type':
      return { field: field(), message: `must be ${typeWords(params.type)}` }
    case 'format':
      return { field: field(), message: `must be ${FORMATS[String(params.format)] ?? `a valid ${String(params.format)}`}` }
    case 'pattern':
      return { field: field(), message: typeof parent.title === 'string' ? `must be ${parent.title}` : `must match ${String(params.pattern)}` }
    default:
      return { field: field(), message: v.message ?? 'is invalid' }
  }
}

const FORMATS: Record<string, string> = {
  date: 'a date (YYYY-MM-DD)',
  'date-time': 'a date-time (RFC 3339, e.g. 2026-04-01T06:00:00Z)'
}

function list (values: unknown[]): string {
  return values.map((x) => JSON.stringify(x)).join(', ')
}

/** `a, b or c` */
function words (parts: string[]): string {
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1] as string}`
}

function items (limit: unknown): string {
  return `${String(limit)} item${limit === 1 ? '' : 's'}`
}

function typeWords (type: unknown): string {
  const types = Array.isArray(type) ? type.map(String) : String(type).split(',')
  return words(types.map((t) => t === 'null' ? 'null' : t === 'integer' || t === 'object' || t === 'array' ? `an ${t}` : `a ${t}`))
}

/** What an alternative of a union accepts, as a phrase: its `title` when it has one. */
function phrase (schema: Schema): string {
  if (typeof schema.title === 'string') return schema.title
  if ('const' in schema) return JSON.stringify(schema.const)
  if (Array.isArray(schema.enum)) return `one of ${list(schema.enum)}`
  if (schema.type !== undefined) {
    const base = typeWords(schema.type)
    if (typeof schema.format === 'string' && FORMATS[schema.format] !== undefined) return FORMATS[schema.format] as string
    return base
  }
  return 'a valid value'
}

/** The values a discriminated union's tag may take, from the `const` or `enum` of each alternative. */
function discriminatorValues (parent: Schema, tag: string): unknown[] {
  const values: unknown[] = []
  for (const branch of (parent.oneOf as Schema[] | undefined) ?? []) {
    const property = (branch.properties as Record<string, Schema> | undefined)?.[tag]
    if (property === undefined) continue
    if ('const' in property) values.push(property.const)
    if (Array.isArray(property.enum)) values.push(...(property.enum as unknown[]))
  }
  return values
}
