import multipart from '@fastify/multipart'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import Type from 'typebox'
import { answer, ErrorResponse, httpError, IdempotencyHeaders, TriggerAnswers, TriggerBody, type IntegrationJobs } from '../../integration.js'
import type { IntakeService } from './intake.js'
import type { BoboFileRecord, BoboStore } from './store.js'

const RejectedRow = Type.Object({ line: Type.Integer(), reason: Type.String() })
const UploadedFile = Type.Object({
  id: Type.String({ description: 'The file record: GET /bobo/files/{id} follows it to the job that processed it.' }),
  statusUrl: Type.String({ description: 'GET this for the file\'s outcome and the job that handled it (lastJobId).' }),
  file: Type.String({ description: 'Name the gateway stored the file under in BOBO_INCOMING_DIR.' }),
  originalName: Type.Union([Type.String(), Type.Null()]),
  format: Type.Enum(['bobo', 'header', 'empty']),
  rows: Type.Integer(),
  accepted: Type.Integer(),
  rejectedCount: Type.Integer(),
  rejected: Type.Array(RejectedRow, { description: 'The first 1000 rejected rows.' })
})
const UploadAccepted = Type.Object({
  files: Type.Array(UploadedFile),
  jobId: Type.Optional(Type.String({ description: 'The process job queued for these files (BOBO_PROCESS_ON_UPLOAD).' })),
  status: Type.Optional(Type.String()),
  statusUrl: Type.Optional(Type.String({ description: 'The job\'s status. A file that job could not finish is handled by a later one: each file\'s statusUrl names the job that processed it.' }))
}, { $id: 'BoboUploadAccepted' })

const CSV_EXAMPLE = 'BON,00452,PAY001,20240617,143000,20240617143000,1,51.5,-0.12,5.0\n'
const Csv = Type.String({ description: 'One CSV file, either BOBO format.', examples: [CSV_EXAMPLE] })
/** The upload's body: read by the route itself (raw bytes or multipart parts), so its schemas document it. */
const UploadBody = {
  content: {
    'text/csv': { schema: Csv },
    'application/csv': { schema: Csv },
    'text/plain': { schema: Csv },
    'multipart/form-data': {
      schema: Type.Object({ file: Type.Array(Type.String({ format: 'binary' }), { description: 'One part per CSV file (any field name).' }) })
    }
  }
}

const FILE_STATUSES = ['incoming', 'processed', 'failed', 'missing'] as const
const OUTCOMES = ['processed', 'retry', 'failed', 'interrupted', 'missing'] as const
const DateTime = Type.String({ format: 'date-time' })
const NullableDateTime = Type.Union([DateTime, Type.Null()])

const FileView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  originalName: Type.Union([Type.String(), Type.Null()]),
  source: Type.Enum(['upload', 'drop']),
  status: Type.Enum(FILE_STATUSES),
  size: Type.Integer(),
  receivedAt: DateTime,
  retryCount: Type.Integer(),
  lastRetry: NullableDateTime,
  lastOutcome: Type.Union([Type.Enum(OUTCOMES), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lastJobId: Type.Union([Type.String(), Type.Null()], { description: 'The job that last handled the file (processed it or counted a failed attempt).' }),
  lastJobUrl: Type.Union([Type.String(), Type.Null()]),
  rows: Type.Union([Type.Integer(), Type.Null()]),
  accepted: Type.Union([Type.Integer(), Type.Null()]),
  rejected: Type.Union([Type.Integer(), Type.Null()]),
  updatedAt: DateTime
}, { $id: 'BoboFile' })

const LogView = Type.Object({
  batchId: Type.String(),
  at: DateTime,
  attempt: Type.Integer(),
  rows: Type.Integer(),
  accepted: Type.Integer(),
  rejected: Type.Integer(),
  rejectedRows: Type.Array(RejectedRow, { description: 'The first 100 rejected rows.' }),
  users: Type.Integer({ description: 'Distinct AtHoc users mapped from the file\'s valid rows.' }),
  usersUpdated: Type.Integer(),
  unknownEmployees: Type.Integer(),
  skippedOlder: Type.Integer({ description: 'Rows older than what AtHoc already holds for the employee.' }),
  failures: Type.Array(Type.Object({ login: Type.String(), reason: Type.String() }), { description: 'The first 100 users that failed.' }),
  failureCount: Type.Integer(),
  outcome: Type.Enum(OUTCOMES),
  error: Type.Union([Type.String(), Type.Null()]),
  jobId: Type.Union([Type.String(), Type.Null()], { description: 'The job that made this attempt.' })
}, { $id: 'BoboProcessingAttempt' })

const MAX_REJECTED_SHOWN = 1000

export function boboRoutes (deps: { jobs: IntegrationJobs, store: BoboStore, intake: IntakeService, maxBytes: number, maxFiles: number, processOnUpload: boolean }) {
  return async function routes (app: FastifyInstance): Promise<void> {
    await app.register(multipart, {
      limits: { fileSize: deps.maxBytes, files: deps.maxFiles, parts: deps.maxFiles + 20, fields: 20, fieldSize: 1024 },
      throwFileSizeLimit: true
    })
    // A raw CSV body: kept as bytes, so the parser sees the BOM and line endings as sent.
    app.addContentTypeParser(['text/csv', 'application/csv', 'text/plain'], { parseAs: 'buffer' }, (_request, body, done) => { done(null, body) })

    app.post('/bobo/upload', {
      bodyLimit: deps.maxBytes,
      schema: {
        tags: ['bobo'],
        summary: 'Upload BOBO duty CSV files',
        description: `One CSV as the raw body (\`text/csv\`, \`application/csv\` or \`text/plain\`) or one or more file parts in \`multipart/form-data\` (at most \`BOBO_UPLOAD_MAX_FILES\` (${deps.maxFiles}) files of \`BOBO_UPLOAD_MAX_BYTES\` (${deps.maxBytes}) bytes each; 413 beyond, naming the limit). Both BOBO formats are accepted: the real headerless 10-column export and the documented \`Employee_ID,Status,Timestamp\` form. Bad rows are listed with their line numbers and skipped. Every file is written durably into \`BOBO_INCOMING_DIR\` under a server-generated name before the answer. If any file has no valid row the request answers 400 with the reasons and nothing is stored. With \`BOBO_PROCESS_ON_UPLOAD\` (default) the answer also carries the \`bobo.process\` job it enqueued. A repeat with the same \`Idempotency-Key\` (a retry after a timeout) stores nothing and answers 200 with the files and job of the first request.`,
        headers: IdempotencyHeaders,
        body: UploadBody,
        response: {
          200: answer('A repeat of an earlier upload (same Idempotency-Key); nothing stored again.', UploadAccepted),
          202: answer('Files stored; processing enqueued (or left to the next tick).', UploadAccepted)
        }
      }
    }, async (request, reply) => {
      const files = await readUpload(request, deps.maxBytes, deps.maxFiles).catch((err: unknown) => {
        // Refused part-way through the body: the rest of it is never read, so this connection cannot carry
        // another request. Close it after the answer rather than leave the client waiting on it.
        if (request.isMultipart()) reply.header('connection', 'close')
        throw err
      })
      const header = request.headers['idempotency-key']
      const { stored, repeated } = await deps.intake.accept(files, typeof header === 'string' && header !== '' ? header : undefined)
      const job = deps.processOnUpload ? (await deps.jobs.trigger(request, reply, 'bobo.process', {}, { dedupeKey: 'bobo.process' })).body : {}
      // A repeat of an upload (same Idempotency-Key) stored nothing: 200 with the first request's files and job.
      reply.code(repeated ? 200 : 202)
      return {
        files: stored.map((f) => ({ id: f.id, statusUrl: `/bobo/files/${encodeURIComponent(f.id)}`, file: f.file, originalName: f.originalName, format: f.parsed.format, rows: f.parsed.rows, accepted: f.parsed.events.length, rejectedCount: f.parsed.rejected.length, rejected: f.parsed.rejected.slice(0, MAX_REJECTED_SHOWN) })),
        ...job
      }
    })

    app.get('/bobo/files', {
      schema: {
        tags: ['bobo'],
        summary: 'BOBO files with their last processing outcome',
        description: 'Newest first. `counts` holds the number of files per status.',
        querystring: Type.Object({
          status: Type.Optional(Type.Enum(FILE_STATUSES)),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 })
        }, { additionalProperties: false }),
        response: { 200: answer('The files.', Type.Object({ files: Type.Array(FileView), counts: Type.Record(Type.String(), Type.Integer()) })) }
      }
    }, async (request) => {
      const { status, limit } = request.query as { status?: string, limit: number }
      const records = await deps.store.files.find(status === undefined ? {} : { status: status as 'incoming' }).sort({ updatedAt: -1, _id: 1 }).limit(limit).toArray()
      const counts: Record<string, number> = {}
      for (const s of ['incoming', 'processed', 'failed', 'missing'] as const) counts[s] = await deps.store.files.countDocuments({ status: s })
      return {
        counts,
        files: records.map(fileView)
      }
    })

    app.get('/bobo/files/:id', {
      schema: {
        tags: ['bobo'],
        summary: 'One BOBO file with its processing log (newest attempt first, at most 50)',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
        response: {
          200: answer('The file and its attempts.', Type.Object({ file: FileView, attempts: Type.Array(LogView) })),
          404: answer('No BOBO file with this id.', ErrorResponse)
        }
      }
    }, async (request) => {
      const { id } = request.params as { id: string }
      const record = await deps.store.files.findOne({ _id: id })
      if (record === null) throw httpError(404, `no BOBO file ${id}`)
      const attempts = await deps.store.log.find({ fileId: id }).sort({ at: -1, attempt: -1 }).limit(50).toArray()
      return {
        file: fileView(record),
        attempts: attempts.map((a) => ({
          batchId: a.batchId,
          at: a.at.toISOString(),
          attempt: a.attempt,
          rows: a.rows,
          accepted: a.accepted,
          rejected: a.rejected,
          rejectedRows: a.rejectedRows,
          users: a.users,
          usersUpdated: a.usersUpdated,
          unknownEmployees: a.unknownEmployees,
          skippedOlder: a.skippedOlder,
          failures: a.failures,
          failureCount: a.failureCount,
          outcome: a.outcome,
          error: a.error,
          jobId: a.jobId ?? null
        }))
      }
    })

    const trigger = (path: string, kind: string, params: Record<string, unknown>, summary: string) => {
      app.post(path, {
        schema: {
          tags: ['bobo'],
          summary,
          description: 'Triggers coalesce while one is queued. Takes no body (or an empty one).',
          headers: IdempotencyHeaders,
          body: TriggerBody({}),
          response: TriggerAnswers
        }
      }, async (request, reply) => {
        const { body } = await deps.jobs.trigger(request, reply, kind, params, { dedupeKey: kind })
        return body
      })
    }
    trigger('/bobo/process', 'bobo.process', {}, 'Process the files waiting in BOBO_INCOMING_DIR now (job bobo.process)')
    trigger('/bobo/mapping-sync', 'bobo.mapping-sync', { force: true }, 'Refresh employee id → AtHoc login mappings now (job bobo.mapping-sync, schedule rules bypassed)')
    trigger('/bobo/cleanup', 'bobo.cleanup', {}, 'Clear AtHoc duty values older than BOBO_AUTO_CLEANUP_HOURS now (job bobo.cleanup)')
  }
}

function fileView (r: BoboFileRecord) {
  return {
    id: r._id,
    name: r.name,
    originalName: r.originalName,
    source: r.source,
    status: r.status,
    size: r.size,
    receivedAt: r.receivedAt.toISOString(),
    retryCount: r.retryCount,
    lastRetry: r.lastRetry?.toISOString() ?? null,
    lastOutcome: r.lastOutcome,
    lastError: r.lastError,
    lastJobId: r.lastJobId ?? null,
    lastJobUrl: r.lastJobId == null ? null : `/jobs/${r.lastJobId}`,
    rows: r.rows,
    accepted: r.accepted,
    rejected: r.rejected,
    updatedAt: r.updatedAt.toISOString()
  }
}

/**
 * The multipart parser's own errors (no boundary, a part without headers, a body cut short) carry no status:
 * they are the client's malformed form, a 400, not a gateway failure. Errors with a status (our 413s, the
 * plugin's limits) keep theirs.
 */
function malformedMultipart (err: unknown, limits: { maxBytes: number, maxFiles: number }): unknown {
  // The plugin's own limit errors say "request file too large" / "reach files limit": name the limits.
  const code = (err as { code?: unknown }).code
  if (code === 'FST_REQ_FILE_TOO_LARGE') return httpError(413, `a file is larger than BOBO_UPLOAD_MAX_BYTES (${limits.maxBytes} bytes); nothing was stored`, [{ field: 'file', message: `must be at most ${limits.maxBytes} bytes` }])
  if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT') return httpError(413, `the form holds more than ${limits.maxFiles} files (BOBO_UPLOAD_MAX_FILES); nothing was stored`, [{ field: 'body', message: `must hold at most ${limits.maxFiles} files` }])
  if (typeof (err as { statusCode?: unknown }).statusCode === 'number') return err
  const reason = err instanceof Error ? err.message : String(err)
  return httpError(400, `the multipart form is malformed: ${reason}`, [{ field: 'body', message: 'must be a well-formed multipart/form-data body' }])
}

/** The uploaded CSV files: one raw body, or every file part of a multipart form. */
async function readUpload (request: FastifyRequest, maxBytes: number, maxFiles: number): Promise<Array<{ originalName: string | null, content: Buffer }>> {
  if (request.isMultipart()) {
    const files: Array<{ originalName: string | null, content: Buffer }> = []
    try {
      for await (const part of request.files()) {
        const content = await part.toBuffer()
        if (part.file.truncated || content.length > maxBytes) throw httpError(413, `file ${part.filename} is larger than BOBO_UPLOAD_MAX_BYTES (${maxBytes} bytes); nothing was stored`, [{ field: 'file', message: `must be at most ${maxBytes} bytes` }])
        files.push({ originalName: part.filename || null, content })
      }
    } catch (err) {
      throw malformedMultipart(err, { maxBytes, maxFiles })
    }
    if (files.length === 0) throw httpError(400, 'the multipart form holds no file', [{ field: 'body', message: 'must contain at least one file part' }])
    return files
  }
  const body = request.body
  if (!Buffer.isBuffer(body)) {
    throw httpError(400, 'send the CSV as a text/csv body or as multipart/form-data file parts', [{ field: 'body', message: 'must be CSV (text/csv) or multipart/form-data' }])
  }
  if (body.length === 0) throw httpError(400, 'the CSV body is empty', [{ field: 'body', message: 'is empty' }])
  return [{ originalName: null, content: body }]
}
