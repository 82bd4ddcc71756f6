import { createConnection, createServer, type Socket } from 'node:net'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface TcpProxy {
  /** `mongodb://127.0.0.1:<port>` style address of the proxy (same scheme as the target URI). */
  uri: string
  /** Cuts every open connection and refuses new ones, as a server that went away. */
  down: () => void
  /** Accepts and forwards connections again. */
  up: () => void
}

/**
 * A TCP proxy on loopback in front of the test's MongoDB-wire server, so a test can take storage away from
 * one gateway (and give it back) without touching the server the other tests share.
 */
export async function startTcpProxy (t: Teardown, targetUri: string): Promise<TcpProxy> {
  const target = new URL(targetUri)
  const open = new Set<Socket>()
  let accepting = true
  const server = createServer((client) => {
    if (!accepting) {
      client.destroy()
      return
    }
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) })
    open.add(client)
    open.add(upstream)
    const close = (): void => {
      client.destroy()
      upstream.destroy()
      open.delete(client)
      open.delete(upstream)
    }
    client.on('error', close).on('close', close)
    upstream.on('error', close).on('close', close)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  t.teardown(async () => {
    for (const socket of open) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  const uri = `${target.protocol}//127.0.0.1:${port}${target.pathname}${target.search}`
  return {
    uri,
    down () {
      accepting = false
      for (const socket of open) socket.destroy()
      open.clear()
    },
    up () { accepting = true }
  }
}
