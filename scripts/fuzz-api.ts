/**
 * npm run fuzz:api — Schemathesis (from PyPI, installed into .cache/schemathesis on first use) generates
 * requests from openapi.yaml and sends them to a live demo gateway (sandbox upstreams, real MongoDB-wire
 * server). Fails on any 5xx or any response that does not match its documented schema.
 */
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const SCHEMATHESIS = 'schemathesis==4.32.5'
const venv = join(root, '.cache', 'schemathesis')
const st = join(venv, 'bin', 'st')

if (!existsSync(st)) {
  process.stderr.write(`[fuzz] installing ${SCHEMATHESIS} into ${venv}\n`)
  const python = process.env.PYTHON ?? 'python3'
  for (const args of [[python, '-m', 'venv', venv], [join(venv, 'bin', 'pip'), 'install', '--quiet', SCHEMATHESIS]]) {
    const result = spawnSync(args[0] as string, args.slice(1), { stdio: 'inherit' })
    if (result.status !== 0) throw new Error(`${args.join(' ')} failed`)
  }
}

const port = await new Promise<number>((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number }
    server.close(() => { resolve(port) })
  })
})
const apiKey = `fuzz-${randomBytes(12).toString('hex')}`
const demo = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
  cwd: root,
  env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', GATEWAY_API_KEYS: apiKey, MONGODB_DB: `fuzz_${randomBytes(4).toString('hex')}`, RATE_LIMIT_MAX: '0', LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit']
})
let output = ''
demo.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
const deadline = Date.now() + 180_000
while (!output.includes('demo running at')) {
  if (demo.exitCode !== null || Date.now() > deadline) throw new Error(`the demo gateway did not start:\n${output}`)
  await new Promise((resolve) => setTimeout(resolve, 200))
}

const run = spawnSync(st, [
  'run', join(root, 'openapi.yaml'),
  '--url', `http://127.0.0.1:${port}`,
  '-H', `X-API-Key: ${apiKey}`,
  '--checks', 'not_a_server_error,response_schema_conformance',
  '--phases', 'examples,coverage,fuzzing',
  '--max-examples', process.env.FUZZ_MAX_EXAMPLES ?? '50',
  '--workers', '2',
  '--suppress-health-check', 'all'
], { stdio: 'inherit', env: { ...process.env, SCHEMATHESIS_TELEMETRY: 'false' } })

demo.kill('SIGTERM')
await new Promise((resolve) => demo.once('exit', resolve))
process.exit(run.status ?? 1)
