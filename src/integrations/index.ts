import type { Integration } from '../integration.js'
import { odooIntegration } from './odoo/index.js'
import { systemIntegration } from './system/index.js'

/** Every integration the gateway runs: the one place that names them. */
export const integrations: Integration[] = [
  systemIntegration,
  odooIntegration
]
