// The hotline's knowledge base (知识库) and enquiries (咨询). An admin writes an article with
// keywords, edits it, meets a second admin's save of the same version (refused, reloaded, saved
// again) and deletes another. An operator answers an enquiry at /intake: 咨询 turns the console
// into an enquiry, the question found in the knowledge base, an article's text used as the
// answer, the enquiry recorded with the phone masked and no case opened; it is listed on
// /hotline. The shift lead records one too; a dispatcher is offered neither the knowledge base's
// editor nor the console. The operator's enquiry once more in English.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  ARTIFACTS, apiClient, launchBrowser, newPage as openPage, sessionsOf, setLanguage, signIn as signInAt, startCityops, startUi,
} from './harness.mjs'

const TAG = `KB${Date.now().toString(36)}`
const NANJING_EAST = '310101002'
const WET_WASTE_BODY = '湿垃圾每天早7:00-9:00、晚18:00-20:00在小区定时定点投放点投放，须破袋后倒入湿垃圾桶，包装袋投入干垃圾桶。错过投放时间的，可投放到小区设置的误时投放点。大件垃圾和装修垃圾须另行预约清运。具体时间以居委会公示为准。'

let server, ui, chrome, api
const errors = []
const tokenOf = sessionsOf(() => api)
const newPage = (who, opts = {}) => openPage(chrome, who, errors, { timeout: 30_000, ...opts })
const signIn = (page, username) => signInAt(page, ui, username)
/** The article the operators' enquiries find, written through the API before the tests. */
let wetWaste

before(async () => {
  server = await startCityops()
  ui = await startUi(server.url)
  chrome = await launchBrowser()
  api = apiClient(server.url)
  const made = await call('admin', 'POST', '/knowledge', {
    title: `湿垃圾投放时间和破袋要求 ${TAG}`, body: WET_WASTE_BODY, keywords: ['湿垃圾', '投放时间', '破袋'],
  })
  assert.equal(made.status, 201, JSON.stringify(made.json))
  wetWaste = made.json
})

after(async () => {
  await chrome?.close()
  await ui?.stop()
  await server?.stop()
})

const text = async (locator) => (await locator.textContent()).replace(/\s+/g, ' ').trim()
const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `knowledge-${name}.png`), fullPage: true })

async function call(who, method, path, body) {
  return api.call(method, path, await tokenOf(who), body)
}
async function articles(q) {
  const r = await call('admin', 'GET', q ? `/knowledge?q=${encodeURIComponent(q)}&limit=50` : '/knowledge')
  assert.equal(r.status, 200, JSON.stringify(r.json))
  return r.json
}
/** Every case a person opened that the operator sees (the whole city), counted page by page:
 * the demo's sensors may raise an alarm, and open its case, at any moment. */
async function caseCount() {
  let n = 0
  let cursor = null
  do {
    const r = await call('operator', 'GET', `/cases?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    assert.equal(r.status, 200, JSON.stringify(r.json))
    n += r.json.items.filter((c) => c.source !== 'iot').length
    cursor = r.json.next_cursor ?? null
  } while (cursor)
  return n
}
async function enquiriesWith(fragment) {
  const r = await call('operator', 'GET', '/enquiries?limit=500')
  assert.equal(r.status, 200, JSON.stringify(r.json))
  return r.json.filter((e) => e.question.includes(fragment))
}

// ---- the admin's editor

async function openKnowledge(page) {
  await page.getByTestId('nav-admin').click()
  await page.waitForURL(/\/admin/)
  await page.getByTestId('admin-tab-knowledge').click()
  await page.waitForURL(/\/admin\/knowledge/)
  await page.getByTestId('kb-count').waitFor()
}
const row = (page, id) => page.locator(`[data-testid="kb-row"][data-id="${id}"]`)
const dialog = (page) => page.getByTestId('kb-form')
async function addKeyword(page, word) {
  await page.getByTestId('kb-keywords').fill(word)
  await page.getByTestId('kb-keywords').press('Enter')
  await page.waitForFunction(() => document.querySelector('[data-testid="kb-keywords"]')?.value === '')
}
async function saved(page) {
  await page.getByTestId('kb-save').click()
  await dialog(page).waitFor({ state: 'detached' })
  return text(page.getByTestId('kb-notice'))
}

// ---- the console

async function openConsole(page) {
  await page.getByTestId('nav-intake').click()
  await page.waitForURL(/\/intake$/)
  await page.getByTestId('intake-form').waitFor()
}
async function chooseKind(page, kind) {
  await page.getByTestId('intake-kind').click()
  await page.locator(`.intake-kind-popper .el-select-dropdown__item[data-kind="${kind}"]`).click()
}
const kbArticle = (page, id) => page.locator(`[data-testid="intake-kb-article"][data-id="${id}"]`)

describe('the knowledge base and enquiries', () => {
  it('an admin writes an article with keywords, edits it, meets a second admin\'s save, and deletes another', async () => {
    const page = await newPage('admin')
    await signIn(page, 'admin')
    await openKnowledge(page)
    assert.equal(await text(page.getByTestId('admin-section-title')), '知识库')
    // every article by title: the demo's among them
    assert.ok(Number(await page.getByTestId('kb-count').getAttribute('data-count')) >= 9)
    assert.equal(await page.locator('[data-testid="kb-row"][data-title="窨井盖缺失或破损"]').count(), 1)

    // a new article: nothing sent until the title and text are there, a keyword too long refused
    const posts = []
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/knowledge') posts.push(r.url())
    })
    await page.getByTestId('kb-new').click()
    await dialog(page).waitFor()
    await page.getByTestId('kb-save').click()
    assert.match(await text(page.getByTestId('kb-error-title')), /必填/)
    assert.match(await text(page.getByTestId('kb-error-body')), /必填/)
    assert.deepEqual(posts, [])
    const title = `大件垃圾预约清运 ${TAG}`
    await page.getByTestId('kb-title').fill(`  ${title} `)
    await page.getByTestId('kb-body').fill('大件垃圾和装修垃圾须提前向居委会或物业预约清运，不得随意堆放在楼道和垃圾箱房。')
    await addKeyword(page, '大件垃圾，装修垃圾')
    await addKeyword(page, '预约清运')
    await addKeyword(page, '大件垃圾')
    await addKeyword(page, '旧家具旧家电沙发床垫衣柜书桌等大件物品上门清运')
    assert.deepEqual(await page.getByTestId('kb-keyword').evaluateAll((els) => els.map((e) => e.dataset.keyword)), [
      '大件垃圾', '装修垃圾', '预约清运', '旧家具旧家电沙发床垫衣柜书桌等大件物品上门清运',
    ])
    await page.getByTestId('kb-save').click()
    assert.match(await text(page.getByTestId('kb-error-keywords')), /每个关键词最多 20 个字/)
    assert.deepEqual(posts, [])
    await page.locator('[data-testid="kb-keyword"][data-keyword="旧家具旧家电沙发床垫衣柜书桌等大件物品上门清运"] .el-tag__close').click()
    assert.equal(await page.getByTestId('kb-keyword-count').textContent().then((s) => s.trim()), '3/12')
    await shot(page, 'new')
    assert.match(await saved(page), new RegExp(`已新增“${title}”`))
    const [made] = (await articles()).filter((a) => a.title === title)
    assert.ok(made, 'the article is in the knowledge base')
    assert.deepEqual(made.keywords, ['大件垃圾', '装修垃圾', '预约清运'])
    assert.equal(made.version, 1)
    assert.equal(made.updated_by, 'admin')
    await row(page, made.id).waitFor()
    assert.deepEqual(await row(page, made.id).getByTestId('kb-row-keywords').getAttribute('data-keywords'), '大件垃圾,装修垃圾,预约清运')

    // the search box asks the server, the text kept in the address
    await page.getByTestId('kb-q').fill('沙发怎么预约清运')
    await page.waitForURL(/q=/)
    await page.waitForFunction((id) => {
      const rows = [...document.querySelectorAll('[data-testid="kb-row"]')]
      return rows.length > 0 && rows[0].dataset.id === id
    }, made.id)
    assert.match(await text(page.getByTestId('kb-count')), /找到 \d+ 篇相关文章/)
    await shot(page, 'search')

    // an edit: version 2
    await row(page, made.id).getByTestId('kb-edit').click()
    await dialog(page).waitFor()
    assert.equal(await page.getByTestId('kb-title').inputValue(), title)
    await page.getByTestId('kb-body').fill('大件垃圾和装修垃圾须提前向居委会或物业预约清运，费用按区标准收取，不得随意堆放。')
    await addKeyword(page, '床垫')
    await page.locator('[data-testid="kb-keyword"][data-keyword="床垫"]').waitFor()
    assert.match(await saved(page), /第 2 版/)
    await page.locator(`[data-testid="kb-row"][data-id="${made.id}"][data-version="2"]`).waitFor()
    assert.deepEqual((await articles()).find((a) => a.id === made.id).keywords, ['大件垃圾', '装修垃圾', '预约清运', '床垫'])

    // a second admin opens and saves version 2 while the first has it open: the first save is refused
    await row(page, made.id).getByTestId('kb-edit').click()
    await dialog(page).waitFor()
    assert.equal(await dialog(page).getAttribute('data-version'), '2')
    const other = await newPage('admin-2')
    await signIn(other, 'admin')
    await other.goto(`${ui.url}/admin/knowledge?q=${encodeURIComponent(TAG)}`)
    await other.locator(`[data-testid="kb-row"][data-id="${made.id}"]`).getByTestId('kb-edit').click()
    await other.getByTestId('kb-form').waitFor()
    await other.getByTestId('kb-title').fill(`大件垃圾和装修垃圾预约清运 ${TAG}`)
    await other.getByTestId('kb-save').click()
    await other.getByTestId('kb-notice').waitFor()
    assert.match(await text(other.getByTestId('kb-notice')), /第 3 版/)
    await other.context().close()

    await page.getByTestId('kb-body').fill('我的修改')
    await page.getByTestId('kb-save').click()
    const conflict = page.getByTestId('kb-error')
    await conflict.waitFor()
    assert.equal(await conflict.getAttribute('data-conflict'), 'true')
    assert.match(await text(conflict), /在您打开后已被他人修改/)
    assert.equal(await page.getByTestId('kb-save').isDisabled(), true)
    await shot(page, 'conflict')
    // the refused save is a failed request in the console
    assert.deepEqual(errors.filter((e) => !e.includes('409')), [])
    errors.length = 0
    await page.getByTestId('kb-reload').click()
    await page.getByTestId('kb-reloaded').waitFor()
    assert.match(await text(page.getByTestId('kb-reloaded')), /第 3 版/)
    assert.equal(await dialog(page).getAttribute('data-version'), '3')
    assert.equal(await page.getByTestId('kb-title').inputValue(), `大件垃圾和装修垃圾预约清运 ${TAG}`)
    assert.equal(await page.getByTestId('kb-error').count(), 0)
    await page.getByTestId('kb-body').fill('大件垃圾和装修垃圾须提前预约清运，可拨打居委会电话或在物业登记。')
    assert.match(await saved(page), /第 4 版/)
    const now = (await articles()).find((a) => a.id === made.id)
    assert.equal(now.version, 4)
    assert.equal(now.title, `大件垃圾和装修垃圾预约清运 ${TAG}`)
    assert.deepEqual(now.keywords, ['大件垃圾', '装修垃圾', '预约清运', '床垫'])

    // another deleted after a confirmation, the focus starting on 取消
    const spare = await call('admin', 'POST', '/knowledge', { title: `待删除的旧口径 ${TAG}`, body: '已过时的答复口径。' })
    assert.equal(spare.status, 201, JSON.stringify(spare.json))
    await page.getByTestId('kb-q').fill(`旧口径 ${TAG}`)
    await row(page, spare.json.id).waitFor()
    await row(page, spare.json.id).getByTestId('kb-delete').click()
    const confirm = page.getByTestId('kb-delete-dialog')
    await confirm.waitFor()
    assert.match(await page.locator('.el-dialog', { has: confirm }).textContent(), new RegExp(`删除文章“待删除的旧口径 ${TAG}”`))
    await page.getByTestId('kb-delete-dialog-confirm').click()
    await row(page, spare.json.id).waitFor({ state: 'detached' })
    assert.match(await text(page.getByTestId('kb-notice')), /已删除/)
    assert.equal((await articles()).some((a) => a.id === spare.json.id), false)
    assert.equal((await articles()).some((a) => a.id === made.id), true, 'the other stays')
    assert.deepEqual(errors, [])
  })

  it('an operator answers an enquiry from the knowledge base: recorded, masked, no case opened', async () => {
    const before = await caseCount()
    const page = await newPage('operator')
    await signIn(page, 'operator')
    await openConsole(page)
    const casePosts = []
    const enquiryPosts = []
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname
      if (r.method() === 'POST' && path === '/api/v1/cases') casePosts.push(r.url())
      if (r.method() === 'POST' && path === '/api/v1/enquiries') enquiryPosts.push(r.postDataJSON())
    })
    await page.getByTestId('intake-name').fill('陈先生')

    // taking a case down, the knowledge base suggests articles for the description typed
    const question = `请问湿垃圾每天几点可以投放？需要破袋吗？我的电话13812345678 ${TAG}-op`
    await page.getByTestId('intake-description').fill(question)
    const panel = page.getByTestId('intake-kb-panel')
    assert.equal(await panel.getAttribute('data-mode'), 'suggest')
    await kbArticle(page, wetWaste.id).waitFor()
    assert.equal(await kbArticle(page, wetWaste.id).getByTestId('intake-kb-use').count(), 0, 'suggestions are only to read')
    assert.equal(await kbArticle(page, wetWaste.id).getByTestId('intake-kb-cite').count(), 0)
    await shot(page, 'suggest')

    // 咨询 can be chosen and turns the console into an enquiry: the description is the question
    await page.getByTestId('intake-kind').click()
    const option = page.locator('.intake-kind-popper .el-select-dropdown__item[data-kind="enquiry"]')
    assert.doesNotMatch(await option.getAttribute('class'), /is-disabled/)
    assert.match(await text(option), /咨询\s*直接答复，不立案/)
    await option.click()
    await page.locator('[data-testid="intake-form"][data-mode="enquiry"]').waitFor()
    assert.equal(await page.getByTestId('intake-enquiry-question').inputValue(), question)
    for (const gone of ['intake-place', 'intake-name', 'intake-phone', 'intake-reply', 'intake-category', 'intake-description', 'intake-submit']) {
      assert.equal(await page.getByTestId(gone).count(), 0, gone)
    }
    assert.match(await text(page.getByTestId('intake-enquiry-hint')), /不立案/)
    assert.equal(await panel.getAttribute('data-mode'), 'cite')

    // the article found, its text unfolded
    const found = kbArticle(page, wetWaste.id)
    await found.waitFor()
    assert.equal(await text(found.getByTestId('intake-kb-title')), wetWaste.title)
    assert.match(await text(found), /湿垃圾\s*投放时间\s*破袋/)
    const body = found.getByTestId('intake-kb-body')
    await found.getByTestId('intake-kb-expand').click()
    assert.equal(await body.getAttribute('data-expanded'), 'true')
    assert.equal(await text(body), WET_WASTE_BODY)

    // no answer yet: said beside it, nothing sent
    await page.getByTestId('intake-enquiry-submit').click()
    assert.match(await text(page.getByTestId('intake-error-answer')), /必填/)
    assert.deepEqual(enquiryPosts, [])

    // the article's text as the answer, the article cited; the demo's article on sorting cited too
    await found.getByTestId('intake-kb-use').click()
    assert.equal(await page.getByTestId('intake-enquiry-answer').inputValue(), WET_WASTE_BODY)
    assert.equal(await page.getByTestId('intake-error-answer').count(), 0)
    assert.equal(await found.getAttribute('data-cited'), 'true')
    const sorting = (await articles()).find((a) => a.title === '生活垃圾分类投放时间')
    await kbArticle(page, sorting.id).waitFor()
    await kbArticle(page, sorting.id).getByTestId('intake-kb-cite').click()
    await page.locator(`[data-testid="intake-enquiry-cited"][data-ids="${wetWaste.id},${sorting.id}"]`).waitFor()
    assert.equal(await panel.getAttribute('data-cited'), '2')

    // the area asked about, found by name
    await page.getByTestId('intake-enquiry-area').fill('南京东路')
    await page.locator(`[data-testid="intake-enquiry-area-option"][data-code="${NANJING_EAST}"]`).click()
    await page.locator(`[data-testid="intake-enquiry-area-chosen"][data-code="${NANJING_EAST}"]`).waitFor()
    await shot(page, 'enquiry')

    await page.getByTestId('intake-enquiry-submit').click()
    const done = page.getByTestId('intake-enquiry-done')
    await done.waitFor()
    assert.match(await text(done.locator('h2')), /已登记咨询，未立案/)
    const shownQuestion = await text(page.getByTestId('intake-enquiry-done-question'))
    assert.ok(shownQuestion.includes('138****5678') && !shownQuestion.includes('13812345678'), shownQuestion)
    assert.equal(await text(page.getByTestId('intake-enquiry-done-answer')), WET_WASTE_BODY)
    assert.match(await text(page.getByTestId('intake-enquiry-done-articles')), new RegExp(`${wetWaste.title}.*生活垃圾分类投放时间`))
    assert.equal(await page.getByTestId('intake-enquiry-done-area').getAttribute('data-code'), NANJING_EAST)
    await shot(page, 'enquiry-done')

    // what was sent and what the server holds: no contact, the phone masked, the articles cited; no case
    assert.equal(enquiryPosts.length, 1)
    assert.deepEqual(Object.keys(enquiryPosts[0]).sort(), ['answer', 'area', 'articles', 'question'])
    assert.deepEqual(casePosts, [])
    const [held] = await enquiriesWith(`${TAG}-op`)
    assert.ok(held, 'GET /enquiries lists it')
    assert.equal(held.id, await done.getAttribute('data-id'))
    assert.deepEqual(held.articles, [wetWaste.id, sorting.id])
    assert.ok(held.question.includes('138****5678') && !held.question.includes('13812345678'), held.question)
    assert.equal(held.answer, WET_WASTE_BODY)
    assert.equal(held.area, NANJING_EAST)
    assert.equal(held.taken_by, 'operator')
    assert.equal(await caseCount(), before, 'no case was opened')

    // the next call starts empty, as a case
    await page.getByTestId('intake-next').click()
    await page.locator('[data-testid="intake-form"][data-mode="case"]').waitFor()
    assert.equal(await page.getByTestId('intake-name').inputValue(), '')
    assert.equal(await page.getByTestId('intake-description').inputValue(), '')

    // the enquiries of the last seven days on the 12345 page, with the articles by title
    await page.getByTestId('nav-hotline').click()
    await page.waitForURL(/\/hotline/)
    const listed = page.locator(`[data-testid="enquiry-row"][data-id="${held.id}"]`)
    await listed.waitFor()
    assert.equal(await listed.getAttribute('data-articles'), `${wetWaste.id},${sorting.id}`)
    assert.match(await text(listed.getByTestId('enquiry-row-question')), /138\*\*\*\*5678/)
    assert.match(await text(listed.getByTestId('enquiry-row-articles')), new RegExp(wetWaste.title))
    assert.equal(await text(listed.getByTestId('enquiry-row-by')), 'operator')
    await listed.scrollIntoViewIfNeeded()
    await shot(page, 'enquiries')
    assert.deepEqual(errors, [])
  })

  it('the shift lead records an enquiry, ticking the article the answer comes from', async () => {
    const before = await caseCount()
    const page = await newPage('shiftlead')
    await signIn(page, 'shiftlead')
    await openConsole(page)
    await chooseKind(page, 'enquiry')
    await page.locator('[data-testid="intake-form"][data-mode="enquiry"]').waitFor()
    assert.equal(await page.getByTestId('intake-enquiry-question').inputValue(), '')
    await page.getByTestId('intake-enquiry-question').fill(`湿垃圾要破袋吗 ${TAG}-lead`)
    await kbArticle(page, wetWaste.id).waitFor()
    await kbArticle(page, wetWaste.id).getByTestId('intake-kb-cite').click()
    await page.getByTestId('intake-enquiry-answer').fill('需要破袋，湿垃圾倒入湿垃圾桶，包装袋投入干垃圾桶。')
    await page.getByTestId('intake-enquiry-submit').click()
    await page.getByTestId('intake-enquiry-done').waitFor()
    const [held] = await enquiriesWith(`${TAG}-lead`)
    assert.ok(held)
    assert.equal(held.taken_by, 'shiftlead')
    assert.deepEqual(held.articles, [wetWaste.id])
    assert.equal(held.area ?? null, null)
    assert.equal(await caseCount(), before)
    assert.deepEqual(errors, [])
  })

  it('a dispatcher is offered neither the editor nor the enquiry console', async () => {
    const page = await newPage('dispatcher')
    await signIn(page, 'dispatcher')
    await page.getByTestId('nav-alarms').waitFor()
    for (const link of ['nav-admin', 'nav-intake', 'nav-hotline']) assert.equal(await page.getByTestId(link).count(), 0, link)
    await page.goto(`${ui.url}/admin/knowledge`)
    await page.getByTestId('admin-no-access').waitFor()
    assert.equal(await page.getByTestId('admin-tab-knowledge').count(), 0)
    assert.equal(await page.getByTestId('kb-new').count(), 0)
    await page.goto(`${ui.url}/intake`)
    await page.getByTestId('intake-no-access').waitFor()
    assert.equal(await page.getByTestId('intake-enquiry-submit').count(), 0)
    assert.equal(await page.getByTestId('intake-kb-panel').count(), 0)
    // the API agrees
    assert.equal((await call('dispatcher', 'POST', '/enquiries', { question: '问', answer: '答' })).status, 403)
    assert.equal((await call('dispatcher', 'POST', '/knowledge', { title: '题', body: '文' })).status, 403)
    assert.deepEqual(errors, [])
  })

  it('the operator answers an enquiry in English', async () => {
    const page = await newPage('operator-en')
    await signIn(page, 'operator')
    await setLanguage(page, 'en')
    await openConsole(page)
    await page.getByTestId('intake-kind').click()
    const option = page.locator('.intake-kind-popper .el-select-dropdown__item[data-kind="enquiry"]')
    assert.match(await text(option), /Enquiry\s*answered on the call, no case/)
    await option.click()
    await page.locator('[data-testid="intake-form"][data-mode="enquiry"]').waitFor()
    assert.match(await text(page.getByTestId('intake-enquiry-hint')), /Enquiry: answered on the call and recorded, no case is opened/)
    const label = (id) => page.locator(`label[for="${id}"]`)
    assert.equal(await text(label('intake-question')), 'The caller\'s question *')
    assert.equal(await text(label('intake-answer')), 'Answer *')
    assert.equal(await text(page.getByTestId('intake-enquiry-submit')), 'Record enquiry')
    const panel = page.getByTestId('intake-kb-panel')
    assert.equal(await text(panel.locator('h2')), 'Knowledge base')
    assert.match(await text(panel), /Type the question to see articles about it/)
    await page.getByTestId('intake-enquiry-question').fill(`When can wet waste 湿垃圾 be put out? ${TAG}-en`)
    await kbArticle(page, wetWaste.id).waitFor()
    assert.equal(await text(kbArticle(page, wetWaste.id).getByTestId('intake-kb-use')), 'Use this article\'s text')
    await kbArticle(page, wetWaste.id).getByTestId('intake-kb-use').click()
    assert.match(await text(page.getByTestId('intake-kb-cited-count')), /1 of 5 cited/)
    await shot(page, 'en-enquiry')
    await page.getByTestId('intake-enquiry-submit').click()
    await page.getByTestId('intake-enquiry-done').waitFor()
    assert.equal(await text(page.getByTestId('intake-enquiry-done').locator('h2')), 'Enquiry recorded, no case opened')
    assert.equal(await text(page.getByTestId('intake-next')), 'Next call')
    await shot(page, 'en-done')
    const [held] = await enquiriesWith(`${TAG}-en`)
    assert.deepEqual(held.articles, [wetWaste.id])

    await page.getByTestId('intake-enquiry-list-link').click()
    await page.waitForURL(/\/hotline/)
    await page.locator(`[data-testid="enquiry-row"][data-id="${held.id}"]`).waitFor()
    assert.equal(await text(page.getByTestId('enquiries').locator('h2')), 'Enquiries')
    assert.deepEqual(errors, [])
  })
})
