import type { FastifyInstance } from 'fastify'
import { insightIntegration } from '../../src/integrations/insight/index.js'
import { startInsightSimulator, type InsightSimulator, type InsightSimulatorOptions } from '../../src/integrations/insight/sandbox/insight-simulator.js'
import { startOomnitzaSimulator, type OomnitzaSimulator, type OomnitzaSimulatorOptions } from '../../src/integrations/insight/sandbox/oomnitza-simulator.js'
import { systemIntegration } from '../../src/integrations/system/index.js'
import { build, waitForStatus } from './app.js'

interface Teardown { teardown: (fn: () => unknown) => void }

/** Both simulators on loopback, closed at teardown. */
export async function startSimulators (t: Teardown, options: { insight?: InsightSimulatorOptions, oomnitza?: OomnitzaSimulatorOptions } = {}): Promise<{ insight: InsightSimulator, oomnitza: OomnitzaSimulator }> {
  const insight = await startInsightSimulator(options.insight)
  t.teardown(() => insight.close())
  const oomnitza = await startOomnitzaSimulator(options.oomnitza)
  t.teardown(() => oomnitza.close())
  return { insight, oomnitza }
}

/** A gateway with the Insight integration pointed at the simulators, with quick retries. */
export async function buildInsightApp (t: Teardown, sims: { insight: InsightSimulator, oomnitza: OomnitzaSimulator }, env: Record<string, string> = {}): Promise<FastifyInstance> {
  return build(t, {
    env: { SCHEDULER_ENABLED: 'false', INSIGHT_RETRY_BASE_MS: '20', ...sims.insight.env(), ...sims.oomnitza.env(), ...env },
    integrations: [systemIntegration, insightIntegration]
  })
}

/** Runs insight.sync with the given params through the job engine and returns the finished job. */
export async function runSync (app: FastifyInstance, params: Record<string, unknown>, statuses = ['succeeded', 'failed']) {
  const { job } = await app.jobs.enqueue('insight.sync', params)
  return waitForStatus(app, job._id, statuses, 60_000)
}
