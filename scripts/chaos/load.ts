/**
 * The chaos load: a seeded sequence of requests over every integration, each recorded with its answers, and
 * the sender that fires them at the gateway while it is up (and re-sends keyed ones that got no answer).
 *
 * Each request first changes the world the way a real sender would (an Odoo employee edited before its
 * webhook, a client file dropped before `POST /tracos/run`, Insight orders shipped before a sync), so that
 * every acknowledged request has an effect the checks can look for.
 */
import { rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request } from 'undici'
import type { OdooSimulator } from '../../src/integrations/odoo/sandbox/simulator.js'
import type { InsightSimulator } from '../../src/integrations/insight/sandbox/insight-simulator.js'
import { generateOrders } from '../../src/integrations/insight/sandbox/orders.js'
import { addDays } from '../../src/integrations/insight/dates.js'
import { formatAthocTime } from '../../src/integrations/bobo/time.js'
import type { Rng } from './rng.js'

export type Kind = 'odoo.webhook' | 'odoo.sync' | 'bobo.upload' | 'bobo.process' | 'tracos.run' | 'insight.sync'

export interface Attempt {
  at: number
  /** Gateway generation the attempt went to. */
  gen: number
  ms: number
  status?: number
  error?: string
}

export interface Rec {
  n: number
  kind: Kind
  path: string
  body?: string
  contentType?: string
  key?: string
  attempts: Attempt[]
  /** A 2xx answer whose body named the job. */
  acked: boolean
  ackedAt?: number
  status?: number
  jobId?: string
  repeat?: boolean
  /** Sent after the load stopped, to make sure dropped files are picked up (scheduler is off). */
  sweep?: boolean
  odoo?: { events: Array<{ id: number, seq: number }>, batch: boolean }
  bobo?: { content: string, rows: Array<{ employeeId: string, login: string, value: string }> }
  insight?: { from: string, to: string, dryRun: boolean, serials: string[] }
  tracos?: { direction: string, dropped: string[] }
}

/** One state of an Odoo employee the chaos run wrote into the simulator, by mutation number. */
export interface OdooVersion { id: number, seq: number, name: string, title: string, active: boolean }

export interface TracosVersion { file: string, drop: number, status: string, summary: string }

export interface TracosFile { name: string, drop: number, orders: number[], text: string }

const TRACOS_STATUS_FLAGS: Record<string, string | null> = {
  pending: 'isPending',
  completed: 'isDone',
  on_hold: 'isOnHold',
  cancelled: 'isCanceled',
  deleted: 'isDeleted',
  in_progress: null
}

export const BOBO_LOGIN = (k: number): string => `bobo${k}@chaos.example`
export const BOBO_EMPLOYEE = (k: number): string => String(100_000 + k)
const BOBO_BASE_TIME = Date.UTC(2026, 0, 1, 6, 0, 0)
const INSIGHT_BASE_DAY = '2025-01-01'
const TRACOS_BASE_TIME = Date.UTC(2026, 0, 1, 0, 0, 0)

/** What the load generator needs from the outside world. */
export interface LoadDeps {
  rng: Rng
  seed: number
  odoo: OdooSimulator
  odooEmployees: number
  insight: InsightSimulator
  boboPool: number
  tracosInbound: string
  tracosStaging: string
}

/** The seeded sequence of requests, with everything the checks need to know about what each one meant. */
export function createLoad (deps: LoadDeps) {
  const { rng } = deps
  const recs: Rec[] = []
  const odooHistory = new Map<number, OdooVersion>()
  let odooSeq = 0
  let boboNext = 0
  const tracosFiles: TracosFile[] = []
  const tracosOrders = new Map<number, TracosVersion[]>()
  let tracosNextOrder = 1
  let tracosDrop = 0
  const insightShipped: Array<{ serial: string, day: string }> = []
  let insightDay = 0

  function rec (kind: Kind, path: string, fields: Partial<Rec>, keyed: boolean): Rec {
    const n = recs.length + 1
    const r: Rec = { n, kind, path, attempts: [], acked: false, ...fields, ...(keyed ? { key: `chaos-${deps.seed}-${n}` } : {}) }
    recs.push(r)
    return r
  }

  /** Edits one employee in the simulator: a new name, title and maybe archive, tagged with a new mutation number. */
  function mutate (id: number): OdooVersion {
    const seq = ++odooSeq
    const current = deps.odoo.employees.get(id)
    if (current === undefined) throw new Error(`no simulator employee ${id}`)
    const version: OdooVersion = { id, seq, name: `C${seq} E${id}`, title: `T${seq}`, active: !rng.chance(0.12) }
    deps.odoo.upsert({ ...current, name: version.name, job_title: version.title, active: version.active })
    odooHistory.set(seq, version)
    return version
  }

  function odooEvent (v: OdooVersion): Record<string, unknown> {
    // Half the ids as numeric strings, as n8n templates send them.
    return {
      event: v.active ? 'update' : 'archive',
      employee_id: v.seq % 2 === 0 ? v.id : String(v.id),
      data: { name: v.name, job_title: v.title, active: v.active }
    }
  }

  function odooSingle (): Rec {
    const v = mutate(rng.int(1, deps.odooEmployees))
    return rec('odoo.webhook', '/odoo/webhook', { body: JSON.stringify(odooEvent(v)), contentType: 'application/json', odoo: { events: [{ id: v.id, seq: v.seq }], batch: false } }, rng.chance(0.5))
  }

  function odooBatch (): Rec {
    const ids = new Set<number>()
    const size = rng.int(2, 6)
    while (ids.size < size) ids.add(rng.int(1, deps.odooEmployees))
    const versions = [...ids].map(mutate)
    return rec('odoo.webhook', '/odoo/webhook', {
      body: JSON.stringify({ events: versions.map(odooEvent) }),
      contentType: 'application/json',
      odoo: { events: versions.map((v) => ({ id: v.id, seq: v.seq })), batch: true }
    }, rng.chance(0.5))
  }

  function odooSync (): Rec {
    return rec('odoo.sync', '/odoo/sync-csv', {}, rng.chance(0.3))
  }

  function boboUpload (): Rec | null {
    const size = rng.int(2, 6)
    if (boboNext + size > deps.boboPool) return null
    const rows: NonNullable<Rec['bobo']>['rows'] = []
    const lines: string[] = []
    for (let i = 0; i < size; i++) {
      const k = boboNext++
      const employeeId = BOBO_EMPLOYEE(k)
      const time = new Date(BOBO_BASE_TIME + k * 60_000)
      const stamp = time.toISOString().replace(/\D/g, '').slice(0, 14)
      const on = rng.chance(0.7)
      lines.push(`${on ? 'BON' : 'BOF'},${employeeId},PAY${k},${stamp.slice(0, 8)},${stamp.slice(8)},${stamp},1,51.5074,-0.1278,5.0`)
      rows.push({ employeeId, login: BOBO_LOGIN(k), value: on ? formatAthocTime(time, 'UTC') : '' })
    }
    const content = `${lines.join(rng.chance(0.3) ? '\r\n' : '\n')}\n`
    return rec('bobo.upload', '/bobo/upload', { body: content, contentType: 'text/csv', bobo: { content, rows } }, rng.chance(0.5))
  }

  function boboProcess (): Rec {
    return rec('bobo.process', '/bobo/process', {}, rng.chance(0.3))
  }

  /** Writes a client file the way a careful client does: elsewhere first, then renamed into the inbound folder. */
  async function dropTracosFile (): Promise<string> {
    const drop = ++tracosDrop
    const name = `c${String(drop).padStart(6, '0')}.json`
    const count = rng.int(1, 3)
    const orders: Array<Record<string, unknown>> = []
    const numbers = new Set<number>()
    for (let i = 0; i < count; i++) {
      const existing = [...tracosOrders.keys()]
      let orderNo = existing.length > 0 && rng.chance(0.3) ? rng.pick(existing) : tracosNextOrder++
      if (numbers.has(orderNo)) orderNo = tracosNextOrder++
      numbers.add(orderNo)
      const status = rng.pick(['pending', 'in_progress', 'completed', 'on_hold', 'cancelled', 'pending', 'in_progress', 'deleted'])
      const summary = `Chaos order ${orderNo} drop ${drop}`
      const created = new Date(TRACOS_BASE_TIME + orderNo * 1000).toISOString()
      const updated = new Date(TRACOS_BASE_TIME + 86_400_000 + drop * 1000).toISOString()
      const order: Record<string, unknown> = {
        orderNo,
        isCanceled: false,
        isDeleted: false,
        isDone: false,
        isOnHold: false,
        isPending: false,
        summary,
        creationDate: created,
        lastUpdateDate: updated,
        deletedDate: status === 'deleted' ? updated : null
      }
      const flag = TRACOS_STATUS_FLAGS[status]
      if (flag !== null && flag !== undefined) order[flag] = true
      orders.push(order)
      const versions = tracosOrders.get(orderNo) ?? []
      versions.push({ file: name, drop, status, summary })
      tracosOrders.set(orderNo, versions)
    }
    const text = JSON.stringify(orders.length === 1 && rng.chance(0.5) ? orders[0] : orders)
    const staged = join(deps.tracosStaging, name)
    await writeFile(staged, text)
    await rename(staged, join(deps.tracosInbound, name))
    tracosFiles.push({ name, drop, orders: [...numbers], text })
    return name
  }

  async function tracosRun (): Promise<Rec> {
    const dropped: string[] = []
    // Now and then a larger delivery, so that a run lasts long enough to be killed in the middle.
    const files = rng.chance(0.15) ? rng.int(10, 40) : rng.int(0, 3)
    for (let i = 0; i < files; i++) dropped.push(await dropTracosFile())
    const direction = rng.weighted({ both: 8, inbound: 1, outbound: 1 })
    const keyed = rng.chance(0.3)
    const withBody = direction !== 'both' || rng.chance(0.5)
    return rec('tracos.run', '/tracos/run', withBody ? { body: JSON.stringify({ direction }), contentType: 'application/json', tracos: { direction, dropped } } : { tracos: { direction, dropped } }, keyed)
  }

  function insightSync (): Rec {
    const k = ++insightDay
    const day = addDays(INSIGHT_BASE_DAY, k)
    const orders = generateOrders({ serials: rng.int(1, 5), to: day, days: 1, prefix: `CHX${k}N` })
    deps.insight.state.orders.push(...orders)
    for (const order of orders) {
      for (const line of (order.OrderLineItems as Array<Record<string, unknown>>)) {
        for (const delivery of (line.Delivery as Array<Record<string, unknown>> | undefined) ?? []) {
          for (const s of (delivery.SerialNumbers as Array<{ SerialNumber: string }> | undefined) ?? []) insightShipped.push({ serial: String(s.SerialNumber).trim(), day })
        }
      }
    }
    const from = addDays(day, -rng.int(0, 3))
    const dryRun = rng.chance(0.05)
    const serials = dryRun ? [] : insightShipped.filter((s) => s.day >= from && s.day <= day).map((s) => s.serial)
    return rec('insight.sync', '/insight/sync', {
      body: JSON.stringify({ from, to: day, dateField: 'ship', ...(dryRun ? { dryRun: true } : {}) }),
      contentType: 'application/json',
      insight: { from, to: day, dryRun, serials }
    }, rng.chance(0.3))
  }

  const WEIGHTS = { odooSingle: 30, odooBurst: 4, odooBatch: 10, odooSync: 3, boboUpload: 15, boboProcess: 2, tracos: 10, insight: 6 }

  /**
   * The next requests of the sequence (several for a burst, sent at once as n8n does), their side effects
   * (simulator edits, dropped files) already made.
   */
  async function next (): Promise<Rec[]> {
    for (;;) {
      const what = rng.weighted(WEIGHTS)
      switch (what) {
        case 'odooSingle': return [odooSingle()]
        case 'odooBurst': return Array.from({ length: rng.int(5, 12) }, odooSingle)
        case 'odooBatch': return [odooBatch()]
        case 'odooSync': return [odooSync()]
        case 'boboUpload': { const r = boboUpload(); if (r !== null) return [r]; break }
        case 'boboProcess': return [boboProcess()]
        case 'tracos': return [await tracosRun()]
        case 'insight': return [insightSync()]
      }
    }
  }

  /** A request outside the seeded sequence (set-up and final sweeps). */
  function extra (kind: Kind, path: string, body?: Record<string, unknown>): Rec {
    return rec(kind, path, { ...(body === undefined ? {} : { body: JSON.stringify(body), contentType: 'application/json' }), sweep: true }, false)
  }

  /** Gap before the next request (ms), from the same seeded stream. */
  function gap (): number {
    return rng.exp(70, 5, 500)
  }

  return { recs, next, extra, gap, odooHistory, tracosFiles, tracosOrders, insightShipped, get boboUsed () { return boboNext } }
}

export type Load = ReturnType<typeof createLoad>

/** Opens and closes with the gateway: senders wait while it is down. */
export class Gate {
  private open = false
  private waiters: Array<() => void> = []
  set (open: boolean): void {
    this.open = open
    if (open) for (const wake of this.waiters.splice(0)) wake()
  }

  get isOpen (): boolean { return this.open }
  async wait (): Promise<void> {
    if (this.open) return
    await new Promise<void>((resolve) => this.waiters.push(resolve))
  }
}

export interface SenderOptions {
  base: string
  apiKey: string
  maxInFlight: number
  generation: () => number
  gate: Gate
  load: Load
  log: (line: string) => void
}

/** Fires the load at the gateway: at most maxInFlight at once, keyed requests without an answer re-sent. */
export function createSender (options: SenderOptions) {
  let agent = new Agent({ connections: options.maxInFlight + 2, keepAliveTimeout: 2000 })
  let inFlight = 0
  let stopping = false
  const resend: Array<{ rec: Rec, notBefore: number }> = []
  const slotWaiters: Array<() => void> = []
  const MAX_ATTEMPTS = 10

  function release (): void {
    inFlight--
    slotWaiters.shift()?.()
  }

  async function slot (): Promise<void> {
    while (inFlight >= options.maxInFlight) await new Promise<void>((resolve) => slotWaiters.push(resolve))
  }

  /** One attempt of a request; marks it acknowledged on a 2xx whose body names the job. */
  async function attempt (rec: Rec): Promise<void> {
    const started = Date.now()
    const at: Attempt = { at: started, gen: options.generation(), ms: 0 }
    rec.attempts.push(at)
    const headers: Record<string, string> = { 'x-api-key': options.apiKey, 'x-request-id': `chaos-${rec.n}-${rec.attempts.length}` }
    if (rec.contentType !== undefined) headers['content-type'] = rec.contentType
    if (rec.key !== undefined) headers['idempotency-key'] = rec.key
    try {
      const res = await request(`${options.base}${rec.path}`, { method: 'POST', headers, body: rec.body, dispatcher: agent, headersTimeout: 30_000, bodyTimeout: 30_000 })
      at.status = res.statusCode
      const text = await res.body.text()
      at.ms = Date.now() - started
      if (res.statusCode === 200 || res.statusCode === 202) {
        let json: Record<string, unknown>
        try {
          json = JSON.parse(text) as Record<string, unknown>
        } catch {
          at.error = `2xx with a body that is not JSON: ${text.slice(0, 200)}`
          return
        }
        rec.acked = true
        rec.ackedAt = Date.now()
        rec.status = res.statusCode
        rec.repeat = res.statusCode === 200
        if (typeof json.jobId === 'string') rec.jobId = json.jobId
        return
      }
      at.error = text.slice(0, 300)
    } catch (err) {
      at.ms = Date.now() - started
      at.error = `${(err as { code?: string }).code ?? ''} ${(err as Error).message}`.trim()
    }
  }

  function needsResend (rec: Rec): boolean {
    if (rec.acked || rec.key === undefined || rec.attempts.length >= MAX_ATTEMPTS) return false
    const last = rec.attempts[rec.attempts.length - 1]
    return last !== undefined && (last.status === undefined || last.status >= 500 || last.status === 429 || (last.status >= 200 && last.status < 300))
  }

  function launch (rec: Rec): Promise<void> {
    inFlight++
    return attempt(rec).then(() => {
      if (needsResend(rec)) resend.push({ rec, notBefore: Date.now() + 300 })
    }).finally(release)
  }

  const running: Array<Promise<void>> = []
  function track (p: Promise<void>): void {
    running.push(p)
    void p.finally(() => { running.splice(running.indexOf(p), 1) })
  }

  /** The load loop: runs until stop(). */
  async function run (): Promise<void> {
    while (!stopping) {
      await options.gate.wait()
      if (stopping) break
      await slot()
      if (stopping) break
      if (!options.gate.isOpen) continue
      const dueIndex = resend.findIndex((r) => r.notBefore <= Date.now())
      if (dueIndex >= 0) {
        const [due] = resend.splice(dueIndex, 1)
        track(launch((due as { rec: Rec }).rec))
        await sleep(10)
        continue
      }
      const burst = await options.load.next()
      if (!options.gate.isOpen) await options.gate.wait()
      for (const rec of burst) track(launch(rec))
      await sleep(options.load.gap())
    }
  }

  return {
    run,
    /** Stops taking new requests from the sequence and waits for those in flight. */
    async stop (): Promise<void> {
      stopping = true
      options.gate.set(true)
      for (const wake of slotWaiters.splice(0)) wake()
      while (running.length > 0) await Promise.allSettled([...running])
    },
    /** After a gateway restart: fresh connections (the old keep-alive sockets died with the process). */
    resetAgent (): void {
      const old = agent
      agent = new Agent({ connections: options.maxInFlight + 2, keepAliveTimeout: 2000 })
      void old.destroy().catch(() => {})
    },
    /** Sends one request now and waits for it (set-up and sweeps), re-sending keyed ones as needed. */
    async sendNow (rec: Rec): Promise<void> {
      await attempt(rec)
    },
    /** Re-sends every keyed request still without an answer until answered (bounded). */
    async drainResends (deadline: number): Promise<number> {
      let sent = 0
      while (resend.length > 0 && Date.now() < deadline) {
        const item = resend.shift() as { rec: Rec, notBefore: number }
        const wait = item.notBefore - Date.now()
        if (wait > 0) await sleep(wait)
        await attempt(item.rec)
        sent++
        if (needsResend(item.rec)) resend.push({ rec: item.rec, notBefore: Date.now() + 500 })
      }
      return sent
    },
    pendingResends: (): number => resend.length,
    close: async (): Promise<void> => { await agent.destroy().catch(() => {}) }
  }
}

export type Sender = ReturnType<typeof createSender>
