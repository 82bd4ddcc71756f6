import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface SimAnswer {
  status: number
  body?: unknown
  /** Sent as is when the body is a string; JSON otherwise. */
  contentType?: string
  headers?: Record<string, string>
}

export interface SimRequest {
  method: string
  path: string
  query: URLSearchParams
  headers: IncomingMessage['headers']
  text: string
}

/** A loopback HTTP server around a request → answer function (the simulators' common part). */
export async function startServer (handle: (req: SimRequest) => Promise<SimAnswer>, port = 0): Promise<{ server: Server, url: string, close: () => Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://sim')
      handle({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, text: Buffer.concat(chunks).toString('utf8') })
        .then((answer) => send(res, answer))
        .catch((err: Error) => send(res, { status: 500, body: { errors: [err.message] } }))
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const { port: bound } = server.address() as AddressInfo
  return {
    server,
    url: `http://127.0.0.1:${bound}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }
}

function send (res: ServerResponse, answer: SimAnswer): void {
  if (res.destroyed) return
  const text = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body)
  res.writeHead(answer.status, {
    'content-type': answer.contentType ?? (typeof answer.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json'),
    ...answer.headers
  })
  res.end(text)
}
