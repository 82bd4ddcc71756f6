import { mkdirSync, rmSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import t from 'tap'
import type { Browser, Locator } from 'playwright-core'
import { launchChromium, saveFailureScreenshot } from '../helpers/dashboard-browser.js'
import { startDashboardGateway, type DashboardGateway } from '../helpers/dashboard-gateway.js'
import { ROOT } from '../helpers/process.js'

// Generous on purpose: other test runs share the CPU, and every wait below is on a DOM state, not a clock.
const WAIT_MS = 90_000

/** The dashboard in headless chromium, driven the way an operator would, against a live gateway. */
t.test('dashboard: trigger key runs, watches, retries; read key sees no buttons', async (t) => {
  const gateway: DashboardGateway = await startDashboardGateway()
  t.teardown(() => gateway.close())
  const browser: Browser = await launchChromium()
  t.teardown(() => browser.close())
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  const page = await context.newPage()
  page.setDefaultTimeout(WAIT_MS)
  const pageErrors: string[] = []
  page.on('pageerror', (err) => pageErrors.push(err.message))

  const api = async (path: string) => {
    const res = await fetch(`${gateway.baseUrl}${path}`, { headers: { 'x-api-key': gateway.readKey } })
    return res.json() as Promise<{ data: Array<Record<string, unknown>> }>
  }
  const card = (name: string): Locator => page.locator(`article[data-integration="${name}"]`)
  const lastRunStatus = (name: string, status: string): Locator => card(name).locator(`[data-part="last-run"] .badge[data-status="${status}"]`)

  /** The card shows the labelled counts of the kind's latest succeeded job (labels from GET /integrations). */
  const checkCounts = async (name: string, kind: string) => {
    const job = (await api(`/jobs?kind=${kind}&status=succeeded&limit=1`)).data[0]
    const integration = (await api('/integrations')).data.find((i: Record<string, unknown>) => i.name === name) as { dashboard: { counts?: Record<string, string> } } | undefined
    const labels = (integration?.dashboard.counts ?? {}) as Record<string, string>
    const at = (path: string): unknown => path.split('.').reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), job?.result)
    const expected = Object.entries(labels).flatMap(([path, label]) => typeof at(path) === 'number' ? [`${String(at(path))} ${label}`] : [])
    const text = await card(name).locator('[data-part="counts"]').textContent() ?? ''
    t.ok(expected.length > 0 && expected.every((e) => text.includes(e)), `${name} shows the labelled counts of ${kind} (${text})`)
  }

  let step = 'open the page'
  try {
    await page.goto(`${gateway.baseUrl}/dashboard`)
    t.equal(await page.getByRole('button', { name: 'Change key' }).count(), 0, 'no session controls before a key is given')
    step = 'enter a wrong key'
    await page.getByLabel('API key').fill('not-a-key')
    await page.getByRole('button', { name: 'Open dashboard' }).click()
    await page.locator('#key-error', { hasText: 'not valid' }).waitFor()
    t.equal(await page.evaluate<string | null>("sessionStorage.getItem('gateway.apiKey')"), null, 'a refused key is not kept')
    step = 'enter a trigger key'
    await page.getByLabel('API key').fill(gateway.triggerKey)
    await page.getByRole('button', { name: 'Open dashboard' }).click()
    await page.getByText('Trigger key: actions enabled').waitFor()
    t.equal(await page.evaluate<string | null>("sessionStorage.getItem('gateway.apiKey')"), gateway.triggerKey, 'the key is kept for this tab')
    await page.locator('#readiness.ok').waitFor()
    // Every integration of the list has its card, the example template included (nothing in the page names them).
    for (const name of ['odoo', 'tracos', 'bobo', 'insight', 'system', 'example']) await card(name).waitFor()
    t.match(await card('odoo').locator('[data-part="next-run"]').textContent(), /Next run: .*odoo\.sync-csv/, 'next scheduled run shown')

    step = 'run Odoo now and watch the progress bar move'
    await card('odoo').getByRole('button', { name: 'Run CSV sync now' }).click()
    const bar = card('odoo').locator('[data-part="running"] [role="progressbar"]')
    await bar.waitFor()
    const seen = new Set<string>()
    // Stop at two different values, or when the run is over (then the bar cannot move any more).
    while (seen.size < 2 && await lastRunStatus('odoo', 'succeeded').count() === 0) {
      const now = await bar.getAttribute('aria-valuenow', { timeout: 1000 }).catch(() => null)
      if (now !== null) seen.add(now)
      await page.waitForTimeout(150)
    }
    t.ok(seen.size >= 2, `the progress bar moved (${[...seen].join(' → ')})`)
    step = 'see the Odoo run turn green'
    const badge = lastRunStatus('odoo', 'succeeded')
    await badge.waitFor()
    t.match(await badge.textContent(), /✓ succeeded/, 'outcome told by icon and word')
    t.equal(await badge.evaluate((el) => (globalThis as unknown as { getComputedStyle: (e: unknown) => { color: string } }).getComputedStyle(el).color), 'rgb(26, 127, 55)', 'and coloured green')
    await checkCounts('odoo', 'odoo.sync-csv')
    t.equal(await card('odoo').locator('[data-part="running"] li').count(), 0, 'no longer listed as running')
    t.ok(await card('odoo').locator('[data-part="history"] li[data-status="succeeded"]').count() >= 1, 'history strip has the run')
    t.ok(await card('odoo').locator('[data-part="durations"] rect').count() >= 1, 'duration chart has the run')

    step = 'trigger an Insight dry run with a date range'
    const insight = card('insight')
    // The Insight sandbox holds orders shipped over the two weeks before today.
    const day = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10)
    const [from, to] = [day(-8), day(-1)]
    await insight.getByLabel('From').fill(from)
    await insight.getByLabel('To').fill(to)
    await insight.getByLabel('Dry run (write nothing)').check()
    await insight.getByRole('button', { name: 'Run sync' }).click()
    await lastRunStatus('insight', 'succeeded').waitFor()
    await checkCounts('insight', 'insight.sync')
    const insightJob = (await api('/jobs?kind=insight.sync&limit=1')).data[0]
    t.match(insightJob?.params, { from, to, dryRun: true }, 'the job got the range and dry run')
    t.ok(((insightJob?.result as { serials?: number } | undefined)?.serials ?? 0) > 0, 'the dry run found shipped serials')

    step = 'upload a BOBO file'
    const bobo = card('bobo')
    await bobo.getByLabel('CSV file').setInputFiles({
      name: 'alerts.csv',
      mimeType: 'text/csv',
      // The documented BOBO form; 00001… are collar numbers the AtHoc sandbox knows.
      buffer: Buffer.from('Employee_ID,Status,Timestamp\n00001,On Duty,2026-12-01 08:00:00\n00002,Off Duty,2026-12-01 08:05:00\n00003,On Duty,2026-12-01 08:10:00\n')
    })
    await bobo.getByRole('button', { name: 'Upload and process' }).click()
    await card('bobo').locator('[data-part="last-run"]', { has: page.locator('[data-kind="bobo.process"]') }).locator('.badge[data-status="succeeded"]').waitFor()
    await page.locator('#notice', { hasText: /1 file\(s\) stored, 3 rows accepted · job \S+ succeeded/ }).waitFor()
    t.pass('the notice says the upload was taken with its rows, and follows its job to success')
    await checkCounts('bobo', 'bobo.process')

    step = 'see a failed job listed first and retry it'
    await gateway.setTracosDown(true)
    await card('tracos').getByRole('button', { name: 'Run now' }).click()
    const failed = page.locator('#failed li[data-kind="tracos.run"]')
    await failed.waitFor()
    const failedJob = (await api('/jobs?kind=tracos.run&status=failed&limit=1')).data[0] as { error?: { message?: string } } | undefined
    const failure = failedJob?.error?.message ?? ''
    t.ok(failure !== '' && (await failed.textContent() ?? '').includes(failure), `the failure shows its error (${failure})`)
    t.equal(await failed.getByRole('link', { name: /Full JSON/ }).count(), 1, 'with a link to its JSON')
    const inOrder = await page.evaluate<boolean>(`document.getElementById('failed-section').getBoundingClientRect().top <
      document.getElementById('integrations').getBoundingClientRect().top`)
    t.ok(inOrder, 'failed jobs come before the integrations')
    await failed.getByRole('link', { name: /Full JSON/ }).click()
    await page.locator('#json-dialog[open]').waitFor()
    t.match(await page.locator('#json-body').textContent(), /"status": "failed"/, 'the full JSON opens')
    await page.getByRole('button', { name: 'Close' }).click()
    await lastRunStatus('tracos', 'failed').waitFor()
    await gateway.setTracosDown(false)
    await failed.getByRole('button', { name: 'Retry tracos.run' }).click()
    await lastRunStatus('tracos', 'succeeded').waitFor()
    t.pass('the retried job ran and succeeded')
    await page.locator('#notice', { hasText: /tracos\.run: retried · job \S+ succeeded/ }).waitFor()
    t.pass('the notice follows the retry to its outcome')
    await failed.waitFor({ state: 'detached' })
    t.pass('a failed job whose retry succeeded leaves the list')

    step = 'cancel a running job'
    await card('odoo').getByRole('button', { name: 'Run CSV sync now' }).click()
    if (process.env.DASHBOARD_SCREENSHOT !== undefined) {
      // The picture in docs/dashboard.md: taken while a run shows its progress.
      const running = card('odoo').locator('[data-part="running"] [role="progressbar"]')
      const deadline = Date.now() + WAIT_MS
      while (Number(await running.getAttribute('aria-valuenow', { timeout: 1000 }).catch(() => 0)) < 2) {
        if (Date.now() > deadline) throw new Error('the Odoo run never showed progress for the screenshot')
        await page.waitForTimeout(100)
      }
      const path = resolve(ROOT, process.env.DASHBOARD_SCREENSHOT)
      mkdirSync(dirname(path), { recursive: true })
      await page.locator('#notice').evaluate((el) => { el.textContent = '' })
      await page.screenshot({ path, fullPage: true })
    }
    await card('odoo').getByRole('button', { name: 'Cancel odoo.sync-csv' }).click()
    await lastRunStatus('odoo', 'cancelled').waitFor()
    t.pass('the running job was cancelled')

    step = 'narrow window'
    await page.setViewportSize({ width: 390, height: 800 })
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')
    t.ok(overflow <= 1, `no horizontal scrolling at 390 px (${overflow} px over)`)
    await page.setViewportSize({ width: 1280, height: 800 })

    step = 'keyboard: the run button is reachable with Tab'
    await page.getByRole('button', { name: 'Change key' }).focus()
    let reached = false
    for (let i = 0; i < 80 && !reached; i++) {
      await page.keyboard.press('Tab')
      reached = await page.evaluate<boolean>("document.activeElement?.textContent === 'Run CSV sync now'")
    }
    t.ok(reached, 'Tab reaches "Run CSV sync now"')

    step = 'a read key sees no buttons'
    await page.getByRole('button', { name: 'Change key' }).click()
    await page.getByLabel('API key').fill(gateway.readKey)
    await page.getByRole('button', { name: 'Open dashboard' }).click()
    await page.getByText('Read key: view only').waitFor()
    await lastRunStatus('odoo', 'cancelled').waitFor()
    t.equal(await page.locator('#notice').textContent(), '', 'the notice of the other key is gone')
    t.equal(await page.locator('#board button, #board input[type="file"], [data-action], [data-action-form]').count(), 0, 'no action buttons or forms')
    t.match(await card('insight').locator('[data-part="last-run"]').textContent(), /succeeded/, 'but everything else is shown')
    t.same(pageErrors, [], 'no script errors in the page')

    step = 'the failure screenshot works'
    const shot = await saveFailureScreenshot(page, 'self-check')
    t.ok(shot !== null && statSync(shot).size > 1000, `a failure would leave a screenshot (${shot})`)
    if (shot !== null) rmSync(shot)
  } catch (err) {
    const shot = await saveFailureScreenshot(page, 'dashboard')
    t.comment(`failed at step "${step}"; screenshot: ${shot ?? 'could not be taken'}`)
    throw err
  }
})
