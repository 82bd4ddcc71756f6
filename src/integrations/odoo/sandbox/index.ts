import { join } from 'node:path'
import type { Sandbox, SandboxOptions } from '../../../integration.js'
import { generateEmployees } from './employees.js'
import { createOdooSimulator } from './simulator.js'

/** `npm run demo`: a simulated Odoo with 200 generated employees; the gateway writes the CSV under the demo folder. */
export async function odooSandbox ({ dataDir }: SandboxOptions): Promise<Sandbox> {
  const sim = createOdooSimulator({ employees: generateEmployees(200) })
  const url = await sim.listen()
  const csvPath = join(dataDir, 'hr', 'hr_clean.csv')
  return {
    description: `Odoo simulator at ${url}; CSV written to ${csvPath}`,
    env: {
      ODOO_URL: url,
      ODOO_DB: sim.db,
      ODOO_USERNAME: sim.login,
      ODOO_PASSWORD: sim.password,
      ODOO_CSV_PATH: csvPath
    },
    examples: [
      'curl -s -X POST -H "X-API-Key: $KEY" $BASE/odoo/sync-csv   # full sync: hr_clean.csv with 200 employees',
      `curl -s -X POST ${url}/__sim/control -d '{"action":"update","id":12,"changes":{"name":"Ada Lovelace","job_title":"Analyst"}}'   # edit employee 12 in (simulated) Odoo`,
      'curl -s -X POST -H "X-API-Key: $KEY" -H \'Content-Type: application/json\' $BASE/odoo/webhook -d \'{"event":"update","employee_id":12}\'   # what n8n sends',
      `grep ^1012, ${csvPath}   # employee 12's row (personalNumber 1012), a second later: Ada,Lovelace,…,Analyst`,
      `curl -s -X POST ${url}/__sim/control -d '{"action":"fail","failures":[{"mode":"html502"}]}'   # next Odoo call answers an HTML 502 page`
    ],
    close: () => sim.close()
  }
}
