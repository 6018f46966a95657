// Responsibility grids (责任网格): an admin gives a Huangpu grid nobody patrols to the demo's
// inspector on the admin page, and is told beside the row why a dispatcher cannot take another;
// a hotline case reported at a point of that grid carries its inspector, whom the case page
// names; once the operator asks for verification the case is in the inspector's "my grid tasks".
// The admin page reads in English (a refusal too); a dispatcher has no admin page and the API
// refuses them the assignment.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ARTIFACTS, apiClient, launchBrowser, sessionsOf, setLanguage, signIn, startCityops, startUi } from './harness.mjs'

const TAG = `GR${Date.now().toString(36)}`
const HUANGPU = '310101'

let server, ui, chrome, api, tokenOf
const errors = []
/** The grid the admin assigns, a point inside it, and another grid of its street for the refusal. */
const place = { grid: null, street: null, point: null, other: null, caseId: null, number: null }

before(async () => {
  server = await startCityops()
  ui = await startUi(server.url)
  chrome = await launchBrowser()
  api = apiClient(server.url)
  tokenOf = sessionsOf(() => api)
})

after(async () => {
  await chrome?.close()
  await ui?.stop()
  await server?.stop()
})

async function call(who, method, path, body) {
  return api.call(method, path, await tokenOf(who), body)
}

async function newPage(who) {
  const page = await (await chrome.newContext()).newPage()
  page.on('pageerror', (e) => errors.push(`${who}: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    // the refusals this test provokes come back as 422s, which the browser logs
    if (/Failed to load resource.*422/.test(m.text())) return
    errors.push(`${who}: ${m.text()}`)
  })
  page.setDefaultTimeout(30_000)
  return page
}

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `grids-${name}.png`), fullPage: true })
const gridRow = (page, code) => page.locator(`[data-testid="grid-row"][data-code="${code}"]`)

/**
 * An unassigned Huangpu grid and a point inside it (a unit grid's centroid that `/geo/locate`
 * places in it), with another unassigned grid of the same street.
 */
async function findPlace() {
  const open = await call('admin', 'GET', `/responsibility-grids?area=${HUANGPU}&unassigned=true`)
  assert.equal(open.status, 200, JSON.stringify(open.json))
  const byStreet = new Map()
  for (const g of open.json) byStreet.set(g.street, [...(byStreet.get(g.street) ?? []), g.code])
  for (const [street, codes] of byStreet) {
    if (codes.length < 2) continue
    const units = await api.call('GET', `/geo/areas?level=grid&parent=${street}`)
    for (const grid of codes) {
      for (const f of units.json.features.filter((u) => u.properties.responsibility_grid === grid).slice(0, 5)) {
        const [lon, lat] = (await api.call('GET', `/geo/areas/${f.properties.code}`)).json.centroid
        const at = await api.call('GET', `/geo/locate?lon=${lon}&lat=${lat}`)
        if (at.json?.responsibility_grid === grid) {
          return { grid, street, point: { lon, lat }, other: codes.find((c) => c !== grid) }
        }
      }
    }
  }
  throw new Error('no unassigned Huangpu grid with a point found inside it')
}

/** Opens the grids section for the street, unassigned grids only. */
async function openSection(page, street) {
  await page.getByTestId('nav-admin').click()
  await page.waitForURL(/\/admin/)
  await page.getByTestId('admin-tab-grids').click()
  await page.waitForURL(/\/admin\/grids/)
  await page.getByTestId('admin-grids').waitFor()
  await page.getByTestId('grids-area').fill(street)
  await page.getByTestId('grids-unassigned').click()
  await page.waitForURL((url) => url.searchParams.get('area') === street && url.searchParams.get('unassigned') === 'true')
}

/**
 * Chooses in the row's select the option that shows `text`, typing `typed` first when given (a
 * username not offered); a list still opening misses the click, so it tries again.
 */
async function choose(page, code, text, typed) {
  const select = gridRow(page, code).getByTestId('grid-inspector-select')
  for (let attempt = 0; attempt < 3; attempt++) {
    await select.click()
    if (typed) await select.locator('input').fill(typed)
    await page.locator(`.grid-popper-${code} .el-select-dropdown__item:visible`, { hasText: text }).first().click()
    try {
      await page.waitForFunction(([c, x]) => document.querySelector(`[data-testid="grid-row"][data-code="${c}"] [data-testid="grid-inspector-select"]`)?.textContent?.includes(x),
        [code, text], { timeout: 3_000 })
      return
    } catch { /* chosen before the list was ready: again */ }
  }
  throw new Error(`${text} could not be chosen for ${code}`)
}

async function command(page, name, fill) {
  await page.getByTestId(`action-${name}`).click()
  const form = page.locator(`[data-testid="command-form"][data-command="${name}"]`)
  await form.waitFor()
  if (fill) await fill(form)
  await form.getByTestId('command-submit').click()
  await form.waitFor({ state: 'detached' })
}

describe('responsibility grids', { timeout: 240_000 }, () => {
  it('an admin assigns a grid to the inspector; a dispatcher is refused beside its row', async () => {
    Object.assign(place, await findPlace())
    const page = await newPage('admin')
    await signIn(page, ui, 'admin')
    await setLanguage(page, 'zh')
    await openSection(page, place.street)
    assert.equal(await page.getByTestId('admin-tab-grids').getAttribute('aria-current'), 'page')
    assert.equal((await page.getByTestId('admin-section-title').textContent()).trim(), '责任网格')
    const row = gridRow(page, place.grid)
    await row.waitFor()
    assert.equal(await row.getAttribute('data-inspector'), '')
    await row.getByTestId('grid-unassigned').waitFor()
    // the street is named beside its code
    assert.match(await row.getByTestId('grid-street').textContent(), new RegExp(`\\S+\\s*${place.street}`))

    await choose(page, place.grid, '王监督员（inspector）')
    await row.getByTestId('grid-save').click()
    await page.locator(`[data-testid="grid-row"][data-code="${place.grid}"][data-inspector="inspector"]`).waitFor()
    assert.equal((await page.getByTestId('grids-notice').textContent()).trim(), `已将网格 ${place.grid} 指派给 inspector`)
    const held = await call('admin', 'GET', `/responsibility-grids/${place.grid}`)
    assert.equal(held.json.inspector?.username, 'inspector', JSON.stringify(held.json))

    // a dispatcher is not offered; typed, the server refuses, and the row says why
    const other = gridRow(page, place.other)
    await choose(page, place.other, 'dispatcher', 'dispatcher')
    await other.getByTestId('grid-save').click()
    const refusal = other.locator('[data-testid="grid-refusal"][data-refusal="not_inspector"]')
    await refusal.waitFor()
    assert.equal((await refusal.textContent()).trim(), 'dispatcher 不是监督员账号，不能指派网格')
    assert.equal(await other.getAttribute('data-inspector'), '')
    assert.equal(await row.getByTestId('grid-refusal').count(), 0)
    assert.equal((await call('admin', 'GET', `/responsibility-grids/${place.other}`)).json.inspector ?? null, null)
    await shot(page, 'admin-zh')
    assert.deepEqual(errors, [])
  })

  it('a hotline case in the grid names its inspector, and reaches their grid tasks once verification is asked', async () => {
    assert.ok(place.grid, 'no grid from the first step')
    const created = await call('operator', 'POST', '/cases', {
      source: 'hotline', description: `${TAG} 市民来电：人行道护栏倒伏`, location: place.point,
    })
    assert.equal(created.status, 201, JSON.stringify(created.json))
    assert.deepEqual(
      { username: created.json.grid_inspector?.username, grid: created.json.grid_inspector?.grid },
      { username: 'inspector', grid: place.grid }, JSON.stringify(created.json.grid_inspector),
    )
    place.caseId = created.json.id
    place.number = created.json.number

    const page = await newPage('operator')
    await signIn(page, ui, 'operator')
    await setLanguage(page, 'zh')
    await page.goto(`${ui.url}/cases/${place.caseId}`)
    const named = page.locator(`[data-testid="case-grid-inspector"][data-username="inspector"][data-grid="${place.grid}"]`)
    await named.waitFor()
    assert.equal((await named.textContent()).trim(), `inspector（${place.grid}）`)
    await command(page, 'accept')
    await page.locator('[data-testid="case-state"][data-state="accepted"]').waitFor()
    await command(page, 'request-verification', (f) => f.locator('textarea').fill('请网格监督员现场核实'))
    await page.locator('[data-testid="case-state"][data-state="verifying"]').waitFor()
    await shot(page, 'case-operator')

    const inspector = await newPage('inspector')
    await signIn(inspector, ui, 'inspector')
    await setLanguage(inspector, 'zh')
    await inspector.goto(`${ui.url}/workbench?queue=my_grid_tasks`)
    const tab = inspector.locator('[data-testid="queue-tabs"] [data-queue="my_grid_tasks"]')
    await inspector.locator('[data-testid="queue-tabs"] [data-queue="my_grid_tasks"][aria-selected="true"]').waitFor()
    assert.equal((await tab.textContent()).trim(), '我的网格任务')
    await inspector.getByTestId('filter-q').fill(TAG)
    await inspector.getByTestId('filter-apply').click()
    await inspector.locator(`tr[data-number="${place.number}"]`).waitFor()
    // the queue is the grids' alone: no export of every inspector's tasks
    assert.equal(await inspector.getByTestId('export-csv').count(), 0)
    const mine = await call('inspector', 'GET', '/cases?mine=true&state=verifying,checking&limit=200')
    assert.equal(mine.status, 200, JSON.stringify(mine.json))
    assert.ok(mine.json.items.some((c) => c.id === place.caseId))
    assert.deepEqual(mine.json.items.filter((c) => c.grid_inspector?.username !== 'inspector').map((c) => c.number), [])
    await shot(inspector, 'workbench-inspector')
    assert.deepEqual(errors, [])
  })

  it('the admin page reads in English, a refusal too', async () => {
    assert.ok(place.other, 'no grid from the first step')
    const page = await newPage('admin-en')
    await signIn(page, ui, 'admin')
    await setLanguage(page, 'en')
    await openSection(page, place.street)
    assert.equal((await page.getByTestId('admin-tab-grids').textContent()).trim(), 'Responsibility grids')
    assert.equal((await page.getByTestId('admin-section-title').textContent()).trim(), 'Responsibility grids')
    const headers = (await page.locator('[data-testid="grids-table"] thead th').allTextContents()).map((h) => h.trim())
    assert.deepEqual(headers.slice(1), ['Grid', 'Street', 'Unit grids', 'Grid inspector', 'Assign'])
    const other = gridRow(page, place.other)
    await other.waitFor()
    await other.getByTestId('grid-unassigned').filter({ hasText: 'Unassigned' }).waitFor()
    await choose(page, place.other, 'nobody.here', 'nobody.here')
    await other.getByTestId('grid-save').click()
    const refusal = other.locator('[data-testid="grid-refusal"][data-refusal="unknown"]')
    await refusal.waitFor()
    assert.equal((await refusal.textContent()).trim(), 'There is no active account nobody.here')
    await shot(page, 'admin-en')
    assert.deepEqual(errors, [])
  })

  it('a dispatcher has no admin page, and the API refuses them the assignment', async () => {
    const page = await newPage('dispatcher')
    await signIn(page, ui, 'dispatcher')
    await page.getByTestId('nav-alarms').waitFor()
    assert.equal(await page.getByTestId('nav-admin').count(), 0)
    await page.goto(`${ui.url}/admin/grids`)
    await page.getByTestId('admin-no-access').waitFor()
    assert.equal(await page.getByTestId('admin-grids').count(), 0)
    const refused = await call('dispatcher', 'PUT', `/responsibility-grids/${place.other ?? 'R310101002001'}`, { inspector: 'inspector' })
    assert.equal(refused.status, 403, JSON.stringify(refused.json))
    assert.deepEqual(errors, [])
  })
})
