import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fp from 'fastify-plugin'
import Type from 'typebox'
import { httpError } from '../lib/http-errors.js'
import { answer, ErrorResponse, textAnswer } from '../schemas/common.js'

/** The page's files: plain HTML, CSS and a script, read once at start-up (no build step, nothing from a CDN). */
export const DASHBOARD_DIR = fileURLToPath(new URL('../dashboard/', import.meta.url))

const ASSETS: Record<string, string> = {
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml'
}

// The page talks only to this origin; its script and styles are files, so no inline code is allowed.
const PAGE_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'"
].join('; ')

/**
 * GET /dashboard: the operator page and its assets. They are public because they hold no data: the page asks
 * for an API key and reads everything through the same public API as any client (/jobs, /schedules, /ready).
 */
export default fp(async (app) => {
  const page = readFileSync(`${DASHBOARD_DIR}index.html`)
  const assets = new Map(Object.entries(ASSETS).map(([name, type]) => [name, { type, body: readFileSync(`${DASHBOARD_DIR}${name}`) }]))

  app.get('/dashboard', {
    config: { access: 'public' },
    schema: {
      tags: ['dashboard'],
      summary: 'The operator dashboard (an HTML page)',
      description: 'Open without a key because it holds no data: the page asks for an API key, keeps it in the tab\'s sessionStorage and reads everything through this API (`/auth/whoami`, `/ready`, `/schedules`, `/jobs`) with `X-API-Key`. A trigger key also gets the action buttons (run now, retry, cancel).',
      response: { 200: textAnswer('The page. Its script and styles are served under `/dashboard/{file}`; nothing comes from elsewhere.', ['text/html']) }
    }
  }, async (_request, reply) => {
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').header('content-security-policy', PAGE_CSP).send(page)
  })

  app.get('/dashboard/:file', {
    config: { access: 'public' },
    schema: {
      tags: ['dashboard'],
      summary: 'A file of the dashboard (script, styles, icon)',
      params: Type.Object({ file: Type.String({ minLength: 1, maxLength: 100, examples: ['dashboard.js'] }) }),
      response: {
        200: textAnswer('The file (`dashboard.js`, `dashboard.css` or `favicon.svg`).', ['text/javascript', 'text/css', 'image/svg+xml']),
        404: answer('No dashboard file by this name.', ErrorResponse)
      }
    }
  }, async (request, reply) => {
    const { file } = request.params as { file: string }
    const asset = Object.hasOwn(ASSETS, file) ? assets.get(file) : undefined
    if (asset === undefined) throw httpError(404, `no dashboard file named ${file}`)
    return reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body)
  })
}, { name: 'dashboard', dependencies: ['config', 'auth'] })
