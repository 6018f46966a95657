import { describe, expect, it } from 'vitest'
import { defaultPeriod, resultsFileName, shanghaiDay, validPeriod } from '../src/lib/hotline'

describe('the 12345 exchange page', () => {
  it('counts days in Shanghai', () => {
    // 23:30 UTC on 31 May is already 1 June in Shanghai.
    expect(shanghaiDay(new Date('2026-05-31T23:30:00Z'))).toBe('2026-06-01')
    expect(defaultPeriod(new Date('2026-05-20T04:00:00Z'))).toEqual(['2026-05-01', '2026-05-20'])
  })

  it('asks only for periods the server answers', () => {
    expect(validPeriod('2026-05-01', '2026-05-31')).toBe(true)
    expect(validPeriod('2026-05-31', '2026-05-01')).toBe(false)
    expect(validPeriod('2025-01-01', '2026-12-31')).toBe(false)
    expect(validPeriod('', '2026-05-01')).toBe(false)
  })

  it('names the export by its period', () => {
    expect(resultsFileName('2026-05-01', '2026-05-31', 'csv')).toBe('12345-results-2026-05-01_2026-05-31.csv')
  })
})
