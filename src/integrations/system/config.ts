import Type from 'typebox'
import type { ConfigOf } from '../../integration.js'

/** The housekeeping's own variable (JOBS_RETENTION_DAYS is the core's: the engine's retention). */
export const systemConfig = {
  JOBS_PURGE_CRON: Type.String({ default: '30 3 * * *', description: 'When system.purge-jobs runs (cron, UTC); `off` disables it.' })
}

export type SystemConfig = ConfigOf<typeof systemConfig>
