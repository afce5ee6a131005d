/**
 * Routes (history mode; every page lazy-loaded). The account centre needs a live session: without one the
 * router goes to the login page with `redirect` set, and the login page returns there when done.
 */
import { createRouter, createWebHistory } from 'vue-router'
import { useSession } from '@/stores/session'
import { onSessionLost } from '@/api'

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', redirect: '/account' },
    { path: '/login', name: 'login', component: () => import('@/pages/LoginPage.vue') },
    { path: '/register', name: 'register', component: () => import('@/pages/RegisterPage.vue') },
    { path: '/forgot-password', name: 'forgot-password', component: () => import('@/pages/ForgotPasswordPage.vue') },
    { path: '/phone-recovery', name: 'phone-recovery', component: () => import('@/pages/PhoneRecoveryPage.vue') },
    {
      path: '/account',
      component: () => import('@/pages/AccountLayout.vue'),
      meta: { session: true },
      children: [
        { path: '', name: 'account', component: () => import('@/pages/AccountHome.vue') },
        { path: 'person/info', name: 'person-info', component: () => import('@/pages/PersonalInfo.vue') },
        { path: 'enterprise/info', name: 'ent-info', component: () => import('@/pages/enterprise/EnterpriseInfo.vue') },
        { path: 'enterprise/staff', name: 'staff', component: () => import('@/pages/enterprise/StaffList.vue') },
        { path: 'enterprise/staff/add', name: 'staff-add', component: () => import('@/pages/enterprise/StaffAdd.vue') },
        { path: 'enterprise/staff/pending', name: 'staff-pending', component: () => import('@/pages/enterprise/StaffPending.vue') },
        { path: 'enterprise/staff/history', name: 'staff-history', component: () => import('@/pages/enterprise/StaffHistory.vue') },
        { path: 'enterprise/my-permissions', name: 'my-permissions', component: () => import('@/pages/enterprise/MyPermissions.vue') },
        { path: 'enterprise/logs/login', name: 'ent-login-logs', component: () => import('@/pages/enterprise/EnterpriseLoginLogs.vue') },
        { path: 'enterprise/logs/audit', name: 'ent-audit-log', component: () => import('@/pages/enterprise/EnterpriseAuditLog.vue') },
        { path: 'function/:object', name: 'not-built', component: () => import('@/pages/NotBuilt.vue') },
      ],
    },
    { path: '/dev/sms-outbox', name: 'dev-outbox', component: () => import('@/pages/DevOutbox.vue') },
    { path: '/dev/app-simulator', name: 'dev-simulator', component: () => import('@/pages/DevAppSimulator.vue') },
    { path: '/:rest(.*)*', name: 'not-found', component: () => import('@/pages/NotFound.vue') },
  ],
})

let navigatingTo: string | null = null // where a navigation under way goes (the way back if the session is lost)

router.beforeEach(async (to) => {
  if (!to.matched.some((r) => r.meta.session)) return true
  const s = useSession()
  navigatingTo = to.fullPath
  if (s.loggedIn) {
    // the menu follows the enforcer's current answer (a binding ended, a policy reloaded); a session that
    // is gone answers 401 here and onSessionLost takes the person to the login page, saying why
    await s.refresh().catch(() => undefined)
    return s.loggedIn
  }
  if (await s.load()) return true
  return { name: 'login', query: { redirect: to.fullPath } }
})
router.afterEach(() => {
  navigatingTo = null
})

let redirecting = false // several requests may report the same loss: one redirect
onSessionLost((code) => {
  const s = useSession()
  s.clear()
  const here = router.currentRoute.value
  if (redirecting || here.name === 'login') return
  redirecting = true
  // the login page says why (session_required, session_expired, identity_revoked) and returns there after
  router.push({ name: 'login', query: { redirect: navigatingTo ?? here.fullPath, reason: code } })
    .finally(() => { redirecting = false })
})
