/**
 * CPU time spent by the processes of a measurement, from /proc (Linux): what bounds a ratio on a 2-core
 * machine is often whose CPU the work takes, and this says so with figures. A process's time includes its
 * reaped children's (cutime, cstime), so PostgreSQL's postmaster counts the backends that have exited; the
 * live backends are added one by one.
 */
import { readdirSync, readFileSync } from 'node:fs'

const TICKS_PER_SECOND = 100

/** utime + stime + cutime + cstime of one process, in seconds; 0 if it is gone. */
export function cpuSecondsOf (pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0) / TICKS_PER_SECOND
  } catch {
    return 0
  }
}

function processes (): Array<{ pid: number, ppid: number, cmdline: string }> {
  const out: Array<{ pid: number, ppid: number, cmdline: string }> = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      out.push({ pid: Number(name), ppid, cmdline: readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ') })
    } catch {}
  }
  return out
}

/**
 * The MongoDB-wire server's processes on this machine for `uri`: FerretDB listening on its port and, with the
 * PostgreSQL backend, that cluster's postmaster. Empty when they cannot be found (another server).
 */
export function serverProcesses (uri: string): { ferretdb: number | null, postmaster: number | null } {
  const port = /:(\d+)(\/|\?|$)/.exec(uri.replace(/^mongodb:\/\//, ''))?.[1]
  const all = processes()
  const ferretdb = port === undefined ? undefined : all.find((p) => p.cmdline.includes('ferretdb') && p.cmdline.includes(`--listen-addr=127.0.0.1:${port} `))
  const pgPort = /--postgresql-url=\S*:(\d+)\//.exec(ferretdb?.cmdline ?? '')?.[1]
  const postmaster = pgPort === undefined ? undefined : all.find((p) => / -p (\d+) /.exec(p.cmdline)?.[1] === pgPort && p.cmdline.includes('postgres'))
  return { ferretdb: ferretdb?.pid ?? null, postmaster: postmaster?.pid ?? null }
}

/** CPU seconds of the server: FerretDB, the postmaster with its reaped children, and its live backends. */
export function serverCpuSeconds (server: { ferretdb: number | null, postmaster: number | null }): number {
  let total = server.ferretdb === null ? 0 : cpuSecondsOf(server.ferretdb)
  if (server.postmaster !== null) {
    total += cpuSecondsOf(server.postmaster)
    for (const p of processes()) if (p.ppid === server.postmaster) total += cpuSecondsOf(p.pid)
  }
  return total
}

/** This process's own CPU seconds (the bench: a client, a producer, or an in-process engine). */
export function ownCpuSeconds (): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1e6
}

/**
 * Samples named CPU counters now; `stop()` returns the seconds each spent since, so a measurement can report
 * CPU per request or per job for each side.
 */
export function cpuMeter (counters: Record<string, () => number>): { stop: () => Record<string, number> } {
  const start = Object.fromEntries(Object.entries(counters).map(([name, read]) => [name, read()]))
  return {
    stop: () => Object.fromEntries(Object.entries(counters).map(([name, read]) => [name, read() - (start[name] ?? 0)]))
  }
}
