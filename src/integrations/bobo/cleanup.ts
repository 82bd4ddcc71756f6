import { errorMessage, type Logger } from '../../integration.js'
import { userOutcome, type AthocClient } from './athoc-client.js'
import { formatAthocTime } from './time.js'

/**
 * Job bobo.cleanup: clears the duty field of every user whose value is older than the cutoff, whoever set
 * it. Pages through all matches (the original stopped at 1000), then clears them in chunks.
 */
export function createCleanup (deps: { athoc: AthocClient, dutyField: string, hours: number, timeZone: string, chunkSize: number, now: () => Date }) {
  async function run (ctx: { log: Logger, signal: AbortSignal }) {
    const { log, signal } = ctx
    deps.athoc.checkConfigured()
    const cutoff = new Date(deps.now().getTime() - deps.hours * 3_600_000)
    const cutoffText = formatAthocTime(cutoff, deps.timeZone)
    const field = deps.dutyField
    const stale = await deps.athoc.searchAllUsers(['LOGIN_ID', field], `${field} pr and ${field} lt '${cutoffText}'`, signal)
    const logins = [...new Set(stale.map((u) => u.LOGIN_ID).filter((l): l is string => typeof l === 'string' && l !== ''))]
    let cleared = 0
    let failed = 0
    const errors: string[] = []
    for (let i = 0; i < logins.length; i += deps.chunkSize) {
      const chunk = logins.slice(i, i + deps.chunkSize)
      try {
        const answer = await deps.athoc.syncByCommonNames(chunk.map((login) => ({ LOGIN_ID: login, [field]: '' })), signal)
        const byLogin = new Map(answer.map((e) => [String(e.LOGIN_ID ?? '').toLowerCase(), e]))
        for (const login of chunk) {
          if (userOutcome(byLogin.get(login.toLowerCase())).ok) cleared++
          else failed++
        }
      } catch (err) {
        if (signal.aborted) throw err
        failed += chunk.length
        errors.push(errorMessage(err))
      }
    }
    const result = { cutoff: cutoffText, stale: logins.length, cleared, failed, errors: errors.slice(0, 5) }
    log.info(result, `Cleared duty status for ${cleared} users`)
    return result
  }
  return { run }
}
