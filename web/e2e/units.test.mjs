// Units as data: an admin keeps the city's responsible units in the UI (adds a contractor with
// its duty phone, shown masked; renames it; exports the list as CSV; a CSV with a bad line is
// refused naming the line and changes nothing, a good one is imported); retiring a unit that
// still has an open case asks where its cases go, and moves them; a dispatcher reads the list
// without any edit button and reads a duty phone in clear for a stated purpose; the page speaks
// English too.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ARTIFACTS, apiClient, launchBrowser, startCityops, startUi } from './harness.mjs'

let server, ui, chrome, api
const errors = []
// set up through the API: a unit with one open case dispatched to it, and one with a duty phone
const setup = { caseId: null }

const HEADER = 'code,name,organization,kind,jurisdiction,parent,duty_phone,contact_name,contact_phone,active'
const digits = (s) => (s ?? '').replace(/\D/g, '')

before(async () => {
  server = await startCityops()
  ui = await startUi(server.url)
  chrome = await launchBrowser()
  api = apiClient(server.url)

  const admin = await api.login('admin')
  for (const body of [
    { code: 'E2E-RET', name: '黄浦区市政养护作业公司', organization: 'contractor', kind: 'other', jurisdiction: '310101' },
    { code: 'E2E-DUTY', name: '黄浦区排水养护作业公司', organization: 'contractor', kind: 'other', jurisdiction: '310101', duty_phone: '13700002222', contact_name: '李明', contact_phone: '13600003333' },
  ]) {
    const made = await api.call('POST', '/units', admin, body)
    assert.equal(made.status, 201, JSON.stringify(made.json))
  }

  // a hotline case in Huangpu, accepted, verified on site, filed and dispatched to E2E-RET: one open case
  const op = await api.login('operator')
  const created = await api.call('POST', '/cases', op, {
    source: 'hotline', description: 'E2E 市民来电：南京东路人行道井盖松动', location: { lon: 121.4837, lat: 31.2369 },
  })
  assert.equal(created.status, 201, JSON.stringify(created.json))
  setup.caseId = created.json.id
  const step = async (who, command, body) => {
    const current = (await api.call('GET', `/cases/${setup.caseId}`, op)).json
    const r = await api.call('POST', `/cases/${setup.caseId}/${command}`, await api.login(who), { version: current.version, ...body })
    assert.equal(r.status, 200, `${command}: ${JSON.stringify(r.json)}`)
    return r.json
  }
  await step('operator', 'accept', {})
  await step('operator', 'request-verification', {})
  await step('inspector', 'verify', { exists: true, opinion: '现场属实' })
  await step('shiftlead', 'file', { category: '10101' })
  const dispatched = await step('dispatcher', 'dispatch', { unit: 'E2E-RET', opinion: '请养护单位处置' })
  assert.equal(dispatched.unit, 'E2E-RET')
})

after(async () => {
  await chrome?.close()
  await ui?.stop()
  await server?.stop()
})

async function newPage(who) {
  const page = await (await chrome.newContext()).newPage()
  page.on('pageerror', (e) => errors.push(`${who}: ${e.message}`))
  page.setDefaultTimeout(30_000)
  return page
}

async function signIn(page, username) {
  await page.goto(`${ui.url}/login`)
  await page.getByTestId('username').fill(username)
  await page.getByTestId('password').fill('cityops-demo')
  await page.getByTestId('login-submit').click()
  await page.waitForURL(/\/screen/)
}

async function openUnits(page) {
  await page.getByTestId('nav-units').click()
  await page.waitForURL(/\/units/)
  await page.locator('[data-testid="units-table"] tbody tr').first().waitFor()
}

/** Shows only the units whose name or code contains `text`. */
async function filter(page, text) {
  await page.getByTestId('units-q').fill(text)
  await page.waitForFunction((q) => [...document.querySelectorAll('[data-testid="units-table"] tbody tr')]
    .every((tr) => tr.dataset.code.toLowerCase().includes(q.toLowerCase()) || tr.textContent.includes(q)), text)
}

/** Waits until the element `testId` names has the focus (a dialog gives it to its first field once shown). */
const focused = (page, testId) => page.waitForFunction((id) => document.activeElement?.dataset?.testid === id, testId)

/** Picks the option labelled with `text` in an Element Plus select (typing it first when `search`). */
async function pick(page, testId, text, search = false) {
  await page.getByTestId(testId).click()
  if (search) await page.keyboard.type(text)
  await page.locator('.el-select-dropdown__item:visible', { hasText: text }).first().click()
}

const row = (page, code) => page.locator(`[data-testid="units-table"] tr[data-code="${code}"]`)
const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `units-${name}.png`), fullPage: true })

describe('units as data', () => {
  it('an admin adds a contractor, sees its duty phone masked, renames it, exports and imports CSV', async () => {
    const page = await newPage('admin')
    await signIn(page, 'admin')
    await openUnits(page)

    // a new contractor working for Huangpu's construction and transport commission
    await page.getByTestId('unit-create').click()
    const form = page.getByTestId('unit-form')
    await focused(page, 'unit-code')
    await page.getByTestId('unit-code').fill('E2E-YH')
    await page.getByTestId('unit-name').fill('黄浦区道路养护作业有限公司')
    await pick(page, 'unit-organization', '养护作业单位')
    await page.getByTestId('unit-jurisdiction').fill('310101')
    await page.locator('[data-testid="unit-area-name"]', { hasText: '黄浦区' }).waitFor()
    await pick(page, 'unit-parent', '310101-JSJT', true)
    await page.getByTestId('unit-duty-phone').fill('13912345678')
    await page.getByTestId('unit-contact-name').fill('王建国')
    await page.getByTestId('unit-contact-phone').fill('13800001111')
    await shot(page, 'admin-new')
    await page.getByTestId('unit-save').click()
    await page.getByTestId('units-notice').waitFor()
    await form.waitFor({ state: 'detached' })

    await filter(page, 'E2E-YH')
    const phone = (await row(page, 'E2E-YH').getByTestId('unit-row-duty-phone').textContent()).trim()
    assert.match(phone, /\*/, phone)
    assert.ok(!phone.includes('12345678'), phone)
    assert.match(phone, /5678$/, phone)
    const contact = await row(page, 'E2E-YH').getByTestId('unit-row-contact').textContent()
    assert.ok(!contact.includes('王建国') && contact.includes('*'), contact)
    await shot(page, 'admin-created')

    // the same code again: refused, said next to the code
    await page.getByTestId('unit-create').click()
    await focused(page, 'unit-code')
    await page.getByTestId('unit-code').fill('E2E-YH')
    await page.getByTestId('unit-name').fill('重复的单位')
    await pick(page, 'unit-organization', '养护作业单位')
    await page.getByTestId('unit-jurisdiction').fill('310101')
    await page.getByTestId('unit-save').click()
    await page.getByTestId('unit-error-code').waitFor()
    await page.keyboard.press('Escape')
    await page.getByTestId('unit-form').waitFor({ state: 'detached' })

    // rename it; the contacts, left as shown, keep their stored values
    await row(page, 'E2E-YH').getByTestId('unit-edit').click()
    await focused(page, 'unit-name')
    assert.equal(await page.getByTestId('unit-code').isDisabled(), true)
    assert.equal(await page.getByTestId('unit-duty-phone').inputValue(), phone)
    await page.getByTestId('unit-name').fill('黄浦区道路养护有限公司')
    await page.getByTestId('unit-save').click()
    await page.getByTestId('unit-form').waitFor({ state: 'detached' })
    await row(page, 'E2E-YH').getByTestId('unit-row-name').filter({ hasText: '黄浦区道路养护有限公司' }).waitFor()
    const admin = await api.login('admin')
    const clear = await api.call('GET', '/units/E2E-YH/contacts?purpose=coordination', admin)
    assert.equal(clear.status, 200, JSON.stringify(clear.json))
    assert.equal(digits(clear.json.duty_phone).slice(-11), '13912345678')
    assert.equal(clear.json.contact_name, '王建国')
    const stored = (await api.call('GET', '/units/E2E-YH', admin)).json
    assert.equal(stored.parent, '310101-JSJT')
    assert.equal(stored.organization, 'contractor')

    // export the whole active list
    await page.getByTestId('units-q').fill('')
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('units-export').click()])
    assert.match(download.suggestedFilename(), /^units-\d{4}-\d{2}-\d{2}\.csv$/)
    const csv = readFileSync(await download.path(), 'utf8')
    assert.ok(csv.startsWith(`\ufeff${HEADER}`), csv.slice(0, 200))
    const lines = csv.replace(/^\ufeff/, '').split(/\r?\n/).filter(Boolean)
    const ours = lines.find((l) => l.startsWith('E2E-YH,'))
    assert.ok(ours, 'E2E-YH is exported')
    assert.ok(ours.includes(phone) && !ours.includes('13912345678') && !ours.includes('王建国'), ours)
    const telecom = lines.find((l) => l.startsWith('310101-DX,'))
    assert.ok(telecom && !telecom.includes('"'), telecom)

    // a file with a bad third line: refused naming it, and nothing of it is stored
    const active = ours.split(',').at(-1)
    const newLine = ['E2E-NEW', '黄浦区绿化养护作业公司', 'contractor', 'other', '310101', 'E2E-YH', '', '', '', active].join(',')
    const renamed = ours.replace('黄浦区道路养护有限公司', '改名不应生效')
    const bad = join(ARTIFACTS, 'units-bad.csv')
    writeFileSync(bad, `${HEADER}\n${renamed}\nE2E-BAD,坏行,no_such_organization,other,310101,,,,,${active}\n${newLine}\n`)
    await page.getByTestId('units-import-file').setInputFiles(bad)
    await page.getByTestId('units-import-submit').click()
    assert.match(await page.getByTestId('units-import-error').textContent(), /line 3/)
    assert.equal((await api.call('GET', '/units/E2E-YH', admin)).json.name, '黄浦区道路养护有限公司')
    assert.equal((await api.call('GET', '/units/E2E-BAD', admin)).status, 404)
    assert.equal((await api.call('GET', '/units/E2E-NEW', admin)).status, 404)
    await shot(page, 'admin-import-refused')

    // a good file: one new unit, one renamed, one exactly as exported (masked contacts kept)
    const good = join(ARTIFACTS, 'units-good.csv')
    writeFileSync(good, `\ufeff${HEADER}\n${newLine}\n${telecom.replace('黄浦区电信分公司', '黄浦区电信分公司（维护）')}\n${ours}\n`)
    await page.getByTestId('units-import-file').setInputFiles(good)
    await page.getByTestId('units-import-submit').click()
    const result = page.getByTestId('units-import-result')
    await result.waitFor()
    assert.deepEqual(
      [await result.getAttribute('data-created'), await result.getAttribute('data-updated'), await result.getAttribute('data-unchanged')],
      ['1', '1', '1'],
    )
    await filter(page, 'E2E-NEW')
    await row(page, 'E2E-NEW').waitFor()
    // it has no contacts on record: nothing to show in clear
    assert.equal(await row(page, 'E2E-NEW').getByTestId('unit-show-contacts').count(), 0)
    assert.equal((await api.call('GET', '/units/310101-DX', admin)).json.name, '黄浦区电信分公司（维护）')
    const after = await api.call('GET', '/units/E2E-YH/contacts?purpose=coordination', admin)
    assert.equal(digits(after.json.duty_phone).slice(-11), '13912345678')
    await shot(page, 'admin-imported')
    assert.deepEqual(errors, [])
  })

  it('an admin retiring a unit with an open case is asked for a successor and sees the case moved', async () => {
    const page = await newPage('admin')
    await signIn(page, 'admin')
    await openUnits(page)
    await filter(page, 'E2E-RET')
    await row(page, 'E2E-RET').getByTestId('unit-retire').click()
    await focused(page, 'unit-retire-reason')
    await page.getByTestId('unit-retire-reason').fill('养护合同到期，业务并入区建设和交通委员会')
    await page.getByTestId('unit-retire-submit').click()
    // the server refuses (unit_has_open_cases): the dialog says how many, and asks where they go
    const count = page.getByTestId('unit-open-cases')
    await count.waitFor()
    assert.equal(await count.getAttribute('data-count'), '1')
    await page.getByTestId('unit-retire-error-successor').waitFor()
    await shot(page, 'retire-asks-successor')
    await pick(page, 'unit-retire-successor', '310101-JSJT', true)
    await page.getByTestId('unit-retire-submit').click()
    const notice = page.getByTestId('units-notice')
    await notice.waitFor()
    assert.equal(await notice.getAttribute('data-moved-cases'), '1')
    assert.match(await notice.textContent(), /1 件案件/)
    await page.getByTestId('unit-retire-form').waitFor({ state: 'detached' })
    await row(page, 'E2E-RET').waitFor({ state: 'detached' })
    await shot(page, 'retired')

    // the case is the successor's now, and its timeline says so
    const op = await api.login('operator')
    assert.equal((await api.call('GET', `/cases/${setup.caseId}`, op)).json.unit, '310101-JSJT')
    const timeline = (await api.call('GET', `/cases/${setup.caseId}/timeline`, op)).json
    assert.ok(timeline.some((e) => e.action === 'reassign'), JSON.stringify(timeline.map((e) => e.action)))

    // retired units are listed on request, with their successor, and can be reinstated
    await pick(page, 'units-status', '已撤销')
    await row(page, 'E2E-RET').waitFor()
    assert.equal(await row(page, 'E2E-RET').getAttribute('data-active'), 'false')
    assert.match(await row(page, 'E2E-RET').getByTestId('unit-row-status').textContent(), /310101-JSJT|建设和交通委员会/)
    await row(page, 'E2E-RET').getByTestId('unit-reinstate').click()
    await row(page, 'E2E-RET').waitFor({ state: 'detached' })
    assert.equal((await api.call('GET', '/units/E2E-RET', op)).json.active, true)
    assert.deepEqual(errors, [])
  })

  it('a dispatcher sees the list without edit buttons and reads a duty phone in clear for a purpose', async () => {
    const page = await newPage('dispatcher')
    await signIn(page, 'dispatcher')
    await openUnits(page)
    // the shipped city has hundreds of units: the first hundred are shown, the rest on request
    assert.ok(Number(await page.getByTestId('units-count').getAttribute('data-count')) > 300)
    assert.equal(await page.locator('[data-testid="units-table"] tbody tr').count(), 100)
    assert.equal(await page.getByTestId('units-admin').count(), 0)
    assert.equal(await page.getByTestId('unit-edit').count(), 0)
    assert.equal(await page.getByTestId('unit-retire').count(), 0)

    // filters: Huangpu's public utilities
    await pick(page, 'units-district', '黄浦区')
    await pick(page, 'units-organization', '公共服务企业')
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid="units-table"] tbody tr')]
      return rows.length === 4 && rows.every((tr) => tr.dataset.code.startsWith('310101-'))
    })
    await page.waitForURL(/organization=public_utility/)

    await page.getByTestId('units-reset').click()
    await filter(page, 'E2E-DUTY')
    const masked = (await row(page, 'E2E-DUTY').getByTestId('unit-row-duty-phone').textContent()).trim()
    assert.ok(masked.includes('*') && !masked.includes('13700002222'), masked)
    await row(page, 'E2E-DUTY').getByTestId('unit-show-contacts').click()
    await page.getByTestId('unit-contacts').waitFor()
    await page.getByTestId('unit-purpose-coordination').click()
    await page.getByTestId('unit-contacts-reveal').click()
    await page.getByTestId('unit-contacts-clear').waitFor()
    assert.equal(digits(await page.getByTestId('unit-clear-duty-phone').textContent()).slice(-11), '13700002222')
    assert.equal((await page.getByTestId('unit-clear-contact-name').textContent()).trim(), '李明')
    await shot(page, 'dispatcher-contacts')
    await page.keyboard.press('Escape')
    await page.getByTestId('unit-contacts').waitFor({ state: 'detached' })

    // the read is on the audit log, with its reader
    const log = await api.call('GET', '/audit?actor=dispatcher&limit=1000', await api.login('auditor'))
    assert.equal(log.status, 200, JSON.stringify(log.json))
    assert.ok(log.json.items.some((e) => JSON.stringify(e).includes('E2E-DUTY')), 'the read of E2E-DUTY is audited')
    assert.deepEqual(errors, [])
  })

  it('an inspector sees the list but no contacts action', async () => {
    const page = await newPage('inspector')
    await signIn(page, 'inspector')
    await openUnits(page)
    assert.equal(await page.getByTestId('unit-show-contacts').count(), 0)
    assert.equal(await page.getByTestId('units-admin').count(), 0)
    assert.deepEqual(errors, [])
  })

  it('the page speaks English', async () => {
    const page = await newPage('admin-en')
    await signIn(page, 'admin')
    await page.getByTestId('lang-toggle').click()
    await openUnits(page)
    assert.equal((await page.getByTestId('nav-units').textContent()).trim(), 'Units')
    assert.equal((await page.locator('h1').textContent()).trim(), 'Responsible units')
    const head = await page.locator('[data-testid="units-table"] thead').textContent()
    for (const word of ['Code', 'Name', 'Organization', 'Line of work', 'Duty phone', 'Actions']) assert.ok(head.includes(word), `${word} in ${head}`)
    await filter(page, '310101-ZLS')
    const cells = await row(page, '310101-ZLS').textContent()
    assert.ok(cells.includes('Public utility') && cells.includes('Water supply'), cells)
    await page.getByTestId('unit-create').click()
    await focused(page, 'unit-code')
    await page.keyboard.press('Enter')
    assert.equal((await page.getByTestId('unit-error-code').textContent()).trim(), 'Required')
    await shot(page, 'english')
    assert.deepEqual(errors, [])
  })
})
