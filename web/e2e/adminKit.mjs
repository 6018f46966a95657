// Helpers shared by the administration e2e files (admin.test.mjs, admin-*.test.mjs): the server,
// UI and browser a file runs against, a page that records errors, the way into a section from the
// header's menu, and the check that someone who is not an admin has no way in.
import assert from 'node:assert/strict'
import { apiClient, launchBrowser, newPage, startCityops, startUi } from './harness.mjs'

/**
 * The demo server (`env`: added to its environment), the UI and Chromium a file's tests share, and
 * an API client of the server; whatever started is stopped again if a later step fails.
 */
export async function startStage({ env } = {}) {
  const stage = {}
  try {
    stage.server = await startCityops(env ? { env } : {})
    stage.ui = await startUi(stage.server.url)
    stage.chrome = await launchBrowser()
  } catch (e) {
    await stopStage(stage)
    throw e
  }
  stage.api = apiClient(stage.server.url)
  return stage
}

/** Stops what `startStage` started: the browser, the UI, then the server. */
export async function stopStage({ chrome, ui, server } = {}) {
  await chrome?.close()
  await ui?.stop()
  await server?.stop()
}

/**
 * A page (30 s timeout) recording page errors and console errors, except the browser's line for an
 * answer the test provokes on purpose (`expected`, e.g. a non-admin's 403).
 */
export async function recordingPage(chrome, who, errors, { expected = null, ...options } = {}) {
  const page = await newPage(chrome, who, errors, { consoleErrors: false, timeout: 30_000, ...options })
  page.on('console', (m) => {
    if (m.type() === 'error' && !expected?.test(m.text())) errors.push(`${who}: ${m.text()}`)
  })
  return page
}

/** A locator's text, spaces collapsed. */
export const text = async (locator) => (await locator.textContent()).replace(/\s+/g, ' ').trim()

/** Waits until the element `testId` names has the focus (a dialog gives it to its first field once shown). */
export const focused = (page, testId) => page.waitForFunction((id) => document.activeElement?.dataset?.testid === id, testId)

/**
 * Waits for `ready`: a test id (letters, digits, `-`, `_`), or else a CSS selector, of which the
 * first match is waited for (e.g. a table's first row).
 */
async function waitReady(page, ready) {
  if (/^[\w-]+$/.test(ready)) await page.getByTestId(ready).waitFor()
  else await page.locator(ready).first().waitFor()
}

/** From the header's menu to the administration page as it opens (its first section), then `ready` if given. */
export async function openAdmin(page, ready) {
  await page.getByTestId('nav-admin').click()
  await page.waitForURL(/\/admin/)
  if (ready) await waitReady(page, ready)
}

/** On the administration page, to `section` by its tab (`/admin/<section>`), then `ready` if given. */
export async function openAdminTab(page, section, ready) {
  await page.getByTestId(`admin-tab-${section}`).click()
  await page.waitForURL(new RegExp(`/admin/${section}`))
  if (ready) await waitReady(page, ready)
}

/** From the header's menu to a section of the administration page, then `ready` (see `waitReady`) if given. */
export async function openAdminSection(page, section, ready) {
  await openAdmin(page)
  await openAdminTab(page, section, ready)
}

/**
 * Typed straight into the address bar, `/admin/<section>` (`/admin` when `section` is empty) says
 * no access, and shows neither the administration menu nor any of `absent` (test ids).
 */
export async function assertAdminRefused(page, ui, section, ...absent) {
  await page.goto(`${ui.url}/admin${section ? `/${section}` : ''}`)
  await page.getByTestId('admin-no-access').waitFor()
  assert.equal(await page.getByTestId('admin-menu').count(), 0, 'admin-menu')
  for (const testId of absent) assert.equal(await page.getByTestId(testId).count(), 0, testId)
}

/**
 * A signed-in user who is no admin has no way in: the header (once shown) offers no 系统管理, and
 * `/admin/<section>` is refused as `assertAdminRefused` checks.
 */
export async function assertNoAdminWayIn(page, ui, section, ...absent) {
  await page.getByTestId('nav-units').waitFor()
  assert.equal(await page.getByTestId('nav-admin').count(), 0, 'nav-admin')
  await assertAdminRefused(page, ui, section, ...absent)
}
