import fp from 'fastify-plugin'
import helmet from 'helmet'

/**
 * Helmet's security headers on every answer, 401s and 404s included: registered before any hook that may
 * answer early. The middleware is built once (@fastify/helmet built it anew for every request).
 */
export default fp(async (app) => {
  const secureHeaders = helmet({
    // The API serves JSON; only /docs and the dashboard serve pages, and they set their own CSP.
    contentSecurityPolicy: false,
    crossOriginResourcePolicy: { policy: 'same-origin' }
  })
  app.addHook('onRequest', (request, reply, done) => {
    secureHeaders(request.raw, reply.raw, (err) => { done(err === undefined ? undefined : err as Error) })
  })
}, { name: 'security-headers' })
