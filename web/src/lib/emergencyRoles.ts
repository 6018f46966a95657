// Who the emergency page (应急指挥) is for, apart from the rest of lib/emergency so the app's
// header (in every page's first download) takes only this. The server decides; these only show
// and hide links and controls.
import type { Role } from '../api/types'

/** The center's staff who issue warnings and run incidents. */
export const CENTER_ROLES: readonly Role[] = ['center_leader', 'shift_lead', 'dispatcher']

export function isCenterStaff(role: Role | null | undefined): boolean {
  return !!role && CENTER_ROLES.includes(role)
}
/** The response level, the hand-over and the stand-down are a center leader's. */
export function isLeader(role: Role | null | undefined): boolean {
  return role === 'center_leader'
}
/** Who the emergency page is for: the center's staff and the units' handlers (who see their own tasks). */
export function mayUseEmergency(role: Role | null | undefined): boolean {
  return isCenterStaff(role) || role === 'unit_handler'
}
