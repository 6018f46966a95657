import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { router } from './router'
import { i18n } from './i18n'
import { useAuth } from './stores/auth'
import './styles/base.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia).use(i18n).use(router)

useAuth(pinia).wire(() => {
  const current = router.currentRoute.value
  if (current.meta.auth) router.replace({ name: 'login', query: { redirect: current.fullPath, expired: '1' } })
})
document.documentElement.lang = i18n.global.locale.value

app.mount('#app')
