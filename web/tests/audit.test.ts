import { describe, expect, it } from 'vitest'
import { auditQuery, brokenEntries, checkpointsFile } from '../src/lib/audit'

describe('the audit search', () => {
  const empty = { actor: '', action: '', object: '', from: '', to: '' }
  it('sends only the fields filled in, trimmed, times as Beijing time', () => {
    expect(auditQuery(empty)).toEqual({ limit: 50 })
    expect(auditQuery({ ...empty, actor: ' li.ming ', action: 'case.', from: '2026-12-01T08:00' }, 120, 20)).toEqual({
      actor: 'li.ming', action: 'case.', from: '2026-12-01T00:00:00.000Z', limit: 20, after: 120,
    })
    expect(auditQuery(empty, 0)).toEqual({ limit: 50 })
  })
  it('names the entries a verification found broken', () => {
    expect(brokenEntries([])).toEqual([])
    expect(brokenEntries([
      { message: 'entry 12 was altered: its content does not match its hash' },
      { message: 'entry 4 was altered: its content does not match its hash' },
    ])).toEqual([4, 12])
  })
  it('exports the checkpoints as JSON', async () => {
    const cp = [{ seq: 3, hash: 'ab', at: '2026-12-01T00:00:00Z', public_key: 'pk', signature: 'sig' }]
    expect(JSON.parse(await checkpointsFile(cp).text())).toEqual(cp)
  })
})
