import { defineStore } from 'pinia'
import { api, configureClient } from '../api'
import type { Session, User } from '../api/types'

export const SESSION_KEY = 'cityops.session'

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY)
    if (!raw) return null
    const s = JSON.parse(raw) as Session
    if (!s.token || !s.user) return null
    if (s.expires_at && Date.parse(s.expires_at) < Date.now()) return null
    return s
  } catch {
    return null
  }
}

export const useAuth = defineStore('auth', {
  state: () => ({ session: load() as Session | null }),
  getters: {
    token: (s): string | null => s.session?.token ?? null,
    user: (s): User | null => s.session?.user ?? null,
    signedIn: (s): boolean => !!s.session,
    role: (s): string | null => s.session?.user.role ?? null,
  },
  actions: {
    async signIn(username: string, password: string) {
      const session = await api.signIn(username, password)
      this.session = session
      sessionStorage.setItem(SESSION_KEY, JSON.stringify(session))
      return session.user
    },
    signOut() {
      this.session = null
      sessionStorage.removeItem(SESSION_KEY)
    },
    /** Connect the API client to this store; `onExpired` runs after a 401. */
    wire(onExpired: () => void) {
      configureClient({
        token: () => this.token,
        unauthorized: () => {
          this.signOut()
          onExpired()
        },
      })
    },
  },
})
