import { defineIntegration } from '../../integration.js'
import { exampleConfig } from './config.js'
import { exampleRoutes } from './routes.js'
import { exampleSandbox } from './sandbox/index.js'
import { createGreeter } from './service.js'

/**
 * The smallest complete integration, and the template for a new one (docs/architecture.md): a config
 * variable, a route with its schema, a job kind, a dashboard card and a sandbox. Remove its line from
 * src/integrations/index.ts to drop it.
 */
export const exampleIntegration = defineIntegration({
  name: 'example',
  title: 'Example',
  summary: 'A template integration: POST /example/greet queues a job that returns a greeting.',
  config: exampleConfig,
  dashboard: {
    counts: { characters: 'characters' },
    action: { label: 'Greet', route: 'example/greet', fields: [{ name: 'name', label: 'Name', type: 'text' }] }
  },
  sandbox: exampleSandbox,
  setup ({ config, jobs }) {
    const greeter = createGreeter(config.EXAMPLE_GREETING)
    return {
      jobs: {
        'example.greet': {
          description: 'Returns a greeting for the name it was given (after delayMs, if any).',
          maxAttempts: 1,
          timeoutMs: 120_000,
          handler: (ctx) => greeter.greet(ctx)
        }
      },
      routes: exampleRoutes(jobs)
    }
  }
})
