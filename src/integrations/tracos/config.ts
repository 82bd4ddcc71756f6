import Type from 'typebox'
import { DURATION_PATTERN, type ConfigOf } from '../../integration.js'

/** The TracOS integration's environment variables (merged into the gateway's one configuration schema). */
export const tracosConfig = {
  TRACOS_INBOUND_DIR: Type.String({ default: 'data/inbound', description: 'Folder the client ERP drops work-order JSON files into.' }),
  TRACOS_OUTBOUND_DIR: Type.String({ default: 'data/outbound', description: 'Folder `workorder_{number}.json` files are written to for the client.' }),
  TRACOS_ARCHIVE_DIR: Type.String({ default: 'data/archive', description: 'Where imported inbound files go when TRACOS_INBOUND_AFTER=archive.' }),
  TRACOS_REJECTED_DIR: Type.String({ default: 'data/rejected', description: 'Where invalid inbound files go, each with a `<name>.error.json` report.' }),
  TRACOS_INBOUND_AFTER: Type.Enum(['archive', 'keep', 'delete'], { default: 'archive', description: 'What happens to an imported inbound file: `archive`, `keep` or `delete`.' }),
  TRACOS_ARCHIVE_RETENTION_DAYS: Type.Integer({ minimum: 0, default: 30, description: 'Archived inbound files older than this many days (since they were archived) are deleted daily by tracos.prune-archive; 0 keeps them all. Rejected files are never deleted.' }),
  TRACOS_SYNC_INTERVAL: Type.String({ pattern: DURATION_PATTERN, default: '60s', description: 'How often tracos.run (both directions) is scheduled; `off` disables it.' }),
  TRACOS_MONGODB_DB: Type.String({ default: '', description: 'Database holding the TracOS `workorders` collection; empty = MONGODB_DB.' }),
  TRACOS_COLLECTION: Type.String({ minLength: 1, default: 'workorders', description: 'TracOS work-order collection.' }),
  TRACOS_MONGO_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 20, default: 3, description: 'Attempts per MongoDB operation on transient errors (network, not primary, SQLITE_BUSY).' }),
  TRACOS_MONGO_RETRY_DELAY_MS: Type.Integer({ minimum: 0, default: 500, description: 'First delay between MongoDB attempts; doubles per retry.' }),
  TRACOS_STABLE_MS: Type.Integer({ minimum: 0, default: 5000, description: 'An inbound file that is not valid JSON (or UTF-8) and was modified less than this long ago is left for the next run instead of being rejected: the client may still be writing it. 0 rejects at once.' }),
  TRACOS_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 20000, default: 10000, description: 'Files (inbound) or orders (outbound) handled per database round (each round reads the existing orders in one query).' }),
  TRACOS_FILE_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 256, default: 32, description: 'Outbound files written (TRACOS_OUTBOUND_FLUSH=file) or files moved at once. Inbound files are read with synchronous calls in short slices.' }),
  TRACOS_OUTBOUND_FLUSH: Type.Enum(['file', 'filesystem'], { default: 'file', description: 'How outbound temp files are made durable before their rename: `file` = one fdatasync each; `filesystem` = one syncfs (`sync -f`) per batch, far cheaper for big batches but it flushes every dirty page of that filesystem (falls back to `file` where `sync -f` is missing).' })
}

export type TracosConfig = ConfigOf<typeof tracosConfig>
