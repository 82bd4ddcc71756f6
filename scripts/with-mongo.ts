/**
 * `with-mongo [--ferretdb-backend=sqlite|postgresql] -- <command…>`: provisions a MongoDB-wire server (see
 * mongo-server.ts), runs the command with MONGODB_URI pointing at it (and MONGODB_SERVER naming it), stops the
 * server afterwards and exits with the command's code.
 */
import { spawn } from 'node:child_process'
import { provisionMongo, type FerretDbBackend } from './mongo-server.js'

const separator = process.argv.indexOf('--')
const command = separator === -1 ? [] : process.argv.slice(separator + 1)
if (command.length === 0) {
  process.stderr.write('usage: with-mongo -- <command> [args…]\n')
  process.exit(2)
}

const backendFlag = process.argv.slice(2, separator).find((arg) => arg.startsWith('--ferretdb-backend='))
const server = await provisionMongo(backendFlag?.slice('--ferretdb-backend='.length) as FerretDbBackend | undefined)
process.stderr.write(`[mongo] using ${server.description} at ${server.uri}\n`)
const child = spawn(command[0] as string, command.slice(1), {
  stdio: 'inherit',
  env: { ...process.env, MONGODB_URI: server.uri, MONGODB_SERVER: server.description }
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => { child.kill(signal) })
}
const code: number = await new Promise((resolve) => {
  child.on('exit', (exitCode, signal) => { resolve(exitCode ?? (signal === null ? 1 : 128)) })
})
await server.stop()
process.exit(code)
