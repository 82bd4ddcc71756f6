/**
 * npm run bench — runs every bench, one after the other, each in its own process on the one server `with-mongo`
 * provisioned for this run (MONGODB_URI), collects their JSON lines and writes docs/benchmarks.md (report.ts):
 * one table of the gateway's figures against references measured in the same run, with their ratios and
 * targets. The raw lines are also written to $TMPDIR/bench-results.json; BENCH_RESULTS=<that file> renders the
 * document again from it without running anything, BENCH_ONLY=jobs,odoo runs some benches only (the document
 * is then not written). Each bench's own sizes are set by its env variables (see the bench).
 */
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { renderReport, type BenchName, type BenchResults, type RunContext } from './report.js'
import { describeServer } from './server.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const BENCHES: BenchName[] = ['jobs', 'odoo', 'tracos', 'bobo', 'insight']
const resultsFile = join(tmpdir(), 'bench-results.json')

/** Runs bench/<name>.ts; resolves with its last JSON line, or the reason it gave none. */
function runBench (name: BenchName): Promise<{ json?: Record<string, unknown>, error?: string, seconds: number }> {
  const started = performance.now()
  process.stderr.write(`[bench] ${name}…\n`)
  const child = spawn(process.execPath, ['--import', 'tsx', `bench/${name}.ts`], { cwd: root, env: process.env, stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      const seconds = Number(((performance.now() - started) / 1000).toFixed(1))
      const line = out.split('\n').filter((l) => l.startsWith('{')).at(-1)
      process.stderr.write(`[bench] ${name}: ${seconds} s, exit ${code ?? signal}\n`)
      if (code === 0 && line !== undefined) {
        try {
          resolve({ json: JSON.parse(line) as Record<string, unknown>, seconds })
          return
        } catch {}
      }
      resolve({ error: `exited with ${code ?? signal}${line === undefined ? ', no JSON line' : ''}`, seconds })
    })
  })
}

function cpuModel (): string {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown'
  } catch {
    return cpus()[0]?.model ?? 'unknown'
  }
}

let data: { context: RunContext, results: BenchResults }
if (process.env.BENCH_RESULTS !== undefined) {
  data = JSON.parse(readFileSync(process.env.BENCH_RESULTS, 'utf8')) as typeof data
} else {
  const uri = process.env.MONGODB_URI
  if (uri === undefined) throw new Error('MONGODB_URI is not set: run it as npm run bench (with-mongo provisions the server)')
  const only = process.env.BENCH_ONLY?.split(',').map((name) => name.trim())
  const started = performance.now()
  const loadBefore = loadavg()
  const results: BenchResults = {}
  for (const name of BENCHES) {
    if (only !== undefined && !only.includes(name)) continue
    results[name] = await runBench(name)
  }
  const context: RunContext = {
    date: new Date().toISOString(),
    cores: cpus().length,
    cpu: cpuModel(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    server: await describeServer(uri),
    serverDetail: process.env.MONGODB_SERVER ?? '',
    loadBefore: loadBefore.map((n) => Number(n.toFixed(2))),
    loadAfter: loadavg().map((n) => Number(n.toFixed(2))),
    minutes: Number(((performance.now() - started) / 60_000).toFixed(1))
  }
  data = { context, results }
  writeFileSync(resultsFile, `${JSON.stringify(data, null, 2)}\n`)
  process.stderr.write(`[bench] raw results in ${resultsFile}\n`)
  if (only !== undefined) {
    process.stdout.write(`${JSON.stringify(results)}\n`)
    process.exit(Object.values(results).every((r) => r.json !== undefined) ? 0 : 1)
  }
}

const report = renderReport(data.context, data.results)
writeFileSync(join(root, 'docs/benchmarks.md'), report.markdown)
process.stderr.write(`[bench] wrote docs/benchmarks.md: ${report.holding} of ${report.targets} targets hold${report.failed.length > 0 ? `; failed: ${report.failed.join(', ')}` : ''}\n`)
process.exit(report.failed.length > 0 ? 1 : 0)
