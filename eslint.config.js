import neostandard from 'neostandard'
import globals from 'globals'

// The project's style: standard for JavaScript and TypeScript (no semicolons, 2 spaces, single quotes).
export default [
  { ignores: ['dist/**', 'data/**', 'node_modules/**'] },
  ...neostandard({ ts: true }),
  {
    rules: {
      // `void promise` marks a promise deliberately left to run (a fire-and-forget refresh, a background loop).
      'no-void': ['error', { allowAsStatement: true }],
      // Loops here wait on state that callbacks change (a runner's state, a flag set by another task).
      'no-unmodified-loop-condition': 'off'
    }
  },
  {
    // The integration boundary: an integration reaches the core only through src/integration.ts.
    files: ['src/integrations/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          regex: '^(\\.\\./)+(lib|jobs|plugins|routes|schemas|schedules|dashboard)/|^(\\.\\./)+(app|config|server)\\.js$',
          message: 'An integration imports the core only through src/integration.ts (the one door).'
        }]
      }]
    }
  },
  {
    // ...and the core never names an integration (app.ts and server.ts compose the list; they are not the core).
    files: ['src/lib/**', 'src/jobs/**', 'src/plugins/**', 'src/routes/**', 'src/schemas/**', 'src/schedules/**', 'src/config.ts', 'src/integration.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ regex: '/integrations/', message: 'The core never imports an integration; it gets them through the contract.' }]
      }]
    }
  },
  {
    files: ['src/dashboard/**/*.js'],
    languageOptions: { globals: globals.browser }
  }
]
