import Type from 'typebox'
import type { ConfigOf } from '../../integration.js'

/** The example integration's one variable: a template for declaring an integration's configuration. */
export const exampleConfig = {
  EXAMPLE_GREETING: Type.String({ default: 'Hello', minLength: 1, maxLength: 100, description: 'Example integration: the word example.greet puts before the name.' })
}

export type ExampleConfig = ConfigOf<typeof exampleConfig>
