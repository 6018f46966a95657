// One incident command from a form: sends it, hands the incident's new reading on, keeps the
// refusal (in words, with its field) for the form to show.
import { ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { api } from '../../api'
import type { IncidentCommand, IncidentView } from '../../api/types'
import { problemOf, type Problem } from '../../lib/emergency'

export function useCommand(incident: () => string, done: (inc: IncidentView) => void) {
  const { t } = useI18n()
  const busy = ref(false)
  const problem = ref<Problem | null>(null)
  /** True once the server took the command. */
  async function run(body: IncidentCommand): Promise<boolean> {
    busy.value = true
    problem.value = null
    try {
      done(await api.incidentCommand(incident(), body))
      return true
    } catch (e) {
      problem.value = problemOf(e, t)
      return false
    } finally {
      busy.value = false
    }
  }
  return { busy, problem, run }
}
