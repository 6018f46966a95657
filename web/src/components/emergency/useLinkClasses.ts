// What an incident (or a plan) links to by itself, in words: the indicators' names come from the
// indicator catalogue (the vital signs' store, as the alarm and rules pages name them), the
// classes' from the category catalogue, each asked for once per page load and only when a list
// names an indicator or a class; until they answer (or when they cannot) the keys are shown.
import { computed, shallowRef, toValue, watch, type MaybeRefOrGetter } from 'vue'
import { useI18n } from 'vue-i18n'
import { api } from '../../api'
import type { Categories } from '../../api/types'
import { isClassCode, linkClassesText } from '../../lib/emergency'
import { useVitals } from '../../stores/vitals'

const catalog = shallowRef<Pick<Categories, 'big' | 'small'> | null>(null)
let asking: Promise<void> | null = null

/** Ask for the category catalogue once; a failure lets the next call ask again. */
function learnCatalog(): Promise<void> {
  if (catalog.value) return Promise.resolve()
  asking ??= api.categories().then((c) => {
    catalog.value = { big: c.big, small: c.small }
  }).catch(() => {
    asking = null
  })
  return asking
}

/** For tests: forget the catalogue learnt. */
export function forgetLinkCatalog() {
  catalog.value = null
  asking = null
}

/** The link classes in the UI's language, joined ("everything in its areas" when none), reactive. */
export function useLinkClasses(keys: MaybeRefOrGetter<readonly string[] | null | undefined>) {
  const { t, locale } = useI18n()
  const vitals = useVitals()
  watch(() => (toValue(keys) ?? []).join(','), () => {
    const list = toValue(keys) ?? []
    if (list.some((k) => !isClassCode(k))) void vitals.loadIndicators()
    if (list.some(isClassCode)) void learnCatalog()
  }, { immediate: true })
  return computed(() => linkClassesText(
    toValue(keys),
    { indicators: vitals.indicators, big: catalog.value?.big, small: catalog.value?.small },
    locale.value,
    t,
  ))
}
