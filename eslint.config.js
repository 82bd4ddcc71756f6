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
    files: ['src/dashboard/**/*.js'],
    languageOptions: { globals: globals.browser }
  }
]
