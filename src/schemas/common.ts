import Type from 'typebox'

/** The one error shape every failure answers with. */
export const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Array(Type.Object({
    field: Type.String(),
    message: Type.String()
  })))
}, { $id: 'ErrorResponse' })

/** What every trigger route answers: 202 for a new (or coalesced) job, 200 for a repeated Idempotency-Key. */
export const JobAccepted = Type.Object({
  jobId: Type.String(),
  status: Type.String(),
  statusUrl: Type.String()
})

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 }))
})
