/**
 * Counting job executions across processes, for the jobs bench: a worker process reports each job id it ran
 * (the handler started) and each it completed (its final state written), batched over the IPC channel; the
 * bench counts them per job id, so a job run twice shows up whatever library ran it, and the bench knows how
 * many jobs are done without polling the server (a count every few ms took a third of the server's CPU).
 */

export interface ExecutionReport { ran: string[], done: string[] }

/** In a worker process: `ran(id)` and `done(id)` are sent to the parent every 50 ms. */
export function ipcReporter (): { ran: (id: string) => void, done: (id: string) => void, flush: () => void } {
  let report: ExecutionReport = { ran: [], done: [] }
  const flush = (): void => {
    if (report.ran.length === 0 && report.done.length === 0) return
    process.send?.(report)
    report = { ran: [], done: [] }
  }
  setInterval(flush, 50).unref()
  return { ran: (id) => { report.ran.push(id) }, done: (id) => { report.done.push(id) }, flush }
}

/** In the bench: executions per job id, and the jobs completed at least once. */
export class ExecutionCounter {
  readonly runs = new Map<string, number>()
  readonly completed = new Set<string>()

  ran (id: string): void { this.runs.set(id, (this.runs.get(id) ?? 0) + 1) }
  done (id: string): void { this.completed.add(id) }
  add (report: ExecutionReport): void {
    for (const id of report.ran) this.ran(id)
    for (const id of report.done) this.done(id)
  }

  /** Jobs that ran more than once, and the executions beyond the first of each. */
  duplicates (): { jobsRunTwiceOrMore: number, extraExecutions: number } {
    let jobs = 0
    let extra = 0
    for (const n of this.runs.values()) {
      if (n > 1) { jobs++; extra += n - 1 }
    }
    return { jobsRunTwiceOrMore: jobs, extraExecutions: extra }
  }
}
