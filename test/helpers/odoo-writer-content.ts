import { renderCsv, type CsvRow } from '../../src/integrations/odoo/mapping.js'

/** A large valid hr_clean.csv whose every row is tagged with `tag`. */
export function contentFor (tag: string, rows: number): string {
  const list: CsvRow[] = []
  for (let i = 1; i <= rows; i++) list.push([String(1000 + i), `${tag}${i}`, 'Family, "quoted"', `u${i}@example.com`, 'Dept', 'Title', 'Active'])
  return renderCsv(list)
}
