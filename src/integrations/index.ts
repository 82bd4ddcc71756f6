import type { Integration } from '../integration.js'
import { insightIntegration } from './insight/index.js'
import { boboIntegration } from './bobo/index.js'
import { exampleIntegration } from './example/index.js'
import { odooIntegration } from './odoo/index.js'
import { systemIntegration } from './system/index.js'
import { tracosIntegration } from './tracos/index.js'

/** Every integration the gateway runs: the one place that names them. A new one is a folder and a line here. */
export const integrations: Integration[] = [
  systemIntegration,
  insightIntegration,
  tracosIntegration,
  boboIntegration,
  odooIntegration,
  exampleIntegration
]
