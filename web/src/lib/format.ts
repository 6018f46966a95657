// Dates in Asia/Shanghai and numbers in the current locale.
export const TZ = 'Asia/Shanghai'

const cache = new Map<string, Intl.DateTimeFormat>()
function dtf(locale: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = locale + JSON.stringify(opts)
  let f = cache.get(key)
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { timeZone: TZ, ...opts })
    cache.set(key, f)
  }
  return f
}

export function formatDateTime(iso: string | null | undefined, locale = 'zh-CN'): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return '—'
  return dtf(locale, {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).format(d)
}

/** Date and time to the second, in Shanghai time: when an event happened, as a table lists it. */
export function formatDateTimeSeconds(iso: string | null | undefined, locale = 'zh-CN'): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return '—'
  return dtf(locale, {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }).format(d)
}

export function formatTime(iso: string | null | undefined, locale = 'zh-CN'): string {
  if (!iso) return '—'
  return dtf(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(new Date(iso))
}

export function formatNumber(n: number | null | undefined, locale = 'zh-CN'): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—'
  return new Intl.NumberFormat(locale).format(n)
}

export function formatPercent(n: number | null | undefined, locale = 'zh-CN'): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—'
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(n)
}

/** A value for <input type="datetime-local"> in Shanghai time, `hours` from now. */
export function shanghaiLocalInput(hoursFromNow: number): string {
  const d = new Date(Date.now() + hoursFromNow * 3600_000)
  const parts = Object.fromEntries(
    dtf('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false })
      .formatToParts(d).map((p) => [p.type, p.value]),
  )
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour === '24' ? '00' : parts.hour}:${parts.minute}`
}

/** A datetime-local value read as Shanghai time (UTC+8, no DST) -> RFC 3339. */
export function fromShanghaiLocal(v: string): string {
  if (!v) return ''
  return new Date(`${v.length === 16 ? v + ':00' : v}+08:00`).toISOString()
}

/** Hours and minutes in Shanghai time, e.g. for chart axes. */
export function formatClock(iso: string | null | undefined, locale = 'zh-CN'): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return '—'
  return dtf(locale, { hour: '2-digit', minute: '2-digit', hour12: false }).format(d)
}
