// The cluster's nodes on the administration page: how a duty stands (held, nobody, not used),
// the words for every duty in both languages, and the section itself: this node, the live nodes
// with their duties, release and start, the duties with their holders, a refusal in words, the
// notice while the nodes run different releases, and the refresh every 5 seconds that stops when
// the section goes.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { i18n } from '../src/i18n'
import zh from '../src/locales/zh-CN'
import en from '../src/locales/en'
import {
  ADMIN_SECTIONS, DUTIES, dutyStanding, isKnownDuty, mixedVersions, nodeStartedAt, nodeVersion, NODES_REFRESH_MS, renewEvery, sectionOf,
  uptimeHours,
} from '../src/lib/admin'
import type { NodesReport } from '../src/api/types'
import AdminNodes from '../src/components/AdminNodes.vue'
import { jsonResponse, mockFetch } from './helpers'

const A = 'node-a/3f9c2a1b7d0e'
const B = 'node-b/9e01d4c2aa57'
const REPORT: NodesReport = {
  node: A,
  lease_secs: 15,
  nodes: [
    { node: A, until: '2026-12-08T10:00:15Z', here: true, version: '0.1.0', started_at: '2026-12-08T07:00:05Z', duties: ['overdue-watch', 'retention'] },
    { node: B, until: '2026-12-08T10:00:12Z', here: false, version: '0.1.0', started_at: '2026-12-06T09:30:00Z', duties: ['audit-checkpoints', 'readings-pruning'] },
  ],
  duties: [
    { duty: 'overdue-watch', holder: A, until: '2026-12-08T10:00:15Z', here: true },
    { duty: 'retention', holder: A, until: '2026-12-08T10:00:15Z', here: true },
    { duty: 'audit-checkpoints', holder: B, until: '2026-12-08T10:00:12Z', here: false },
    { duty: 'outbox-pruning', holder: null, until: null, here: false },
    { duty: 'readings-pruning', holder: B, until: '2026-12-08T10:00:12Z', here: false },
    { duty: 'outbox-relay', holder: null, until: null, here: false },
  ],
}

describe('what a node says of itself', () => {
  const node = (version: string | null | undefined, n = A) => ({ node: n, version })

  it('its release and start, null when it does not say (a node of an earlier release)', () => {
    expect(nodeVersion({ node: A, version: '0.1.0' })).toBe('0.1.0')
    expect(nodeVersion({ node: A, version: null })).toBeNull()
    expect(nodeVersion({ node: A })).toBeNull()
    expect(nodeVersion({ node: A, version: '' })).toBeNull()
    expect(nodeStartedAt({ node: A, started_at: '2026-12-08T07:00:05Z' })).toBe('2026-12-08T07:00:05Z')
    expect(nodeStartedAt({ node: A, started_at: null })).toBeNull()
    expect(nodeStartedAt({ node: A })).toBeNull()
    expect(nodeStartedAt({ node: A, started_at: 'yesterday' })).toBeNull()
  })

  it('the nodes run mixed releases when any two differ, one that does not say differing from one that does', () => {
    expect(mixedVersions([])).toBe(false)
    expect(mixedVersions([node('0.1.0')])).toBe(false)
    expect(mixedVersions([node('0.1.0'), node('0.1.0', B)])).toBe(false)
    expect(mixedVersions([node('0.1.0'), node('0.2.0', B)])).toBe(true)
    expect(mixedVersions([node('0.1.0'), node('0.1.0', B), node('0.2.0', 'node-c/1')])).toBe(true)
    // an earlier release says nothing: upgrading from it, old and new differ
    expect(mixedVersions([node('0.1.0'), node(null, B)])).toBe(true)
    expect(mixedVersions([node('0.1.0'), node(undefined, B)])).toBe(true)
    // none says: nothing to tell apart
    expect(mixedVersions([node(null), node(undefined, B)])).toBe(false)
  })

  it('has been running for hours since its start, none for a start later than now or none at all', () => {
    const now = new Date('2026-12-08T10:00:05Z')
    expect(uptimeHours('2026-12-08T07:00:05Z', now)).toBe(3)
    expect(uptimeHours('2026-12-08T09:30:05Z', now)).toBe(0.5)
    expect(uptimeHours('2026-12-08T10:00:09Z', now)).toBe(0)
    expect(uptimeHours(null, now)).toBeNull()
    expect(uptimeHours(undefined, now)).toBeNull()
    expect(uptimeHours('not a time', now)).toBeNull()
  })

  it('has words for the columns, the notice and how long ago in both languages', () => {
    expect(zh.admin.nodes.col.version).toBe('版本')
    expect(zh.admin.nodes.col.started).toBe('启动于')
    expect(en.admin.nodes.col.version).toBe('Version')
    expect(en.admin.nodes.col.started).toBe('Started')
    expect(zh.admin.nodes.mixedVersions).toBe('节点版本不一致：正在滚动升级？')
    expect(en.admin.nodes.mixedVersions).toBe('Nodes run different versions: a rolling upgrade in progress?')
    expect(Object.keys(en.admin.nodes.ago)).toEqual(Object.keys(zh.admin.nodes.ago))
  })
})

describe('a duty as it stands', () => {
  it('is held with a holder, whoever it is', () => {
    expect(dutyStanding({ duty: 'overdue-watch', holder: A })).toBe('held')
    expect(dutyStanding({ duty: 'outbox-relay', holder: B })).toBe('held')
  })

  it('without a holder: not used for the NATS relay, nobody (a warning) for any other', () => {
    expect(dutyStanding({ duty: 'outbox-relay', holder: null })).toBe('unused')
    for (const duty of DUTIES.filter((d) => d !== 'outbox-relay')) expect(dutyStanding({ duty, holder: null })).toBe('nobody')
    expect(dutyStanding({ duty: 'some-new-duty', holder: null })).toBe('nobody')
    expect(dutyStanding({ duty: 'retention', holder: '' })).toBe('nobody')
    // the document allows the holder left out as well as null
    expect(dutyStanding({ duty: 'retention' })).toBe('nobody')
    expect(dutyStanding({ duty: 'outbox-relay' })).toBe('unused')
  })

  it('knows the duties the server names, and no others', () => {
    expect(DUTIES).toEqual(['overdue-watch', 'retention', 'audit-checkpoints', 'outbox-pruning', 'readings-pruning', 'outbox-relay'])
    expect(isKnownDuty('audit-checkpoints')).toBe(true)
    expect(isKnownDuty('some-new-duty')).toBe(false)
  })

  it('renews every third of the lease, at least every second', () => {
    expect(renewEvery(15)).toBe(5)
    expect(renewEvery(3)).toBe(1)
    expect(renewEvery(10)).toBe(3)
    expect(renewEvery(1)).toBe(1)
  })

  it('is a section of the administration page, with words for it and for every duty in both languages', () => {
    expect(ADMIN_SECTIONS).toContain('nodes')
    expect(sectionOf('nodes')).toBe('nodes')
    expect(zh.admin.sections.nodes).toBe('运行节点')
    expect(en.admin.sections.nodes).toBe('Nodes')
    for (const messages of [zh, en]) {
      expect(Object.keys(messages.admin.nodes.duties)).toEqual([...DUTIES])
      for (const d of DUTIES) {
        expect(messages.admin.nodes.duties[d].name).toBeTruthy()
        expect(messages.admin.nodes.duties[d].hint).toBeTruthy()
      }
    }
  })
})

const byId = (id: string) => document.body.querySelector(`[data-testid="${id}"]`) as HTMLElement | null
const text = (el: Element | null) => el!.textContent!.replace(/\s+/g, ' ').trim()
const nodeRow = (node: string) => document.body.querySelector(`[data-testid="nodes-row"][data-node="${node}"]`) as HTMLElement
const dutyRow = (duty: string) => document.body.querySelector(`[data-testid="duty-row"][data-duty="${duty}"]`) as HTMLElement
const holder = (duty: string) => text(dutyRow(duty).querySelector('[data-testid="duty-holder"]'))

describe('the nodes section', () => {
  beforeEach(() => {
    i18n.global.locale.value = 'zh-CN'
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
    i18n.global.locale.value = 'zh-CN'
  })

  async function mountSection() {
    const wrapper = mount(AdminNodes, { global: { plugins: [i18n] }, attachTo: document.body })
    await flushPromises()
    return wrapper
  }

  it('shows this node, the live nodes with their duties, release and start, and every duty with its holder', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-12-08T10:00:05Z'))
    const f = mockFetch(jsonResponse(200, REPORT))
    const wrapper = await mountSection()
    expect((f.mock.calls[0] as unknown as [string])[0]).toBe('/api/v1/nodes')
    expect(text(byId('nodes-this-node'))).toBe(A)
    expect(text(byId('nodes-lease'))).toBe('15 秒，每 5 秒续租一次')
    expect([...document.body.querySelectorAll('[data-testid="nodes-row"]')].map((r) => (r as HTMLElement).dataset.node)).toEqual([A, B])
    expect(nodeRow(A).querySelector('[data-testid="node-here"]')).not.toBeNull()
    expect(nodeRow(B).querySelector('[data-testid="node-here"]')).toBeNull()
    expect([...nodeRow(A).querySelectorAll('[data-testid="node-duty"]')].map(text)).toEqual(['超时监控', '到期数据清除'])
    // until, in Shanghai time
    expect(text(nodeRow(A).querySelector('[data-testid="node-until"]'))).toBe('18:00:15')
    // the release each runs, the same: no notice, nothing marked
    expect([...document.body.querySelectorAll('[data-testid="nodes-table"] thead th')].map(text)).toEqual(['节点', '版本', '启动于', '持有的任务', '租约到期'])
    expect(text(nodeRow(A).querySelector('[data-testid="node-version"]'))).toBe('0.1.0')
    expect(nodeRow(A).querySelector<HTMLElement>('[data-testid="node-version"]')!.dataset.mixed).toBe('false')
    expect(byId('nodes-mixed-versions')).toBeNull()
    expect(document.body.querySelector('[data-testid="node-version"] .warn')).toBeNull()
    // started, in Shanghai time, and how long ago as of the answer
    const started = nodeRow(A).querySelector<HTMLElement>('[data-testid="node-started"]')!
    expect(started.dataset.at).toBe('2026-12-08T07:00:05Z')
    expect(text(started)).toBe('15:00:05 3 小时前')
    expect(started.title).toBe('2026/12/08 15:00:05')
    expect(text(nodeRow(B).querySelector('[data-testid="node-started"]'))).toBe('17:30:00 2 天前')

    expect([...document.body.querySelectorAll('[data-testid="duty-row"]')].map((r) => (r as HTMLElement).dataset.duty)).toEqual(REPORT.duties.map((d) => d.duty))
    expect(text(dutyRow('overdue-watch').querySelector('[data-testid="duty-name"]'))).toBe('超时监控')
    expect(text(dutyRow('overdue-watch').querySelector('[data-testid="duty-hint"]'))).toMatch(/超期/)
    expect(holder('overdue-watch')).toBe(`${A} 本节点`)
    expect(holder('audit-checkpoints')).toBe(B)
    expect(dutyRow('outbox-pruning').dataset.standing).toBe('nobody')
    expect(holder('outbox-pruning')).toBe('无人持有 正在由其他节点接管')
    expect(dutyRow('outbox-pruning').querySelector('.warn')).not.toBeNull()
    expect(dutyRow('outbox-relay').dataset.standing).toBe('unused')
    expect(holder('outbox-relay')).toBe('未启用（未配置 NATS）')
    expect(dutyRow('outbox-relay').querySelector('.warn')).toBeNull()
    expect(text(dutyRow('outbox-relay').querySelector('[data-testid="duty-until"]'))).toBe('—')
    wrapper.unmount()
  })

  it('asks again every 5 seconds and on the button, and stops once gone', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const moved: NodesReport = {
      ...REPORT,
      nodes: [{ ...REPORT.nodes[0], duties: ['overdue-watch', 'retention', 'audit-checkpoints', 'outbox-pruning', 'readings-pruning'] }],
      duties: REPORT.duties.map((d) => (d.duty === 'outbox-relay' ? d : { ...d, holder: A, here: true, until: '2026-12-08T10:00:20Z' })),
    }
    const f = mockFetch(jsonResponse(200, REPORT), jsonResponse(200, moved), jsonResponse(200, moved))
    const wrapper = await mountSection()
    expect(f).toHaveBeenCalledTimes(1)
    expect(holder('audit-checkpoints')).toBe(B)
    vi.advanceTimersByTime(NODES_REFRESH_MS)
    await flushPromises()
    expect(f).toHaveBeenCalledTimes(2)
    expect(document.body.querySelectorAll('[data-testid="nodes-row"]')).toHaveLength(1)
    expect(holder('audit-checkpoints')).toBe(`${A} 本节点`)
    expect(holder('outbox-pruning')).toBe(`${A} 本节点`)
    byId('nodes-refresh')!.click()
    await flushPromises()
    expect(f).toHaveBeenCalledTimes(3)
    wrapper.unmount()
    vi.advanceTimersByTime(NODES_REFRESH_MS * 3)
    await flushPromises()
    expect(f).toHaveBeenCalledTimes(3)
  })

  it('keeps the last answer when a refresh fails, and says why', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    mockFetch(jsonResponse(200, REPORT), jsonResponse(503, { error: { code: 'unavailable', message: 'database unreachable' } }))
    const wrapper = await mountSection()
    vi.advanceTimersByTime(NODES_REFRESH_MS)
    await flushPromises()
    expect(text(byId('nodes-error'))).toBe('加载失败：database unreachable')
    expect(text(byId('nodes-this-node'))).toBe(A)
    expect(document.body.querySelectorAll('[data-testid="duty-row"]')).toHaveLength(6)
    wrapper.unmount()
  })

  it('says a refusal in words, and reads in English', async () => {
    i18n.global.locale.value = 'en'
    mockFetch(jsonResponse(403, { error: { code: 'forbidden', message: 'only an admin may see the nodes' } }))
    const refused = await mountSection()
    expect(text(byId('nodes-error'))).toBe('Only administrators see the nodes')
    expect(document.body.querySelectorAll('[data-testid="nodes-row"]')).toHaveLength(0)
    refused.unmount()

    mockFetch(jsonResponse(200, REPORT))
    const wrapper = await mountSection()
    expect(text(byId('nodes-lease'))).toBe('15 s, renewed every 5 s')
    expect(text(byId('nodes-count'))).toBe('2 live nodes')
    expect(text(dutyRow('overdue-watch').querySelector('[data-testid="duty-name"]'))).toBe('Overdue watch')
    expect(holder('overdue-watch')).toBe(`${A} this node`)
    expect(holder('outbox-pruning')).toBe('nobody another node is taking it over')
    expect(holder('outbox-relay')).toBe('not used (no NATS configured)')
    expect([...nodeRow(B).querySelectorAll('[data-testid="node-duty"]')].map(text)).toEqual(['Audit checkpoints', 'Readings pruning'])
    expect([...document.body.querySelectorAll('[data-testid="nodes-table"] thead th')].map(text)).toEqual(['Node', 'Version', 'Started', 'Duties held', 'Lease until'])
    expect(text(nodeRow(A).querySelector('[data-testid="node-started"]'))).toMatch(/^15:00:05 (just now|\d+ (min|h|d) ago)$/)
    wrapper.unmount()

    mockFetch(jsonResponse(200, { ...REPORT, nodes: [REPORT.nodes[0], { ...REPORT.nodes[1], version: '0.2.0' }] }))
    const mixed = await mountSection()
    expect(text(byId('nodes-mixed-versions'))).toBe('Nodes run different versions: a rolling upgrade in progress?')
    mixed.unmount()
  })

  it('says so while the nodes run different releases, marking every row\'s, and stops once they agree', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] })
    vi.setSystemTime(new Date('2026-12-08T10:00:05Z'))
    const C = 'node-c/0a1b2c3d4e5f'
    const upgrading: NodesReport = {
      ...REPORT,
      nodes: [
        REPORT.nodes[0],
        { ...REPORT.nodes[1], version: '0.2.0', started_at: '2026-12-08T10:00:00Z' },
        // a node of an earlier release says neither
        { node: C, until: '2026-12-08T10:00:11Z', here: false, duties: [] },
      ],
    }
    mockFetch(jsonResponse(200, upgrading), jsonResponse(200, REPORT))
    const wrapper = await mountSection()
    expect(text(byId('nodes-mixed-versions'))).toBe('节点版本不一致：正在滚动升级？')
    expect(byId('nodes-mixed-versions')!.getAttribute('role')).toBe('status')
    const version = (node: string) => nodeRow(node).querySelector<HTMLElement>('[data-testid="node-version"]')!
    expect([A, B, C].map((n) => text(version(n)))).toEqual(['0.1.0', '0.2.0', '—'])
    expect([A, B, C].map((n) => version(n).dataset.version)).toEqual(['0.1.0', '0.2.0', ''])
    for (const n of [A, B, C]) {
      expect(version(n).dataset.mixed).toBe('true')
      expect(version(n).querySelector('.warn')).not.toBeNull()
    }
    expect(version(C).title).toBe('未报告版本（较早的版本）')
    expect(version(A).title).toBe('')
    expect(text(nodeRow(B).querySelector('[data-testid="node-started"]'))).toBe('18:00:00 刚刚')
    expect(text(nodeRow(C).querySelector('[data-testid="node-started"]'))).toBe('—')
    expect(nodeRow(C).querySelector('[data-testid="node-uptime"]')).toBeNull()

    // the upgrade done: the notice goes
    vi.advanceTimersByTime(NODES_REFRESH_MS)
    await flushPromises()
    expect(document.body.querySelectorAll('[data-testid="nodes-row"]')).toHaveLength(2)
    expect(byId('nodes-mixed-versions')).toBeNull()
    expect(version(A).dataset.mixed).toBe('false')
    wrapper.unmount()
  })

  it('shows a duty it has no words for by its name', async () => {
    mockFetch(jsonResponse(200, { ...REPORT, duties: [...REPORT.duties, { duty: 'some-new-duty', holder: null, until: null, here: false }] }))
    const wrapper = await mountSection()
    expect(text(dutyRow('some-new-duty').querySelector('[data-testid="duty-name"]'))).toBe('some-new-duty')
    expect(dutyRow('some-new-duty').querySelector('[data-testid="duty-hint"]')).toBeNull()
    expect(dutyRow('some-new-duty').dataset.standing).toBe('nobody')
    wrapper.unmount()
  })
})
