import { describe, expect, it } from 'vitest'
import { daysIn, holidayName, importContentType, isOff, pickerYears, weekdayOf, yearGrid } from '../src/lib/calendar'
import en from '../src/locales/en'
import zh from '../src/locales/zh-CN'

describe('the working calendar grid', () => {
  it('knows month lengths and weekdays', () => {
    expect(daysIn(2024, 2)).toBe(29)
    expect(daysIn(2025, 2)).toBe(28)
    expect(daysIn(2024, 12)).toBe(31)
    // 2024-01-01 was a Monday, 2027-01-01 is a Friday.
    expect(weekdayOf(2024, 1, 1)).toBe(0)
    expect(weekdayOf(2027, 1, 1)).toBe(4)
  })

  it('lays out months Monday first and marks listed days over the plain week', () => {
    const months = yearGrid({
      year: 2024,
      days: [
        { date: '2024-02-10', name: '春节', off: true, kind: 'holiday' },
        { date: '2024-02-04', name: '春节', off: false, kind: 'make_up_workday' },
        { date: '2024-02-12', name: '春节', off: true, kind: 'holiday' },
      ],
    })
    expect(months).toHaveLength(12)
    const feb = months[1]
    // 2024-02-01 is a Thursday: three blanks before it.
    expect(feb.weeks[0].slice(0, 3)).toEqual([null, null, null])
    expect(feb.weeks[0][3]).toMatchObject({ date: '2024-02-01', kind: 'plain' })
    const cells = feb.weeks.flat().filter((c) => c !== null)
    expect(cells).toHaveLength(29)
    const byDate = new Map(cells.map((c) => [c!.date, c!]))
    expect(byDate.get('2024-02-04')).toMatchObject({ kind: 'make_up_workday', name: '春节' })
    expect(byDate.get('2024-02-12')).toMatchObject({ kind: 'holiday' })
    expect(byDate.get('2024-02-03')).toMatchObject({ kind: 'weekend' })
    expect(byDate.get('2024-02-05')).toMatchObject({ kind: 'plain' })
    for (const month of months) for (const week of month.weeks) expect(week).toHaveLength(7)
    const all = months.flatMap((m) => m.weeks.flat()).filter((c) => c !== null)
    expect(all).toHaveLength(366)
    // 262 weekdays; Monday 2-12 is off (Saturday 2-10 was anyway), Sunday 2-4 works.
    expect(all.filter((c) => !isOff(c!.kind))).toHaveLength(262 - 1 + 1)
  })

  it('sends CSV and JSON files with their content type and refuses others', () => {
    expect(importContentType({ name: '2027.JSON', type: '' })).toBe('application/json')
    expect(importContentType({ name: '2027.csv', type: 'application/vnd.ms-excel' })).toBe('text/csv')
    expect(importContentType({ name: 'holidays', type: 'text/csv' })).toBe('text/csv')
    expect(importContentType({ name: '2027.xlsx', type: '' })).toBeNull()
  })

  it('offers years within the server range', () => {
    expect(pickerYears(2026, 2)).toEqual([2024, 2025, 2026, 2027, 2028])
    expect(pickerYears(2001, 3)).toEqual([2000, 2001, 2002, 2003, 2004])
    expect(pickerYears(2100, 1)).toEqual([2099, 2100])
  })

  it('names the public holidays in the UI\'s language and leaves other names as the file gave them', () => {
    const tr = (messages: typeof zh) => (key: string) =>
      key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], messages) as string
    expect(holidayName('春节', tr(en))).toBe('Spring Festival')
    expect(holidayName('元旦', tr(en))).toBe("New Year's Day")
    expect(holidayName('国庆节、中秋节', tr(en))).toBe('National Day and Mid-Autumn Festival')
    expect(holidayName('国庆节、中秋节', tr(zh))).toBe('国庆节、中秋节')
    expect(holidayName('春节', tr(zh))).toBe('春节')
    // A name of an imported file the notices do not use, whole or in part: as it is.
    expect(holidayName('厂庆日', tr(en))).toBe('厂庆日')
    expect(holidayName('国庆节、厂庆日', tr(en))).toBe('国庆节、厂庆日')
    expect(holidayName('', tr(en))).toBe('')
  })
})
