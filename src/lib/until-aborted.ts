/**
 * Resolves with `work`, or rejects with the signal's reason as soon as it aborts (a job handler that ignores
 * its signal can't hold the runner). `work` is always observed: when the signal was aborted before the
 * handler even started, the handler usually throws that same reason, and nobody else is left to catch it.
 */
export function untilAborted<T> (work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {})
    return Promise.reject(signal.reason)
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
  })
}
