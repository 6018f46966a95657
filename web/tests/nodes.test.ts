// The cluster's nodes on the administration page: how a duty stands (held, nobody, not used),
// the words for every duty in both languages, and the section itself: this node, the live nodes
// with their duties, the duties with their holders, a refusal in words, and the refresh every
// 5 seconds that stops when the section goes.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { i18n } from '../src/i18n'
import zh from '../src/locales/zh-CN'
import en from '../src/locales/en'
import {
  ADMIN_SECTIONS, DUTIES, dutyStanding, isKnownDuty, NODES_REFRESH_MS, renewEvery, sectionOf,
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
    { node: A, until: '2026-12-08T10:00:15Z', here: true, duties: ['overdue-watch', 'retention'] },
    { node: B, until: '2026-12-08T10:00:12Z', here: false, duties: ['audit-checkpoints', 'readings-pruning'] },
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

  it('shows this node, the live nodes with their duties, and every duty with its holder', async () => {
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
