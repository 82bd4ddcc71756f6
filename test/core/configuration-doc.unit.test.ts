import { readFileSync } from 'node:fs'
import t from 'tap'
import { CONFIGURATION_DOC, renderConfigurationDoc } from '../../scripts/config-docs.js'
import { integrations } from '../../src/integrations/index.js'

t.test('docs/configuration.md lists every configuration variable as the schema declares it', async (t) => {
  const committed = readFileSync(CONFIGURATION_DOC, 'utf8')
  t.equal(committed, renderConfigurationDoc(integrations), 'docs/configuration.md is current (run `npm run docs:config`)')
})
