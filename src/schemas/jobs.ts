import Type from 'typebox'
import { JOB_STATUSES, JOB_TRIGGERS } from '../jobs/types.js'

const DateTime = Type.String({ format: 'date-time' })
const NullableDateTime = Type.Union([DateTime, Type.Null()])

export const JobStatusSchema = Type.Enum(JOB_STATUSES, { $id: 'JobStatus' })

export const JobView = Type.Object({
  id: Type.String(),
  kind: Type.String({ examples: ['system.purge-jobs'] }),
  status: JobStatusSchema,
  trigger: Type.Enum(JOB_TRIGGERS),
  requestId: Type.Union([Type.String(), Type.Null()]),
  params: Type.Record(Type.String(), Type.Unknown()),
  attempts: Type.Integer(),
  maxAttempts: Type.Integer(),
  runAfter: DateTime,
  lease: Type.Union([Type.Object({ instance: Type.String(), expiresAt: DateTime }), Type.Null()]),
  cancelRequested: Type.Boolean(),
  progress: Type.Union([Type.Object({
    done: Type.Number(),
    total: Type.Union([Type.Number(), Type.Null()]),
    message: Type.Union([Type.String(), Type.Null()]),
    updatedAt: DateTime
  }), Type.Null()]),
  result: Type.Unknown({ description: 'JSON summary written by the job\'s handler.' }),
  error: Type.Union([Type.Object({
    message: Type.String(),
    code: Type.String(),
    retryable: Type.Boolean(),
    attemptsExhausted: Type.Optional(Type.Boolean())
  }), Type.Null()]),
  scheduleId: Type.Union([Type.String(), Type.Null()]),
  retryOf: Type.Union([Type.String(), Type.Null()]),
  retriedBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: DateTime,
  startedAt: NullableDateTime,
  finishedAt: NullableDateTime,
  updatedAt: DateTime
}, { $id: 'Job' })

export const ListJobsQuery = Type.Object({
  kind: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  status: Type.Optional(JobStatusSchema),
  limit: Type.Integer({ minimum: 1, maximum: 250, default: 50 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The `nextCursor` of the previous page.' }))
}, { additionalProperties: false })

export const JobList = Type.Object({
  data: Type.Array(JobView),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'null on the last page' })
})

export const JobIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) })
