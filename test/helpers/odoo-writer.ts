/**
 * A process that rewrites one CSV over and over through the Odoo integration's atomic writer, alternating two
 * contents, so a test can SIGKILL it at any moment. Env: CSV_PATH, ROWS. Prints `wrote <n>` after each write.
 */
import { writeStreamIfChanged } from '../../src/integrations/odoo/csv-file.js'
import { contentFor } from './odoo-writer-content.js'

const path = process.env.CSV_PATH as string
const rows = Number(process.env.ROWS ?? 20000)
const contents = [contentFor('A', rows), contentFor('B', rows)]
process.stdout.write('ready\n')
for (let n = 0; ; n++) {
  const content = contents[n % 2] as string
  // Small chunks, so a kill often lands in the middle of a write.
  await writeStreamIfChanged(path, async (write) => {
    for (let i = 0; i < content.length; i += 4096) await write(content.slice(i, i + 4096))
  })
  process.stdout.write(`wrote ${n}\n`)
}
