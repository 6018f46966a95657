/**
 * The configuration in force as an admin reads it (系统管理 → 运行配置): each setting's value as
 * shown (a secret never), the environment variable that sets it, and the search.
 */
import type { Setting, SettingSource } from '../api/types'

/** How the server writes a secret it does not show. */
export const REDACTED = '[REDACTED]'

/** A compact value longer than this is folded, its pretty JSON shown on demand. */
export const FOLD_AT = 60

/** How a value is shown. */
export type SettingDisplay =
  /** A secret: a lock and "hidden", nothing of its value. */
  | { kind: 'secret' }
  /** No value (`null`): the setting is off or found otherwise. */
  | { kind: 'unset' }
  /** A number, a boolean or a string, as the configuration file would have it. */
  | { kind: 'text'; text: string }
  /** A list or a table: compact JSON, and pretty JSON when it is long enough to fold. */
  | { kind: 'json'; compact: string; pretty: string; fold: boolean; items: number; list: boolean }

export function settingDisplay(s: Pick<Setting, 'value' | 'secret'>): SettingDisplay {
  const v = s.value
  if (s.secret || v === REDACTED) return { kind: 'secret' }
  if (v === null || v === undefined) return { kind: 'unset' }
  if (typeof v === 'string') return { kind: 'text', text: v === '' ? '""' : v }
  if (typeof v === 'number' || typeof v === 'boolean') return { kind: 'text', text: String(v) }
  const compact = JSON.stringify(v)
  const list = Array.isArray(v)
  return {
    kind: 'json', compact, pretty: JSON.stringify(v, null, 2), fold: compact.length > FOLD_AT,
    items: list ? (v as unknown[]).length : Object.keys(v as object).length, list,
  }
}

/** The start of a folded value: its compact JSON cut at `FOLD_AT` characters. */
export function preview(compact: string, at = FOLD_AT): string {
  return compact.length > at ? `${compact.slice(0, at)}…` : compact
}

/** The environment variable that sets a key: `CITYOPS_` and the key in upper case. */
export function envName(key: string): string {
  return `CITYOPS_${key.toUpperCase()}`
}

/**
 * Whether a setting matches the search: in its key or environment variable (so `overdue` and
 * `CITYOPS_OVERDUE` both find `overdue_watch_secs`), or in its value; a secret's value is never
 * searched, so a search cannot tell what it holds. `sourceWords` are the source's names shown.
 */
export function matchesSetting(s: Setting, q: string, sourceWords: string[] = []): boolean {
  const text = q.trim().toLowerCase()
  if (!text) return true
  if (s.key.toLowerCase().includes(text) || envName(s.key).toLowerCase().includes(text)) return true
  if (sourceWords.some((w) => w.toLowerCase().includes(text)) || s.source.includes(text)) return true
  const shown = settingDisplay(s)
  const value = shown.kind === 'text' ? shown.text : shown.kind === 'json' ? shown.compact : ''
  return value.toLowerCase().includes(text)
}

/** How many settings come from each source (the summary above the table). */
export function countBySource(settings: readonly Setting[]): Record<SettingSource, number> {
  const counts: Record<SettingSource, number> = { default: 0, file: 0, environment: 0, command_line: 0 }
  for (const s of settings) if (s.source in counts) counts[s.source]++
  return counts
}
