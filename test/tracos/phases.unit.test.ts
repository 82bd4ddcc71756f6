import t from 'tap'
import { createPhaseTimer } from '../../src/integrations/tracos/phases.js'

t.test('overlapping calls of one phase count once; phases overlap each other; every phase is reported', async (t) => {
  let clock = 0
  const timer = createPhaseTimer(() => clock)
  const gates: Array<() => void> = []
  const gate = (): Promise<void> => new Promise((resolve) => { gates.push(resolve) })
  const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

  const first = timer.time('archive', gate) // archive busy from 0
  clock = 10
  const second = timer.time('archive', gate) // overlaps the first
  const write = timer.time('outboundWrite', gate) // another phase, same interval
  const open = (i: number): void => { (gates[i] as () => void)() }
  clock = 30
  open(0)
  await first
  clock = 50
  open(1)
  open(2)
  await Promise.all([second, write, tick()])
  const phases = timer.snapshot()
  t.equal(phases.archive, 50, 'busy from 0 to 50: not 30 + 40')
  t.equal(phases.outboundWrite, 40)
  t.equal(phases.read, 0)
  t.same(Object.keys(phases).sort(), ['archive', 'list', 'markSynced', 'mongoRead', 'mongoWrite', 'outboundWrite', 'read', 'reject', 'validate'])

  t.equal(timer.timeSync('validate', () => { clock += 5; return 42 }), 42)
  await t.rejects(timer.time('read', async () => { clock += 7; throw new Error('boom') }), /boom/)
  t.match(timer.snapshot(), { validate: 5, read: 7, archive: 50 })
})
