// Devices, telemetry rules and the configuration in force on the administration page. An admin
// registers a water-level gauge in Huangpu from the UI (sent with Enter); its readings of the
// last hour are posted through the API, a stretch of them above 30 cm. The admin drafts "above
// 30 cm, clears at 25, for 10 minutes, orange" and tests it on the gauge: the tester's table
// shows exactly one raise, when the level had been above 30 for ten minutes, and one clear, at
// the first reading at 25 or below (both computed here from the readings), the chart carries the
// thresholds and both pins. A duration beyond a week is refused beside its field before anything
// is sent; a device the server does not know is refused beside the tester's device field; a
// scope that leaves the gauge out says so. Saved, the rule is listed and the API has it. The
// configuration in force shows overdue_watch_secs at 30 from the defaults, session_hours from
// the environment, and the personal-data keys (set in the environment) as a lock, never their
// value. The same in English, with a custom window and a clear value above the trigger refused;
// then the rule is deleted after a confirmation.
// A dispatcher has no administration menu, and the API refuses them the settings and the tester.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { ARTIFACTS, sessionsOf, setLanguage, signIn as signInAt } from './harness.mjs'
import {
  assertAdminRefused, assertNoAdminWayIn, focused, openAdminSection, openAdminTab, recordingPage, startStage, stopStage, text,
} from './adminKit.mjs'

const TAG = Date.now().toString(36).toUpperCase()
const DEVICE = `E2E-WL-${TAG}`
const RULE = `e2e-flood-${TAG.toLowerCase()}`
/** The personal-data keys the server is started with: they must never reach the page. */
const PII_SECRET = randomBytes(32).toString('hex')

let server, ui, chrome, api
const errors = []
const tokenOf = sessionsOf(() => api)
/** 4xx answers the tests provoke (an unknown device, a dispatcher's 403) log "Failed to load resource": expected. */
const EXPECTED = /Failed to load resource: the server responded with a status of 4\d\d/
const newPage = (who) => recordingPage(chrome, who, errors, { expected: EXPECTED })
const signIn = (page, username) => signInAt(page, ui, username)

/** The readings posted: two minutes apart, ending 12 minutes ago; above 30 from the 4th to the 10th. */
const VALUES = [12, 18, 24, 31, 33, 35, 36, 34, 32, 31, 28, 26, 24, 20, 15]
const STEP_MS = 120_000
let readingTimes = []

// the node's configuration gets two layers from the environment (the server's alone): a secret and a plain value
before(async () => ({ server, ui, chrome, api } = await startStage({
  env: { CITYOPS_PII_KEYS: `k1 ${PII_SECRET}`, CITYOPS_SESSION_HOURS: '10' },
})))
after(() => stopStage({ server, ui, chrome }))

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `admin-devices-${name}.png`), fullPage: true })
const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z')
/** HH:MM:SS in Shanghai time (UTC+8, no summer time). */
const clock = (ms) => new Date(ms + 8 * 3600_000).toISOString().slice(11, 19)

/** What the draft must do on the readings: raise once the level has been above 30 for 10 minutes, clear at 25 or below. */
function expectedEvents() {
  let since = null
  let active = false
  const events = []
  VALUES.forEach((v, i) => {
    const at = readingTimes[i]
    if (!active) {
      if (v > 30) {
        since ??= at
        if (at - since >= 600_000) {
          active = true
          events.push({ change: 'raise', at, value: v })
        }
      } else since = null
    } else if (v <= 25) {
      active = false
      since = null
      events.push({ change: 'clear', at, value: v })
    }
  })
  return events
}

async function postReadings() {
  const end = Math.floor(Date.now() / 1000) * 1000 - 12 * 60_000
  readingTimes = VALUES.map((_, i) => end - (VALUES.length - 1 - i) * STEP_MS)
  const batch = VALUES.map((value, i) => ({ device: DEVICE, metric: 'water_level', value, ts: iso(readingTimes[i]) }))
  const r = await api.call('POST', '/telemetry', await tokenOf('admin'), batch)
  assert.equal(r.status, 200, JSON.stringify(r.json))
  assert.equal(r.json.accepted, VALUES.length, JSON.stringify(r.json))
}

/** The tester's table as [change, data-at, value, level] rows. */
async function testedEvents(page) {
  return page.locator('[data-testid="tester-events"] tbody tr').evaluateAll((rows) =>
    rows.map((r) => [r.dataset.change, r.dataset.at, Number(r.dataset.value), r.dataset.level]))
}

describe('devices, telemetry rules and the configuration in force', { timeout: 240_000 }, () => {
  it('an admin registers a gauge, tests a draft rule on its readings, saves it, and reads the configuration', async () => {
    const page = await newPage('admin')
    await signIn(page, 'admin')
    await openAdminSection(page, 'devices')
    assert.equal(await page.getByTestId('admin-tab-devices').getAttribute('aria-current'), 'page')
    assert.equal(await text(page.getByTestId('admin-section-title')), '设备与预警规则')
    await page.locator('[data-testid="devices-table"] tbody tr').first().waitFor()
    await page.locator('[data-testid="rules-table"] tbody tr').first().waitFor()

    // ---- a new gauge, typed in the dialog and sent with Enter
    await page.getByTestId('device-create').click()
    await focused(page, 'device-id')
    await page.getByTestId('device-id').fill(DEVICE)
    await page.getByTestId('device-kind').fill('water_level_gauge')
    await page.getByTestId('device-name').fill(`中山南路积水监测点（测试 ${TAG}）`)
    // a longitude out of range is caught before sending
    await page.getByTestId('device-lon').fill('221.4919')
    await page.getByTestId('device-lat').fill('31.215')
    await page.getByTestId('device-lat').press('Enter')
    assert.equal(await text(page.getByTestId('device-error-location')), '经度为 -180 到 180 之间的数字')
    assert.equal(await page.getByTestId('device-lon').getAttribute('aria-invalid'), 'true')
    await page.getByTestId('device-lon').fill('121.4919')
    await page.getByTestId('device-lat').press('Enter')
    await page.locator('[data-testid="devices-notice"]', { hasText: `已登记设备 ${DEVICE}` }).waitFor()
    await page.getByTestId('device-form').waitFor({ state: 'detached' })
    await focused(page, 'device-create')
    const row = page.locator(`[data-testid="devices-table"] tr[data-id="${DEVICE}"]`)
    await row.waitFor()
    assert.equal(await row.getByTestId('device-row-area').getAttribute('data-area'), '310101002001')
    assert.match(await text(row.getByTestId('device-row-area')), /^黄浦区 310101002001$/)
    assert.equal(await text(row.getByTestId('device-row-status')), '在用')
    const registered = await api.call('GET', `/devices/${DEVICE}`, await tokenOf('admin'))
    assert.equal(registered.status, 200)
    assert.deepEqual([registered.json.kind, registered.json.area, registered.json.status], ['water_level_gauge', '310101002001', 'active'])
    // the search finds it by a part of its id
    await page.getByTestId('devices-q').fill(TAG)
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="devices-table"] tbody tr').length === 1)
    await shot(page, 'registered')

    await postReadings()
    const expected = expectedEvents()
    assert.deepEqual(expected.map((e) => e.change), ['raise', 'clear'])
    assert.equal(expected[0].at, readingTimes[8], 'the raise comes ten minutes after the level first went above 30')
    assert.equal(expected[1].at, readingTimes[12], 'the clear comes at the first reading at 25 or below')

    // ---- the draft
    await page.getByTestId('jump-rules').click()
    await page.getByTestId('rule-create').click()
    await focused(page, 'rule-id')
    await page.getByTestId('rule-id').fill(RULE)
    await page.getByTestId('rule-name').fill(`积水超过30厘米持续10分钟（测试 ${TAG}）`)
    // the indicator is water level: its unit beside the values
    assert.equal(await text(page.getByTestId('rule-condition-value').locator('xpath=..')), 'cm')
    await page.getByTestId('rule-condition-value').fill('30')
    await page.getByTestId('rule-condition-clear').fill('25')
    await page.locator('[data-testid="rule-level-orange"]').click()
    // a duration beyond a week: refused beside its field, and nothing is sent
    await page.getByTestId('rule-duration').fill('170')
    await page.getByTestId('rule-duration-unit').click()
    await page.locator('.el-select-dropdown__item:visible', { hasText: /^\s*小时\s*$/ }).click()
    await page.getByTestId('tester-device').fill(DEVICE)
    await page.getByTestId('tester-run').click()
    assert.equal(await text(page.getByTestId('rule-error-duration_secs')), '持续时间为 0 到一周（604800 秒）之间的整秒数')
    assert.equal(await page.getByTestId('rule-duration').getAttribute('aria-invalid'), 'true')
    assert.equal(await page.getByTestId('tester-result').count(), 0)
    await shot(page, 'duration-refused')
    await page.getByTestId('rule-duration').fill('10')
    await page.getByTestId('rule-duration-unit').click()
    await page.locator('.el-select-dropdown__item:visible', { hasText: /^\s*分钟\s*$/ }).click()

    // a device the server does not know: its refusal beside the tester's device field
    await page.getByTestId('tester-device').fill(`${DEVICE}-NONE`)
    await page.getByTestId('tester-run').click()
    await page.getByTestId('tester-error-device').waitFor()
    assert.match(await text(page.getByTestId('tester-error-device')), /not found/)
    assert.equal(await page.getByTestId('rule-error-duration_secs').count(), 0)

    // the gauge, over the last hour, tested from the keyboard
    await page.getByTestId('tester-device').fill(DEVICE)
    await page.getByTestId('tester-device').press('Tab') // the suggestions close
    assert.equal(await page.locator('[data-testid="tester-window-1h"] input').isChecked(), true)
    await page.getByTestId('tester-run').focus()
    await page.keyboard.press('Enter')
    const result = page.getByTestId('tester-result')
    await result.waitFor()
    assert.deepEqual(
      await testedEvents(page),
      expected.map((e) => [e.change, iso(e.at), e.value, 'orange']),
    )
    const rows = page.locator('[data-testid="tester-events"] tbody tr')
    assert.match(await text(rows.nth(0).getByTestId('tester-event-at')), new RegExp(`${clock(expected[0].at)}$`))
    assert.match(await text(rows.nth(1).getByTestId('tester-event-at')), new RegExp(`${clock(expected[1].at)}$`))
    assert.equal(await text(rows.nth(0).getByTestId('tester-event-change')), '触发')
    assert.equal(await text(rows.nth(1).getByTestId('tester-event-change')), '解除')
    assert.equal(await text(rows.nth(0).locator('.lvl-chip')), '橙色预警')
    assert.equal(await text(rows.nth(0).getByTestId('tester-event-value')), '32 cm')
    assert.equal(await result.getAttribute('data-alarms'), '1')
    assert.equal(await result.getAttribute('data-active-at-end'), 'false')
    assert.equal(await result.getAttribute('data-watches'), 'true')
    assert.equal(await result.getAttribute('data-readings'), String(VALUES.length))
    assert.equal(await text(page.getByTestId('tester-alarms')), '1 次告警')
    assert.equal(await page.getByTestId('tester-note-notWatched').count(), 0)
    const chart = page.getByTestId('tester-chart')
    assert.equal(await chart.getAttribute('data-points'), String(VALUES.length))
    assert.equal(await chart.getAttribute('data-thresholds'), 'trigger:30,clear:25')
    assert.equal(await chart.getAttribute('data-markers'), expected.map((e) => `${e.change}@${new Date(e.at).toISOString()}`).join(','))
    await chart.locator('canvas').first().waitFor()
    await result.scrollIntoViewIfNeeded()
    await result.screenshot({ path: join(ARTIFACTS, 'admin-devices-tester.png') })

    // a scope that leaves the gauge out: the tester says so, and nothing is raised
    await page.locator('[data-testid="rule-scope-kind-device"]').click()
    await page.getByTestId('rule-scope-device').fill('SIM-0101-0000015')
    await page.getByTestId('tester-run').click()
    await page.getByTestId('tester-note-notWatched').waitFor()
    assert.equal(await text(page.getByTestId('tester-note-notWatched')), '规则的范围不包含该设备：它不会对这台设备告警。')
    assert.equal(await result.getAttribute('data-alarms'), '0')
    assert.equal(await page.getByTestId('tester-no-events').count(), 1)
    await page.locator('[data-testid="rule-scope-kind-all"]').click()
    // the result is of the older draft now
    await page.getByTestId('tester-stale').waitFor()

    // ---- saved: listed, and the API has it
    await page.getByTestId('rule-save').click()
    await page.locator('[data-testid="rules-notice"]', { hasText: `已新建规则 ${RULE}` }).waitFor()
    await page.getByTestId('rule-form').waitFor({ state: 'detached' })
    const ruleRow = page.locator(`[data-testid="rules-table"] tr[data-id="${RULE}"]`)
    await ruleRow.waitFor()
    assert.equal(await text(ruleRow.getByTestId('rule-row-condition')), '高于 30 cm，回落到 25 cm 及以下解除 持续 10 分钟')
    assert.equal(await text(ruleRow.getByTestId('rule-row-level')), '橙色预警')
    assert.equal(await text(ruleRow.getByTestId('rule-row-scope')), '全部设备')
    assert.equal(await text(ruleRow.getByTestId('rule-row-enabled')), '启用')
    const stored = await api.call('GET', `/telemetry/rules/${RULE}`, await tokenOf('admin'))
    assert.equal(stored.status, 200, JSON.stringify(stored.json))
    assert.deepEqual(
      { ...stored.json, schedule: stored.json.schedule ?? null },
      {
        id: RULE, name: `积水超过30厘米持续10分钟（测试 ${TAG}）`, indicator: 'water_level', scope: { kind: 'all' },
        condition: { kind: 'above', value: 30, clear: 25 }, duration_secs: 600, repeat: 1, level: 'orange', schedule: null, enabled: true,
      },
    )
    await shot(page, 'saved')

    // ---- the configuration in force
    await openAdminTab(page, 'settings')
    assert.equal(await text(page.getByTestId('admin-section-title')), '运行配置')
    await page.locator('[data-testid="settings-table"] tbody tr').first().waitFor()
    assert.match(await text(page.getByTestId('settings-intro')), /启动时读取.*CITYOPS_/)
    const watch = page.locator('[data-testid="settings-table"] tr[data-key="overdue_watch_secs"]')
    assert.equal(await text(watch.getByTestId('setting-value')), '30')
    assert.equal(await text(watch.getByTestId('setting-source')), '默认值')
    assert.match(await text(watch.locator('th')), /CITYOPS_OVERDUE_WATCH_SECS/)
    const hours = page.locator('[data-testid="settings-table"] tr[data-key="session_hours"]')
    assert.equal(await text(hours.getByTestId('setting-value')), '10')
    assert.equal(await text(hours.getByTestId('setting-source')), '环境变量')
    const keys = page.locator('[data-testid="settings-table"] tr[data-key="pii_keys"]')
    assert.equal(await keys.getAttribute('data-secret'), 'true')
    assert.equal(await text(keys.getByTestId('setting-secret')), '已隐藏 机密值，不显示')
    assert.equal(await text(keys.getByTestId('setting-source')), '环境变量')
    // a table folds: shown on demand
    const evaluation = page.locator('[data-testid="settings-table"] tr[data-key="evaluation"]')
    assert.equal(await evaluation.getByTestId('setting-json').isVisible(), false)
    await evaluation.locator('summary').click()
    assert.match(await evaluation.getByTestId('setting-json').textContent(), /"max_days": 366/)
    const html = await page.content()
    assert.ok(!html.includes(PII_SECRET), 'the personal-data key reached the page')
    assert.ok(!html.includes('[REDACTED]'))
    // the search, kept in the address
    await page.getByTestId('settings-q').fill('overdue')
    await page.waitForURL(/q=overdue/)
    const found = await page.locator('[data-testid="settings-table"] tbody tr').evaluateAll((r) => r.map((x) => x.dataset.key))
    assert.deepEqual(found, ['overdue_escalation', 'overdue_watch_secs'])
    await shot(page, 'settings')
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('the sections speak English', async () => {
    assert.ok(readingTimes.length, 'the first test posted the readings')
    const expected = expectedEvents()
    const page = await newPage('admin-en')
    await signIn(page, 'admin')
    await setLanguage(page, 'en')
    await openAdminSection(page, 'devices')
    assert.equal(await text(page.getByTestId('admin-tab-devices')), 'Devices and rules')
    assert.equal(await text(page.getByTestId('admin-tab-settings')), 'Configuration')
    const ruleRow = page.locator(`[data-testid="rules-table"] tr[data-id="${RULE}"]`)
    await ruleRow.waitFor()
    assert.equal(await text(ruleRow.getByTestId('rule-row-condition')), 'above 30 cm; clears at 25 cm or below for 10 minutes')
    assert.equal(await text(ruleRow.getByTestId('rule-row-level')), 'Orange warning')

    // the saved rule, tested again over a window typed in Beijing time
    await ruleRow.getByTestId('rule-edit').click()
    await focused(page, 'rule-name')
    assert.equal(await page.getByTestId('rule-id').isDisabled(), true)
    assert.equal(await page.getByTestId('rule-duration').inputValue(), '10')
    await page.getByTestId('tester-device').fill(DEVICE)
    await page.getByTestId('tester-device').press('Tab')
    await page.locator('[data-testid="tester-window-custom"]').click()
    const local = (ms) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 16)
    // from after to: refused beside the field
    await page.getByTestId('tester-from').fill(local(Date.now()))
    await page.getByTestId('tester-to').fill(local(Date.now() - 2 * 3600_000))
    await page.getByTestId('tester-run').click()
    assert.equal(await text(page.getByTestId('tester-error-from')), 'From must be before to')
    await page.getByTestId('tester-from').fill(local(readingTimes[0] - 5 * 60_000))
    await page.getByTestId('tester-to').fill(local(Date.now() + 60_000))
    await page.getByTestId('tester-run').click()
    await page.getByTestId('tester-result').waitFor()
    assert.deepEqual(await testedEvents(page), expected.map((e) => [e.change, iso(e.at), e.value, 'orange']))
    const rows = page.locator('[data-testid="tester-events"] tbody tr')
    assert.equal(await text(rows.nth(0).getByTestId('tester-event-change')), 'Raised')
    assert.equal(await text(rows.nth(1).getByTestId('tester-event-change')), 'Cleared')
    assert.equal(await text(page.getByTestId('tester-alarms')), '1 alarm')
    assert.match(await text(page.getByTestId('tester-summary')), new RegExp(`Device ${DEVICE}, .* to .*: ${VALUES.length} readings replayed`))

    // a clear value above the trigger: refused beside it, as the server would
    await page.getByTestId('rule-condition-clear').fill('35')
    await page.getByTestId('rule-condition-clear').press('Enter')
    assert.equal(await text(page.getByTestId('rule-error-condition-clear')), 'An "above" rule clears at or below its trigger value')
    await shot(page, 'english-refused')
    // Escape leaves without saving
    await page.keyboard.press('Escape')
    await page.getByTestId('rule-form').waitFor({ state: 'detached' })
    await focused(page, 'rule-edit')
    assert.deepEqual((await api.call('GET', `/telemetry/rules/${RULE}`, await tokenOf('admin'))).json.condition, { kind: 'above', value: 30, clear: 25 })

    // deleted after a confirmation that starts on Cancel
    await ruleRow.getByTestId('rule-delete').click()
    await page.getByTestId('rule-delete-dialog').waitFor()
    await focused(page, 'rule-delete-dialog-cancel')
    await page.getByTestId('rule-delete-dialog-confirm').click()
    await page.locator('[data-testid="rules-notice"]', { hasText: `Rule ${RULE} deleted` }).waitFor()
    await ruleRow.waitFor({ state: 'detached' })
    assert.equal((await api.call('GET', `/telemetry/rules/${RULE}`, await tokenOf('admin'))).status, 404)

    await page.getByTestId('admin-tab-settings').click()
    await page.locator('[data-testid="settings-table"] tbody tr').first().waitFor()
    const watch = page.locator('[data-testid="settings-table"] tr[data-key="overdue_watch_secs"]')
    assert.equal(await text(watch.getByTestId('setting-source')), 'Default')
    const keys = page.locator('[data-testid="settings-table"] tr[data-key="pii_keys"]')
    assert.equal(await text(keys.getByTestId('setting-secret')), 'hidden A secret: never shown')
    assert.equal(await text(keys.getByTestId('setting-source')), 'Environment')
    assert.match(await text(page.getByTestId('settings-count')), /^\d+ settings$/)
    await shot(page, 'english-settings')
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('a dispatcher has no way in, and the API refuses them the settings and the tester', async () => {
    const page = await newPage('dispatcher')
    await signIn(page, 'dispatcher')
    await assertNoAdminWayIn(page, ui, 'devices', 'admin-devices')
    await assertAdminRefused(page, ui, 'settings', 'settings-table')
    await page.context().close()

    const dispatcher = await tokenOf('dispatcher')
    const settings = await api.call('GET', '/settings', dispatcher)
    assert.equal(settings.status, 403, JSON.stringify(settings.json))
    // they read the rules, and may not try one
    assert.equal((await api.call('GET', '/telemetry/rules', dispatcher)).status, 200)
    const rule = {
      id: RULE, name: 'dispatcher draft', indicator: 'water_level', scope: { kind: 'all' },
      condition: { kind: 'above', value: 30, clear: 25 }, duration_secs: 600, level: 'orange',
    }
    const test = await api.call('POST', '/telemetry/rule-tests', dispatcher, { rule, device: DEVICE })
    assert.equal(test.status, 403, JSON.stringify(test.json))
    assert.deepEqual(errors, [])
  })
})
