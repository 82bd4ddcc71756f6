import type { FastifyBaseLogger } from 'fastify'

/** The pino logger type as Fastify hands it out (app.log and its children). */
export type Logger = FastifyBaseLogger
