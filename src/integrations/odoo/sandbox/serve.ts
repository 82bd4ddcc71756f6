/**
 * Runs the Odoo simulator as its own process (used by bench/odoo so the gateway's memory is measured alone,
 * and usable by hand). Env: ODOO_SIM_EMPLOYEES (generated count, default 200), ODOO_SIM_PORT (default 0),
 * ODOO_SIM_PASSWORD. Prints one JSON line `{url, db, login, password, employees}` once listening.
 */
import { generateEmployees } from './employees.js'
import { createOdooSimulator } from './simulator.js'
import { EMPLOYEE_FIELDS } from '../mapping.js'

const count = Number(process.env.ODOO_SIM_EMPLOYEES ?? 200)
const sim = createOdooSimulator({ employees: generateEmployees(count), ...(process.env.ODOO_SIM_PASSWORD ? { password: process.env.ODOO_SIM_PASSWORD } : {}) })
// Pre-serialise the records for the fields the gateway asks for, so the simulator is not the bottleneck.
sim.warm([...EMPLOYEE_FIELDS])
const url = await sim.listen(Number(process.env.ODOO_SIM_PORT ?? 0))
process.stdout.write(`${JSON.stringify({ url, db: sim.db, login: sim.login, password: sim.password, employees: count })}\n`)
const stop = (): void => { void sim.close().then(() => process.exit(0)) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
