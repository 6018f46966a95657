// The category catalogue on the administration page: an admin finds 20101 (私搭乱建), gives it a
// handling term of 3 working days and makes it urgent, with the keyboard; the API shows the
// change, and a case the shift lead files under 20101 afterwards copies the new term. An amount
// beyond its unit's year (400 working days) is refused by the server, whose words show beside
// the field, and nothing changes. The section speaks English; an operator has no way in and the
// API refuses their edit.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ARTIFACTS, newPage as openPage, sessionsOf, setLanguage, signIn as signInAt } from './harness.mjs'
import { assertNoAdminWayIn, focused, openAdminSection, startStage, stopStage, text } from './adminKit.mjs'

const TAG = `CAT${Date.now().toString(36)}`
const CODE = '20101'

let server, ui, chrome, api
const errors = []
const tokenOf = sessionsOf(() => api)
const newPage = (who) => openPage(chrome, who, errors, { consoleErrors: false, timeout: 30_000 })
const signIn = (page, username) => signInAt(page, ui, username)

before(async () => ({ server, ui, chrome, api } = await startStage()))
after(() => stopStage({ server, ui, chrome }))

/** From the header's menu to the categories section, its table filled. */
const openCategories = (page) => openAdminSection(page, 'categories', '[data-testid="categories-table"] tbody tr')

/** Searches for `q` (the code unless given) and waits until the row of `code` is the only one. */
async function find(page, code, q = code) {
  await page.getByTestId('categories-q').fill(q)
  await page.waitForFunction((c) => {
    const rows = [...document.querySelectorAll('[data-testid="categories-table"] tbody tr')]
    return rows.length === 1 && rows[0].dataset.code === c
  }, code)
  return page.locator(`[data-testid="categories-table"] tr[data-code="${code}"]`)
}

/** Picks the option labelled exactly `text` in an Element Plus select. */
async function pick(page, testId, text) {
  await page.getByTestId(testId).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: new RegExp(`^\\s*${text}\\s*$`) }).first().click()
}

// the whole list is 121 rows long: its shots show the window, the others the whole page
const shot = (page, name, fullPage = true) => page.screenshot({ path: join(ARTIFACTS, `admin-categories-${name}.png`), fullPage })
const category = async () => {
  const r = await api.call('GET', `/categories/${CODE}`, await tokenOf('admin'))
  assert.equal(r.status, 200, JSON.stringify(r.json))
  return r.json
}
const version = async () => (await api.call('GET', '/categories', await tokenOf('admin'))).json.version

async function run(who, c, command, body = {}) {
  const r = await api.call('POST', `/cases/${c.id}/${command}`, await tokenOf(who), { version: c.version, ...body })
  assert.equal(r.status, 200, `${who} ${command}: ${JSON.stringify(r.json)}`)
  return r.json
}

/** An inspector's report, accepted by the operator and filed by the shift lead under 20101. */
async function filedUnder20101(what) {
  const created = await api.call('POST', '/cases', await tokenOf('inspector'), {
    source: 'inspector', description: `${TAG} ${what}`, location: { lon: 121.4919, lat: 31.215 }, area: '310101002001',
  })
  assert.equal(created.status, 201, JSON.stringify(created.json))
  let c = created.json
  c = await run('operator', c, 'accept')
  return run('shiftlead', c, 'file', { category: CODE })
}

describe('the category catalogue', { timeout: 180_000 }, () => {
  it('an admin gives 20101 a handling term of 3 working days and makes it urgent; a case filed afterwards copies the term', async () => {
    const before = await category()
    assert.deepEqual([before.zh, before.urgency], ['私搭乱建', 'normal'])
    assert.notDeepEqual(before.terms.handling, { amount: 3, unit: 'working_days' }, 'the demo catalogue already has the term this test sets')
    const versionBefore = await version()

    const page = await newPage('admin')
    await signIn(page, 'admin')
    await openCategories(page)
    assert.equal(await page.getByTestId('admin-tab-categories').getAttribute('aria-current'), 'page')
    assert.equal(await text(page.getByTestId('admin-section-title')), '类别与时限')
    assert.equal(await page.getByTestId('categories-version').getAttribute('data-version'), versionBefore)
    await shot(page, 'list', false)

    const row = await find(page, CODE)
    await page.waitForURL(new RegExp(`q=${CODE}`))
    assert.equal(await text(row.getByTestId('category-row-name')), '私搭乱建')
    assert.equal(await text(row.getByTestId('category-row-big')), '事件 市容环境 201')
    assert.equal(await text(row.getByTestId('category-row-urgency')), '一般')
    assert.equal(await text(row.getByTestId('category-row-unit-kind')), '城管执法')
    assert.equal(await text(row.getByTestId('category-row-term-handling')), `${before.terms.handling.amount}个工作日`)

    // the dialog opens on the Chinese name, and is worked from the keyboard
    await row.getByTestId('category-edit').click()
    await focused(page, 'category-zh')
    assert.equal(await page.getByTestId('category-term-handling-amount').inputValue(), String(before.terms.handling.amount))
    assert.equal(await page.getByTestId('category-urgent-hint').count(), 0)
    await page.getByTestId('category-term-handling-amount').fill('3')
    await pick(page, 'category-term-handling-unit', '工作日')
    await page.locator('[data-testid="category-urgency-urgent"]').click()
    await page.getByTestId('category-urgent-hint').waitFor()
    assert.match(await text(page.getByTestId('category-urgent-hint')), /自然时间/)
    await shot(page, 'edit')
    await page.getByTestId('category-term-handling-amount').press('Enter')

    await page.locator('[data-testid="categories-notice"]', { hasText: `已保存类别 ${CODE} 私搭乱建` }).waitFor()
    await page.getByTestId('category-form').waitFor({ state: 'detached' })
    // the focus is back on the button that opened the dialog
    await focused(page, 'category-edit')
    await row.getByTestId('category-row-term-handling').filter({ hasText: '3个工作日' }).waitFor()
    assert.equal(await text(row.getByTestId('category-row-urgency')), '紧急')
    // an urgent class runs its working days on natural time, and the row says so
    assert.equal(await text(row.getByTestId('category-row-term-handling')), '3个工作日 按自然时间')
    await page.waitForFunction((v) => {
      const shown = document.querySelector('[data-testid="categories-version"]')?.dataset.version
      return shown && shown !== v
    }, versionBefore)
    await shot(page, 'saved')

    // the API has the change, and nothing else moved
    const after = await category()
    assert.deepEqual(after.terms.handling, { amount: 3, unit: 'working_days' })
    assert.equal(after.urgency, 'urgent')
    assert.deepEqual(
      [after.zh, after.en, after.unit_kind, after.terms.dispatch, after.terms.check, after.terms.callback],
      [before.zh, before.en, before.unit_kind, before.terms.dispatch, before.terms.check, before.terms.callback],
    )
    const versionAfter = await version()
    assert.notEqual(versionAfter, versionBefore)
    assert.equal(await page.getByTestId('categories-version').getAttribute('data-version'), versionAfter)

    // a case the shift lead files now copies the new terms
    const c = await filedUnder20101('中山南路人行道搭建违章棚屋')
    assert.equal(c.category.code, CODE)
    assert.deepEqual(c.category.terms.handling, { amount: 3, unit: 'working_days' })
    assert.equal(c.category.urgency, 'urgent')

    // 400 working days is beyond a year of them: the server refuses it, beside the field, and nothing changes
    await row.getByTestId('category-edit').click()
    await focused(page, 'category-zh')
    await page.getByTestId('category-term-handling-amount').fill('400')
    await page.getByTestId('category-save').click()
    const refused = page.getByTestId('category-error-handling')
    await refused.waitFor()
    assert.equal(await refused.getAttribute('data-field'), 'terms.handling.amount')
    assert.match(await text(refused), /^超出该单位允许的上限（约一年）：a term in working_days is 1 to 366/)
    assert.equal(await page.getByTestId('category-term-handling-amount').getAttribute('aria-invalid'), 'true')
    assert.equal(await page.getByTestId('category-form-error').count(), 0)
    await shot(page, 'refused')
    assert.deepEqual((await category()).terms.handling, { amount: 3, unit: 'working_days' })
    assert.equal(await version(), versionAfter)

    // Escape leaves the dialog without saving
    await page.keyboard.press('Escape')
    await page.getByTestId('category-form').waitFor({ state: 'detached' })
    await focused(page, 'category-edit')
    assert.equal(await text(row.getByTestId('category-row-term-handling')), '3个工作日 按自然时间')
    assert.equal(await page.getByTestId('categories-notice').count(), 0)
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('the section speaks English', async () => {
    const now = await category()
    const page = await newPage('admin-en')
    await signIn(page, 'admin')
    await setLanguage(page, 'en')
    await openCategories(page)
    assert.equal(await text(page.getByTestId('admin-tab-categories')), 'Categories')
    assert.equal(await text(page.getByTestId('admin-section-title')), 'Categories')
    const head = await text(page.locator('[data-testid="categories-table"] thead'))
    for (const word of ['Code', 'Name', 'Big class', 'Urgency', 'Default line', 'Stage time limits', 'Dispatch', 'Handling', 'Check', 'Call-back', 'Actions']) {
      assert.ok(head.includes(word), `${word} in ${head}`)
    }
    assert.match(await text(page.getByTestId('categories-count')), /^\d+ small classes$/)
    await shot(page, 'english-list', false)

    const row = await find(page, CODE, 'illegal structure')
    assert.equal(await text(row.getByTestId('category-row-name')), now.en)
    assert.equal(await text(row.getByTestId('category-row-big')), 'Event City appearance 201')
    assert.equal(await text(row.getByTestId('category-row-unit-kind')), 'Law enforcement')
    // as the first test left it: urgent, 3 working days of handling, and the demo's call-back of one working day
    assert.deepEqual([now.urgency, now.terms.handling, now.terms.callback], ['urgent', { amount: 3, unit: 'working_days' }, { amount: 1, unit: 'working_days' }])
    assert.equal(await text(row.getByTestId('category-row-urgency')), 'Urgent')
    assert.equal(await text(row.getByTestId('category-row-term-handling')), '3 working days on natural time')
    // one, not "1 working days"
    assert.equal(await text(row.getByTestId('category-row-term-callback')), '1 working day on natural time')

    await row.getByTestId('category-edit').click()
    await focused(page, 'category-zh')
    assert.equal(await text(page.locator('.el-dialog__title')), `Edit category ${CODE} ${now.en}`)
    const stages = await page.locator('[data-testid="category-terms"] .stage-name').allTextContents()
    assert.deepEqual(stages.map((s) => s.trim()), ['Dispatch', 'Handling', 'Check', 'Call-back'])
    // an amount that is no whole number is caught before sending
    await page.getByTestId('category-term-check-amount').fill('1.5')
    await page.getByTestId('category-term-check-amount').press('Enter')
    assert.equal(await text(page.getByTestId('category-error-check')), 'Enter a whole number from 1 to 525600')
    await page.getByTestId('category-term-check-amount').fill(String(now.terms.check.amount))
    await pick(page, 'category-term-check-unit', 'working days')
    await page.getByTestId('category-term-check-amount').fill('400')
    await page.getByTestId('category-term-check-amount').press('Enter')
    await page.locator('[data-testid="category-error-check"]', { hasText: 'working_days is 1 to 366' }).waitFor()
    assert.match(await text(page.getByTestId('category-error-check')), /^a term in working_days is 1 to 366/)
    await shot(page, 'english-edit')
    await page.getByTestId('category-cancel').click()
    await page.getByTestId('category-form').waitFor({ state: 'detached' })
    assert.deepEqual((await category()).terms.check, now.terms.check)
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('an operator has no way in, and the API refuses their edit', async () => {
    const page = await newPage('operator')
    await signIn(page, 'operator')
    await assertNoAdminWayIn(page, ui, 'categories', 'categories-table')
    await shot(page, 'operator-no-access')
    await page.context().close()

    const before = await category()
    const operator = await tokenOf('operator')
    // they read the catalogue (cases are filed under it) but may not change it
    assert.equal((await api.call('GET', `/categories/${CODE}`, operator)).status, 200)
    const put = await api.call('PUT', `/categories/${CODE}`, operator, { terms: { handling: { amount: 1, unit: 'hours' } } })
    assert.equal(put.status, 403, JSON.stringify(put.json))
    assert.deepEqual(await category(), before)
    assert.deepEqual(errors, [])
  })
})
