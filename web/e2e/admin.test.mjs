// Administration: an admin adds an operator account for Huangpu (a password the server refuses
// is refused next to the field), resets its password and disables it; the old password no longer
// signs in, the new one did until the account was disabled, which ended its session. An admin
// creates an API key that may read, sees it once, reads cases with it, revokes it, and it stops
// working. An operator has no menu entry and /admin says no access; the page speaks English, and
// the admin's header still fits on one line.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ARTIFACTS, newPage as openPage, setLanguage } from './harness.mjs'
import { assertNoAdminWayIn, focused, openAdmin as openAdminAt, openAdminTab, startStage, stopStage } from './adminKit.mjs'

let server, ui, chrome, api
const errors = []

const USERNAME = 'e2e.hp.op'
const FIRST_PASSWORD = 'Harbour-2026!'
const NEW_PASSWORD = 'Bund-Night-77'

before(async () => ({ server, ui, chrome, api } = await startStage()))
after(() => stopStage({ server, ui, chrome }))

/** A page recording page errors (not the console's). */
const newPage = (who) => openPage(chrome, who, errors, { consoleErrors: false, timeout: 30_000 })

async function signIn(page, username, password = 'cityops-demo') {
  await page.goto(`${ui.url}/login`)
  await page.getByTestId('username').fill(username)
  await page.getByTestId('password').fill(password)
  await page.getByTestId('login-submit').click()
}

/** From the header's menu to the administration page, which opens on its users. */
const openAdmin = (page) => openAdminAt(page, '[data-testid="users-table"] tbody tr')

/** Picks the option labelled with `text` in an Element Plus select. */
async function pick(page, testId, text) {
  await page.getByTestId(testId).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: text }).first().click()
}

const userRow = (page, username) => page.locator(`[data-testid="users-table"] tr[data-username="${username}"]`)
const keyRow = (page, name) => page.locator(`[data-testid="keys-table"] tr[data-name="${name}"]`)
const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `admin-${name}.png`), fullPage: true })
const cases = (key) => fetch(`${server.url}/api/v1/cases?limit=1`, { headers: { authorization: `Bearer ${key}` } })

describe('administration', () => {
  it('an admin adds an operator for Huangpu, resets its password and disables it', async () => {
    const page = await newPage('admin')
    await signIn(page, 'admin')
    await page.waitForURL(/\/screen/)
    await openAdmin(page)
    assert.equal(await page.getByTestId('admin-tab-users').getAttribute('aria-current'), 'page')

    // the admin's own row: marked, and nothing offered that the server refuses on one's own account
    const own = userRow(page, 'admin')
    await own.getByTestId('user-row-you').waitFor()
    for (const action of ['user-disable', 'user-reset-password', 'user-remove-second-factor']) assert.equal(await own.getByTestId(action).count(), 0, action)
    assert.equal(await own.getByTestId('user-edit').count(), 1)

    // the admin's own account: its name may change, not its role, scope or unit
    await own.getByTestId('user-edit').click()
    await focused(page, 'user-display-name')
    await page.getByTestId('user-self-note').waitFor()
    assert.equal(await page.getByTestId('user-username').isDisabled(), true)
    assert.equal(await page.getByTestId('user-scope').isDisabled(), true)
    await page.keyboard.press('Escape')
    await page.getByTestId('user-form').waitFor({ state: 'detached' })

    // a new operator working for Huangpu
    await page.getByTestId('user-create').click()
    await focused(page, 'user-username')
    await page.getByTestId('user-username').fill(USERNAME)
    await page.getByTestId('user-display-name').fill('黄浦区受理员（测试）')
    await pick(page, 'user-role', '受理员')
    await pick(page, 'user-scope-district', '黄浦区')
    assert.equal(await page.getByTestId('user-scope').inputValue(), '310101')
    await page.locator('[data-testid="user-scope-name"]', { hasText: '黄浦区' }).waitFor()

    // a password with the username in it: the rule shows unmet as it is typed, and the form says so
    await page.getByTestId('user-password').fill(`${USERNAME}-2026`)
    assert.equal(await page.getByTestId('user-password-rule-username').getAttribute('data-met'), 'false')
    await page.getByTestId('user-save').click()
    assert.equal((await page.getByTestId('user-error-password').textContent()).trim(), '密码不能包含用户名')

    // one of the most common passwords meets the rules the form knows; the server refuses it, next to the field
    await page.getByTestId('user-password').fill('password1')
    assert.equal(await page.getByTestId('user-password-rule-username').getAttribute('data-met'), 'true')
    await page.getByTestId('user-save').click()
    await page.locator('[data-testid="user-error-password"]', { hasText: 'common' }).waitFor()
    assert.equal(await page.getByTestId('user-form-error').count(), 0)
    await shot(page, 'user-refused')
    assert.equal((await api.call('GET', `/users/${USERNAME}`, await api.login('admin'))).status, 404)

    // a good one, sent with Enter
    await page.getByTestId('user-password').fill(FIRST_PASSWORD)
    await page.getByTestId('user-password').press('Enter')
    await page.locator('[data-testid="users-notice"]', { hasText: USERNAME }).waitFor()
    await page.getByTestId('user-form').waitFor({ state: 'detached' })
    const row = userRow(page, USERNAME)
    await row.waitFor()
    assert.equal(await row.getByTestId('user-row-role').getAttribute('data-role'), 'operator')
    assert.equal((await row.getByTestId('user-row-role').textContent()).trim(), '受理员')
    assert.match(await row.getByTestId('user-row-scope').textContent(), /黄浦区\s+310101/)
    assert.equal(await row.getByTestId('user-row-state').getAttribute('data-second-factor'), 'none')
    const admin = await api.login('admin')
    const stored = (await api.call('GET', `/users/${USERNAME}`, admin)).json
    assert.deepEqual([stored.role, stored.scope, stored.disabled], ['operator', '310101', false])

    // the text filter asks the server
    await page.getByTestId('users-q').fill('hp.op')
    await page.waitForFunction((name) => {
      const rows = [...document.querySelectorAll('[data-testid="users-table"] tbody tr')]
      return rows.length === 1 && rows[0].dataset.username === name
    }, USERNAME)
    await page.waitForURL(/q=hp\.op/)
    await shot(page, 'user-created')

    // rename the new account, with Enter
    await row.getByTestId('user-edit').click()
    await focused(page, 'user-display-name')
    assert.equal(await page.getByTestId('user-self-note').count(), 0)
    assert.equal(await page.getByTestId('user-scope').inputValue(), '310101')
    await page.getByTestId('user-display-name').fill('黄浦区受理员（培训）')
    await page.getByTestId('user-display-name').press('Enter')
    await page.getByTestId('user-form').waitFor({ state: 'detached' })
    await row.getByTestId('user-row-name').filter({ hasText: '黄浦区受理员（培训）' }).waitFor()

    // reset its password: the dialog says what else that does
    await row.getByTestId('user-reset-password').click()
    await focused(page, 'reset-password')
    assert.match(await page.getByTestId('reset-hint').textContent(), /两步验证/)
    await page.getByTestId('reset-password').fill(NEW_PASSWORD)
    await shot(page, 'reset-password')
    await page.getByTestId('reset-password').press('Enter')
    await page.locator('[data-testid="users-notice"]', { hasText: '已重置' }).waitFor()
    await page.getByTestId('reset-form').waitFor({ state: 'detached' })

    // in a second browser: the first password no longer signs in, the new one does
    const other = await newPage(USERNAME)
    await signIn(other, USERNAME, FIRST_PASSWORD)
    await other.getByTestId('login-error').waitFor()
    assert.match(other.url(), /\/login/)
    await signIn(other, USERNAME, NEW_PASSWORD)
    await other.waitForURL(/\/screen/)
    assert.equal(await other.getByTestId('nav-admin').count(), 0)

    // disable it, after a confirmation that starts on 取消
    await row.getByTestId('user-disable').click()
    await page.getByTestId('user-disable-dialog').waitFor()
    await focused(page, 'user-disable-dialog-cancel')
    await shot(page, 'disable-confirm')
    await page.getByTestId('user-disable-dialog-confirm').click()
    await page.getByTestId('user-disable-dialog').waitFor({ state: 'detached' })
    await row.getByTestId('user-row-disabled').waitFor()
    assert.equal(await row.getAttribute('data-disabled'), 'true')
    assert.equal(await row.getByTestId('user-enable').count(), 1)
    assert.equal((await api.call('GET', `/users/${USERNAME}`, admin)).json.disabled, true)
    const signInNow = await api.call('POST', '/sessions', null, { username: USERNAME, password: NEW_PASSWORD })
    assert.equal(signInNow.status, 401, JSON.stringify(signInNow.json))
    // ...and its session in the other browser is over
    await other.goto(`${ui.url}/workbench`)
    await other.waitForURL(/\/login/)
    await shot(page, 'user-disabled')
    assert.deepEqual(errors, [])
  })

  it('an admin creates an API key that reads, sees it once, uses it and revokes it', async () => {
    const page = await newPage('admin-keys')
    await signIn(page, 'admin')
    await page.waitForURL(/\/screen/)
    await openAdmin(page)
    await openAdminTab(page, 'api-keys', 'admin-keys')

    await page.getByTestId('key-create').click()
    await focused(page, 'key-name')
    await page.getByTestId('key-name').fill('e2e-reader')
    await pick(page, 'key-role', '受理员')
    await page.getByTestId('key-scope').fill('310101')
    await page.locator('[data-testid="key-scope-name"]', { hasText: '黄浦区' }).waitFor()
    // read only, as the form starts
    assert.equal(await page.locator('[data-testid="key-permission-read"] input').isChecked(), true)
    for (const p of ['report', 'telemetry', 'write']) assert.equal(await page.locator(`[data-testid="key-permission-${p}"] input`).isChecked(), false, p)
    await page.getByTestId('key-expires').fill('30')
    await page.getByTestId('key-expires').press('Enter')

    // shown once, with a warning, selected for copying
    await page.getByTestId('key-created').waitFor()
    assert.match(await page.getByTestId('key-once').textContent(), /只显示这一次/)
    const key = await page.getByTestId('key-secret').inputValue()
    assert.match(key, /^cok_[0-9a-f]+_[0-9a-f]+$/)
    await focused(page, 'key-secret')
    await shot(page, 'key-created')
    await page.getByTestId('key-done').click()
    await page.getByTestId('key-created').waitFor({ state: 'detached' })
    assert.ok(!(await page.content()).includes(key), 'the key is gone from the page once the dialog is closed')

    const row = keyRow(page, 'e2e-reader')
    await row.waitFor()
    assert.equal(await row.getAttribute('data-status'), 'active')
    assert.equal(await row.getByTestId('key-row-permissions').getAttribute('data-permissions'), 'read')
    const listed = (await api.call('GET', '/api-keys', await api.login('admin'))).json.find((k) => k.name === 'e2e-reader')
    assert.ok(listed && !listed.key && listed.expires_at, JSON.stringify(listed))

    // it reads cases, and nothing more
    assert.equal((await cases(key)).status, 200)
    const report = await fetch(`${server.url}/api/v1/cases`, {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'hotline', description: 'E2E 密钥无上报权限', location: { lon: 121.4837, lat: 31.2369 } }),
    })
    assert.equal(report.status, 403)

    // revoked, after a confirmation: it stops working at once
    await row.getByTestId('key-revoke').click()
    await page.getByTestId('key-revoke-dialog').waitFor()
    await page.getByTestId('key-revoke-dialog-confirm').click()
    await page.getByTestId('key-revoke-dialog').waitFor({ state: 'detached' })
    await page.locator('[data-testid="keys-table"] tr[data-name="e2e-reader"][data-status="revoked"]').waitFor()
    assert.equal(await row.getByTestId('key-revoke').count(), 0)
    assert.equal((await cases(key)).status, 401)
    await shot(page, 'key-revoked')
    assert.deepEqual(errors, [])
  })

  it('an operator has no administration entry, and /admin says no access', async () => {
    const page = await newPage('operator')
    await signIn(page, 'operator')
    await page.waitForURL(/\/screen/)
    await assertNoAdminWayIn(page, ui, '', 'users-table')
    await shot(page, 'operator-no-access')
    const operator = await api.login('operator')
    assert.equal((await api.call('GET', '/users', operator)).status, 403)
    assert.equal((await api.call('GET', '/api-keys', operator)).status, 403)
    assert.deepEqual(errors, [])
  })

  it('the page speaks English, and the admin header still fits on one line', async () => {
    const page = await newPage('admin-en')
    await signIn(page, 'admin')
    await page.waitForURL(/\/screen/)
    await setLanguage(page, 'en')
    await openAdmin(page)
    assert.equal((await page.getByTestId('nav-admin').textContent()).trim(), 'Admin')
    assert.equal((await page.locator('h1').textContent()).trim(), 'Administration')
    assert.equal((await page.getByTestId('admin-tab-users').textContent()).trim(), 'Users')
    assert.equal((await page.getByTestId('admin-tab-api-keys').textContent()).trim(), 'API keys')
    const head = await page.locator('[data-testid="users-table"] thead').textContent()
    for (const word of ['Username', 'Name', 'Role', 'Scope', 'Unit', 'State', 'Actions']) assert.ok(head.includes(word), `${word} in ${head}`)
    assert.match(await userRow(page, 'operator').getByTestId('user-row-role').textContent(), /Operator/)
    assert.match(await page.getByTestId('users-count').textContent(), /accounts/)

    // an empty form sent with Enter names what is missing
    await page.getByTestId('user-create').click()
    await focused(page, 'user-username')
    await page.keyboard.press('Enter')
    assert.equal((await page.getByTestId('user-error-username').textContent()).trim(), 'Required')
    assert.equal((await page.getByTestId('user-error-password').textContent()).trim(), 'Required')
    assert.match(await page.getByTestId('user-password-rules').textContent(), /8 to 128 characters/)
    await shot(page, 'english-form')
    await page.keyboard.press('Escape')
    await page.getByTestId('user-form').waitFor({ state: 'detached' })

    const fits = await page.evaluate(() => {
      const header = document.querySelector('.app-header')
      const tops = [...header.querySelectorAll('.nav a')].map((a) => a.getBoundingClientRect().top)
      const who = header.querySelector('[data-testid="who"]').getBoundingClientRect().width
      return { oneRow: new Set(tops).size === 1, overflow: header.scrollWidth - header.clientWidth, whoShown: who >= 40 }
    })
    assert.deepEqual(fits, { oneRow: true, overflow: 0, whoShown: true })
    await page.getByTestId('admin-tab-api-keys').click()
    await page.getByTestId('admin-keys').waitFor()
    assert.match(await page.locator('[data-testid="keys-table"] thead').textContent(), /Permissions/)
    await shot(page, 'english')
    assert.deepEqual(errors, [])
  })
})
