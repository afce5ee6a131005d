/**
 * Which page shows which catalogue function (the menu endpoint decides whether the session may reach it;
 * this only says where its page is). A function without a page here is listed in the menu and opens the
 * "not built yet" page. Add a page: a component in pages/, a route in router.ts, a line here (docs/web.md).
 */
export const PAGE_OF_FUNCTION: Record<string, string> = {
  'ac.person.info': 'person-info',
}

/**
 * Functions the header's identity switcher stands for rather than a menu page: switching itself, and which
 * cross-region projects the switcher lists (the service applies that to what GET /account/switch answers).
 */
export const IN_HEADER = new Set(['ac.switch', 'ac.special.projects_all'])

/** Where the menu links a function to. */
export function pageOf(object: string): { name: string; params?: Record<string, string> } {
  const name = PAGE_OF_FUNCTION[object]
  return name ? { name } : { name: 'not-built', params: { object } }
}
