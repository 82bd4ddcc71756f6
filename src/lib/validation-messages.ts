import type { FastifySchemaValidationError } from 'fastify'
import type { ErrorDetail } from './http-errors.js'

/** One validation failure in the gateway's words: the field it concerns, and what it must be (with numbers). */
export function describeValidation (v: FastifySchemaValidationError, context: string | undefined): ErrorDetail {
  const params = v.params as Record<string, unknown>
  const path = [context, ...v.instancePath.split('/').filter(Boolean)]
  const field = (extra?: unknown): string => [...path, ...(typeof extra === 'string' ? [extra] : [])].filter(Boolean).join('/')
  switch (v.keyword) {
    case 'required':
      return { field: field(params.missingProperty), message: 'is required' }
    case 'additionalProperties': {
      const parent = (v as { parentSchema?: { properties?: object } }).parentSchema
      const allowed = Object.keys(parent?.properties ?? {})
      return { field: field(params.additionalProperty), message: `is not allowed${allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ''}` }
    }
    case 'enum':
      return { field: field(), message: `must be one of ${(params.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}` }
    case 'const':
      return { field: field(), message: `must be ${JSON.stringify(params.allowedValue)}` }
    case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum':
      return { field: field(), message: `must be ${String(params.comparison)} ${String(params.limit)}` }
    case 'minLength':
      return { field: field(), message: `must be at least ${String(params.limit)} characters long` }
    case 'maxLength':
      return { field: field(), message: `must be at most ${String(params.limit)} characters long` }
    case 'minItems':
      return { field: field(), message: `must hold at least ${String(params.limit)} items` }
    case 'maxItems':
      return { field: field(), message: `must hold at most ${String(params.limit)} items` }
    case 'type':
      return { field: field(), message: `must be ${article(String(params.type))}` }
    case 'format':
      return { field: field(), message: `must be a ${String(params.format)}` }
    case 'pattern':
      return { field: field(), message: `must match ${String(params.pattern)}` }
    default:
      return { field: field(), message: v.message ?? 'is invalid' }
  }
}

function article (type: string): string {
  const names = type.split(',').map((t) => t === 'integer' || t === 'object' || t === 'array' ? `an ${t}` : `a ${t}`)
  return names.join(' or ')
}
