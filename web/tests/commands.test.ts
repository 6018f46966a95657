import { describe, expect, it } from 'vitest'
import { buildBody, fieldsFor, initialValues, mapError, validate, COMMAND_FIELDS } from '../src/lib/commands'
import { ApiError } from '../src/api/client'
import type { CommandName } from '../src/api/types'

const names = (cmd: CommandName, v = {}) => fieldsFor(cmd, v).map((f) => f.name)

describe('command fields', () => {
  it('knows every command of the API', () => {
    const all: CommandName[] = ['accept', 'reject', 'request-verification', 'verify', 'file', 'self-handle', 'dispatch', 'sign', 'return',
      'request-extension', 'decide-extension', 'request-park', 'decide-park', 'resume', 'feedback', 'send-check', 'check',
      'start-callback', 'callback', 'close', 'cancel', 'set-urgent', 'set-fields', 'supervise', 'escalate', 'appeal', 'decide-appeal']
    for (const c of all) expect(COMMAND_FIELDS[c], c).toBeDefined()
  })
  it('asks each command for what it needs', () => {
    expect(names('accept')).toEqual(['opinion'])
    expect(names('sign')).toEqual([])
    // its inputs are the class's extra fields, not a fixed list
    expect(names('set-fields')).toEqual([])
    expect(names('file')).toEqual(['category', 'opinion'])
    expect(names('dispatch')).toEqual(['unit', 'opinion'])
    expect(names('request-extension')).toEqual(['until', 'reason'])
    expect(names('feedback')).toEqual(['opinion', 'attachments'])
    expect(names('verify')).toEqual(['exists', 'opinion'])
    expect(names('reject', { reject_reason: 'invalid' })).toEqual(['reject_reason', 'opinion'])
    expect(names('reject', { reject_reason: 'duplicate' })).toEqual(['reject_reason', 'duplicate_of', 'opinion'])
  })
  it('starts with sensible values', () => {
    expect(initialValues('check')).toEqual({ passed: true, opinion: '' })
    expect(initialValues('set-urgent', { urgent: true })).toEqual({ urgent: false })
    expect(initialValues('reject').reject_reason).toBe('invalid')
    expect(initialValues('feedback').attachments).toEqual([])
  })
})

describe('validation', () => {
  it('requires the required fields only', () => {
    expect(validate('accept', { opinion: '' })).toEqual({})
    expect(validate('file', { category: '', opinion: '' })).toEqual({ category: 'required' })
    expect(validate('feedback', { opinion: ' ', attachments: [] })).toEqual({ opinion: 'required' })
    expect(validate('request-extension', { until: 'nonsense', reason: 'x' })).toEqual({ until: 'datetime' })
    expect(validate('reject', { reject_reason: 'duplicate', duplicate_of: '123' })).toEqual({ duplicate_of: 'case_number' })
    expect(validate('reject', { reject_reason: 'duplicate', duplicate_of: '3101012026112500001' })).toEqual({})
    expect(validate('check', { passed: false })).toEqual({})
  })
})

describe('request body', () => {
  it('carries the version and typed fields', () => {
    expect(buildBody('accept', { opinion: '' }, 1)).toEqual({ version: 1 })
    expect(buildBody('accept', { opinion: ' 同意 ' }, 1)).toEqual({ version: 1, opinion: '同意' })
    expect(buildBody('verify', { exists: false, opinion: '' }, 3)).toEqual({ version: 3, exists: false })
    expect(buildBody('dispatch', { unit: '310101-ZLS', opinion: '' }, 5)).toEqual({ version: 5, unit: '310101-ZLS' })
    expect(buildBody('feedback', { opinion: '已修复', attachments: ['a1', 'a2'] }, 8)).toEqual({ version: 8, opinion: '已修复', attachments: ['a1', 'a2'] })
    expect(buildBody('feedback', { opinion: '已修复', attachments: [] }, 8)).toEqual({ version: 8, opinion: '已修复' })
    expect(buildBody('set-urgent', { urgent: true }, 2)).toEqual({ version: 2, urgent: true })
  })
  it('leaves out fields hidden by another choice', () => {
    expect(buildBody('reject', { reject_reason: 'invalid', duplicate_of: '3101012026112500001', opinion: '' }, 1))
      .toEqual({ version: 1, reject_reason: 'invalid' })
    expect(buildBody('reject', { reject_reason: 'duplicate', duplicate_of: '3101012026112500001', opinion: '' }, 1))
      .toEqual({ version: 1, reject_reason: 'duplicate', duplicate_of: '3101012026112500001' })
  })
  it('reads a datetime-local value as Shanghai time', () => {
    expect(buildBody('request-extension', { until: '2026-11-27T18:00', reason: '材料未到' }, 7))
      .toEqual({ version: 7, until: '2026-11-27T10:00:00.000Z', reason: '材料未到' })
  })
})

describe('error mapping', () => {
  it('puts a 422 next to its field', () => {
    const e = new ApiError(422, 'invalid_input', '没有这个单位', 'unit')
    expect(mapError('dispatch', e)).toEqual({ field: 'unit', message: '没有这个单位', code: 'invalid_input', reload: false })
  })
  it('keeps an error on a field the form lacks at form level', () => {
    const e = new ApiError(422, 'invalid_input', 'bad version', 'version')
    expect(mapError('dispatch', e).field).toBeUndefined()
  })
  it('asks for a reload on 409', () => {
    const e = new ApiError(409, 'version_conflict', '案件已被修改')
    expect(mapError('accept', e)).toMatchObject({ reload: true, code: 'version_conflict' })
  })
  it('handles non-API errors', () => {
    expect(mapError('accept', new Error('boom'))).toMatchObject({ message: 'boom', code: 'unknown' })
  })
})

describe('escalate and the routing proposal', () => {
  it('asks escalate for a required reason', () => {
    expect(names('escalate')).toEqual(['reason'])
    expect(initialValues('escalate')).toEqual({ reason: '' })
    expect(validate('escalate', { reason: '  ' })).toEqual({ reason: 'required' })
    expect(validate('escalate', { reason: '跨街道，责任不清' })).toEqual({})
    expect(buildBody('escalate', { reason: ' 跨街道，责任不清 ' }, 4)).toEqual({ version: 4, reason: '跨街道，责任不清' })
  })
  it('prefills dispatch with the proposed unit and keeps it required', () => {
    expect(initialValues('dispatch', { routingUnit: '310101-ZLS' })).toEqual({ unit: '310101-ZLS', opinion: '' })
    expect(initialValues('dispatch', { routingUnit: null })).toEqual({ unit: '', opinion: '' })
    expect(initialValues('dispatch')).toEqual({ unit: '', opinion: '' })
    // only dispatch takes the proposal
    expect(initialValues('accept', { routingUnit: '310101-ZLS' })).toEqual({ opinion: '' })
    expect(fieldsFor('dispatch').find((f) => f.name === 'unit')?.required).toBe(true)
    expect(validate('dispatch', { unit: '', opinion: '' })).toEqual({ unit: 'required' })
    const v = initialValues('dispatch', { routingUnit: '310101-ZLS' })
    expect(buildBody('dispatch', v, 6)).toEqual({ version: 6, unit: '310101-ZLS' })
  })
  it('has labels for escalate in both languages', async () => {
    const zh = (await import('../src/locales/zh-CN')).default
    const en = (await import('../src/locales/en')).default
    expect(zh.actions.escalate).toBe('升级协调')
    expect(en.actions.escalate).toBe('Escalate to the next-level center')
  })
})

describe('the call-back attempt', () => {
  it('asks the outcome, reached first, and the satisfaction only when the caller was reached', () => {
    expect(initialValues('callback')).toEqual({ outcome: 'reached', satisfaction: '', opinion: '' })
    expect(names('callback', { outcome: 'reached' })).toEqual(['outcome', 'satisfaction', 'opinion'])
    expect(names('callback', { outcome: 'no_answer' })).toEqual(['outcome', 'opinion'])
    expect(names('callback', { outcome: 'wrong_number' })).toEqual(['outcome', 'opinion'])
    expect(fieldsFor('callback', { outcome: 'reached' }).find((f) => f.name === 'satisfaction')?.required).toBe(true)
  })
  it('requires a satisfaction of a reached caller, and one of the three grades', () => {
    expect(validate('callback', initialValues('callback'))).toEqual({ satisfaction: 'required' })
    expect(validate('callback', { outcome: 'reached', satisfaction: 'very_happy', opinion: '' })).toEqual({ satisfaction: 'required' })
    for (const s of ['satisfied', 'basically_satisfied', 'unsatisfied'])
      expect(validate('callback', { outcome: 'reached', satisfaction: s, opinion: '' }), s).toEqual({})
    // a failed attempt asks nothing more, whatever was picked before the outcome changed
    expect(validate('callback', { outcome: 'no_answer', satisfaction: '', opinion: '' })).toEqual({})
    expect(validate('callback', { outcome: 'wrong_number', satisfaction: 'satisfied', opinion: '' })).toEqual({})
    expect(validate('callback', { outcome: '', satisfaction: '', opinion: '' })).toEqual({ outcome: 'required' })
    expect(validate('callback', { outcome: 'busy', satisfaction: '', opinion: '' })).toEqual({ outcome: 'required' })
  })
  it('sends the outcome, the satisfaction only with a reached caller, and never the older satisfied', () => {
    expect(buildBody('callback', { outcome: 'reached', satisfaction: 'basically_satisfied', opinion: ' 基本满意 ' }, 12))
      .toEqual({ version: 12, outcome: 'reached', satisfaction: 'basically_satisfied', opinion: '基本满意' })
    expect(buildBody('callback', { outcome: 'reached', satisfaction: 'unsatisfied', opinion: '' }, 12))
      .toEqual({ version: 12, outcome: 'reached', satisfaction: 'unsatisfied' })
    // the server refuses a satisfaction with a failed attempt: a grade picked before is left out
    expect(buildBody('callback', { outcome: 'no_answer', satisfaction: 'satisfied', opinion: '' }, 12))
      .toEqual({ version: 12, outcome: 'no_answer' })
    expect(buildBody('callback', { outcome: 'wrong_number', satisfaction: '', opinion: '空号' }, 13))
      .toEqual({ version: 13, outcome: 'wrong_number', opinion: '空号' })
    expect(buildBody('callback', { outcome: 'reached', satisfaction: 'satisfied', opinion: '' }, 1)).not.toHaveProperty('satisfied')
  })
  it("places the server's refusal of the satisfaction next to it", () => {
    const e = new ApiError(422, 'invalid_input', 'satisfaction is only for a reached caller', 'satisfaction')
    expect(mapError('callback', e, { outcome: 'reached' }).field).toBe('satisfaction')
    // the field is not on the form of a failed attempt: the message stays with the form
    expect(mapError('callback', e, { outcome: 'no_answer' }).field).toBeUndefined()
  })
  it('has words for every outcome and grade in both languages', async () => {
    const zh = (await import('../src/locales/zh-CN')).default
    const en = (await import('../src/locales/en')).default
    expect(zh.callback.outcomes).toEqual({ reached: '已接通', no_answer: '无人接听', wrong_number: '号码错误' })
    expect(zh.callback.satisfaction).toEqual({ satisfied: '满意', basically_satisfied: '基本满意', unsatisfied: '不满意' })
    expect(en.callback.outcomes).toEqual({ reached: 'Reached', no_answer: 'No answer', wrong_number: 'Wrong number' })
    expect(en.callback.satisfaction).toEqual({ satisfied: 'Satisfied', basically_satisfied: 'Basically satisfied', unsatisfied: 'Unsatisfied' })
    for (const messages of [zh, en]) {
      expect(messages.fields.outcome).toBeTruthy()
      expect(messages.fields.satisfaction).toBeTruthy()
      expect(messages.case.stages.callback).toBeTruthy()
    }
  })
})

describe('appeals (申诉)', () => {
  const appeal = (number: number, decided = false) => ({
    number, unit: '310101-ZLS', ground: 'rework' as const, reason: 'x', filed_at: '2026-12-06T02:00:00Z', filed_by: 'user-water',
    decision: decided ? { accepted: true, opinion: 'ok', at: '2026-12-06T03:00:00Z', by: 'user-evaluator' } : null,
  })
  it('asks a unit for the ground, chosen on purpose, and a reason', () => {
    expect(names('appeal')).toEqual(['ground', 'reason'])
    expect(initialValues('appeal')).toEqual({ ground: '', reason: '' })
    expect(validate('appeal', initialValues('appeal'))).toEqual({ ground: 'required', reason: 'required' })
    expect(validate('appeal', { ground: 'weather', reason: '下雨' })).toEqual({ ground: 'required' })
    expect(validate('appeal', { ground: 'late_handling', reason: '等待审批' })).toEqual({})
    expect(buildBody('appeal', { ground: 'rework', reason: ' 养护期未满 ' }, 9)).toEqual({ version: 9, ground: 'rework', reason: '养护期未满' })
  })
  it('asks an evaluator which appeal, a verdict chosen on purpose and an opinion', () => {
    expect(names('decide-appeal')).toEqual(['appeal', 'accepted', 'opinion'])
    // the oldest pending appeal is the one proposed; none when all are decided
    expect(initialValues('decide-appeal', { appeals: [appeal(1, true), appeal(3), appeal(2)] })).toEqual({ appeal: 2, accepted: null, opinion: '' })
    expect(initialValues('decide-appeal', { appeals: [appeal(1, true)] })).toEqual({ appeal: '', accepted: null, opinion: '' })
    expect(validate('decide-appeal', { appeal: 1, accepted: null, opinion: '' })).toEqual({ accepted: 'required', opinion: 'required' })
    expect(validate('decide-appeal', { appeal: 0, accepted: true, opinion: '同意' })).toEqual({ appeal: 'required' })
    expect(validate('decide-appeal', { appeal: 1, accepted: false, opinion: '理由不成立' })).toEqual({})
    expect(buildBody('decide-appeal', { appeal: '2', accepted: false, opinion: ' 理由不成立 ' }, 11))
      .toEqual({ version: 11, appeal: 2, accepted: false, opinion: '理由不成立' })
    expect(buildBody('decide-appeal', { appeal: 1, accepted: true, opinion: '成立' }, 11)).toEqual({ version: 11, appeal: 1, accepted: true, opinion: '成立' })
  })
  it("puts the server's refusal of a ground next to the ground, without a reload", () => {
    const e = new ApiError(409, 'precondition_failed', 'case … never counted late_handling (处置超时) against unit 310101-ZLS', 'ground')
    expect(mapError('appeal', e)).toMatchObject({ field: 'ground', reload: false })
    // an appeal on that ground already filed: no field, the case may have moved on
    expect(mapError('appeal', new ApiError(409, 'precondition_failed', 'appeal 1 … still waiting'))).toMatchObject({ field: undefined, reload: true })
  })
})
