/**
 * Which page shows which catalogue function (the menu endpoint decides whether the session may reach it;
 * this only says where its page is). A function without a page here is listed in the menu and opens the
 * "not built yet" page. Add a page: a component in pages/, a route in router.ts, a line here (docs/web.md).
 */
export const PAGE_OF_FUNCTION: Record<string, string> = {
  'ac.person.info': 'person-info',
  // enterprise account centre (seed 001 / 003): the full view and the reveal are parts of the info page
  'ac.ent.info.basic': 'ent-info',
  'ac.ent.info.full': 'ent-info',
  'ac.ent.reveal': 'ent-info',
  'ac.staff': 'staff',
  'ac.staff.pending': 'staff-pending',
  'ac.staff.applications': 'staff-pending',
  'ac.staff.history': 'staff-history',
  'ac.self.permissions': 'my-permissions',
  'ac.logs.enterprise': 'ent-login-logs',
  'ac.audit.enterprise': 'ent-audit-log',
}

/**
 * Functions the header's identity switcher stands for rather than a menu page: switching itself, and which
 * cross-region projects the switcher lists (the service applies that to what GET /account/switch answers).
 */
export const IN_HEADER = new Set(['ac.switch', 'ac.special.projects_all'])

/**
 * Where the menu links a function to. A target-dependent function (`<function>:<target>`, e.g. what may be
 * done to staff of one identity type, docs/architecture.md) is a rule of its base function's page.
 */
export function pageOf(object: string): { name: string; params?: Record<string, string> } {
  const name = PAGE_OF_FUNCTION[object] ?? (object.includes(':') ? PAGE_OF_FUNCTION[object.split(':')[0]] : undefined)
  return name ? { name } : { name: 'not-built', params: { object } }
}

/**
 * The menu's entries: one per page (functions that are parts of one page, such as a target-dependent rule or
 * a reveal on an information page, are not listed again), in the service's order, named by the first.
 */
export function menuEntries<F extends { object: string }>(functions: F[]): F[] {
  const seen = new Set<string>()
  return functions.filter((f) => {
    if (IN_HEADER.has(f.object)) return false
    const page = pageOf(f.object)
    const key = page.name === 'not-built' ? f.object.split(':')[0] : page.name
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
