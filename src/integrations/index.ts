import type { Integration } from '../integration.js'
import { insightIntegration } from './insight/index.js'
import { boboIntegration } from './bobo/index.js'
import { odooIntegration } from './odoo/index.js'
import { systemIntegration } from './system/index.js'
import { tracosIntegration } from './tracos/index.js'

/** Every integration the gateway runs: the one place that names them. */
export const integrations: Integration[] = [
  systemIntegration,
  insightIntegration,
  tracosIntegration,
  boboIntegration,
  odooIntegration
]
