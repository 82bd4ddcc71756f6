import type { Sandbox } from '../../../integration.js'
import { addDays } from '../dates.js'
import { startInsightSimulator } from './insight-simulator.js'
import { startOomnitzaSimulator } from './oomnitza-simulator.js'
import { exampleOrder, generateOrders } from './orders.js'

/**
 * `npm run demo`: the Insight and Oomnitza simulators, seeded with the reference's worked example shipped
 * yesterday plus ~200 generated serials over the last two weeks, and a few assets already in Oomnitza (one
 * stale, so a dry run shows an update).
 */
export async function insightSandbox (): Promise<Sandbox> {
  const yesterday = addDays(new Date().toISOString().slice(0, 10), -1)
  const insight = await startInsightSimulator({ latencyMs: 200 })
  insight.state.orders = [
    exampleOrder({ created: addDays(yesterday, -3), shipped: yesterday, secondShipped: yesterday.replaceAll('-', '') }),
    ...generateOrders({ serials: 200, to: yesterday, days: 14, prefix: 'DEMO' })
  ]
  const oomnitza = await startOomnitzaSimulator({ latencyMs: 20 })
  oomnitza.seed({ serial_number: 'PF4ABC12', model: 'THINKPAD (old name)', manufacturer: 'LENOVO', vendor: 'Insight' })
  const from = addDays(yesterday, -14)
  return {
    description: `Insight simulator at ${insight.url}; Oomnitza simulator at ${oomnitza.url}`,
    env: { ...insight.env(), ...oomnitza.env() },
    examples: [
      'curl -s -X POST -H "X-API-Key: $KEY" $BASE/insight/sync -H \'content-type: application/json\' -d \'{"dryRun":true}\'',
      'curl -s -X POST -H "X-API-Key: $KEY" $BASE/insight/sync',
      `curl -s -X POST -H "X-API-Key: $KEY" $BASE/insight/sync -H 'content-type: application/json' -d '{"from":"${from}","to":"${yesterday}","dateField":"creation"}'`
    ],
    close: async () => {
      await insight.close()
      await oomnitza.close()
    }
  }
}
