// Stage deadlines in the web UI: a unit handler's queue counts the working time left on each
// case; a center leader's overdue queue shows the red of cases past their deadline and what the
// overdue watch escalated, with the watch's findings and every clock change on the case's
// timeline; a leader sends a supervision notice (督办) with a reply term, which the page shows
// until the unit's feedback answers it; a case past the warning share of its term is yellow (临期)
// beside a red one. In Chinese, and the marks again in English.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  ARTIFACTS, apiClient, launchBrowser, newPage as openPage, sessionsOf, setLanguage, signIn as signInAt, startCityops, startUi,
} from './harness.mjs'

const TAG = `DL${Date.now().toString(36)}`

let server, ui, chrome, api
/** The yellow and the red case of (d), started in `before` so that their clocks run while (a)-(c) do. */
let yellowAndRed
const errors = []
const tokenOf = sessionsOf(() => api)
const newPage = (who) => openPage(chrome, who, errors)
const signIn = (page, username) => signInAt(page, ui, username)

before(async () => {
  server = await startCityops()
  ui = await startUi(server.url)
  chrome = await launchBrowser()
  api = apiClient(server.url)
  yellowAndRed = shortTermCases()
  yellowAndRed.catch(() => {}) // (d) reports a failure
})

after(async () => {
  await chrome?.close()
  await ui?.stop()
  await server?.stop()
})




const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `deadlines-${name}.png`), fullPage: true })


async function run(who, c, command, body = {}) {
  const r = await api.call('POST', `/cases/${c.id}/${command}`, await tokenOf(who), { version: c.version, ...body })
  assert.equal(r.status, 200, `${who} ${command}: ${JSON.stringify(r.json)}`)
  return r.json
}

/** An inspector's case signed for by Huangpu's water company: its handling clock runs. */
async function inHandling(what, category = '20101') {
  const created = await api.call('POST', '/cases', await tokenOf('inspector'), {
    source: 'inspector', description: `${TAG} ${what}`, location: { lon: 121.4919, lat: 31.215 }, area: '310101002001',
  })
  assert.equal(created.status, 201, JSON.stringify(created.json))
  let c = created.json
  c = await run('operator', c, 'accept')
  c = await run('shiftlead', c, 'file', { category })
  c = await run('dispatcher', c, 'dispatch', { unit: '310101-ZLS' })
  c = await run('water', c, 'sign')
  assert.equal(c.stage, 'handling')
  return c
}

/**
 * Two cases in the water company's handling queue whose terms are minutes of natural time, so
 * that their marks do not wait on the working calendar: one of a class given a four-minute
 * handling term (yellow once the warning share is used, red after four minutes), one of a class
 * given a one-minute term (red after a minute).
 */
async function shortTermCases() {
  const admin = await tokenOf('admin')
  for (const [code, amount] of [['20105', 4], ['20104', 1]]) {
    const put = await api.call('PUT', `/categories/${code}`, admin, { terms: { handling: { amount, unit: 'minutes' } } })
    assert.equal(put.status, 200, JSON.stringify(put.json))
  }
  const yellow = await inHandling('外白渡桥下水域漂浮垃圾', '20105')
  const red = await inHandling('中山东二路道路不洁', '20104')
  return { yellow, red }
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms))
const background = (locator) => locator.evaluate((el) => getComputedStyle(el).backgroundColor)

/** An open case of the seeded city the watch has marked red (its first look runs at start). */
async function redCase() {
  for (let i = 0; i < 60; i++) {
    const r = await api.call('GET', '/cases?overdue=true&limit=200', await tokenOf('leader'))
    assert.equal(r.status, 200, JSON.stringify(r.json))
    const items = r.json.items ?? r.json.cases ?? r.json
    const red = items.find((c) => c.watch?.mark === 'overdue' && c.watch?.escalated_to) ??
      items.find((c) => c.watch?.mark === 'overdue')
    if (red) return red
    await new Promise((res) => setTimeout(res, 1000))
  }
  assert.fail('no case the watch marked overdue in the seeded city')
}

const row = (page, number) => page.locator(`tr[data-number="${number}"]`)

describe('stage deadlines and the overdue watch', { timeout: 420_000 }, () => {
  it('(a) a unit handler sees the working time left on a case in its queue and on its page', async () => {
    const c = await inHandling('中山东一路人行道私搭乱建')
    const page = await newPage('water')
    await signIn(page, 'water')
    await page.goto(`${ui.url}/workbench?queue=handling`)
    const deadline = row(page, c.number).getByTestId('deadline')
    await deadline.waitFor()
    assert.equal(await deadline.getAttribute('data-mark'), c.time_left.mark)
    const countdown = await deadline.getByTestId('deadline-countdown').textContent()
    assert.match(countdown, c.time_left.minutes_left >= 0 ? /^剩余.+（工作时间）$/ : /^已超期.+（工作时间）$/)
    await shot(page, 'a-queue')

    await row(page, c.number).click()
    await page.getByTestId('case-number').waitFor()
    const left = page.getByTestId('case-time-left')
    await left.getByRole('progressbar').waitFor()
    assert.match(await left.textContent(), /处置/)
    // The timeline says when the handling clock started, with its term and its yellow point.
    const clock = page.locator('[data-testid="timeline-clock"][data-reason="started"]').last()
    assert.match(await clock.textContent(), /处置计时：时限\d+个工作(日|小时)，.+到期（.+起临期）/)
    await shot(page, 'a-case')
    await page.context().close()
  })

  it('(b) a center leader sees red cases and the watch\'s escalations, in Chinese and English', async () => {
    const red = await redCase()
    const page = await newPage('leader')
    await signIn(page, 'leader')
    await page.goto(`${ui.url}/workbench?queue=overdue`)
    const cell = row(page, red.number).getByTestId('deadline')
    await page.locator('tr[data-number]').first().waitFor()
    // The queue is newest first; page on until the case is listed.
    for (let i = 0; i < 10 && !(await cell.count()); i++) {
      const more = page.getByTestId('load-more')
      if (!(await more.isVisible())) break
      await more.click()
      await page.waitForTimeout(500)
    }
    await cell.waitFor()
    assert.equal(await cell.getAttribute('data-mark'), 'overdue')
    assert.equal((await cell.getByTestId('deadline-mark').textContent()).trim(), '超期')
    assert.match(await cell.getByTestId('deadline-countdown').textContent(), /^已超期/)
    if (red.watch.escalated_to) {
      const esc = cell.getByTestId('deadline-escalated')
      assert.equal(await esc.getAttribute('data-to'), red.watch.escalated_to)
      assert.match(await esc.textContent(), red.watch.escalated_to === 'unit_head' ? /已催办单位负责人/ : /已上报.+中心/)
    }
    await shot(page, 'b-queue')

    await row(page, red.number).click()
    await page.getByTestId('case-number').waitFor()
    // The watch's findings on the timeline, by the system: red, and any escalation.
    const overdue = page.locator('[data-testid="timeline-watch"][data-finding="overdue"]')
    await overdue.waitFor()
    assert.match(await overdue.textContent(), /超期（红色预警）/)
    if (red.watch.escalated_to) {
      assert.ok(await page.locator('[data-testid="timeline-watch"][data-finding="escalated"]').count() >= 1)
    }
    await shot(page, 'b-case')

    await setLanguage(page, 'en')
    const mark = page.getByTestId('case-time-left').getByTestId('deadline-mark')
    await page.waitForFunction((el) => el?.textContent?.trim() === 'Overdue', await mark.elementHandle())
    assert.match(await page.getByTestId('case-time-left').getByTestId('deadline-countdown').textContent(), /^overdue by /)
    assert.match(await overdue.textContent(), /overdue \(red\)/)
    await shot(page, 'b-case-en')
    await setLanguage(page, 'zh')
    await page.context().close()
  })

  it('(c) a leader sends a supervision notice with a reply term; the unit\'s feedback answers it', async () => {
    const c = await inHandling('延安东路积水点排水不畅')
    const page = await newPage('leader')
    await signIn(page, 'leader')
    await page.goto(`${ui.url}/cases/${c.id}`)
    await page.getByTestId('case-number').waitFor()
    await page.getByTestId('action-supervise').click()
    const form = page.locator('[data-testid="command-form"][data-command="supervise"]')
    await form.waitFor()
    await form.getByTestId('field-opinion').locator('textarea').fill('请于两小时内答复处置进展')
    await form.getByTestId('term-2-hours').click()
    await form.getByTestId('command-submit').click()
    await form.waitFor({ state: 'detached' })
    const notice = page.getByTestId('case-supervision')
    await notice.waitFor()
    assert.equal(await notice.getAttribute('data-overdue'), 'false')
    assert.match(await notice.textContent(), /限.+前答复/)
    await page.getByTestId('case-time-left').getByTestId('deadline-supervision').waitFor()
    const sent = await api.call('GET', `/cases/${c.id}`, await tokenOf('leader'))
    const at = Date.parse(sent.json.supervision.at)
    assert.equal(Date.parse(sent.json.supervision.deadline) - at, 2 * 3600_000)
    await shot(page, 'c-notice')

    // The unit answers by its feedback; the notice shows it answered.
    await run('water', sent.json, 'feedback', { opinion: '已疏通排水口' })
    await page.reload()
    await page.getByTestId('case-number').waitFor()
    assert.equal(await notice.getAttribute('data-answered'), 'true')
    assert.match(await notice.textContent(), /已于.+答复/)
    await shot(page, 'c-answered')
    await page.context().close()
  })

  it('(d) a case past the warning share of its term is yellow (临期), its countdown running, beside a red one, in Chinese and English', { timeout: 240_000 }, async () => {
    const { yellow, red } = await yellowAndRed
    const settings = (await api.call('GET', '/settings', await tokenOf('admin'))).json
    const share = settings.find((s) => s.key === 'deadline_warning_share').value
    assert.ok(share > 0 && share < 1, String(share))
    const page = await newPage('water')
    await signIn(page, 'water')
    // Wait, by the API, until the four-minute stage has used the warning share: it stays yellow
    // until its deadline.
    let view
    for (let i = 0; i < 120; i++) {
      view = (await api.call('GET', `/cases/${yellow.id}`, await tokenOf('water'))).json
      if (view.time_left.mark !== 'on_time') break
      await sleep(2000)
    }
    const left = view.time_left
    assert.equal(left.mark, 'due', JSON.stringify(left))
    assert.equal(left.working_time, false)
    assert.ok(left.used >= share && left.minutes_left >= 0, JSON.stringify(left))
    assert.ok(Date.parse(left.deadline) - Date.now() > 30_000, `too little of the yellow is left to look at: ${JSON.stringify(left)}`)

    await page.goto(`${ui.url}/workbench?queue=handling`)
    const cell = row(page, yellow.number).getByTestId('deadline')
    const redCell = row(page, red.number).getByTestId('deadline')
    await cell.waitFor()
    await redCell.waitFor()
    assert.equal(await cell.getAttribute('data-mark'), 'due')
    assert.equal(await redCell.getAttribute('data-mark'), 'overdue')
    const chip = cell.getByTestId('deadline-mark')
    const redChip = redCell.getByTestId('deadline-mark')
    assert.equal((await chip.textContent()).trim(), '临期')
    assert.equal((await redChip.textContent()).trim(), '超期')
    assert.match(await chip.getAttribute('class'), /\bdue\b/)
    assert.doesNotMatch(await chip.getAttribute('class'), /\boverdue\b/)
    // Natural time: no "(working time)"; left, not overdue.
    assert.match(await cell.getByTestId('deadline-countdown').textContent(), /^剩余(\d+分|不足1分钟)$/)
    assert.match(await redCell.getByTestId('deadline-countdown').textContent(), /^已超期/)
    // Yellow is a colour of its own, not the red's.
    assert.notEqual(await background(chip), await background(redChip))
    assert.notEqual(
      await cell.getByTestId('deadline-countdown').evaluate((el) => getComputedStyle(el).color),
      await redCell.getByTestId('deadline-countdown').evaluate((el) => getComputedStyle(el).color),
    )
    await shot(page, 'd-yellow-queue')

    await setLanguage(page, 'en')
    await page.waitForFunction((el) => el?.textContent?.trim() === 'Due soon', await chip.elementHandle())
    assert.equal((await redChip.textContent()).trim(), 'Overdue')
    assert.match(await cell.getByTestId('deadline-countdown').textContent(), /^(\d+ min|less than 1 min) left$/)
    assert.match(await redCell.getByTestId('deadline-countdown').textContent(), /^overdue by /)
    await shot(page, 'd-yellow-queue-en')

    // The case page: the mark, the countdown, the bar past the warning share.
    await row(page, yellow.number).click()
    await page.getByTestId('case-number').waitFor()
    const badge = page.getByTestId('case-time-left').getByTestId('deadline')
    await badge.waitFor()
    assert.equal(await badge.getAttribute('data-mark'), 'due')
    assert.equal((await badge.getByTestId('deadline-mark').textContent()).trim(), 'Due soon')
    assert.match(await badge.getByTestId('deadline-countdown').textContent(), /^(\d+ min|less than 1 min) left$/)
    const bar = badge.getByRole('progressbar')
    const used = Number(await bar.getAttribute('aria-valuenow'))
    assert.ok(used >= Math.round(share * 100) && used <= 100, String(used))
    assert.match(await bar.getAttribute('aria-label'), /of the time used$/)
    const clock = page.locator('[data-testid="timeline-clock"][data-reason="started"]').last()
    assert.match(await clock.textContent(), /Handling clock: 4 minutes, due .+ \(due soon from .+\)/)
    await shot(page, 'd-yellow-case-en')

    await setLanguage(page, 'zh')
    await page.waitForFunction((el) => el?.textContent?.trim() === '临期', await badge.getByTestId('deadline-mark').elementHandle())
    assert.equal(await badge.getAttribute('data-mark'), 'due')
    assert.match(await badge.getByTestId('deadline-countdown').textContent(), /^剩余(\d+分|不足1分钟)$/)
    assert.match(await bar.getAttribute('aria-label'), /^已用\d+%$/)
    assert.match(await clock.textContent(), /处置计时：时限4分钟，.+到期（.+起临期）/)
    await shot(page, 'd-yellow-case')
    // Still before the deadline: what was seen was the yellow, not a red on its way.
    assert.ok(Date.now() < Date.parse(left.deadline), 'the case went red while it was looked at')
    await page.context().close()
  })

  it('(e) a unit handler\'s queue turns yellow, then red, as the watch announces it, without a reload', { timeout: 170_000 }, async () => {
    // A class whose handling term is one minute: yellow after 45 s, red after a minute; the
    // demo server's watch looks every 30 s.
    const admin = await tokenOf('admin')
    const put = await api.call('PUT', '/categories/20102', admin, { terms: { handling: { amount: 1, unit: 'minutes' } } })
    assert.equal(put.status, 200, JSON.stringify(put.json))
    const created = await api.call('POST', '/cases', await tokenOf('inspector'), {
      source: 'inspector', description: `${TAG} 一分钟时限的案件`, location: { lon: 121.4919, lat: 31.215 }, area: '310101002001',
    })
    let c = created.json
    c = await run('operator', c, 'accept')
    c = await run('shiftlead', c, 'file', { category: '20102' })
    c = await run('dispatcher', c, 'dispatch', { unit: '310101-ZLS' })
    c = await run('water', c, 'sign')
    const page = await newPage('water')
    await signIn(page, 'water')
    await page.goto(`${ui.url}/workbench?queue=handling`)
    const cell = row(page, c.number).getByTestId('deadline')
    await cell.waitFor()
    // No reload from here: the stream's watch events update the row.
    await page.waitForFunction(
      (n) => document.querySelector(`tr[data-number="${n}"] [data-testid="deadline"]`)?.dataset.mark === 'overdue',
      c.number, { timeout: 150_000, polling: 500 },
    )
    assert.match(await cell.getByTestId('deadline-countdown').textContent(), /^已超期/)
    const timeline = (await api.call('GET', `/cases/${c.id}/timeline`, await tokenOf('operator'))).json
    assert.ok(timeline.some((e) => e.action === 'watch' && e.details?.finding === 'overdue'), JSON.stringify(timeline.slice(-2)))
    await shot(page, 'e-live')
    await page.context().close()
  })

  it('(f) no errors in any browser console', () => {
    assert.deepEqual(errors, [])
  })
})
