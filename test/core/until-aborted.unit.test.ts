import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { untilAborted } from '../../src/lib/until-aborted.js'

t.test('aborted before the work started: rejects with the reason, and the work failing later is not an unhandled rejection', async (t) => {
  const controller = new AbortController()
  const reason = new Error('the job was cancelled')
  controller.abort(reason)
  // What a handler does when it finds its signal aborted.
  const work = (async () => { await sleep(5); controller.signal.throwIfAborted() })()
  await t.rejects(untilAborted(work, controller.signal), reason)
  // tap fails the file on an unhandled rejection: give the work time to fail.
  await sleep(30)
})

t.test('aborted while the work runs: rejects at once; the work resolving or failing later changes nothing', async (t) => {
  for (const later of ['resolve', 'reject'] as const) {
    const controller = new AbortController()
    const reason = new Error('timeout')
    const work = sleep(50).then(() => { if (later === 'reject') throw new Error('late failure'); return 'late value' })
    const started = Date.now()
    setTimeout(() => { controller.abort(reason) }, 5)
    await t.rejects(untilAborted(work, controller.signal), reason, `work that would ${later} later`)
    t.ok(Date.now() - started < 45, 'without waiting for the work')
    await sleep(70)
  }
})

t.test('not aborted: the work\'s own outcome', async (t) => {
  const controller = new AbortController()
  t.equal(await untilAborted(Promise.resolve(7), controller.signal), 7)
  await t.rejects(untilAborted(Promise.reject(new Error('boom')), controller.signal), /boom/)
})
