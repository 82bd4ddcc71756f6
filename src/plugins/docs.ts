import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'

/** openapi.yaml at the repository root: the one description of the API, served as written. */
export const OPENAPI_PATH = fileURLToPath(new URL('../../openapi.yaml', import.meta.url))

/**
 * Serves openapi.yaml at /openapi.yaml and renders it at /docs (swagger-ui, static mode: the document is the
 * hand-written file, not one generated from the routes). Both follow DOCS_PUBLIC.
 */
export default fp(async (app) => {
  const access = app.config.DOCS_PUBLIC === true ? 'public' : 'read'
  const yaml = readFileSync(OPENAPI_PATH, 'utf8')
  await app.register(swagger, { mode: 'static', specification: { path: OPENAPI_PATH, baseDir: fileURLToPath(new URL('../..', import.meta.url)) } })
  // swagger-ui's own routes (page, assets, json/yaml) take the access level of /docs.
  app.addHook('onRoute', (route) => {
    if (route.url === '/docs' || route.url.startsWith('/docs/')) route.config = { ...(route.config ?? {}), access }
  })
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    uiConfig: { docExpansion: 'list', deepLinking: true },
    logLevel: 'warn'
  })
  app.get('/openapi.yaml', { config: { access }, schema: { tags: ['health'] } }, async (_request, reply) => {
    return reply.type('application/yaml; charset=utf-8').send(yaml)
  })
}, { name: 'docs', dependencies: ['config'] })
