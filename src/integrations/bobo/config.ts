import Type from 'typebox'
import { DURATION_PATTERN, type ConfigOf } from '../../integration.js'

/** Every variable the BOBO → AtHoc integration reads. AtHoc is optional: without ATHOC_URL nothing is scheduled. */
export const boboConfig = {
  BOBO_INCOMING_DIR: Type.String({ default: 'data/bobo/incoming', description: 'Folder the BOBO exporter drops CSV files into; uploads are stored here too.' }),
  BOBO_PROCESSED_DIR: Type.String({ default: 'data/bobo/processed', description: 'Files whose users were all updated are moved here.' }),
  BOBO_FAILED_DIR: Type.String({ default: 'data/bobo/failed', description: 'Files that failed BOBO_MAX_RETRIES times are moved here.' }),
  BOBO_POLL_INTERVAL: Type.String({ pattern: DURATION_PATTERN, default: '60s', description: 'How often the drop folder is processed and the mapping-sync rules are checked; `off` disables both schedules.' }),
  BOBO_STABLE_MS: Type.Integer({ minimum: 0, default: 2000, description: 'A dropped file modified less than this long ago is checked again after this wait; if its size or mtime changed it is left for the next tick.' }),
  BOBO_MAX_FILES_PER_BATCH: Type.Integer({ minimum: 1, default: 100, description: 'Files taken into one processing batch (oldest first).' }),
  BOBO_MAX_RETRIES: Type.Integer({ minimum: 1, default: 5, description: 'Failed attempts after which a file moves to BOBO_FAILED_DIR.' }),
  BOBO_TIMEZONE: Type.String({ default: 'UTC', description: 'IANA time zone of the CSV times, of the value written to AtHoc and of the mapping-sync hour.' }),
  BOBO_UPLOAD_MAX_BYTES: Type.Integer({ minimum: 1, default: 10485760, description: 'Largest CSV accepted by POST /bobo/upload (per file); larger answers 413.' }),
  BOBO_UPLOAD_MAX_FILES: Type.Integer({ minimum: 1, default: 20, description: 'Most files in one multipart upload; more answers 413.' }),
  BOBO_PROCESS_ON_UPLOAD: Type.Boolean({ default: true, description: 'An upload enqueues bobo.process at once; false leaves uploads to the next BOBO_POLL_INTERVAL tick or POST /bobo/process.' }),
  BOBO_SYNC_HOUR: Type.Integer({ minimum: 0, maximum: 23, default: 20, description: 'Earliest local hour for the daily mapping sync.' }),
  BOBO_SYNC_RETRY_DAYS: Type.Integer({ minimum: 0, default: 2, description: 'Run the mapping sync at once when the last success is more than this many days old.' }),
  BOBO_AUTO_CLEANUP_HOURS: Type.Number({ minimum: 0, default: 24, description: 'Duty values older than this are cleared by bobo.cleanup; 0 disables the schedule.' }),
  BOBO_PROCESSED_RETENTION_DAYS: Type.Integer({ minimum: 0, default: 30, description: 'Processed files, their records and processing-log entries older than this many days are deleted daily (the original PROCESSED_FILES_PURGE_DAYS); failed files are kept; 0 keeps everything.' }),
  BOBO_CLEANUP_INTERVAL: Type.String({ pattern: DURATION_PATTERN, default: '1h', description: 'How often bobo.cleanup runs; `off` disables it.' }),
  ATHOC_URL: Type.String({ default: '', description: 'AtHoc base URL (token and API paths hang off it). Empty: the BOBO schedules are off.' }),
  ATHOC_ORG_CODE: Type.String({ default: '', description: 'AtHoc organization code (case-sensitive); used in acr_values and API paths.' }),
  ATHOC_CLIENT_ID: Type.String({ default: '', description: 'OAuth2 client id.' }),
  ATHOC_CLIENT_SECRET: Type.String({ default: '', description: 'OAuth2 client secret (secret).' }),
  ATHOC_USERNAME: Type.String({ default: '', description: 'AtHoc API operator (password grant).' }),
  ATHOC_PASSWORD: Type.String({ default: '', description: 'Password of the API operator (secret).' }),
  ATHOC_SCOPE: Type.String({ default: 'athoc.iws.web.api', description: 'OAuth2 scope (space-separated).' }),
  ATHOC_TLS_INSECURE: Type.Boolean({ default: false, description: 'true disables TLS certificate checks; only for test servers.' }),
  ATHOC_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30000, description: 'Time limit of each AtHoc call.' }),
  ATHOC_RETRIES: Type.Integer({ minimum: 0, default: 3, description: 'Retries of an AtHoc call on 429, 5xx, timeouts and network errors.' }),
  ATHOC_RETRY_BASE_MS: Type.Integer({ minimum: 0, default: 500, description: 'First retry wait (doubles) when AtHoc sends no Retry-After.' }),
  ATHOC_RETRY_MAX_WAIT_MS: Type.Integer({ minimum: 0, default: 60000, description: 'Longest wait honoured from a Retry-After header.' }),
  ATHOC_SYNC_CHUNK: Type.Integer({ minimum: 1, maximum: 5000, default: 500, description: 'Users per SyncByCommonNames call.' }),
  ATHOC_PAGE_SIZE: Type.Integer({ minimum: 1, maximum: 5000, default: 1000, description: 'Users per users/search/basic page.' }),
  ATHOC_PAGING_MODE: Type.Enum(['page', 'record'], { default: 'page', description: 'What Offset means in users/search/basic: a page index (`page`, as the original) or a record offset (`record`).' }),
  ATHOC_DUTY_FIELD: Type.String({ default: 'On-Duty-DTG', description: 'AtHoc attribute that holds the book-on time.' }),
  ATHOC_COLLAR_FIELD: Type.String({ default: 'Collar-Number', description: 'AtHoc attribute that holds the BOBO employee id.' })
}

export type BoboConfig = ConfigOf<typeof boboConfig>
