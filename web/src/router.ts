import { createRouter, createWebHistory } from 'vue-router'
import { useAuth } from './stores/auth'

declare module 'vue-router' {
  interface RouteMeta {
    auth?: boolean
    dark?: boolean
    public?: boolean
    /** A phone's page with a header of its own (城管通): the app's header is not shown. */
    phone?: boolean
  }
}

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    // not a `redirect`: those are resolved before any guard, i.e. before the start-up session check
    { path: '/', name: 'home', component: { render: () => null }, beforeEnter: () => (useAuth().signedIn ? '/screen' : '/login') },
    { path: '/login', name: 'login', component: () => import('./pages/LoginPage.vue') },
    { path: '/screen', name: 'screen', component: () => import('./pages/ScreenPage.vue'), meta: { auth: true, dark: true } },
    { path: '/workbench', name: 'workbench', component: () => import('./pages/WorkbenchPage.vue'), meta: { auth: true } },
    { path: '/alarms', name: 'alarms', component: () => import('./pages/AlarmsPage.vue'), meta: { auth: true } },
    { path: '/hotline', name: 'hotline', component: () => import('./pages/HotlinePage.vue'), meta: { auth: true } },
    // 来电受理: operators and shift leads; the page tells anyone else it is not theirs
    { path: '/intake', name: 'intake', component: () => import('./pages/IntakePage.vue'), meta: { auth: true } },
    // 城管通: the inspector's phone; the page tells anyone else it is not theirs
    { path: '/field', name: 'field', component: () => import('./pages/FieldPage.vue'), meta: { auth: true, phone: true } },
    // 巡查轨迹: shift leads and center leaders
    { path: '/patrols', name: 'patrols', component: () => import('./pages/PatrolsPage.vue'), meta: { auth: true } },
    // 应急指挥: the center's staff and the units' handlers; the page tells anyone else it is not theirs
    { path: '/emergency', name: 'emergency', component: () => import('./pages/EmergencyPage.vue'), meta: { auth: true } },
    { path: '/units', name: 'units', component: () => import('./pages/UnitsPage.vue'), meta: { auth: true } },
    { path: '/calendar', name: 'calendar', component: () => import('./pages/CalendarPage.vue'), meta: { auth: true } },
    { path: '/evaluation', name: 'evaluation', component: () => import('./pages/EvaluationPage.vue'), meta: { auth: true } },
    { path: '/audit', name: 'audit', component: () => import('./pages/AuditPage.vue'), meta: { auth: true } },
    // 系统管理: `/admin` shows its first section (users), `/admin/api-keys` another
    { path: '/admin/:section?', name: 'admin', component: () => import('./pages/AdminPage.vue'), meta: { auth: true } },
    { path: '/personal-data', name: 'personal-data', component: () => import('./pages/PersonalDataPage.vue'), meta: { auth: true } },
    { path: '/cases/:id', name: 'case', component: () => import('./pages/CasePage.vue'), meta: { auth: true }, props: true },
    { path: '/citizen', name: 'citizen', component: () => import('./pages/CitizenPage.vue'), meta: { public: true } },
    { path: '/citizen/:number', name: 'citizen-follow', component: () => import('./pages/CitizenFollowPage.vue'), meta: { public: true }, props: true },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

router.beforeEach(async (to) => {
  // citizens have no staff session, so their pages neither ask the server nor wait for it
  if (to.meta.public) return true
  const auth = useAuth()
  await auth.verify()
  // The remembered inspector, taken while the server could not be reached, works on the phone's
  // pages only; any other page asks the server again (the network may be back) and needs its yes.
  if (to.meta.auth && auth.offline && !to.meta.phone) await auth.reverify()
  if (to.meta.auth && !auth.signedIn && !(to.meta.phone && auth.offline)) return { name: 'login', query: { redirect: to.fullPath } }
  return true
})
