/**
 * The limit of the Odoo full sync: the simulator serving the same pages to a client that only reads them. It
 * makes the calls the gateway's full sync makes (authenticate, the user's companies, `search` for the ids,
 * then `search_read` by id pages of ODOO_PAGE_SIZE with ODOO_SYNC_CONCURRENCY pages at once, the same fields
 * and context), over a keep-alive agent as the gateway's client does, and drops each answer's bytes as they
 * arrive: no parsing, no CSV, no database.
 */
import http from 'node:http'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import pLimit from 'p-limit'
import { createOdooClient } from '../src/integrations/odoo/client.js'
import { EMPLOYEE_FIELDS } from '../src/integrations/odoo/mapping.js'

const require = createRequire(import.meta.url)
const Serializer = require('xmlrpc/lib/serializer.js') as { serializeMethodCall: (method: string, params: unknown[]) => string }

export interface SimInfo { url: string, db: string, login: string, password: string }

/** Reads every employee's page once; returns the seconds it took and the bytes the simulator sent. */
export async function readAllPages (sim: SimInfo, pageSize: number, concurrency: number): Promise<{ seconds: number, pages: number, bytes: number }> {
  const started = performance.now()
  const odoo = createOdooClient({ url: sim.url, db: sim.db, username: sim.login, password: sim.password, timeoutMs: 60_000 })
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
  try {
    const uid = await odoo.authenticate()
    const [user] = await odoo.executeKw<Array<{ company_ids: number[] }>>('res.users', 'read', [[uid]], { fields: ['company_ids'], context: { lang: 'en_US' } })
    const context = { lang: 'en_US', allowed_company_ids: user?.company_ids ?? [], active_test: false }
    const ids = await odoo.executeKw<number[]>('hr.employee', 'search', [[]], { order: 'id asc', context })
    const url = new URL(`${sim.url.replace(/\/+$/, '')}/xmlrpc/2/object`)
    let bytes = 0
    const readPage = (page: number[]): Promise<void> => new Promise((resolve, reject) => {
      const body = Serializer.serializeMethodCall('execute_kw', [sim.db, uid, sim.password, 'hr.employee', 'search_read', [[['id', 'in', page]]], { fields: [...EMPLOYEE_FIELDS], order: 'id asc', context }])
      const req = http.request({ host: url.hostname, port: Number(url.port), path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.on('data', (chunk: Buffer) => { bytes += chunk.length })
        res.on('end', () => { res.statusCode === 200 ? resolve() : reject(new Error(`page answered ${res.statusCode}`)) })
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    })
    const pages: number[][] = []
    for (let i = 0; i < ids.length; i += pageSize) pages.push(ids.slice(i, i + pageSize))
    const limit = pLimit(concurrency)
    await Promise.all(pages.map((page) => limit(() => readPage(page))))
    return { seconds: (performance.now() - started) / 1000, pages: pages.length, bytes }
  } finally {
    agent.destroy()
    odoo.close()
  }
}
