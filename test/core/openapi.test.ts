import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'yaml'
import { buildApp } from '../../src/app.js'
import { testConfig, dropDatabaseAfter } from '../helpers/app.js'
import { ROOT } from '../helpers/process.js'

t.test('openapi.yaml documents exactly the routes the gateway registers', async (t) => {
  const config = testConfig({ JOBS_RUNNER_ENABLED: 'false', SCHEDULER_ENABLED: 'false' })
  dropDatabaseAfter(t, config.MONGODB_DB)
  const app = await buildApp({ config })
  t.teardown(() => app.close())
  await app.ready()
  const registered = new Set(app.registeredRoutes.map((r) => r.replace(/:(\w+)/g, '{$1}')))
  const spec = parse(readFileSync(`${ROOT}/openapi.yaml`, 'utf8')) as { paths: Record<string, Record<string, unknown>> }
  const documented = new Set<string>()
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const method of Object.keys(operations)) documented.add(`${method.toUpperCase()} ${path}`)
  }
  t.same([...registered].filter((r) => !documented.has(r)).sort(), [], 'every registered route is documented')
  t.same([...documented].filter((r) => !registered.has(r)).sort(), [], 'every documented route is registered')
})
