// The cluster's nodes on the administration page. The demo is a single node: an admin opens
// 系统管理 → 运行节点 and sees the node that answered listed as this node, holding the overdue
// watch and every other duty but the NATS relay, which reads as not used (the demo has no NATS);
// the table agrees with `GET /nodes`. It runs the release `GET /nodes` and `GET /readyz` name,
// started when `GET /nodes` says (shown in Shanghai time with how long ago), and as the only node
// it runs no release but its own: no notice of mixed releases. The section asks again every 5 seconds while shown, and
// stops once another section is open. The same in English. A dispatcher has no administration
// menu, /admin/nodes says no access, and the API refuses them the nodes.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ARTIFACTS, sessionsOf, setLanguage, signIn as signInAt } from './harness.mjs'
import { assertNoAdminWayIn, openAdminSection, recordingPage, startStage, stopStage, text } from './adminKit.mjs'

/** Every duty but the NATS relay runs on the single demo node. */
const HELD = ['overdue-watch', 'retention', 'audit-checkpoints', 'outbox-pruning', 'readings-pruning']

let server, ui, chrome, api
const errors = []
const tokenOf = sessionsOf(() => api)
/** The dispatcher's 403 from the API logs "Failed to load resource": expected. */
const EXPECTED = /Failed to load resource: the server responded with a status of 403/
const newPage = (who) => recordingPage(chrome, who, errors, { expected: EXPECTED })
const signIn = (page, username) => signInAt(page, ui, username)
const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `admin-nodes-${name}.png`), fullPage: true })

before(async () => ({ server, ui, chrome, api } = await startStage()))
after(() => stopStage({ server, ui, chrome }))

/** From the header's menu to the nodes section. */
const openNodes = (page) => openAdminSection(page, 'nodes', 'admin-nodes')

/** `GET /readyz`: the answering node, its release and the duties' holders (no sign-in). */
async function readyz() {
  const res = await fetch(`${server.url}/readyz`)
  assert.equal(res.status, 200)
  return res.json()
}

/** A time as the section shows it: to the second, in Shanghai time. */
const shanghaiTime = (iso) =>
  new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(new Date(iso))

/** `GET /nodes` as the admin, once every duty but the relay has its holder (the node takes them at start). */
async function settledReport() {
  const deadline = Date.now() + 30_000
  for (;;) {
    const res = await api.call('GET', '/nodes', await tokenOf('admin'))
    assert.equal(res.status, 200, JSON.stringify(res.json))
    if (res.json.duties.filter((d) => HELD.includes(d.duty)).every((d) => d.holder)) return res.json
    if (Date.now() > deadline) assert.fail(`duties still without a holder: ${JSON.stringify(res.json)}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

const dutyRow = (page, duty) => page.locator(`[data-testid="duty-row"][data-duty="${duty}"]`)

describe('nodes', () => {
  it('an admin sees this node holding every duty but the NATS relay, refreshed every 5 seconds', async () => {
    const report = await settledReport()
    assert.equal(report.nodes.length, 1, JSON.stringify(report.nodes))
    const me = report.node
    assert.equal(report.nodes[0].node, me)

    const page = await newPage('admin')
    const asked = []
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/v1/nodes') asked.push(Date.now())
    })
    await signIn(page, 'admin')
    await openNodes(page)
    assert.equal(await text(page.getByTestId('admin-tab-nodes')), '运行节点')
    assert.equal(await text(page.getByTestId('admin-section-title')), '运行节点')
    assert.equal(await page.getByTestId('admin-tab-nodes').getAttribute('aria-current'), 'page')

    // this node, and the lease time
    await page.locator('[data-testid="nodes-this-node"]', { hasText: me }).waitFor()
    assert.equal(await text(page.getByTestId('nodes-this-node')), me)
    assert.equal(await page.getByTestId('nodes-lease').getAttribute('data-secs'), String(report.lease_secs))
    assert.match(await text(page.getByTestId('nodes-lease')), new RegExp(`^${report.lease_secs} 秒，每 \\d+ 秒续租一次$`))

    // the one live node: this node, holding the overdue watch and the others
    const rows = page.locator('[data-testid="nodes-row"]')
    assert.equal(await rows.count(), 1)
    const row = page.locator('[data-testid="nodes-row"]').filter({ has: page.getByTestId('node-here') })
    assert.equal(await row.getAttribute('data-node'), me)
    assert.equal(await text(row.getByTestId('node-here')), '本节点')
    await row.locator('[data-testid="node-duty"][data-duty="overdue-watch"]').waitFor()
    assert.equal(await text(row.locator('[data-testid="node-duty"][data-duty="overdue-watch"]')), '超时监控')
    assert.deepEqual((await row.getByTestId('node-duty').evaluateAll((c) => c.map((x) => x.dataset.duty))).sort(), [...HELD].sort())
    assert.match(await text(row.getByTestId('node-until')), /^\d{2}:\d{2}:\d{2}$/)

    // its release, as `GET /nodes` and `GET /readyz` name it, and when it started
    const mine = report.nodes[0]
    assert.ok(typeof mine.version === 'string' && mine.version.length > 0, JSON.stringify(mine))
    const ready = await readyz()
    assert.equal(ready.node, me)
    assert.equal(ready.version, mine.version)
    const version = row.getByTestId('node-version')
    assert.equal(await text(version), mine.version)
    assert.equal(await version.getAttribute('data-version'), mine.version)
    assert.equal(await version.getAttribute('data-mixed'), 'false')
    assert.ok(mine.started_at && !Number.isNaN(Date.parse(mine.started_at)), JSON.stringify(mine))
    assert.ok(Date.parse(mine.started_at) <= Date.now() + 5_000, `started ${mine.started_at}, in the future`)
    const started = row.getByTestId('node-started')
    assert.equal(await started.getAttribute('data-at'), mine.started_at)
    const startedText = await text(started)
    assert.match(startedText, /^\d{2}:\d{2}:\d{2} (刚刚|\d+ 分钟前|\d+ 小时前|\d+ 天前)$/)
    assert.equal(startedText.split(' ')[0], shanghaiTime(mine.started_at))
    // one node: one release, no notice
    assert.equal(await page.getByTestId('nodes-mixed-versions').count(), 0)
    assert.equal(await page.locator('[data-testid="node-version"] .warn').count(), 0)

    // every duty, in the server's order: held here, but the relay not used
    const duties = await page.getByTestId('duty-row').evaluateAll((r) => r.map((x) => x.dataset.duty))
    assert.deepEqual(duties, report.duties.map((d) => d.duty))
    for (const duty of HELD) {
      const d = dutyRow(page, duty)
      assert.equal(await d.getAttribute('data-standing'), 'held', duty)
      assert.equal(await text(d.getByTestId('duty-holder')), `${me} 本节点`, duty)
      assert.ok((await text(d.getByTestId('duty-hint'))).length > 0, duty)
    }
    const watch = dutyRow(page, 'overdue-watch')
    assert.equal(await text(watch.getByTestId('duty-name')), '超时监控')
    assert.match(await text(watch.getByTestId('duty-hint')), /超期/)
    const relay = dutyRow(page, 'outbox-relay')
    assert.equal(await relay.getAttribute('data-standing'), 'unused')
    assert.equal(await text(relay.getByTestId('duty-holder')), '未启用（未配置 NATS）')
    assert.equal(await text(relay.getByTestId('duty-until')), '—')
    assert.equal(await page.locator('[data-testid="duty-row"][data-standing="nobody"]').count(), 0)
    assert.equal(await page.getByTestId('nodes-error').count(), 0)
    await shot(page, 'zh')

    // asked again by itself within a few seconds, and on the button
    const first = asked.length
    const deadline = Date.now() + 12_000
    while (asked.length < first + 1 && Date.now() < deadline) await page.waitForTimeout(250)
    assert.ok(asked.length >= first + 1, `asked ${asked.length} times, ${first} at first`)
    const beforeClick = asked.length
    await page.getByTestId('nodes-refresh').click()
    const clickDeadline = Date.now() + 5_000
    while (asked.length < beforeClick + 1 && Date.now() < clickDeadline) await page.waitForTimeout(100)
    assert.ok(asked.length >= beforeClick + 1, 'the button asks again')

    // another section: no more asking
    await page.getByTestId('admin-tab-settings').click()
    await page.getByTestId('admin-settings').waitFor()
    await page.waitForTimeout(500)
    const left = asked.length
    await page.waitForTimeout(6_000)
    assert.equal(asked.length, left, 'the nodes are not asked for once the section is gone')
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('the section speaks English', async () => {
    const report = await settledReport()
    const me = report.node
    const page = await newPage('admin-en')
    await signIn(page, 'admin')
    await setLanguage(page, 'en')
    await openNodes(page)
    assert.equal(await text(page.getByTestId('admin-tab-nodes')), 'Nodes')
    assert.equal(await text(page.getByTestId('admin-section-title')), 'Nodes')
    await page.locator('[data-testid="nodes-this-node"]', { hasText: me }).waitFor()
    assert.match(await text(page.locator('.summary')), /This node/)
    assert.match(await text(page.getByTestId('nodes-lease')), new RegExp(`^${report.lease_secs} s, renewed every \\d+ s$`))
    const head = await text(page.locator('[data-testid="nodes-table"] thead'))
    for (const word of ['Node', 'Version', 'Started', 'Duties held', 'Lease until']) assert.ok(head.includes(word), `${word} in ${head}`)
    const row = page.locator(`[data-testid="nodes-row"][data-node="${me}"]`)
    assert.equal(await text(row.getByTestId('node-here')), 'this node')
    assert.equal(await text(row.getByTestId('node-version')), report.nodes[0].version)
    assert.equal((await readyz()).version, report.nodes[0].version)
    assert.match(await text(row.getByTestId('node-started')), /^\d{2}:\d{2}:\d{2} (just now|\d+ (min|h|d) ago)$/)
    assert.equal(await page.getByTestId('nodes-mixed-versions').count(), 0)
    await row.locator('[data-testid="node-duty"][data-duty="overdue-watch"]').waitFor()
    assert.equal(await text(row.locator('[data-testid="node-duty"][data-duty="overdue-watch"]')), 'Overdue watch')
    assert.equal(await text(page.getByTestId('nodes-count')), '1 live node')

    const watch = dutyRow(page, 'overdue-watch')
    assert.equal(await text(watch.getByTestId('duty-name')), 'Overdue watch')
    assert.match(await text(watch.getByTestId('duty-hint')), /overdue/)
    assert.equal(await text(watch.getByTestId('duty-holder')), `${me} this node`)
    assert.equal(await text(dutyRow(page, 'retention').getByTestId('duty-name')), 'Retention')
    assert.equal(await text(dutyRow(page, 'outbox-relay').getByTestId('duty-holder')), 'not used (no NATS configured)')
    assert.equal(await text(page.getByTestId('nodes-refresh')), 'Refresh')
    await shot(page, 'en')
    await page.context().close()
    assert.deepEqual(errors, [])
  })

  it('a dispatcher has no way in, and the API refuses them the nodes', async () => {
    const page = await newPage('dispatcher')
    await signIn(page, 'dispatcher')
    await assertNoAdminWayIn(page, ui, 'nodes', 'admin-nodes', 'nodes-this-node')
    await shot(page, 'dispatcher')
    await page.context().close()

    const refused = await api.call('GET', '/nodes', await tokenOf('dispatcher'))
    assert.equal(refused.status, 403, JSON.stringify(refused.json))
    assert.equal(refused.json?.error?.code, 'forbidden', JSON.stringify(refused.json))
    assert.deepEqual(errors, [])
  })
})
