import type { Sandbox } from '../../../integration.js'

/** The example has no upstream to stand in for: its sandbox only sets the greeting and shows how to call it. */
export async function exampleSandbox (): Promise<Sandbox> {
  return {
    description: 'no upstream; EXAMPLE_GREETING set for the demo',
    env: { EXAMPLE_GREETING: 'Hello from the demo' },
    examples: [
      'curl -s -X POST -H "X-API-Key: $KEY" -H \'content-type: application/json\' -d \'{"name":"Ada"}\' $BASE/example/greet'
    ],
    close: async () => {}
  }
}
