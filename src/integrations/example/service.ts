import { setTimeout as sleep } from 'node:timers/promises'
import type { JobContext } from '../../integration.js'

export interface GreetParams { name: string, delayMs?: number }

/** The work a job does, apart from the route that asks for it: here, a greeting after an optional pause. */
export function createGreeter (greeting: string) {
  async function greet (ctx: JobContext): Promise<{ message: string, characters: number }> {
    const { name, delayMs = 0 } = ctx.params as unknown as GreetParams
    ctx.progress(0, 1, 'thinking')
    // Honours cancellation: the signal aborts the pause.
    if (delayMs > 0) await sleep(delayMs, undefined, { signal: ctx.signal })
    const message = `${greeting}, ${name}!`
    ctx.log.info({ name }, 'greeted')
    return { message, characters: message.length }
  }
  return { greet }
}
