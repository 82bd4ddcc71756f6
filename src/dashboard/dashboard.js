// Operator dashboard: a plain script over the gateway's public API (/auth/whoami, /ready, /schedules, /jobs).
// Paths are relative to the page, so the dashboard also works behind a reverse proxy that adds a prefix.
'use strict'

/**
 * Integrations come from GET /integrations: each one's title, its job kinds and schedules, and its dashboard
 * card (result counts with labels, the "run now" form). Fields become a small form; the body is JSON of the
 * filled fields, except a `file` field, whose file is posted as multipart/form-data (part `file`).
 */
const KEY_STORAGE = 'gateway.apiKey'
/** Failed jobs the operator dismissed from the list (this browser only; the jobs themselves stay). */
const DISMISSED_STORAGE = 'gateway.dismissedFailures'
const HISTORY_SIZE = 20
const REFRESH_MS = 10_000
const DEFAULT_POLL_S = 2
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled'])
/** Outcomes are told by icon and word, not only by colour. */
const OUTCOME = {
  succeeded: { icon: '✓', text: 'succeeded' },
  failed: { icon: '✗', text: 'failed' },
  cancelled: { icon: '⊘', text: 'cancelled' },
  running: { icon: '▶', text: 'running' },
  queued: { icon: '…', text: 'queued' }
}

const state = {
  key: null,
  role: null,
  /** name → the integration as GET /integrations describes it. */
  integrations: new Map(),
  /** The job the notice bar tells about, if any: {jobId, prefix}. */
  notice: null,
  schedules: [],
  /** kind → newest jobs of that kind (up to HISTORY_SIZE). */
  jobsByKind: new Map(),
  failed: [],
  /** jobs being followed at the server's polling hint: id → latest view. */
  active: new Map(),
  pollTimers: new Map(),
  cards: new Map(),
  refreshTimer: null,
  refreshing: null,
  refreshAgain: false,
  generation: 0
}

const $ = (id) => document.getElementById(id)

/** Builds an element: h('a', { href: '…', class: 'x' }, 'text', child). `on*` attributes become listeners. */
function h (tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value)
    else if (name === 'class') el.className = value
    else el.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue
    el.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return el
}

const SVG_NS = 'http://www.w3.org/2000/svg'
function svg (tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag)
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value))
  for (const child of children) el.append(child instanceof Node ? child : document.createTextNode(String(child)))
  return el
}

function isoDay (offsetDays) {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10)
}

// ---------------------------------------------------------------------------------------------------------
// API

class ApiError extends Error {
  constructor (status, message) {
    super(message)
    this.status = status
  }
}

async function api (path, { method = 'GET', body } = {}) {
  const headers = { 'x-api-key': state.key ?? '', accept: 'application/json' }
  let payload
  if (body instanceof FormData) {
    payload = body // the browser sets multipart/form-data with its boundary
  } else if (body !== undefined) {
    payload = JSON.stringify(body)
    headers['content-type'] = 'application/json'
  }
  const res = await fetch(path, { method, headers, body: payload, cache: 'no-store' })
  const text = await res.text()
  let data = null
  try { data = text === '' ? null : JSON.parse(text) } catch { data = { message: text } }
  if (res.status === 401) {
    signOut(data?.message ?? 'the API key is not valid')
    throw new ApiError(401, data?.message ?? 'unauthorized')
  }
  // /ready answers 503 with its checks: that is data, not a failure of the call.
  if (!res.ok && !(res.status === 503 && path === 'ready')) {
    throw new ApiError(res.status, data?.message ?? `${method} ${path} answered ${res.status}`)
  }
  return { status: res.status, data, retryAfter: Number(res.headers.get('retry-after')) }
}

// ---------------------------------------------------------------------------------------------------------
// Key and session

async function signIn (key) {
  state.key = key
  const { data } = await api('auth/whoami')
  state.role = data.role
  sessionStorage.setItem(KEY_STORAGE, key)
  $('key-form').hidden = true
  $('board').hidden = false
  $('session').hidden = false
  $('role').textContent = state.role === 'trigger' ? 'Trigger key: actions enabled' : 'Read key: view only'
  $('role').dataset.role = state.role
  document.body.dataset.role = state.role
  await refresh()
}

function signOut (message) {
  state.generation++
  sessionStorage.removeItem(KEY_STORAGE)
  state.key = null
  state.role = null
  clearTimeout(state.refreshTimer)
  for (const timer of state.pollTimers.values()) clearTimeout(timer)
  state.pollTimers.clear()
  state.active.clear()
  state.jobsByKind.clear()
  state.cards.clear()
  state.failed = []
  clearNotice()
  $('integrations').replaceChildren()
  $('failed').replaceChildren()
  $('board').hidden = true
  $('session').hidden = true
  delete document.body.dataset.role
  $('readiness').textContent = 'Not connected'
  $('readiness').className = 'readiness'
  $('key-form').hidden = false
  $('key-error').textContent = message ?? ''
  $('key-input').value = ''
  $('key-input').focus()
}

// ---------------------------------------------------------------------------------------------------------
// Loading

/** Reloads everything; calls made while one is in flight are folded into one more run after it. */
function refresh () {
  if (state.refreshing !== null) {
    state.refreshAgain = true
    return state.refreshing
  }
  state.refreshing = load().catch(showError).finally(() => {
    state.refreshing = null
    clearTimeout(state.refreshTimer)
    if (state.key === null) return
    if (state.refreshAgain) {
      state.refreshAgain = false
      void refresh()
    } else {
      state.refreshTimer = setTimeout(refresh, REFRESH_MS)
    }
  })
  return state.refreshing
}

async function load () {
  const generation = state.generation
  const [ready, integrations, schedules, recent, failed, running, queued] = await Promise.all([
    api('ready').catch((err) => ({ data: null, error: err })),
    api('integrations'),
    api('schedules'),
    api('jobs?limit=100'),
    api('jobs?status=failed&limit=20'),
    api('jobs?status=running&limit=50'),
    api('jobs?status=queued&limit=50')
  ])
  const kinds = new Set([
    ...schedules.data.data.map((s) => s.kind),
    ...[recent, failed, running, queued].flatMap((r) => r.data.data.map((j) => j.kind)),
    ...state.jobsByKind.keys()
  ])
  const perKind = await Promise.all([...kinds].map(async (kind) => {
    const res = await api(`jobs?kind=${encodeURIComponent(kind)}&limit=${HISTORY_SIZE}`)
    return [kind, res.data.data]
  }))
  if (generation !== state.generation) return
  state.integrations = new Map(integrations.data.data.map((i) => [i.name, i]))
  state.schedules = schedules.data.data
  state.jobsByKind = new Map(perKind)
  state.failed = failed.data.data
  for (const jobs of state.jobsByKind.values()) {
    for (const job of jobs) {
      if (TERMINAL.has(job.status) && state.active.has(job.id)) {
        clearTimeout(state.pollTimers.get(job.id))
        state.pollTimers.delete(job.id)
        state.active.delete(job.id)
      }
    }
  }
  for (const job of [...running.data.data, ...queued.data.data]) follow(job)
  for (const jobs of state.jobsByKind.values()) for (const job of jobs) if (!TERMINAL.has(job.status)) follow(job)
  renderReadiness(ready)
  render()
}

/** Follows a queued or running job at the server's polling hint (Retry-After of GET /jobs/:id). */
function follow (job) {
  const known = state.active.get(job.id)
  if (known === undefined || Date.parse(job.updatedAt) >= Date.parse(known.updatedAt)) state.active.set(job.id, job)
  if (state.pollTimers.has(job.id)) return
  const generation = state.generation
  const poll = async () => {
    let delay = DEFAULT_POLL_S
    try {
      const res = await api(`jobs/${encodeURIComponent(job.id)}`)
      if (generation !== state.generation) return
      const latest = res.data
      if (TERMINAL.has(latest.status)) {
        state.pollTimers.delete(job.id)
        state.active.delete(job.id)
        upsertJob(latest)
        render()
        void refresh()
        return
      }
      state.active.set(latest.id, latest)
      upsertJob(latest)
      render()
      if (res.retryAfter > 0) delay = res.retryAfter
    } catch (err) {
      if (generation !== state.generation) return
      if (err.status === 404) {
        state.pollTimers.delete(job.id)
        state.active.delete(job.id)
        return
      }
      delay = 5
    }
    state.pollTimers.set(job.id, setTimeout(poll, delay * 1000))
  }
  state.pollTimers.set(job.id, setTimeout(poll, 0))
}

function fresher (a, b) {
  return b === undefined || Date.parse(a.updatedAt) >= Date.parse(b.updatedAt) ? a : b
}

/** Puts a fresher copy of a job into its kind's list (a new job goes first). */
function upsertJob (job) {
  const list = state.jobsByKind.get(job.kind) ?? []
  const index = list.findIndex((j) => j.id === job.id)
  if (index >= 0) list[index] = fresher(job, list[index])
  else list.unshift(job)
  state.jobsByKind.set(job.kind, list.slice(0, HISTORY_SIZE))
  const failedIndex = state.failed.findIndex((j) => j.id === job.id)
  if (failedIndex >= 0) state.failed[failedIndex] = job
  // The notice about a job an action started keeps telling that job's state, not the one it had then.
  if (state.notice?.jobId === job.id) jobNotice(state.notice.prefix, job.id, job.status)
}

// ---------------------------------------------------------------------------------------------------------
// Rendering

const integrationOf = (kind) => kind.split('.')[0]

function render () {
  const names = new Set([...state.integrations.keys(), ...state.schedules.map((s) => integrationOf(s.kind)), ...[...state.jobsByKind.keys()].map(integrationOf)])
  const ordered = [...names].sort((a, b) => (a === 'system') - (b === 'system') || a.localeCompare(b))
  const container = $('integrations')
  for (const name of ordered) {
    let card = state.cards.get(name)
    if (card === undefined) {
      card = createCard(name)
      state.cards.set(name, card)
    }
    container.append(card.root) // re-appending keeps the order without rebuilding the card
    updateCard(name, card)
  }
  renderFailed()
  $('updated').textContent = `Updated ${formatTime(new Date())}; refreshes every ${REFRESH_MS / 1000} s, running jobs every ${DEFAULT_POLL_S} s or as the server hints.`
}

function renderReadiness (ready) {
  const el = $('readiness')
  if (ready.data === null) {
    el.textContent = `Readiness unknown: ${ready.error?.message ?? 'no answer'}`
    el.className = 'readiness warn'
    return
  }
  const failing = Object.entries(ready.data.checks).filter(([, c]) => !c.ok)
  el.textContent = failing.length === 0
    ? '✓ Gateway ready'
    : `✗ Not ready: ${failing.map(([name, c]) => `${name}${c.message ? ` (${c.message})` : ''}`).join(', ')}`
  el.className = `readiness ${failing.length === 0 ? 'ok' : 'bad'}`
}

function createCard (name) {
  const integration = state.integrations.get(name)
  const title = h('h3', { id: `card-${name}-title`, title: integration?.summary }, integration?.title ?? name)
  const root = h('article', { class: 'card', 'data-integration': name, 'aria-labelledby': `card-${name}-title` })
  const parts = {
    kinds: h('p', { class: 'kinds muted' }),
    last: h('div', { class: 'last', 'data-part': 'last-run' }),
    next: h('p', { class: 'next', 'data-part': 'next-run' }),
    running: h('ul', { class: 'running', 'data-part': 'running', 'aria-label': `${name}: running and queued jobs` }),
    history: h('ol', { class: 'history', 'data-part': 'history', 'aria-label': `${name}: last ${HISTORY_SIZE} runs, oldest first` }),
    chart: h('div', { class: 'chart', 'data-part': 'durations' })
  }
  root.append(title, parts.kinds, parts.running, parts.last, parts.next,
    h('h4', {}, 'Recent runs'), parts.history, h('h4', {}, 'Durations'), parts.chart)
  const action = integration?.dashboard.action
  if (state.role === 'trigger' && action !== undefined) root.append(actionForm(name, action))
  return { root, parts, signatures: {} }
}

/** Replaces a part's content only when what it shows changed, so focus and hover survive the polling. */
function updatePart (card, part, signature, build) {
  if (card.signatures[part] === signature) return
  card.signatures[part] = signature
  card.parts[part].replaceChildren(...[build()].flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false))
}

function updateCard (name, card) {
  const kinds = [...state.jobsByKind.keys()].filter((k) => integrationOf(k) === name)
  const schedules = state.schedules.filter((s) => integrationOf(s.kind) === name)
  const allKinds = [...new Set([...kinds, ...schedules.map((s) => s.kind)])].sort()
  const jobs = kinds.flatMap((k) => state.jobsByKind.get(k))
    .map((j) => fresher(j, state.active.get(j.id)))
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))
    .slice(0, HISTORY_SIZE)
  const active = jobs.filter((j) => !TERMINAL.has(j.status))
  const last = jobs.find((j) => TERMINAL.has(j.status))
  const now = Date.now()

  updatePart(card, 'kinds', allKinds.join(), () => `Jobs: ${allKinds.join(', ')}`)
  renderRunning(card.parts.running, active)
  updatePart(card, 'last', JSON.stringify([last?.id, last?.status, Math.floor(now / 30_000)]), () => lastRun(last))
  updatePart(card, 'next', JSON.stringify([schedules, Math.floor(now / 30_000)]), () => nextRun(schedules))
  const finished = jobs.slice().reverse()
  updatePart(card, 'history', JSON.stringify(finished.map((j) => [j.id, j.status])), () => finished.map(historyItem))
  const timed = finished.filter((j) => TERMINAL.has(j.status) && j.startedAt && j.finishedAt)
  updatePart(card, 'chart', JSON.stringify(timed.map((j) => [j.id, j.status])), () => durationChart(name, timed))
}

function outcome (status) {
  const o = OUTCOME[status] ?? { icon: '?', text: status }
  return h('span', { class: `badge status-${status}`, 'data-status': status }, h('span', { 'aria-hidden': 'true' }, o.icon), ` ${o.text}`)
}

function lastRun (job) {
  if (job === undefined) return h('p', { class: 'muted' }, 'Last run: none finished yet.')
  const counts = headline(job.result, state.integrations.get(integrationOf(job.kind))?.dashboard.counts)
  return [
    h('p', {}, 'Last run: ', outcome(job.status), ' ', h('span', { class: 'kind', 'data-kind': job.kind }, job.kind), ' · ',
      h('time', { datetime: job.finishedAt ?? job.updatedAt, title: job.finishedAt ?? job.updatedAt }, relative(job.finishedAt ?? job.updatedAt)),
      tookText(job, ', took '),
      ' · ', jsonLink(job)),
    counts.length > 0 ? h('p', { class: 'counts', 'data-part': 'counts' }, counts.map(([k, v], i) => [i > 0 ? ' ' : null, h('span', { class: 'count' }, h('b', {}, String(v)), ` ${k}`)])) : null,
    job.error ? h('p', { class: 'error-text' }, `Error: ${job.error.message}`, job.error.code ? ` (${job.error.code})` : '') : null
  ]
}

function nextRun (schedules) {
  const enabled = schedules.filter((s) => s.enabled && s.nextRunAt)
  if (enabled.length === 0) {
    return schedules.length === 0 ? 'Next run: not scheduled (runs when triggered).' : `Next run: schedules off (${schedules.map((s) => s.id).join(', ')}).`
  }
  const next = enabled.reduce((a, b) => Date.parse(a.nextRunAt) <= Date.parse(b.nextRunAt) ? a : b)
  // Between the schedule firing and the next refresh its time lies in the past: it is due, not "6 s ago".
  const when = Date.parse(next.nextRunAt) <= Date.now() ? 'due now' : relative(next.nextRunAt)
  return ['Next run: ', h('time', { datetime: next.nextRunAt, title: next.nextRunAt }, `${formatTime(new Date(next.nextRunAt))} (${when})`), ` · ${next.id} (${next.cron ?? `every ${formatDuration(next.everyMs)}`})`]
}

function renderRunning (list, jobs) {
  const wanted = new Set(jobs.map((j) => j.id))
  for (const item of [...list.children]) if (!wanted.has(item.dataset.jobId)) item.remove()
  for (const job of jobs) {
    let item = list.querySelector(`[data-job-id="${CSS.escape(job.id)}"]`)
    if (item === null) {
      const bar = h('span', { class: 'bar' })
      item = h('li', { class: 'run', 'data-job-id': job.id },
        h('p', { class: 'run-title' }, h('span', { class: 'run-status' }), ` ${job.kind} · `, jsonLink(job)),
        h('div', { class: 'progress', role: 'progressbar', 'aria-label': `${job.kind} progress`, 'aria-valuemin': 0 }, bar),
        h('p', { class: 'progress-text' }))
      if (state.role === 'trigger') {
        item.append(h('button', { type: 'button', class: 'danger', 'data-action': 'cancel', onclick: () => cancelJob(job.id) }, `Cancel ${job.kind}`))
      }
      list.append(item)
    }
    updateProgress(item, job)
  }
}

function updateProgress (item, job) {
  const statusEl = item.querySelector('.run-status')
  if (statusEl.dataset.status !== job.status) statusEl.replaceChildren(outcome(job.status))
  statusEl.dataset.status = job.status
  const bar = item.querySelector('.progress')
  const p = job.progress
  const total = p?.total ?? null
  const done = p?.done ?? 0
  const text = job.status === 'queued'
    ? `Queued${job.attempts > 0 ? ` for attempt ${job.attempts + 1} of ${job.maxAttempts}` : ''}, starts ${relative(job.runAfter)}`
    : p === null
      ? `Started ${relative(job.startedAt)}`
      : `${done}${total === null ? '' : ` / ${total}`}${p.message ? ` · ${p.message}` : ''}`
  if (total !== null && total > 0) {
    bar.setAttribute('aria-valuemax', String(total))
    bar.setAttribute('aria-valuenow', String(done))
    bar.classList.remove('indeterminate')
    bar.firstChild.style.width = `${Math.min(100, (100 * done) / total).toFixed(1)}%`
  } else {
    bar.removeAttribute('aria-valuemax')
    bar.removeAttribute('aria-valuenow')
    bar.classList.add('indeterminate')
    bar.firstChild.style.width = ''
  }
  bar.setAttribute('aria-valuetext', text)
  item.querySelector('.progress-text').textContent = text
}

function historyItem (job) {
  const o = OUTCOME[job.status] ?? { icon: '?', text: job.status }
  const took = tookText(job, ', ')
  const label = `${job.kind} ${o.text} ${formatTime(new Date(job.finishedAt ?? job.createdAt))}${took}`
  return h('li', { class: `tick status-${job.status}`, 'data-status': job.status },
    h('a', { href: `jobs/${encodeURIComponent(job.id)}`, title: label, 'aria-label': label, onclick: (e) => showJson(e, job.id) }, o.icon))
}

function durationChart (name, jobs) {
  if (jobs.length === 0) return h('p', { class: 'muted' }, 'No finished runs yet.')
  const durations = jobs.map((j) => Math.max(0, Date.parse(j.finishedAt) - Date.parse(j.startedAt)))
  const max = Math.max(...durations, 1)
  const width = 200
  const height = 60
  const slot = width / HISTORY_SIZE
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height + 2}`, preserveAspectRatio: 'none', class: 'bars', role: 'img', 'aria-label': `${name}: durations of the last ${jobs.length} runs, longest ${formatDuration(max)}` })
  jobs.forEach((job, i) => {
    const barHeight = Math.max(1.5, (durations[i] / max) * height)
    chart.append(svg('rect', {
      x: (i * slot + slot * 0.15).toFixed(2), y: (height - barHeight + 1).toFixed(2), width: (slot * 0.7).toFixed(2), height: barHeight.toFixed(2), class: `status-${job.status}`
    }, svg('title', {}, `${job.kind} ${job.status}: ${formatDuration(durations[i])}`)))
  })
  return [chart, h('p', { class: 'muted axis' }, `longest ${formatDuration(max)}`)]
}

/** A failed job stops being news once a retry of it succeeded, or once the operator dismissed it. */
function settled (job) {
  if (dismissed().includes(job.id)) return true
  if (!job.retriedBy) return false
  const retry = [...state.jobsByKind.values()].flat().find((j) => j.id === job.retriedBy)
  return retry?.status === 'succeeded'
}

function dismissed () {
  try { return JSON.parse(localStorage.getItem(DISMISSED_STORAGE) ?? '[]') } catch { return [] }
}

function dismiss (job) {
  localStorage.setItem(DISMISSED_STORAGE, JSON.stringify([job.id, ...dismissed()].slice(0, 500)))
  renderFailed()
}

function renderFailed () {
  const list = $('failed')
  const jobs = state.failed.filter((job) => !settled(job)).sort((a, b) => Date.parse(b.finishedAt ?? b.updatedAt) - Date.parse(a.finishedAt ?? a.updatedAt))
  $('failed-empty').hidden = jobs.length > 0
  const signature = JSON.stringify([jobs.map((j) => [j.id, j.retriedBy]), state.role, Math.floor(Date.now() / 30_000), dismissed().length])
  if (list.dataset.signature === signature) return
  list.dataset.signature = signature
  list.replaceChildren(...jobs.map((job) => {
    const item = h('li', { class: 'failed-job', 'data-job-id': job.id, 'data-kind': job.kind },
      h('p', {}, outcome('failed'), ' ', h('b', {}, job.kind), ' ',
        h('time', { datetime: job.finishedAt ?? job.updatedAt, title: job.finishedAt ?? job.updatedAt }, relative(job.finishedAt ?? job.updatedAt)),
        ` · attempt ${job.attempts} of ${job.maxAttempts} · `, jsonLink(job, 'Full JSON')),
      h('p', { class: 'error-text' }, job.error ? `${job.error.message}${job.error.code ? ` (${job.error.code})` : ''}` : 'no error recorded'))
    if (job.retriedBy) {
      item.append(h('p', { class: 'muted', 'data-part': 'retried' }, 'Retried as ', h('a', { href: `jobs/${encodeURIComponent(job.retriedBy)}`, onclick: (e) => showJson(e, job.retriedBy) }, job.retriedBy.slice(0, 8))))
    } else if (state.role === 'trigger') {
      item.append(h('button', { type: 'button', 'data-action': 'retry', onclick: (e) => retryJob(e.currentTarget, job) }, `Retry ${job.kind}`))
    }
    if (state.role === 'trigger') item.append(' ', h('button', { type: 'button', class: 'secondary', 'data-action': 'dismiss', onclick: () => dismiss(job) }, 'Dismiss'))
    return item
  }))
}

function jsonLink (job, text = 'JSON') {
  return h('a', { href: `jobs/${encodeURIComponent(job.id)}`, class: 'json-link', onclick: (e) => showJson(e, job.id), 'aria-label': `${text} of job ${job.id}` }, text)
}

/** The link's target needs the key header, so the page fetches it and shows it in a dialog. */
async function showJson (event, id) {
  event.preventDefault()
  try {
    const { data } = await api(`jobs/${encodeURIComponent(id)}`)
    $('json-title').textContent = `Job ${id}`
    $('json-body').textContent = JSON.stringify(data, null, 2)
    $('json-dialog').showModal()
  } catch (err) {
    showError(err)
  }
}

// ---------------------------------------------------------------------------------------------------------
// Actions (trigger key only)

function actionForm (name, action) {
  const controls = (action.fields ?? []).map((field) => {
    const id = `action-${name}-${field.name}`
    let input
    if (field.type === 'select') {
      input = h('select', { id, name: field.name }, field.options.map((o) => h('option', { value: o }, o === '' ? '(default)' : o)))
    } else if (field.type === 'checkbox') {
      input = h('input', { id, name: field.name, type: 'checkbox' })
      return h('div', { class: 'field check' }, input, h('label', { for: id }, field.label))
    } else if (field.type === 'file') {
      input = h('input', { id, name: field.name, type: 'file', accept: field.accept, required: true })
    } else {
      const value = field.initialDaysFromToday === undefined ? undefined : isoDay(field.initialDaysFromToday)
      input = h('input', { id, name: field.name, type: field.type, value })
    }
    return h('div', { class: 'field' }, h('label', { for: id }, field.label), input)
  })
  const form = h('form', { class: 'action', 'data-action-form': name },
    h('fieldset', {}, h('legend', {}, 'Run now'), controls,
      h('button', { type: 'submit', 'data-action': 'run' }, `${action.label}`)))
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    void runNow(name, action, form)
  })
  return form
}

async function runNow (name, action, form) {
  const button = form.querySelector('button[type="submit"]')
  button.disabled = true
  try {
    const body = {}
    let file = null
    for (const field of action.fields ?? []) {
      const input = form.elements.namedItem(field.name)
      if (field.type === 'file') file = input.files[0] ?? null
      else if (field.type === 'checkbox') body[field.name] = input.checked
      else if (input.value !== '') body[field.name] = input.value
    }
    const fileField = (action.fields ?? []).find((f) => f.type === 'file')
    if (fileField !== undefined && file === null) throw new Error(`choose a ${fileField.label} first`)
    const upload = new FormData()
    if (file !== null) upload.append('file', file, file.name)
    const res = file !== null
      ? await api(action.route, { method: 'POST', body: upload })
      // `{}` rather than no body: a route with an (optional) body schema accepts it, one without ignores it.
      : await api(action.route, { method: 'POST', body })
    const said = summary(res.data)
    jobNotice(said === '' ? name : `${name}: ${said}`, typeof res.data?.jobId === 'string' ? res.data.jobId : undefined, res.data?.status)
    if (file !== null) form.reset()
    // An upload may be stored without starting a job (the integration then processes it on its schedule).
    if (typeof res.data?.jobId === 'string') await track(res.data.jobId)
    else void refresh()
  } catch (err) {
    showError(err)
  } finally {
    button.disabled = false
  }
}

async function retryJob (button, job) {
  button.disabled = true
  try {
    const res = await api(`jobs/${encodeURIComponent(job.id)}/retry`, { method: 'POST' })
    jobNotice(`${job.kind}: retried`, res.data.jobId, res.data.status)
    await track(res.data.jobId)
  } catch (err) {
    button.disabled = false
    showError(err)
  }
}

async function cancelJob (id) {
  try {
    const res = await api(`jobs/${encodeURIComponent(id)}/cancel`, { method: 'POST' })
    notice(`${res.data.kind}: cancel requested`)
    upsertJob(res.data)
    render()
    void refresh()
  } catch (err) {
    showError(err)
  }
}

/** Shows a job just created by an action at once, then follows it. */
async function track (id) {
  const { data } = await api(`jobs/${encodeURIComponent(id)}`)
  upsertJob(data)
  if (!TERMINAL.has(data.status)) follow(data)
  render()
  void refresh()
}

/** What a trigger route answered, in one line: its message and the files taken (the job is added by jobNotice). */
function summary (data) {
  const parts = []
  if (typeof data?.message === 'string') parts.push(data.message)
  if (Array.isArray(data?.files)) {
    parts.push(`${data.files.length} file(s) stored${data.files.map((f) => typeof f.accepted === 'number' ? `, ${f.accepted} rows accepted${f.rejectedCount ? ` (${f.rejectedCount} rejected)` : ''}` : '').join('')}`)
  }
  return parts.join(' · ')
}

/** A notice about a job: what the action said, then the job's current state (kept current by upsertJob). */
function jobNotice (prefix, jobId, status) {
  notice(`${prefix}${jobId === undefined ? '' : ` · job ${jobId} ${status ?? ''}`.trimEnd()}`, { jobId, prefix })
}

/** A one-line notice; with `about.jobId` it is kept up to date as that job moves on (see upsertJob). */
function notice (text, about = null) {
  state.notice = about?.jobId === undefined ? null : about
  const el = $('notice')
  el.textContent = text
  el.className = 'notice'
}

function clearNotice () {
  state.notice = null
  $('notice').textContent = ''
  $('notice').className = 'notice'
}

function showError (err) {
  if (err?.status === 401) return
  state.notice = null
  const el = $('notice')
  el.textContent = `⚠ ${err?.message ?? String(err)}`
  el.className = 'notice error'
}

// ---------------------------------------------------------------------------------------------------------
// Formatting

/** A result's counts worth a glance: the integration's labelled fields, or else its first few numbers. */
function headline (result, labels) {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return []
  if (labels !== undefined) {
    const at = (path) => path.split('.').reduce((v, key) => (v !== null && typeof v === 'object' ? v[key] : undefined), result)
    const labelled = Object.entries(labels).flatMap(([path, label]) => {
      const value = at(path)
      if (typeof value === 'number' && Number.isFinite(value)) return [[label, value]]
      return value === true ? [[label, '✓']] : []
    })
    if (result.dryRun === true) labelled.unshift(['dry run', '✓'])
    if (labelled.length > 0) return labelled
  }
  const counts = []
  const visit = (obj, prefix) => {
    for (const [key, value] of Object.entries(obj)) {
      if (counts.length >= 6) return
      if (typeof value === 'number' && Number.isFinite(value) && !/ms$|seconds$|At$/i.test(key)) counts.push([prefix + key, value])
      else if (typeof value === 'boolean' && key === 'dryRun' && value) counts.push(['dry run', '✓'])
      else if (value !== null && typeof value === 'object' && !Array.isArray(value) && prefix === '') visit(value, `${key}.`)
    }
  }
  visit(result, '')
  return counts
}

function formatDuration (ms) {
  if (ms == null || !Number.isFinite(ms)) return '–'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`
}

function formatTime (date) {
  return date.toLocaleString(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
}

/** How long a finished job took: a job that needed several attempts counts from when it was queued. */
function tookText (job, prefix) {
  if (!job.startedAt || !job.finishedAt) return ''
  if (job.attempts > 1) return `${prefix}${formatDuration(Date.parse(job.finishedAt) - Date.parse(job.createdAt))} over ${job.attempts} attempts`
  return `${prefix}${formatDuration(Date.parse(job.finishedAt) - Date.parse(job.startedAt))}`
}

function relative (iso) {
  if (!iso) return '–'
  const diff = Date.parse(iso) - Date.now()
  const abs = Math.abs(diff)
  const text = abs < 45_000 ? `${Math.max(1, Math.round(abs / 1000))} s` : abs < 3_600_000 ? `${Math.round(abs / 60_000)} min` : abs < 86_400_000 ? `${Math.round(abs / 3_600_000)} h` : `${Math.round(abs / 86_400_000)} d`
  if (abs < 2000) return 'just now'
  return diff < 0 ? `${text} ago` : `in ${text}`
}

// ---------------------------------------------------------------------------------------------------------
// Start

document.addEventListener('DOMContentLoaded', () => {
  $('key-form').addEventListener('submit', async (e) => {
    e.preventDefault()
    const key = $('key-input').value.trim()
    if (key === '') return
    $('key-error').textContent = ''
    try {
      await signIn(key)
    } catch (err) {
      if (err.status !== 401) signOut(err.message)
    }
  })
  $('forget').addEventListener('click', () => signOut())
  $('refresh').addEventListener('click', () => { void refresh() })
  const saved = sessionStorage.getItem(KEY_STORAGE)
  if (saved) void signIn(saved).catch((err) => { if (err.status !== 401) signOut(err.message) })
  else $('key-input').focus()
})
