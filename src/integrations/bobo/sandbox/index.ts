import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Sandbox, SandboxOptions } from '../../../integration.js'
import { startAthocSimulator } from './athoc-simulator.js'

/**
 * `npm run demo` sandbox: an AtHoc simulator with 20 users (collar numbers 00001…00020), BOBO folders under the
 * demo data folder, and a sample export to upload. The mapping sync runs on the first tick (first-run rule).
 */
export async function boboSandbox ({ dataDir }: SandboxOptions): Promise<Sandbox> {
  const sim = await startAthocSimulator({ orgCode: 'DEMO' })
  for (let i = 1; i <= 20; i++) {
    const id = String(i).padStart(5, '0')
    sim.addUser(`officer${i}@demo.example`, { 'Collar-Number': id, FIRSTNAME: 'Officer', LASTNAME: String(i) })
  }
  const root = join(dataDir, 'bobo')
  mkdirSync(root, { recursive: true })
  const sample = join(root, 'sample-bobo-export.csv')
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14)
  writeFileSync(sample, [
    `BON,00001,PAY001,${stamp.slice(0, 8)},${stamp.slice(8)},${stamp},1,51.5074,-0.1278,5.0`,
    `BON,00002,PAY002,${stamp.slice(0, 8)},${stamp.slice(8)},${stamp},1,51.5074,-0.1278,5.0`,
    `BOF,00003,PAY003,${stamp.slice(0, 8)},${stamp.slice(8)},${stamp},1,51.5074,-0.1278,5.0`,
    'BON,00004,PAY004,20240101,000000,not-a-time,1,0,0,0'
  ].join('\r\n') + '\r\n')
  return {
    description: `AtHoc simulator at ${sim.url}; BOBO folders under ${root}`,
    env: {
      ...sim.env(),
      BOBO_INCOMING_DIR: join(root, 'incoming'),
      BOBO_PROCESSED_DIR: join(root, 'processed'),
      BOBO_FAILED_DIR: join(root, 'failed'),
      // A human pace: a tick every few seconds would fill the dashboard and /jobs with empty runs.
      BOBO_POLL_INTERVAL: '5m'
    },
    examples: [
      `curl -s -X POST -H "X-API-Key: $KEY" -H 'Content-Type: text/csv' --data-binary @${sample} $BASE/bobo/upload`,
      'curl -s -H "X-API-Key: $KEY" $BASE/bobo/files',
      'curl -s -X POST -H "X-API-Key: $KEY" $BASE/bobo/mapping-sync'
    ],
    close: async () => { await sim.close() }
  }
}
