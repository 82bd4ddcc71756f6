import { readFileSync } from 'node:fs'
import t from 'tap'
import { configSchema } from '../../src/config.js'
import { ROOT } from '../helpers/process.js'

t.test('README documents every configuration variable', async (t) => {
  const readme = readFileSync(`${ROOT}/README.md`, 'utf8')
  const missing = Object.keys(configSchema.properties).filter((name) => !readme.includes(`| \`${name}\` |`))
  t.same(missing, [], 'each variable has a row in a configuration table')
})
