/**
 * Class suggestions (`GET /class-suggestions`): the small classes a report's text most likely
 * belongs to, as the intake console and the filing form show them under their class select.
 * When to ask (a text long enough to say something, clipped to the server's bound), and how a
 * suggestion reads: its name in the UI's language, its confidence as a percentage, the words
 * of the text that decided it.
 */
import type { ClassSuggestion } from '../api/types'

/** A text shorter than this (in characters, spaces at the ends left out) is not asked about. */
export const MIN_TEXT = 4
/** The longest text the server takes (characters). */
export const MAX_TEXT = 2000
/** How many suggestions the forms ask for and show. */
export const SHOWN = 3
/** How long the typing must pause before the text is asked about (ms). */
export const DEBOUNCE_MS = 300

/** Lengths in characters, as the server counts them (not UTF-16 units). */
const chars = (s: string) => [...s]

/**
 * The text to ask about, or null when there is nothing to ask: trimmed, at least `MIN_TEXT`
 * characters, its first `MAX_TEXT` characters when longer (the server refuses more).
 */
export function suggestionText(text: string | null | undefined): string | null {
  const cs = chars((text ?? '').trim())
  if (cs.length < MIN_TEXT) return null
  return cs.length > MAX_TEXT ? cs.slice(0, MAX_TEXT).join('').trim() : cs.join('')
}

/**
 * A confidence (0 to 1) as a whole percentage: `0.734` → `73%`; one above nothing but under half
 * a percent is `<1%` rather than a misleading `0%`; out-of-range values are held to 0 and 100.
 */
export function percentText(confidence: number): string {
  if (!Number.isFinite(confidence) || confidence <= 0) return '0%'
  if (confidence >= 1) return '100%'
  const n = Math.round(confidence * 100)
  return n === 0 ? '<1%' : `${n}%`
}

/** Whether the UI speaks English (`en`), else Chinese. */
const isEnglish = (locale: string) => locale === 'en' || locale.startsWith('en-')

/** The class's name in the UI's language. */
export function suggestionName(s: Pick<ClassSuggestion, 'zh' | 'en'>, locale: string): string {
  return (isEnglish(locale) ? s.en : s.zh) || s.zh || s.en
}

/**
 * The words that decided a suggestion, strongest first, at most three, each once: joined with
 * 、 in Chinese (“井盖、缺失”) and with commas in English; empty when there are none.
 */
export function wordsText(words: readonly string[] | null | undefined, locale: string): string {
  const seen = [...new Set((words ?? []).map((w) => w.trim()).filter(Boolean))].slice(0, 3)
  return seen.join(isEnglish(locale) ? ', ' : '、')
}

/** The suggestions a form shows: the first `max` of the answer (most likely first), each class once. */
export function shownSuggestions(list: readonly ClassSuggestion[] | null | undefined, max = SHOWN): ClassSuggestion[] {
  const seen = new Set<string>()
  const out: ClassSuggestion[] = []
  for (const s of list ?? []) {
    if (out.length >= max) break
    if (seen.has(s.category)) continue
    seen.add(s.category)
    out.push(s)
  }
  return out
}
