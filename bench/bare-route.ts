/**
 * The HTTP ceiling for the webhook bench: a bare Fastify app in its own process with one POST route that parses
 * the JSON body (Fastify's default parser, the gateway's body limit) and answers 202, nothing else: no auth,
 * no validation, no database. Listens on PORT (loopback) and prints `ready`.
 */
import Fastify from 'fastify'

const app = Fastify({ logger: false, bodyLimit: 1_048_576 })
app.post('/odoo/webhook', async (_request, reply) => reply.code(202).send({ accepted: true }))
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
process.stdout.write('ready\n')
process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
