/**
 * The operator's intake console (来电受理): a citizen's call taken down as a hotline case. Who may
 * take calls, the form checked as the server checks it, the `POST /cases` body, where a refusal
 * is shown, and the idempotency key that makes a retry of the same call answer the same case.
 */
import type { Area, CallBody, Component, FieldValues, ReportRequest, Role, TicketKind } from '../api/types'
import { TICKET_KINDS } from './vocabulary'

/** Those who take citizens' calls down as cases: operators and shift leads. */
export function mayTakeCalls(role: Role | null | undefined): boolean {
  return role === 'operator' || role === 'shift_lead'
}

/** The kinds a call may have; an enquiry is answered on the call and the server opens no case for it. */
export const CALL_KINDS = TICKET_KINDS
/** Whether a call of this kind is opened as a case. */
export function opensCase(kind: TicketKind): boolean {
  return kind !== 'enquiry'
}

export const MAX_DESCRIPTION = 2000
export const MAX_ADDRESS = 200
export const MAX_NAME = 50
export const MAX_REPLY_OWED = 500
/** A place search's text: 1 to 50 characters. */
export const MAX_SEARCH = 50

/** The server's pattern of a phone: 5 to 20 digits, with spaces, brackets, `-`, `.` and a leading `+`. */
export const PHONE_PATTERN = /^\s*\+?[ ().-]*([0-9][ ().-]*){5,20}\s*$/

/** A phone the server takes; a blank one is none (the phone is optional). */
export function validPhone(text: string): boolean {
  return !text.trim() || PHONE_PATTERN.test(text)
}

/** The console's form as typed. */
export interface IntakeForm {
  name: string
  phone: string
  kind: TicketKind | ''
  description: string
  address: string
  /** The coordinates as typed (WGS-84); a point picked on a map or found by name is written here too. */
  lon: string
  lat: string
  /** A small class's code, or '' for none. */
  categoryHint: string
  replyOwed: string
  /** The census component the call is about (16 digits), chosen in the place search; '' for none. */
  componentId: string
}

export function emptyIntake(): IntakeForm {
  return { name: '', phone: '', kind: '', description: '', address: '', lon: '', lat: '', categoryHint: '', replyOwed: '', componentId: '' }
}

/** The form's fields as the server names them in a refusal; `contact` is the caller as a whole. */
export type IntakeField =
  | 'contact' | 'contact.name' | 'contact.phone' | 'call.kind' | 'description' | 'address' | 'location' | 'category_hint' | 'call.reply_owed'
  | 'component_id'

/** The longest text of each field that has a bound (a `long` problem says it). */
export const MAX_LENGTH: Partial<Record<IntakeField, number>> = {
  'contact.name': MAX_NAME, description: MAX_DESCRIPTION, address: MAX_ADDRESS, 'call.reply_owed': MAX_REPLY_OWED,
}

export type IntakeProblem = 'required' | 'long' | 'phone' | 'enquiry' | 'outside' | 'locating' | 'unlocated'

/**
 * Where the point stands: not given (or not a point), being located, located in the city,
 * outside it (the server found no unit grid there), or not located (the server did not answer).
 */
export type PlaceState = 'none' | 'locating' | 'located' | 'outside' | 'failed'

const chars = (s: string) => [...s].length

/** The point typed or picked, when it is one (two finite numbers). */
export function pointOf(form: Pick<IntakeForm, 'lon' | 'lat'>): { lon: number; lat: number } | null {
  const texts = [form.lon, form.lat].map((v) => String(v ?? '').trim())
  if (texts.some((v) => !/^[-+]?(\d+\.?\d*|\.\d+)$/.test(v))) return null
  const [lon, lat] = texts.map(Number)
  return Math.abs(lon) <= 180 && Math.abs(lat) <= 90 ? { lon, lat } : null
}

/** A coordinate as the form writes it: at most 6 decimals (about 0.1 m), no trailing zeros. */
export function coordText(value: number): string {
  return String(Math.round(value * 1e6) / 1e6)
}

/**
 * What is wrong with the form, by the field the server would name, before it is sent: the
 * description needed, the texts not too long, the phone of the server's pattern, a kind that
 * opens a case, a point located in the city.
 */
export function checkIntake(form: IntakeForm, place: PlaceState): Partial<Record<IntakeField, IntakeProblem>> {
  const problems: Partial<Record<IntakeField, IntakeProblem>> = {}
  if (chars(form.name.trim()) > MAX_NAME) problems['contact.name'] = 'long'
  if (!validPhone(form.phone)) problems['contact.phone'] = 'phone'
  if (!form.kind) problems['call.kind'] = 'required'
  else if (!opensCase(form.kind)) problems['call.kind'] = 'enquiry'
  const description = form.description.trim()
  if (!description) problems.description = 'required'
  else if (chars(description) > MAX_DESCRIPTION) problems.description = 'long'
  if (chars(form.address.trim()) > MAX_ADDRESS) problems.address = 'long'
  if (chars(form.replyOwed.trim()) > MAX_REPLY_OWED) problems['call.reply_owed'] = 'long'
  if (!pointOf(form)) problems.location = 'required'
  else if (place === 'outside') problems.location = 'outside'
  else if (place === 'failed') problems.location = 'unlocated'
  else if (place !== 'located') problems.location = 'locating'
  return problems
}

/** The body of the call's report: a hotline case with the caller's contact, the call's kind and the reply owed. */
export type IntakeBody = ReportRequest & { source: 'hotline'; call: CallBody }

/**
 * `POST /cases` from a form `checkIntake` passed: texts trimmed, blank ones left out (a blank
 * contact altogether), the extra fields' values only with a class hinted and when there are any.
 */
export function intakeBody(form: IntakeForm, fields: FieldValues = {}): IntakeBody {
  const point = pointOf(form)
  if (!point || !form.kind) throw new Error('intakeBody: the form has no point or no kind')
  const name = form.name.trim()
  const phone = form.phone.trim()
  const address = form.address.trim()
  const reply = form.replyOwed.trim()
  const body: IntakeBody = {
    source: 'hotline',
    description: form.description.trim(),
    location: point,
    call: { kind: form.kind, ...(reply ? { reply_owed: reply } : {}) },
  }
  if (address) body.address = address
  if (form.categoryHint) body.category_hint = form.categoryHint
  if (form.componentId) body.component_id = form.componentId
  if (name || phone) body.contact = { ...(name ? { name } : {}), ...(phone ? { phone } : {}) }
  if (form.categoryHint && Object.keys(fields).length) body.fields = fields
  return body
}

/**
 * The form's field a refusal names (`contact.phone`, `location.lat`...), null for one shown at
 * the top (a `fields.<key>` refusal is the extra fields' to place).
 */
export function intakeFieldOf(field: string | null | undefined): IntakeField | null {
  switch (field) {
    case 'contact': case 'contact.name': case 'contact.phone': case 'call.kind': case 'description': case 'address':
    case 'location': case 'category_hint': case 'call.reply_owed': case 'component_id':
      return field
    case 'call':
      return 'call.kind'
    case 'area': case 'crs': case 'location.lon': case 'location.lat':
      return 'location'
    default:
      return null
  }
}

/** The text a place search sends, or null when there is none to send (blank, or longer than the server takes). */
export function searchText(text: string): string | null {
  const t = text.trim()
  return t && chars(t) <= MAX_SEARCH ? t : null
}

/** Districts first, then streets, then communities (the server's order; kept when it is already so). */
const LEVEL_ORDER: Record<Area['level'], number> = { city: 0, district: 1, street: 2, community: 3 }
export function placesInOrder(found: readonly Area[]): Area[] {
  return found.map((a, i) => ({ a, i })).sort((x, y) => LEVEL_ORDER[x.a.level] - LEVEL_ORDER[y.a.level] || x.i - y.i).map((x) => x.a)
}

// ---- the place search over the areas and the component census

/** At most this many components a place search lists (`GET /components?q=…&limit=`). */
export const COMPONENT_LIMIT = 10

/**
 * A place a search found: an area (the point is its centroid) or a component of the census (the
 * point is the component's own). `key` is unique in a list.
 */
export type PlaceOption =
  | { kind: 'area'; key: string; area: Area }
  | { kind: 'component'; key: string; component: Component }

/** One list of what the two searches found: the areas first (`placesInOrder`), then the components in the server's order; each once. */
export function placeOptions(areas: readonly Area[], components: readonly Component[]): PlaceOption[] {
  const seen = new Set<string>()
  const options: PlaceOption[] = []
  for (const area of placesInOrder(areas)) {
    const key = `area:${area.code}`
    if (!seen.has(key)) options.push({ kind: 'area', key, area })
    seen.add(key)
  }
  for (const component of components) {
    const key = `component:${component.id}`
    if (!seen.has(key)) options.push({ kind: 'component', key, component })
    seen.add(key)
  }
  return options
}

/** The two searches of a place search. */
export type PlaceSource = 'areas' | 'components'

export interface PlaceSearch {
  /** What was found, areas first; what a failed search would have found is missing. */
  options: PlaceOption[]
  /** Why a search failed, by search: the other's options are listed all the same. */
  failed: Partial<Record<PlaceSource, string>>
}

/**
 * The areas and, when `components` is given, the components `q` finds, both asked at once. A
 * search that fails is named in `failed` and leaves the other's results; this never rejects.
 * (An enquiry's area is an area: its search gives no `components`.)
 */
export async function searchPlaces(
  q: string,
  search: { areas: (q: string) => Promise<readonly Area[]>; components?: (q: string) => Promise<readonly Component[]> },
): Promise<PlaceSearch> {
  const [areas, components] = await Promise.allSettled([
    search.areas(q),
    search.components ? search.components(q) : Promise.resolve([] as readonly Component[]),
  ])
  const failed: Partial<Record<PlaceSource, string>> = {}
  if (areas.status === 'rejected') failed.areas = messageOf(areas.reason)
  if (components.status === 'rejected') failed.components = messageOf(components.reason)
  return {
    options: placeOptions(areas.status === 'fulfilled' ? areas.value : [], components.status === 'fulfilled' ? components.value : []),
    failed,
  }
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e)) || String(e)

/** A component's point as the form writes it: its coordinates exactly, not rounded as a pick on the map is. */
export function componentPoint(c: Pick<Component, 'location'>): { lon: string; lat: string } {
  return { lon: String(c.location.lon), lat: String(c.location.lat) }
}

/** Whether the form's point is still the component's own (the link to it goes once the point is moved away). */
export function atComponent(form: Pick<IntakeForm, 'lon' | 'lat'>, c: Pick<Component, 'location'>): boolean {
  const p = pointOf(form)
  return !!p && Math.abs(p.lon - c.location.lon) < 1e-9 && Math.abs(p.lat - c.location.lat) < 1e-9
}

// ---- the idempotency key

/** A random UUID (v4): `crypto.randomUUID` where the page may use it, else from random bytes (a plain-HTTP page has no `randomUUID`). */
export function newIdempotencyKey(): string {
  const c = globalThis.crypto
  if (typeof c?.randomUUID === 'function') return c.randomUUID()
  return uuidOf(c.getRandomValues(new Uint8Array(16)))
}

/** A v4 UUID from 16 random bytes (the version and variant bits set). */
export function uuidOf(random: Uint8Array): string {
  const b = Uint8Array.from(random.subarray(0, 16))
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/**
 * One call's submissions (a case's `POST /cases`, an enquiry's `POST /enquiries`). The key is
 * made when the call starts and sent with every attempt, so a retry (after a lost answer, a
 * timeout, a second click) answers the case or enquiry the first attempt recorded instead of
 * recording another; a submission while one is on its way is that one. Only `restart` (the next
 * call, after a success or once the form is cleared) makes a new key.
 */
export interface IntakeSubmitter<T, B = IntakeBody> {
  readonly key: string
  submit: (body: B) => Promise<T>
  /** The next call: a new key. */
  restart: () => void
}

export function intakeSubmitter<T, B = IntakeBody>(
  post: (body: B, key: string) => Promise<T>,
  makeKey: () => string = () => newIdempotencyKey(),
): IntakeSubmitter<T, B> {
  let key = makeKey()
  let sending: Promise<T> | null = null
  return {
    get key() {
      return key
    },
    submit(body) {
      if (sending) return sending
      const attempt = post(body, key).finally(() => {
        if (sending === attempt) sending = null
      })
      sending = attempt
      return attempt
    },
    restart() {
      key = makeKey()
      sending = null
    },
  }
}
