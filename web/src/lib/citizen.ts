// Plain-language problem kinds for citizens, mapped to standard small classes.
export const CITIZEN_KINDS: { key: string; code: string | null }[] = [
  { key: 'manhole', code: '10101' },
  { key: 'streetlight', code: '10118' },
  { key: 'garbage', code: '20102' },
  { key: 'flooding', code: '20406' },
  { key: 'parking', code: '20505' },
  { key: 'road', code: '20401' },
  { key: 'flyers', code: '20201' },
  { key: 'vendor', code: '20501' },
  { key: 'other', code: null },
]

const PREFIX = 'cityops.follow.'

export function saveFollowToken(number: string, token: string) {
  try {
    localStorage.setItem(PREFIX + number, token)
  } catch {
    /* storage unavailable */
  }
}
export function followToken(number: string): string | null {
  try {
    return localStorage.getItem(PREFIX + number)
  } catch {
    return null
  }
}

/** Rough bounds of Shanghai, to catch swapped or mistyped coordinates. */
export function inShanghai(lon: number, lat: number): boolean {
  return lon > 120.8 && lon < 122.3 && lat > 30.6 && lat < 31.95
}
