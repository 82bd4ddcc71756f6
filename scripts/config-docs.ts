/**
 * npm run docs:config — writes docs/configuration.md from the configuration schema: the core's variables and
 * each integration's, with their defaults and descriptions. A test fails when the committed file is stale.
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { TProperties } from 'typebox'
import { coreConfigProperties } from '../src/config.js'
import type { Integration } from '../src/integration.js'
import { integrations } from '../src/integrations/index.js'

const HEADER = `# Configuration

Every setting is an environment variable; \`.env.example\` lists the usual ones. Values are checked at start:
a bad value stops the gateway with one message naming every bad variable and what it accepts. An empty
variable counts as unset. Secrets (passwords, tokens, keys) are never logged.

Durations such as \`ODOO_SYNC_INTERVAL\` take \`500ms\`, \`30s\`, \`5m\`, \`1h\`, \`1d\` (a bare number is seconds) or
\`off\`.

This file is generated from the configuration schema by \`npm run docs:config\`; edit the descriptions in the
code (\`src/config.ts\`, \`src/integrations/<name>/config.ts\`), not here.
`

function cell (text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}

function table (properties: TProperties): string {
  const rows = Object.entries(properties).map(([name, schema]) => {
    const { default: fallback, description, enum: allowed } = schema as { default?: unknown, description?: string, enum?: unknown[] }
    const shown = fallback === undefined ? '(required)' : fallback === '' ? '(empty)' : `\`${String(fallback)}\``
    const values = allowed === undefined ? '' : ` Allowed: ${allowed.map((v) => `\`${String(v)}\``).join(', ')}.`
    return `| \`${name}\` | ${cell(shown)} | ${cell(`${description ?? ''}${values}`)} |`
  })
  return ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n')
}

/** The whole page for the given integrations. */
export function renderConfigurationDoc (list: Integration[]): string {
  const sections = [`## Core\n\nThe HTTP server, MongoDB, the job engine, API keys and load shedding.\n\n${table(coreConfigProperties)}`]
  for (const integration of list) {
    if (Object.keys(integration.config).length === 0) continue
    sections.push(`## ${integration.title} (\`${integration.name}\`)\n\n${integration.summary}\n\n${table(integration.config)}`)
  }
  return `${HEADER}\n${sections.join('\n\n')}\n`
}

export const CONFIGURATION_DOC = fileURLToPath(new URL('../docs/configuration.md', import.meta.url))

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CONFIGURATION_DOC, renderConfigurationDoc(integrations))
  process.stdout.write(`wrote ${CONFIGURATION_DOC}\n`)
}
