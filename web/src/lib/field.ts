/**
 * The inspector's phone (城管通, `/field`): the tasks of their grids and the inline verdict on
 * one, the report form checked as the server checks it (a photo is a JPEG, PNG or WebP image of
 * at most 10 MiB, by its bytes rather than its name), and the `POST /cases` body.
 */
import type { CaseView, CommandName, ReportRequest, User } from '../api/types'
import { buildBody } from './commands'
import { inShanghai } from './citizen'
import { pointOf, type PlaceState } from './intake'
import { queuesFor, type Queue } from '../stores/cases'

// ---- tasks

/** The inspector's tasks: verification and check tasks of their own grids (the workbench's "my grid tasks"). */
export function taskQueue(user: Pick<User, 'role' | 'unit' | 'scope'> | null): Queue | null {
  return queuesFor(user).find((q) => q.key === 'my_grid_tasks') ?? null
}

/** The verdict a task asks for (`verify` on a case being verified, `check` on one being checked), when the inspector may give it now. */
export function taskCommand(c: Pick<CaseView, 'state' | 'actions'>): Extract<CommandName, 'verify' | 'check'> | null {
  const command = c.state === 'verifying' ? 'verify' : c.state === 'checking' ? 'check' : null
  return command && (c.actions ?? []).includes(command) ? command : null
}

/** The command's body: the verdict (`exists` or `passed`) and an opinion, if any. */
export function taskBody(command: 'verify' | 'check', yes: boolean, opinion: string, version: number): Record<string, unknown> {
  return buildBody(command, command === 'verify' ? { exists: yes, opinion } : { passed: yes, opinion }, version)
}

// ---- photos

/** The image types the server keeps. */
export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const
export type PhotoType = (typeof PHOTO_TYPES)[number]
/** The largest photo the server takes (bytes). */
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024
/** Photos one report carries at most. */
export const MAX_PHOTOS = 9

/** What the first bytes say the file is: JPEG, PNG, WebP, or none of them. */
export function sniffImage(head: Uint8Array): PhotoType | null {
  const starts = (bytes: number[], at = 0) => bytes.every((b, i) => head[at + i] === b)
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg'
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png'
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp'
  return null
}

export type PhotoProblem = 'empty' | 'too_large' | 'not_image' | 'too_many'

/** Why a file cannot go as a photo, or its type when it can. */
export function checkPhoto(size: number, head: Uint8Array): { type: PhotoType } | { problem: PhotoProblem } {
  if (size <= 0) return { problem: 'empty' }
  if (size > MAX_PHOTO_BYTES) return { problem: 'too_large' }
  const type = sniffImage(head)
  return type ? { type } : { problem: 'not_image' }
}

/** The file's first bytes (enough to tell its type). */
export async function headOf(file: Blob, n = 16): Promise<Uint8Array> {
  return new Uint8Array(await bytesOf(file.slice(0, n)))
}

/** A Blob's bytes (through `Response` where a Blob has no `arrayBuffer`). */
export async function bytesOf(file: Blob): Promise<ArrayBuffer> {
  if (typeof file.arrayBuffer === 'function') return file.arrayBuffer()
  return new Response(file).arrayBuffer()
}

/** A file name the server takes: a plain name of at most 200 characters. */
export function photoName(name: string, index: number, type: PhotoType): string {
  const plain = [...name.replace(/[/\\\0]/g, '_').trim()].slice(-200).join('')
  return plain || `photo-${index + 1}.${type.slice('image/'.length).replace('jpeg', 'jpg')}`
}

// ---- the report

/** A small class as the phone's class select offers it (the catalogue kept on the phone). */
export interface ClassOption { code: string; zh: string; en: string; big: string }
export interface BigOption { code: string; zh: string; en: string }

export interface FieldReportForm {
  description: string
  /** A small class's code, or '' for none. */
  categoryHint: string
  address: string
  /** The coordinates as typed or taken from the GPS (WGS-84). */
  lon: string
  lat: string
}

export function emptyFieldReport(): FieldReportForm {
  return { description: '', categoryHint: '', address: '', lon: '', lat: '' }
}

export const MAX_DESCRIPTION = 2000
export const MAX_ADDRESS = 200

export type FieldReportField = 'description' | 'location' | 'address' | 'category_hint' | 'photos'
export type FieldReportProblem = 'required' | 'long' | 'outside' | 'locating'

const chars = (s: string) => [...s].length

/**
 * What is wrong with the report before it is stored: a description, short enough texts, a point
 * in the city. Online the point has been located (`place`); offline (`place` 'none' or 'failed'
 * for want of a network) the city's rough bounds stand in, and the server checks it when it goes.
 */
export function checkFieldReport(form: FieldReportForm, place: PlaceState, online: boolean): Partial<Record<FieldReportField, FieldReportProblem>> {
  const problems: Partial<Record<FieldReportField, FieldReportProblem>> = {}
  const description = form.description.trim()
  if (!description) problems.description = 'required'
  else if (chars(description) > MAX_DESCRIPTION) problems.description = 'long'
  if (chars(form.address.trim()) > MAX_ADDRESS) problems.address = 'long'
  const point = pointOf(form)
  if (!point) problems.location = 'required'
  else if (place === 'outside' || !inShanghai(point.lon, point.lat)) problems.location = 'outside'
  else if (online && place === 'locating') problems.location = 'locating'
  return problems
}

/**
 * `POST /cases` of the phone's report: an inspector's, texts trimmed, blank ones left out, with
 * the GPS fix's accuracy when the point is the GPS's (`accuracy`, metres; null otherwise).
 */
export function fieldReportBody(form: FieldReportForm, accuracy: number | null = null): ReportRequest {
  const point = pointOf(form)
  if (!point) throw new Error('fieldReportBody: the form has no point')
  const body: ReportRequest = { source: 'inspector', description: form.description.trim(), location: point }
  if (accuracy !== null && Number.isFinite(accuracy) && accuracy >= 0 && accuracy <= 5000) body.location_accuracy_m = accuracy
  const address = form.address.trim()
  if (address) body.address = address
  if (form.categoryHint) body.category_hint = form.categoryHint
  return body
}

/** The form's field a refusal names (`location.lon`, `category_hint`...), null for one shown at the top. */
export function fieldReportFieldOf(field: string | null | undefined): FieldReportField | null {
  switch (field) {
    case 'description': case 'address': case 'category_hint':
      return field
    case 'location': case 'location.lon': case 'location.lat': case 'area': case 'crs':
      return 'location'
    case 'body': case 'file_name':
      return 'photos'
    default:
      return null
  }
}
