import { PermanentError } from '../../integration.js'
/**
 * What keeps a sync from quietly exporting the wrong people: the companies it reads are explicit, and a run
 * that would disable many people at once is stopped until an operator confirms it.
 */
import type { OdooClient } from './client.js'
import type { OdooSettings } from './config.js'
import { odooId, type OdooEmployee } from './mapping.js'

export interface CompanyScope {
  /** Odoo context for every read: the companies to read in, whatever the user's current company is. */
  context: { lang: string, allowed_company_ids: number[] }
  /** Extra domain terms: only the configured companies' employees (none when every company is read). */
  domain: unknown[]
  companies: Array<{ id: number, name: string }>
}

function ids (value: unknown): number[] {
  return Array.isArray(value) ? value.map(odooId).filter((id): id is number => id !== null) : []
}

/**
 * Odoo scopes records to the companies in the caller's context (`allowed_company_ids`; Odoo 17 falls back to
 * all of the user's companies, a web session to the ones ticked in the company switcher). Every read names them
 * explicitly, so what is exported never hangs on that: the configured companies (each must be one of the
 * user's), else all the user belongs to. Employees of a company the user is not in stay invisible, which is
 * what the guard and the per-company counts in the result are for.
 */
export async function readCompanyScope (odoo: OdooClient, settings: OdooSettings, signal: AbortSignal): Promise<CompanyScope> {
  const uid = await odoo.authenticate({ signal })
  const [user] = await odoo.executeKw<Array<Record<string, unknown>>>('res.users', 'read', [[uid]], { fields: ['company_ids'], context: { lang: 'en_US' } }, { signal })
  const userCompanies = ids(user?.company_ids)
  if (userCompanies.length === 0) throw new PermanentError(`Odoo user ${settings.username} belongs to no company it can read`, { code: 'ODOO_COMPANY_ACCESS' })
  const wanted = settings.companyIds.length > 0 ? settings.companyIds : userCompanies
  const unreadable = wanted.filter((id) => !userCompanies.includes(id))
  if (unreadable.length > 0) {
    throw new PermanentError(`ODOO_COMPANY_IDS names compan${unreadable.length === 1 ? 'y' : 'ies'} ${unreadable.join(', ')}, which Odoo user ` +
      `${settings.username} does not belong to (it belongs to ${userCompanies.join(', ')}): add the user to ${unreadable.length === 1 ? 'it' : 'them'} ` +
      '(Settings → Users → Allowed Companies) or remove them from ODOO_COMPANY_IDS', { code: 'ODOO_COMPANY_ACCESS' })
  }
  const context = { lang: 'en_US', allowed_company_ids: wanted }
  const records = await odoo.executeKw<Array<Record<string, unknown>>>('res.company', 'read', [wanted], { fields: ['name'], context }, { signal })
  const names = new Map(records.map((record) => [odooId(record.id), typeof record.name === 'string' ? record.name : '']))
  return {
    context,
    domain: settings.companyIds.length > 0 ? [['company_id', 'in', wanted]] : [],
    companies: wanted.map((id) => ({ id, name: names.get(id) ?? '' }))
  }
}

/** Adds each employee to its company's count (for the job result). */
export function countCompanies (employees: OdooEmployee[], counts: Map<number, number>): void {
  for (const employee of employees) {
    const company = Array.isArray(employee.company_id) ? odooId(employee.company_id[0]) : null
    if (company !== null) counts.set(company, (counts.get(company) ?? 0) + 1)
  }
}

/**
 * Null when a run may turn `deactivated` Active rows Inactive (or remove them); otherwise why not. Blocked when
 * it is more than `rows` rows AND more than `percent` of the Active rows, as identity tools' thresholds do
 * (midPoint stops a task that would disable too many accounts). The first sync into an empty CSV has no Active
 * rows and is never blocked; an operator's confirmation lets one run through.
 */
export function blockedDeactivation (deactivated: string[], activeRows: number, limits: { rows: number, percent: number }, confirmed: boolean): { message: string, sample: string[] } | null {
  const share = activeRows === 0 ? 0 : (deactivated.length / activeRows) * 100
  if (confirmed || deactivated.length <= limits.rows || share <= limits.percent) return null
  const sample = deactivated.slice(0, 10)
  return {
    sample,
    message: `refusing to deactivate ${deactivated.length} of ${activeRows} Active rows (${share.toFixed(1)}%; the guard stops a run above ` +
      `${limits.rows} rows and ${limits.percent}%), e.g. personalNumber ${sample.join(', ')}; nothing was written. Check the Odoo API user's ` +
      'companies and rights; if the change is real, confirm it with POST /odoo/sync-csv {"allowMassDeactivation": true}'
  }
}
