/**
 * The logged-in session as the front end knows it: who (GET /account/session), what the menus show
 * (GET /account/menu, decided by the enforcer) and what the switcher offers (GET /account/switch).
 * Nothing here decides a permission: an empty area list means the service allowed none.
 */
import { defineStore } from 'pinia'
import { account, auth, type Menu, type SessionView, type SwitchOptions } from '@/api'

export const useSession = defineStore('session', {
  state: () => ({
    session: null as SessionView | null,
    menu: null as Menu | null,
    options: null as SwitchOptions | null,
  }),
  getters: {
    loggedIn: (s) => s.session !== null,
    /** Every account-centre function the service allows now, in menu order. */
    functions: (s) => (s.menu?.areas ?? []).flatMap((a) => a.functions),
  },
  actions: {
    /** Ask the service who is logged in; false (and nothing kept) when no live session. */
    async load(quiet = true): Promise<boolean> {
      try {
        this.session = await account.session(quiet)
      } catch {
        this.clear()
        return false
      }
      await this.refresh()
      return true
    },
    /** Menu and switcher for the current identity (after login, switching, or a language change). */
    async refresh(): Promise<void> {
      const [menu, options] = await Promise.all([
        account.menu(),
        account.switchOptions().catch(() => null), // a session without ac.switch has no switcher
      ])
      this.menu = menu
      this.options = options
    },
    async switchTo(target: string) {
      const out = await account.switchTo(target)
      await this.load(false)
      return out.identity
    },
    async logout() {
      try {
        await auth.logout()
      } finally {
        this.clear()
      }
    },
    clear() {
      this.session = null
      this.menu = null
      this.options = null
    },
  },
})
