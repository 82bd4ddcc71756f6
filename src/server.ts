import closeWithGrace from 'close-with-grace'
import { buildApp, shutdownBudgetMs } from './app.js'
import { buildConfigSchema, ConfigError, loadConfig } from './config.js'
import { integrations } from './integrations/index.js'

/** Entry point: configuration from the environment only, listen, drain on SIGINT/SIGTERM. */
async function main (): Promise<void> {
  let config
  try {
    config = loadConfig(process.env, buildConfigSchema(integrations))
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      process.exit(1)
    }
    throw err
  }

  const app = await buildApp({ config })
  // The process is forced out only after the app's own close budget (drain, releases, MongoDB) has run out.
  closeWithGrace({ delay: shutdownBudgetMs(config) + 5_000 }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'shutting down after an uncaught error')
    else app.log.info({ signal }, 'shutting down')
    await app.close()
  })
  await app.listen({ host: config.HOST, port: config.PORT })
}

main().catch((err: unknown) => {
  process.stderr.write(`gateway failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
