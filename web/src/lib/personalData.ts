// A citizen's request about their personal data: what erasure will do, and the export file.
import type { PersonalDataExport } from '../api/types'

// the server's terminal states (CaseState::is_terminal)
const FINISHED = new Set(['closed', 'cancelled', 'invalid'])

/** Finished cases lose the name and phone now; open ones keep them until they finish. */
export function erasurePlan(held: PersonalDataExport, isFinished: (state: string) => boolean = (s) => FINISHED.has(s)) {
  const finished = held.cases.filter((c) => isFinished(c.state)).map((c) => c.number)
  const open = held.cases.filter((c) => !isFinished(c.state)).map((c) => c.number)
  return { finished, open }
}

/** The export as a JSON file for the citizen, named after the masked phone and the day. */
export function exportFile(phone: string, held: PersonalDataExport, now = new Date()): { name: string; blob: Blob } {
  const digits = phone.replace(/\D/g, '')
  const masked = digits.length > 7 ? `${digits.slice(0, 3)}xxxx${digits.slice(-4)}` : 'subject'
  const day = now.toISOString().slice(0, 10)
  return {
    name: `personal-data-${masked}-${day}.json`,
    blob: new Blob([JSON.stringify({ phone, exported_at: now.toISOString(), ...held }, null, 2) + '\n'], { type: 'application/json' }),
  }
}
