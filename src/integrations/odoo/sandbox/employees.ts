/** Employees and departments as the Odoo simulator stores them (Odoo's own shapes: `false` for empty). */
export interface SimDepartment {
  id: number
  name: string
  parentId: number | null
}

export interface SimEmployee {
  id: number
  name: string
  work_email: string | false
  job_title: string | false
  department_id: number | false
  parent_id: number | false
  active: boolean
  private_email?: string | false
  /** res.company id (default 1). */
  company_id?: number
}

export interface SimCompany {
  id: number
  name: string
}

export const DEPARTMENTS: SimDepartment[] = [
  { id: 1, name: 'Management', parentId: null },
  { id: 2, name: 'Engineering', parentId: null },
  { id: 3, name: 'Data', parentId: 2 },
  { id: 4, name: 'Sales', parentId: null },
  { id: 5, name: 'Ressources humaines', parentId: null },
  { id: 6, name: 'R&D, Labs', parentId: 2 }
]

/** Hand-picked ugly cases: one-word names, double spaces, quotes, commas, newlines, non-ASCII, archived, empty fields. */
export function trickyEmployees (): SimEmployee[] {
  return [
    { id: 1, name: 'Mitchell Admin', work_email: 'admin@yourcompany.example.com', job_title: 'Chief Executive Officer', department_id: 1, parent_id: false, active: true },
    { id: 2, name: '  José   María Ñúñez ', work_email: 'jose.nunez@example.com', job_title: 'Ingénieur', department_id: 3, parent_id: 1, active: true },
    { id: 3, name: 'Plato', work_email: false, job_title: false, department_id: false, parent_id: false, active: false },
    { id: 4, name: 'Anne "Nan" O\'Neil', work_email: 'anne@example.com', job_title: 'Sales, EMEA', department_id: 4, parent_id: 1, active: true },
    { id: 5, name: '李 小龙', work_email: 'li@example.com', job_title: 'Line 1\nLine 2', department_id: 6, parent_id: false, active: true },
    { id: 7, name: 'Zoë Ärger-Øst', work_email: 'zoe@example.com', job_title: 'Analyst', department_id: 5, parent_id: false, active: false },
    { id: 12, name: 'Ada Lovelace', work_email: 'ada.lovelace@example.com', job_title: 'Data Engineer', department_id: 3, parent_id: 1, active: true }
  ]
}

const GIVEN = ['Ada', 'Grace', 'José', 'Zoë', 'Łukasz', 'Søren', 'Chloé', 'Mitchell', 'Jeffrey', 'Anaïs', 'Björn', 'Émile', 'Nguyễn', 'Ольга', '美咲', 'Seán']
const FAMILY = ['Lovelace', 'Hopper', 'Ñúñez', 'Kelly', 'O\'Brien', 'van der Berg', 'Dupont-Moreau', 'Müller', 'Kowalski', 'Øster', 'Smith, Jr.', 'Tanaka', 'Иванова', 'García Márquez']
const TITLES = ['Engineer', 'Senior Developer', 'Sales, EMEA', 'Analyst', 'Manager', 'Consultant', 'Chief "Fun" Officer']

/** Deterministic generated employees (ids 1..count): every kind of ugly case appears regularly. */
export function generateEmployees (count: number, seed = 1): SimEmployee[] {
  let state = seed >>> 0 || 1
  const next = (): number => {
    state = (state * 1664525 + 1013904223) >>> 0
    return state
  }
  const out: SimEmployee[] = []
  for (let id = 1; id <= count; id++) {
    const given = GIVEN[next() % GIVEN.length] as string
    const family = FAMILY[next() % FAMILY.length] as string
    const name = id % 37 === 0 ? given : id % 53 === 0 ? `${given}  ${family}` : `${given} ${family}`
    out.push({
      id,
      name,
      work_email: id % 29 === 0 ? false : `user${id}@example.com`,
      job_title: id % 31 === 0 ? false : TITLES[next() % TITLES.length] as string,
      department_id: id % 19 === 0 ? false : DEPARTMENTS[next() % DEPARTMENTS.length]?.id ?? false,
      parent_id: id > 1 ? 1 : false,
      active: id % 17 !== 0
    })
  }
  return out
}
