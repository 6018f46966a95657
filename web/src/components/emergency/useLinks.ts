// The alarms and cases an incident links (the center's staff only: a unit reads no links), kept
// current while the command view is open: asked again soon after the stream says the incident or
// an alarm of its areas changed, and every 10 seconds besides.
import { onBeforeUnmount, ref, watch, type Ref } from 'vue'
import { api } from '../../api'
import type { LinkView } from '../../api/types'

export const LINKS_REFRESH_MS = 10_000

export function useLinks(incident: () => string | null, enabled: () => boolean) {
  const links: Ref<LinkView[]> = ref([])
  const error = ref<string | null>(null)
  let seq = 0
  let soon: ReturnType<typeof setTimeout> | null = null
  let timer: ReturnType<typeof setInterval> | null = null

  async function load() {
    const id = incident()
    const my = ++seq
    if (!id || !enabled()) {
      links.value = []
      return
    }
    try {
      const items = await api.incidentLinks(id)
      if (my !== seq) return
      links.value = items
      error.value = null
    } catch (e) {
      if (my === seq) error.value = (e as Error).message
    }
  }
  /** Asks again in a moment (several changes at once ask once). */
  function refreshSoon() {
    if (soon) clearTimeout(soon)
    soon = setTimeout(() => {
      soon = null
      load()
    }, 400)
  }
  watch(() => `${incident() ?? ''}|${enabled()}`, () => {
    links.value = []
    load()
    if (timer) clearInterval(timer)
    timer = enabled() && incident() ? setInterval(load, LINKS_REFRESH_MS) : null
  }, { immediate: true })
  onBeforeUnmount(() => {
    if (soon) clearTimeout(soon)
    if (timer) clearInterval(timer)
    seq++
  })
  return { links, error, load, refreshSoon }
}
