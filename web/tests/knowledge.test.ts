import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  addKeywords, answerWith, articleBody, articleChanged, articleFieldOf, articleFormOf, checkArticle, checkEnquiry, citedTitles, emptyArticleForm,
  emptyEnquiry, enquiryBody, enquiryFieldOf, enquiryPeriod, knowledgeQuery, longKeywords, mayAnswerEnquiries, mayEditKnowledge, mayReadEnquiries,
  questionFrom, searchQuery, searchTerms, snippet, splitKeywords, toggleCited, type ArticleForm, type EnquiryForm,
} from '../src/lib/knowledge'
import { ADMIN_SECTIONS, sectionOf } from '../src/lib/admin'
import { api } from '../src/api'
import type { Article } from '../src/api/types'
import { jsonResponse, mockFetch } from './helpers'

afterEach(() => {
  vi.unstubAllGlobals()
})

const article = (over: Partial<Article> = {}): Article => ({
  id: 'a1', title: '生活垃圾分类投放时间', body: '居民区生活垃圾实行定时定点投放。', keywords: ['湿垃圾', '定时定点'],
  version: 3, updated_by: 'admin', updated_at: '2026-12-01T00:00:00Z', score: null, ...over,
})
const draft = (over: Partial<ArticleForm> = {}): ArticleForm => ({ title: ' 垃圾投放 ', body: ' 早7点到9点 ', keywords: [' 湿垃圾 ', '干垃圾'], ...over })

describe('who uses the knowledge base', () => {
  it('is written by admins, answered from by operators and shift leads, read back by them and admins', () => {
    expect(mayEditKnowledge('admin')).toBe(true)
    for (const role of ['operator', 'shift_lead', 'dispatcher', null, undefined] as const) expect(mayEditKnowledge(role)).toBe(false)
    expect(mayAnswerEnquiries('operator')).toBe(true)
    expect(mayAnswerEnquiries('shift_lead')).toBe(true)
    for (const role of ['admin', 'dispatcher', 'inspector', null] as const) expect(mayAnswerEnquiries(role)).toBe(false)
    for (const role of ['operator', 'shift_lead', 'admin'] as const) expect(mayReadEnquiries(role)).toBe(true)
    for (const role of ['dispatcher', 'auditor', 'center_leader', null] as const) expect(mayReadEnquiries(role)).toBe(false)
  })

  it('is a section of the administration page', () => {
    expect(ADMIN_SECTIONS).toContain('knowledge')
    expect(sectionOf('knowledge')).toBe('knowledge')
  })
})

describe('an article checked as the server checks it', () => {
  it('takes a title, a text and keywords, trimmed', () => {
    expect(checkArticle(draft())).toEqual({})
    expect(articleBody(draft()).body).toEqual({ title: '垃圾投放', body: '早7点到9点', keywords: ['湿垃圾', '干垃圾'] })
  })

  it('names the version an edit changes, and none for a new article', () => {
    expect(articleBody(draft(), 3).body?.version).toBe(3)
    expect('version' in articleBody(draft()).body!).toBe(false)
  })

  it('refuses blank texts, long ones, too many keywords and a long keyword', () => {
    expect(checkArticle(draft({ title: '   ', body: '\n ' }))).toEqual({ title: 'required', body: 'required' })
    expect(checkArticle(draft({ title: '题'.repeat(101), body: '文'.repeat(5001) }))).toEqual({ title: 'long', body: 'long' })
    // characters, not UTF-16 units
    expect(checkArticle(draft({ title: '𠀀'.repeat(100), body: '𠀀'.repeat(5000) }))).toEqual({})
    expect(checkArticle(draft({ keywords: Array.from({ length: 13 }, (_, i) => `词${i}`) }))).toEqual({ keywords: 'many' })
    expect(checkArticle(draft({ keywords: Array.from({ length: 12 }, (_, i) => `词${i}`) }))).toEqual({})
    expect(checkArticle(draft({ keywords: ['好', '长'.repeat(21)] }))).toEqual({ keywords: 'keyword' })
    expect(longKeywords(['好', '长'.repeat(21), ` ${'二'.repeat(20)} `])).toEqual(['长'.repeat(21)])
    expect(articleBody(draft({ title: '' })).body).toBeNull()
  })

  it('sends each keyword once, blank ones left out', () => {
    expect(articleBody(draft({ keywords: ['湿垃圾', ' 湿垃圾', '', '  ', 'Ab', 'ab'] })).body?.keywords).toEqual(['湿垃圾', 'Ab', 'ab'])
  })

  it('tells an edit that changes nothing', () => {
    const a = article()
    expect(articleChanged(articleFormOf(a), a)).toBe(false)
    expect(articleChanged({ ...articleFormOf(a), title: ` ${a.title} ` }, a)).toBe(false)
    expect(articleChanged({ ...articleFormOf(a), keywords: ['湿垃圾'] }, a)).toBe(true)
    expect(articleChanged({ ...articleFormOf(a), keywords: ['定时定点', '湿垃圾'] }, a)).toBe(true)
    expect(articleFormOf(a).keywords).not.toBe(a.keywords)
    expect(emptyArticleForm()).toEqual({ title: '', body: '', keywords: [] })
  })

  it('places a refusal beside the field it names', () => {
    expect(articleFieldOf('title')).toBe('title')
    expect(articleFieldOf('keywords[3]')).toBe('keywords')
    expect(articleFieldOf('version')).toBeNull()
    expect(articleFieldOf(undefined)).toBeNull()
  })
})

describe('keywords typed as tags', () => {
  it('splits at commas, 、 and semicolons, not at spaces', () => {
    expect(splitKeywords('湿垃圾，干垃圾、厨余垃圾;  ;night noise')).toEqual(['湿垃圾', '干垃圾', '厨余垃圾', 'night noise'])
    expect(splitKeywords(' , ')).toEqual([])
  })

  it('adds each new one once, in the order typed', () => {
    expect(addKeywords(['湿垃圾'], '干垃圾,湿垃圾,干垃圾')).toEqual({ keywords: ['湿垃圾', '干垃圾'], added: ['干垃圾'] })
    expect(addKeywords([], '  ')).toEqual({ keywords: [], added: [] })
  })
})

describe('searching', () => {
  it('sends at most 200 characters, none for a blank text', () => {
    expect(searchQuery('  湿垃圾几点投放 ')).toBe('湿垃圾几点投放')
    expect(searchQuery('   ')).toBeNull()
    expect([...searchQuery('问'.repeat(300))!].length).toBe(200)
    expect(knowledgeQuery('')).toEqual({})
    expect(knowledgeQuery(' 垃圾 ')).toEqual({ q: '垃圾', limit: 50 })
  })

  it('looks for CJK character pairs and Latin words', () => {
    expect(searchTerms('湿垃圾 at 7, Night noise!')).toEqual(['湿垃', '垃圾', 'at', 'night', 'noise'])
    expect(searchTerms('12345热线')).toEqual(['12345', '热线'])
    expect(searchTerms('垃')).toEqual([])
  })

  it('shows the piece of an article around the words searched', () => {
    const body = `${'前'.repeat(100)}湿垃圾须去除包装后投放${'后'.repeat(100)}`
    const s = snippet(body, '湿垃圾几点投放', 40)
    expect(s.startsWith('…') && s.endsWith('…')).toBe(true)
    expect(s).toContain('湿垃圾须去除包装')
    expect([...s.replace(/…/g, '')].length).toBe(40)
    // nothing found: the start
    expect(snippet(body, 'zzz', 10)).toBe(`${'前'.repeat(10)}…`)
    expect(snippet(body, '', 10)).toBe(`${'前'.repeat(10)}…`)
    // a short text whole, spaces folded
    expect(snippet(' 早7点\n\n到9点 ', '垃圾', 80)).toBe('早7点 到9点')
    // a word early enough is shown from the start
    expect(snippet(`居民区生活垃圾${'文'.repeat(100)}`, '垃圾', 20)).toBe(`居民区生活垃圾${'文'.repeat(13)}…`)
    // a match near the end still fills the snippet
    const end = snippet(`${'前'.repeat(100)}投放`, '投放', 20)
    expect(end).toBe(`…${'前'.repeat(18)}投放`)
  })
})

describe('an enquiry', () => {
  const form = (over: Partial<EnquiryForm> = {}): EnquiryForm => ({ ...emptyEnquiry(), question: ' 湿垃圾几点投放？ ', answer: ' 早7点到9点 ', ...over })

  it('takes its question from the description typed', () => {
    expect(questionFrom('  湿垃圾几点投放 ')).toBe('湿垃圾几点投放')
    expect([...questionFrom('问'.repeat(1500))].length).toBe(1000)
  })

  it('needs a question and an answer of at most 1000 characters, at most 5 articles, an area code', () => {
    expect(checkEnquiry(form())).toEqual({})
    expect(checkEnquiry(form({ question: ' ', answer: '' }))).toEqual({ question: 'required', answer: 'required' })
    expect(checkEnquiry(form({ question: '问'.repeat(1001), answer: '答'.repeat(1001) }))).toEqual({ question: 'long', answer: 'long' })
    expect(checkEnquiry(form({ articles: ['1', '2', '3', '4', '5', '6'] }))).toEqual({ articles: 'many' })
    expect(checkEnquiry(form({ articles: ['1', '1', '2', '3', '4', '5'] }))).toEqual({})
    expect(checkEnquiry(form({ area: '3101' }))).toEqual({ area: 'area' })
    expect(checkEnquiry(form({ area: '310101002' }))).toEqual({})
  })

  it('is sent trimmed, each article once, without articles or area when none', () => {
    expect(enquiryBody(form())).toEqual({ question: '湿垃圾几点投放？', answer: '早7点到9点' })
    expect(enquiryBody(form({ articles: ['a1', 'a2', 'a1'], area: ' 310101 ' }))).toEqual({
      question: '湿垃圾几点投放？', answer: '早7点到9点', articles: ['a1', 'a2'], area: '310101',
    })
  })

  it('cites at most five articles, each once', () => {
    const a = (id: string) => article({ id })
    let cited = toggleCited([], a('1'))
    expect(cited.map((x) => x.id)).toEqual(['1'])
    cited = toggleCited(cited, a('1'), true)
    expect(cited.map((x) => x.id)).toEqual(['1'])
    cited = toggleCited(cited, a('1'))
    expect(cited).toEqual([])
    for (const id of ['1', '2', '3', '4', '5', '6']) cited = toggleCited(cited, a(id), true)
    expect(cited.map((x) => x.id)).toEqual(['1', '2', '3', '4', '5'])
    expect(toggleCited(cited, a('3'), false).map((x) => x.id)).toEqual(['1', '2', '4', '5'])
  })

  it('answers with an article\'s text: after what is written, once, within the bound', () => {
    expect(answerWith('', ' 早7点 ')).toEqual({ answer: '早7点', clipped: false })
    expect(answerWith('您好。', '早7点')).toEqual({ answer: '您好。\n早7点', clipped: false })
    expect(answerWith('您好。\n早7点', '早7点')).toEqual({ answer: '您好。\n早7点', clipped: false })
    const long = answerWith('', '文'.repeat(1200))
    expect(long.clipped).toBe(true)
    expect([...long.answer].length).toBe(1000)
  })

  it('places a refusal beside the field it names', () => {
    expect(enquiryFieldOf('articles[0]')).toBe('articles')
    expect(enquiryFieldOf('question')).toBe('question')
    expect(enquiryFieldOf('area')).toBe('area')
    expect(enquiryFieldOf('from')).toBeNull()
  })

  it('lists the last seven Beijing days by default', () => {
    // 23:30 UTC on 31 May is already 1 June in Shanghai
    expect(enquiryPeriod(new Date('2026-05-31T23:30:00Z'))).toEqual(['2026-05-25', '2026-06-01'])
    expect(enquiryPeriod(new Date('2026-03-03T04:00:00Z'))).toEqual(['2026-02-24', '2026-03-03'])
  })

  it('names the articles cited, a deleted one as none', () => {
    const known = new Map([['a1', article()]])
    expect(citedTitles(['a1', 'gone'], known)).toEqual([{ id: 'a1', title: '生活垃圾分类投放时间' }, { id: 'gone', title: null }])
  })
})

describe('the API calls', () => {
  it('searches with q and limit, lists without', async () => {
    const fetch = mockFetch(jsonResponse(200, [article({ score: 2.5 })]), jsonResponse(200, []))
    expect((await api.articles({ q: '湿垃圾', limit: 10 }))[0].score).toBe(2.5)
    await api.articles()
    const urls = fetch.mock.calls.map((c) => String((c as unknown[])[0]))
    expect(urls[0]).toBe(`/api/v1/knowledge?q=${encodeURIComponent('湿垃圾')}&limit=10`)
    expect(urls[1]).toBe('/api/v1/knowledge')
  })

  it('edits with PUT and the version, deletes, records and lists enquiries', async () => {
    const fetch = mockFetch(
      jsonResponse(200, article({ version: 4 })), new Response(null, { status: 204 }),
      jsonResponse(201, { id: 'e1', question: 'q', answer: 'a', articles: [], area: null, taken_by: 'operator', at: '2026-12-01T00:00:00Z' }),
      jsonResponse(200, []),
    )
    expect((await api.updateArticle('a 1', { title: 't', body: 'b', keywords: [], version: 3 })).version).toBe(4)
    await api.deleteArticle('a1')
    expect((await api.recordEnquiry({ question: 'q', answer: 'a' })).id).toBe('e1')
    await api.enquiries({ from: '2026-12-01', to: '2026-12-07', limit: 500 })
    const calls = fetch.mock.calls.map((c) => c as unknown as [string, RequestInit])
    expect(calls[0][0]).toBe('/api/v1/knowledge/a%201')
    expect(calls[0][1].method).toBe('PUT')
    expect(JSON.parse(String(calls[0][1].body)).version).toBe(3)
    expect(calls[1][1].method).toBe('DELETE')
    expect(calls[2][0]).toBe('/api/v1/enquiries')
    expect(calls[2][1].method).toBe('POST')
    expect(calls[3][0]).toBe('/api/v1/enquiries?from=2026-12-01&to=2026-12-07&limit=500')
  })

  it('reads a stale version as a conflict naming the version', async () => {
    mockFetch(jsonResponse(409, { error: { code: 'version_conflict', field: 'version', message: 'the article is at version 4, not 3' } }))
    await expect(api.updateArticle('a1', { title: 't', body: 'b', version: 3 })).rejects.toMatchObject({ status: 409, code: 'version_conflict', field: 'version' })
  })
})
