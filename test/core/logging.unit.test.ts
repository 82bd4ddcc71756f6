import { MongoServerSelectionError, MongoServerError } from 'mongodb'
import t from 'tap'
import { serializeError } from '../../src/lib/logger.js'

t.test('a MongoDB error is logged by name, message and code, not with the driver topology it carries', async (t) => {
  // What the driver attaches when no server answers: the whole topology description, kilobytes of it.
  const servers = new Map(Array.from({ length: 3 }, (_, i) => [`db${i}:27017`, { address: `db${i}:27017`, error: 'x'.repeat(1000), hosts: [], type: 'Unknown' }]))
  const err = new MongoServerSelectionError('Server selection timed out after 10000 ms', { type: 'Unknown', servers } as never)
  const logged = JSON.stringify(serializeError(err))
  t.ok(logged.length < 1500, `compact (${logged.length} characters)`)
  t.match(JSON.parse(logged), { type: 'MongoServerSelectionError', message: 'Server selection timed out after 10000 ms' })
  t.notMatch(logged, /xxxxxxxxxx/, 'no topology')
  const busy = serializeError(new MongoServerError({ message: 'database is locked (5) (SQLITE_BUSY)', code: 1, codeName: 'InternalError' }))
  t.match(busy, { type: 'MongoServerError', code: 1, codeName: 'InternalError' })
  t.match(serializeError(new TypeError('boom')), { type: 'TypeError', message: 'boom' }, 'other errors as pino logs them')
})
