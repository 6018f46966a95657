// The telemetry rules (and the indicators' units) the emergency forms adjust and the lists name:
// asked for once per page load and shared; a failed load is asked again next time.
import { computed, shallowRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { api } from '../../api'
import type { Indicator, RuleAdjustment, RuleCondition, TelemetryRule } from '../../api/types'
import { conditionText } from '../../lib/rules'

const rules = shallowRef<TelemetryRule[]>([])
const indicators = shallowRef<Indicator[]>([])
const failed = shallowRef<string | null>(null)
let loading: Promise<void> | null = null

function load(): Promise<void> {
  if (!loading) {
    loading = Promise.all([api.telemetryRules(), api.indicators().catch(() => [] as Indicator[])])
      .then(([r, i]) => {
        rules.value = [...r].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
        indicators.value = i
        failed.value = null
      })
      .catch((e) => {
        failed.value = (e as Error).message
        loading = null
      })
  }
  return loading
}

export function useRules() {
  const { t, locale } = useI18n()
  load()
  const byId = computed(() => new Map(rules.value.map((r) => [r.id, r])))
  const unitOf = (indicator: string) => indicators.value.find((i) => i.key === indicator)?.unit ?? ''
  /** A condition in words, in the unit of the rule's indicator. */
  const words = (rule: string, c: RuleCondition) => conditionText(c, unitOf(byId.value.get(rule)?.indicator ?? ''), t, locale.value)
  return {
    rules,
    failed,
    reload: () => {
      loading = null
      return load()
    },
    rule: (id: string) => byId.value.get(id) ?? null,
    /** The rule's name, or its id while unknown. */
    name: (id: string) => byId.value.get(id)?.name ?? id,
    unitOf,
    words,
    /** An adjustment in words: the new condition, and the rule's own beside it when known. */
    describe: (a: RuleAdjustment) => {
      const r = byId.value.get(a.rule)
      return { now: words(a.rule, a.condition), was: r ? words(a.rule, r.condition) : null }
    },
  }
}
