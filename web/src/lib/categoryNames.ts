// A small class's name in the UI's language. The views that name a case's class carry its Chinese
// name only (a case's `category.zh`, the live stream's `category_zh`, the screen's counts' `zh`);
// the English one is the catalogue's (`GET /categories`), asked for once per page load, and only
// while the UI is in English. Until it answers (or when it cannot), the Chinese name is shown.
import { ref, watch } from 'vue'
import { useI18n } from 'vue-i18n'
import { api } from '../api'

/** A class's names as a view or the catalogue gives them; any may be missing. */
export interface ClassNames {
  zh?: string | null
  en?: string | null
}

/** A class as a view names it: its code and whichever names the view carries. */
export interface NamedClass extends ClassNames {
  code?: string | null
}

/** The catalogue's names of a class by its code, when known. */
export type ClassLookup = (code: string) => ClassNames | null | undefined

/** Whether the UI speaks English (`en`, `en-GB`...), else Chinese. */
export const isEnglish = (locale: string) => locale === 'en' || locale.startsWith('en-')

/**
 * The class's name in `locale`: in English the view's English name, else the catalogue's, else
 * the Chinese one; in Chinese the view's Chinese name, else the catalogue's. The code when no name
 * is known; empty without a class.
 */
export function categoryName(item: NamedClass | null | undefined, locale: string, lookup?: ClassLookup): string {
  if (!item) return ''
  const known = item.code ? lookup?.(item.code) : null
  const en = item.en || known?.en
  const zh = item.zh || known?.zh
  return (isEnglish(locale) ? en || zh : zh || en) || item.code || ''
}

// the catalogue's names, shared by every page that names classes
const catalogue = ref<Map<string, ClassNames> | null>(null)
let asking: Promise<void> | null = null

/** Ask for the catalogue's names once; a failure (e.g. signed out) lets the next call ask again. */
export function learnClassNames(): Promise<void> {
  if (catalogue.value) return Promise.resolve()
  asking ??= api.categories().then((c) => {
    catalogue.value = new Map(c.small.map((s) => [s.code, { zh: s.zh, en: s.en }]))
  }).catch(() => {
    asking = null
  })
  return asking
}

/** The catalogue's names of a class, once learnt. */
export const knownClass: ClassLookup = (code) => catalogue.value?.get(code)

/** For tests: forget the names learnt. */
export function forgetClassNames() {
  catalogue.value = null
  asking = null
}

/**
 * A component's class names in the UI's language: `name(item)` is reactive (to the language and
 * to the catalogue's answer), and the catalogue is asked for when the UI is (or turns) English.
 */
export function useCategoryNames() {
  const { locale } = useI18n()
  watch(locale, (l) => {
    if (isEnglish(l)) void learnClassNames()
  }, { immediate: true })
  return {
    name: (item: NamedClass | null | undefined) => categoryName(item, locale.value, knownClass),
  }
}
