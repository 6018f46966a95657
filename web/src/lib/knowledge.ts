/**
 * The hotline's knowledge base (知识库) and the enquiries (咨询) answered from it: who edits and who
 * answers, an article's form checked as the server checks it, keywords typed as tags, the snippet
 * of an article a search shows, the `POST /enquiries` body, and where a refusal is shown.
 */
import type { Article, ArticleBody, EnquiryBody, Role } from '../api/types'
import { isAreaCode } from './areaCode'
import { shanghaiDay } from './hotline'

/** Only admins write the knowledge base; every member of staff searches it. */
export function mayEditKnowledge(role: Role | null | undefined): boolean {
  return role === 'admin'
}

/** Those who answer enquiries on the call and record them: operators and shift leads. */
export function mayAnswerEnquiries(role: Role | null | undefined): boolean {
  return role === 'operator' || role === 'shift_lead'
}

/** Those who read the enquiries answered: operators, shift leads and admins. */
export function mayReadEnquiries(role: Role | null | undefined): boolean {
  return mayAnswerEnquiries(role) || role === 'admin'
}

export const MAX_TITLE = 100
export const MAX_BODY = 5000
export const MAX_KEYWORDS = 12
export const MAX_KEYWORD = 20
/** A search's text: 1 to 200 characters. */
export const MAX_QUERY = 200
/** At most this many articles a search shows (the server's bound). */
export const SEARCH_LIMIT = 50
export const MAX_QUESTION = 1000
export const MAX_ANSWER = 1000
/** At most this many articles an enquiry cites. */
export const MAX_CITED = 5

/** Lengths in characters, as the server counts them (not UTF-16 units). */
const chars = (s: string) => [...s].length
const clip = (s: string, n: number) => [...s].slice(0, n).join('')

// ---- articles

/** The article form as typed. */
export interface ArticleForm {
  title: string
  body: string
  keywords: string[]
}

export type ArticleField = 'title' | 'body' | 'keywords'
/** Why a field cannot be sent: empty or spaces only, too long, too many keywords, a keyword too long. */
export type ArticleProblem = 'required' | 'long' | 'many' | 'keyword'

export function emptyArticleForm(): ArticleForm {
  return { title: '', body: '', keywords: [] }
}

/** The edit form of an article. */
export function articleFormOf(a: Pick<Article, 'title' | 'body' | 'keywords'>): ArticleForm {
  return { title: a.title, body: a.body, keywords: [...a.keywords] }
}

/** The characters a list of typed keywords is split at: commas, 、, semicolons, new lines (not spaces: an English keyword may have them). */
const KEYWORD_SEPARATORS = /[,，、;；\n\r]+/

/** The keywords of a text typed into the keyword box: split, trimmed, blank ones dropped. */
export function splitKeywords(text: string): string[] {
  return text.split(KEYWORD_SEPARATORS).map((k) => k.trim()).filter(Boolean)
}

/**
 * The keywords after `typed` is added: each new one once (a keyword already there is not added
 * again), in the order typed. The bounds are `checkArticle`'s to say, so a long one is kept to be
 * shown as the problem; `added` is what was new.
 */
export function addKeywords(keywords: readonly string[], typed: string): { keywords: string[]; added: string[] } {
  const next = [...keywords]
  const added: string[] = []
  for (const k of splitKeywords(typed)) {
    if (next.includes(k)) continue
    next.push(k)
    added.push(k)
  }
  return { keywords: next, added }
}

/**
 * What is wrong with the form, by field, as the server would refuse it: a title of 1 to 100
 * characters and a body of 1 to 5000, neither spaces alone; at most 12 keywords, each 1 to 20.
 */
export function checkArticle(form: ArticleForm): Partial<Record<ArticleField, ArticleProblem>> {
  const problems: Partial<Record<ArticleField, ArticleProblem>> = {}
  const title = form.title.trim()
  if (!title) problems.title = 'required'
  else if (chars(title) > MAX_TITLE) problems.title = 'long'
  const body = form.body.trim()
  if (!body) problems.body = 'required'
  else if (chars(body) > MAX_BODY) problems.body = 'long'
  const keywords = form.keywords.map((k) => k.trim()).filter(Boolean)
  if (keywords.length > MAX_KEYWORDS) problems.keywords = 'many'
  else if (keywords.some((k) => chars(k) > MAX_KEYWORD)) problems.keywords = 'keyword'
  return problems
}

/** The keywords too long for the server, to be marked among the tags. */
export function longKeywords(keywords: readonly string[]): string[] {
  return keywords.filter((k) => chars(k.trim()) > MAX_KEYWORD)
}

/**
 * `POST /knowledge` (no `version`) or `PUT /knowledge/{id}` (the `version` the admin opened)
 * from a form `checkArticle` passed: texts trimmed, keywords trimmed and each once.
 */
export function articleBody(form: ArticleForm, version?: number): { body: ArticleBody | null; problems: Partial<Record<ArticleField, ArticleProblem>> } {
  const problems = checkArticle(form)
  if (Object.keys(problems).length) return { body: null, problems }
  const keywords = [...new Set(form.keywords.map((k) => k.trim()).filter(Boolean))]
  const body: ArticleBody = { title: form.title.trim(), body: form.body.trim(), keywords }
  if (version !== undefined) body.version = version
  return { body, problems }
}

/** Whether the form differs from the article it edits (nothing to send when it does not). */
export function articleChanged(form: ArticleForm, a: Pick<Article, 'title' | 'body' | 'keywords'>): boolean {
  const keywords = [...new Set(form.keywords.map((k) => k.trim()).filter(Boolean))]
  return form.title.trim() !== a.title || form.body.trim() !== a.body || keywords.join('\n') !== a.keywords.join('\n')
}

/** The form's field a refusal names (`keywords[3]` is the keywords), null for one shown at the top. */
export function articleFieldOf(field: string | null | undefined): ArticleField | null {
  const name = (field ?? '').replace(/\[\d+\]$/, '')
  return name === 'title' || name === 'body' || name === 'keywords' ? name : null
}

// ---- searching

/** The text a search sends for `text` (a question of up to 1000 characters: its first 200), null for none. */
export function searchQuery(text: string): string | null {
  const q = clip(text.trim(), MAX_QUERY).trim()
  return q || null
}

/** `GET /knowledge` parameters: the whole list by title without a text, else the best `SEARCH_LIMIT`. */
export function knowledgeQuery(text: string): { q?: string; limit?: number } {
  const q = searchQuery(text)
  return q ? { q, limit: SEARCH_LIMIT } : {}
}

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u

/**
 * The words of a search the UI looks for in an article's text: pairs of neighbouring CJK
 * characters (as the server indexes them) and Latin words or numbers of two characters or more,
 * lower-cased, each once.
 */
export function searchTerms(text: string): string[] {
  const terms = new Set<string>()
  const runs = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []
  for (const run of runs) {
    let latin = ''
    const cs = [...run]
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]
      if (CJK.test(c)) {
        if (latin.length >= 2) terms.add(latin)
        latin = ''
        if (i + 1 < cs.length && CJK.test(cs[i + 1])) terms.add(c + cs[i + 1])
      } else latin += c
    }
    if (latin.length >= 2) terms.add(latin)
  }
  return [...terms]
}

/**
 * A short piece of an article's body: its start, unless the first word of the search it holds
 * comes later than two thirds of the way in; then from a little before that word. `…` where it
 * is cut. At most `max` characters of the body.
 */
export function snippet(body: string, query = '', max = 80): string {
  const text = body.replace(/\s+/g, ' ').trim()
  const cs = [...text]
  if (cs.length <= max) return text
  const lower = text.toLowerCase()
  let at = -1
  for (const term of searchTerms(query)) {
    const i = lower.indexOf(term)
    if (i >= 0 && (at < 0 || i < at)) at = i
  }
  // from UTF-16 units to characters
  const found = at < 0 ? 0 : [...text.slice(0, at)].length
  const start = found < (max * 2) / 3 ? 0 : Math.max(0, Math.min(found - 12, cs.length - max))
  const end = start + max
  return `${start > 0 ? '…' : ''}${cs.slice(start, end).join('').trim()}${end < cs.length ? '…' : ''}`
}

// ---- enquiries

/** The enquiry form as typed: the caller's question, the answer given, the articles cited, the area (a code, or ''). */
export interface EnquiryForm {
  question: string
  answer: string
  articles: string[]
  area: string
}

export type EnquiryField = 'question' | 'answer' | 'articles' | 'area'
export type EnquiryProblem = 'required' | 'long' | 'many' | 'area'

export function emptyEnquiry(): EnquiryForm {
  return { question: '', answer: '', articles: [], area: '' }
}

/** The longest text of each field that has a bound. */
export const ENQUIRY_MAX: Partial<Record<EnquiryField, number>> = { question: MAX_QUESTION, answer: MAX_ANSWER, articles: MAX_CITED }

/** The question a case's description gives an enquiry: the description, to the question's length. */
export function questionFrom(description: string): string {
  return clip(description.trim(), MAX_QUESTION)
}

/** The articles cited after ticking (or, `on` false, unticking) one: each once, at most `MAX_CITED` (a sixth is not added). */
export function toggleCited<T extends { id: string }>(cited: readonly T[], article: T, on = !cited.some((c) => c.id === article.id)): T[] {
  if (!on) return cited.filter((c) => c.id !== article.id)
  if (cited.some((c) => c.id === article.id) || cited.length >= MAX_CITED) return [...cited]
  return [...cited, article]
}

/**
 * The answer after an article's text is used: the body when nothing is written yet, else added
 * after what is (unless it is there already); `clipped` when the answer's bound cut it.
 */
export function answerWith(answer: string, body: string): { answer: string; clipped: boolean } {
  const written = answer.trim()
  const text = body.trim()
  const joined = !written ? text : written.includes(text) ? answer : `${written}\n${text}`
  const clipped = chars(joined) > MAX_ANSWER
  return { answer: clipped ? clip(joined, MAX_ANSWER) : joined, clipped }
}

/** What is wrong with the enquiry, by the field the server would name. */
export function checkEnquiry(form: EnquiryForm): Partial<Record<EnquiryField, EnquiryProblem>> {
  const problems: Partial<Record<EnquiryField, EnquiryProblem>> = {}
  const question = form.question.trim()
  if (!question) problems.question = 'required'
  else if (chars(question) > MAX_QUESTION) problems.question = 'long'
  const answer = form.answer.trim()
  if (!answer) problems.answer = 'required'
  else if (chars(answer) > MAX_ANSWER) problems.answer = 'long'
  if (new Set(form.articles).size > MAX_CITED) problems.articles = 'many'
  const area = form.area.trim()
  if (area && !isAreaCode(area)) problems.area = 'area'
  return problems
}

/** `POST /enquiries` from a form `checkEnquiry` passed: texts trimmed, each article once, no `articles` or `area` when none. */
export function enquiryBody(form: EnquiryForm): EnquiryBody {
  const body: EnquiryBody = { question: form.question.trim(), answer: form.answer.trim() }
  const articles = [...new Set(form.articles)]
  if (articles.length) body.articles = articles
  const area = form.area.trim()
  if (area) body.area = area
  return body
}

/** The form's field a refusal names (`articles[0]` is the articles cited), null for one shown at the top. */
export function enquiryFieldOf(field: string | null | undefined): EnquiryField | null {
  const name = (field ?? '').replace(/\[\d+\]$/, '')
  return name === 'question' || name === 'answer' || name === 'articles' || name === 'area' ? name : null
}

/** The enquiries list's default period: the last seven days to today, Beijing days (the server's default). */
export function enquiryPeriod(now: Date): [string, string] {
  const today = shanghaiDay(now)
  const from = new Date(Date.parse(`${today}T00:00:00Z`) - 7 * 86_400_000).toISOString().slice(0, 10)
  return [from, today]
}

/** The titles of the articles an enquiry cites, by id; null for one no longer in the knowledge base. */
export function citedTitles(ids: readonly string[], articles: ReadonlyMap<string, Pick<Article, 'title'>>): { id: string; title: string | null }[] {
  return ids.map((id) => ({ id, title: articles.get(id)?.title ?? null }))
}
