import { stdSerializers } from 'pino'
import type { FastifyBaseLogger } from 'fastify'

/** The pino logger type as Fastify hands it out (app.log and its children). */
export type Logger = FastifyBaseLogger

/**
 * pino's `err` serializer, compact for MongoDB errors: their name, message and code, not the driver's whole
 * topology description (kilobytes a line, every poll, for as long as the server is away).
 */
export function serializeError (err: Error): { type: string, message: string, stack: string, [key: string]: unknown } {
  if (!err.name.startsWith('Mongo')) return stdSerializers.err(err)
  const { code, codeName, errorLabels } = err as Error & { code?: unknown, codeName?: unknown, errorLabels?: unknown }
  return { type: err.name, message: err.message, code, codeName, errorLabels, stack: err.stack?.split('\n').slice(0, 4).join('\n') ?? '' }
}
