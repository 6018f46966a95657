// Helpers shared by the emergency e2e files (emergency.test.mjs, rainstorm.test.mjs): a page that
// records errors, reading and waiting on a locator's text, the weather service's CAP alert, and
// the 应急指挥 page's navigation, task cards and area lists.
import assert from 'node:assert/strict'
import { newPage } from './harness.mjs'

/**
 * A page recording page errors and console errors, except the browser's line for an answer the
 * test provokes on purpose (`expected`, e.g. the 422 of a file that is not CAP).
 */
export async function recordingPage(chrome, who, errors, { expected = null, downloads = false } = {}) {
  const page = await newPage(chrome, who, errors, { consoleErrors: false, downloads, timeout: 20_000 })
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    if (expected && expected.test(m.text())) return
    errors.push(`${who}: ${m.text()}`)
  })
  return page
}

/** A locator's text, spaces collapsed. */
export const text = async (locator) => ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim()

/** Waits until the element's text (spaces collapsed) matches: names arrive after the page. */
export async function textOf(locator, pattern) {
  const deadline = Date.now() + 15_000
  let last = ''
  while (Date.now() < deadline) {
    last = await text(locator).catch(() => '')
    if (typeof pattern === 'string' ? last === pattern : pattern.test(last)) return last
    await new Promise((r) => setTimeout(r, 100))
  }
  assert.fail(`${locator}: ${JSON.stringify(last)} does not match ${pattern}`)
}

/** A CAP 1.2 alert as China's early-warning release system publishes it. */
export function capAlert({ identifier, event, severity = 'Extreme', headline, codes, areaDesc, hours = 6 }) {
  const now = new Date()
  const stamp = (d) => d.toISOString().replace(/\.\d{3}Z$/, '+00:00')
  const geocodes = codes.map((c) => `<geocode><valueName>GB/T 2260</valueName><value>${c}</value></geocode>`).join('')
  return `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>${identifier}</identifier>
  <sender>sh-meteo@weather.sh.cn</sender>
  <sent>${stamp(now)}</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>zh-CN</language>
    <event>${event}</event>
    <urgency>Immediate</urgency>
    <severity>${severity}</severity>
    <certainty>Likely</certainty>
    <expires>${stamp(new Date(now.getTime() + hours * 3600_000))}</expires>
    <headline>${headline}</headline>
    <area><areaDesc>${areaDesc}</areaDesc>${geocodes}</area>
  </info>
</alert>`
}

/** Opens 应急指挥 from the menu (then `query` on it, at `ui.url`), once its warnings show. */
export async function openEmergency(page, ui, query = '') {
  await page.getByTestId('nav-emergency').click()
  await page.waitForURL(/\/emergency/)
  if (query) await page.goto(`${ui.url}/emergency${query}`)
  await page.getByTestId('warnings-card').waitFor()
}

/** The command view's task card of a unit. */
export const card = (page, unit) => page.locator(`[data-testid="task-card"][data-unit="${unit}"]`)
/** A handler's own task of a unit. */
export const myTask = (page, unit) => page.locator(`[data-testid="my-task"][data-unit="${unit}"]`)

/** Adds an area to an area list by its code, once the field has named it. */
export async function addArea(page, prefix, code, name) {
  await page.getByTestId(`${prefix}-code`).fill(code)
  await page.locator(`[data-testid="${prefix}-code-name"]`, { hasText: name }).waitFor()
  await page.getByTestId(`${prefix}-add`).click()
  await page.locator(`[data-testid="${prefix}-item"][data-code="${code}"]`).waitFor()
}
