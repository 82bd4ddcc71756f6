/**
 * The integration contract, proven with the example integration: a folder plus one line in the list makes it
 * appear in GET /integrations (the dashboard's source), in openapi.yaml, in the configuration docs and in the
 * demo's sandboxes, with its own typed config, its route's body validated from its TypeBox schema.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { closeSandboxes, startSandboxes } from '../../scripts/sandboxes.js'
import { exampleIntegration } from '../../src/integrations/example/index.js'
import { integrations } from '../../src/integrations/index.js'
import { authHeaders, build, mongoUri, waitForStatus } from '../helpers/app.js'
import { specProblems } from '../helpers/openapi.js'
import { ROOT } from '../helpers/process.js'

t.test('the example integration is served, validated and listed through the contract alone', async (t) => {
  const app = await build(t, { integrations: [exampleIntegration], env: { EXAMPLE_GREETING: 'Welcome' } })
  const listed = await app.inject({ method: 'GET', url: '/integrations', headers: authHeaders('read') })
  t.equal(listed.statusCode, 200)
  t.same(specProblems('GET', '/integrations', listed), [])
  t.match(listed.json().data, [{
    name: 'example',
    title: 'Example',
    jobs: [{ kind: 'example.greet' }],
    dashboard: { action: { route: 'example/greet', fields: [{ name: 'name', type: 'text' }] }, counts: { characters: 'characters' } }
  }])

  const accepted = await app.inject({ method: 'POST', url: '/example/greet', headers: authHeaders(), payload: { name: 'Ada' } })
  t.equal(accepted.statusCode, 202)
  t.same(specProblems('POST', '/example/greet', accepted), [])
  const done = await waitForStatus(app, accepted.json().jobId, ['succeeded'])
  t.same(done.result, { message: 'Welcome, Ada!', characters: 13 }, 'its own typed config reached the job')

  const missing = await app.inject({ method: 'POST', url: '/example/greet', headers: authHeaders(), payload: {} })
  t.equal(missing.statusCode, 400)
  t.same(specProblems('POST', '/example/greet', missing), [])
  t.match(missing.json().message, /name/, 'the missing field is named')
  const unknown = await app.inject({ method: 'POST', url: '/example/greet', headers: authHeaders(), payload: { name: 'Ada', colour: 'red' } })
  t.equal(unknown.statusCode, 400, 'an unknown field is refused')
  t.match(unknown.json().message, /colour/)
})

t.test('every listed integration is in openapi.yaml and the configuration docs, and has a sandbox for the demo', async (t) => {
  const spec = parse(readFileSync(join(ROOT, 'openapi.yaml'), 'utf8')) as { paths: Record<string, unknown> }
  t.ok(spec.paths['/example/greet'], 'the example route is documented')
  const configuration = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8')
  for (const integration of integrations) {
    for (const name of Object.keys(integration.config)) t.ok(configuration.includes(`| \`${name}\` |`), `${name} is in docs/configuration.md`)
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'sandboxes-'))
  t.teardown(() => { rmSync(dataDir, { recursive: true, force: true }) })
  const started = await startSandboxes([exampleIntegration], { dataDir, mongoUri: mongoUri(), mongoDb: 'unused' })
  t.teardown(() => closeSandboxes(started))
  t.match(started, [{ name: 'example', env: { EXAMPLE_GREETING: 'Hello from the demo' }, examples: [/example\/greet/] }])
})
