import { describe, expect, it } from 'vitest'
import { erasurePlan, exportFile } from '../src/lib/personalData'
import type { PersonalDataExport } from '../src/api/types'

const held = {
  cases: [
    { number: 'A1', state: 'invalid', created_at: '2026-12-01T00:00:00Z', description: 'x', name: '王', phone: '13900001111' },
    { number: 'A2', state: 'dispatched', created_at: '2026-12-02T00:00:00Z', description: 'y', name: '王', phone: '13900001111' },
    { number: 'A3', state: 'closed', created_at: '2026-12-03T00:00:00Z', description: 'z', name: null, phone: '13900001111' },
  ],
} as PersonalDataExport

describe('a personal data request', () => {
  it('erases finished cases now and names the open ones that keep the contact', () => {
    expect(erasurePlan(held)).toEqual({ finished: ['A1', 'A3'], open: ['A2'] })
    expect(erasurePlan({ cases: [] })).toEqual({ finished: [], open: [] })
  })
  it('exports a JSON file named after the masked phone and the day', async () => {
    const { name, blob } = exportFile('139-0000-1111', held, new Date('2026-12-05T10:00:00Z'))
    expect(name).toBe('personal-data-139xxxx1111-2026-12-05.json')
    const body = JSON.parse(await blob.text())
    expect(body.phone).toBe('139-0000-1111')
    expect(body.cases).toHaveLength(3)
  })
})
