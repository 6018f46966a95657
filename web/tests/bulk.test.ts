import { describe, expect, it, vi } from 'vitest'
import {
  BULK_COMMANDS, buildBulkRequests, bulkFields, bulkInitialValues, commonActions, failure, isBulkCommand, runBulk,
  summarise, validateBulk,
} from '../src/lib/bulk'
import { ApiError } from '../src/api/client'
import type { CommandName } from '../src/api/types'

const c = (id: string, version: number, actions?: CommandName[]) => ({ id, number: `31010120261125000${id}`, version, actions })

describe('common actions', () => {
  it('offers the bulk commands all selected cases have, in toolbar order', () => {
    expect(commonActions([c('1', 1, ['reject', 'accept', 'set-urgent']), c('2', 3, ['accept', 'reject', 'set-urgent', 'cancel'])]))
      .toEqual(['accept', 'set-urgent'])
    expect(commonActions([c('1', 1, ['accept', 'reject'])])).toEqual(['accept'])
  })
  it('never offers commands that need per-case input', () => {
    expect(commonActions([c('1', 1, ['reject', 'dispatch', 'file', 'feedback', 'verify', 'check', 'callback', 'escalate'])])).toEqual([])
    for (const cmd of ['reject', 'dispatch', 'file', 'feedback', 'verify', 'check', 'callback', 'escalate', 'request-extension'])
      expect(isBulkCommand(cmd), cmd).toBe(false)
    expect(BULK_COMMANDS).toEqual(['accept', 'request-verification', 'send-check', 'sign', 'start-callback', 'close', 'cancel', 'set-urgent', 'supervise'])
  })
  it('offers nothing when nothing is selected or a case has no actions', () => {
    expect(commonActions([])).toEqual([])
    expect(commonActions([c('1', 1, ['accept']), c('2', 1)])).toEqual([])
    expect(commonActions([c('1', 1, ['accept']), c('2', 1, ['sign'])])).toEqual([])
  })
})

describe('shared form', () => {
  it('reuses the command field specs', () => {
    expect(bulkFields('accept').map((f) => f.name)).toEqual(['opinion'])
    expect(bulkFields('sign')).toEqual([])
    expect(bulkFields('cancel').map((f) => [f.name, f.required])).toEqual([['reason', true]])
    expect(bulkFields('supervise').map((f) => [f.name, f.required])).toEqual([['opinion', true], ['term', true]])
    expect(bulkFields('close').map((f) => [f.name, !!f.required])).toEqual([['opinion', false]])
  })
  it('starts set-urgent at yes and validates required shared texts', () => {
    expect(bulkInitialValues('set-urgent')).toEqual({ urgent: true })
    expect(bulkInitialValues('cancel')).toEqual({ reason: '' })
    expect(validateBulk('cancel', { reason: ' ' })).toEqual({ reason: 'required' })
    expect(validateBulk('supervise', { opinion: '', term: '1:working_days' })).toEqual({ opinion: 'required' })
    expect(bulkInitialValues('supervise')).toEqual({ opinion: '', term: '1:working_days' })
    expect(validateBulk('close', { opinion: '' })).toEqual({})
    expect(validateBulk('sign', {})).toEqual({})
  })
})

describe('per-case bodies', () => {
  it('carries each case its own version with the shared fields', () => {
    const reqs = buildBulkRequests('cancel', { reason: ' 重复录入 ' }, [c('1', 4), c('2', 9)])
    expect(reqs).toEqual([
      { id: '1', number: '310101202611250001', body: { version: 4, reason: '重复录入' } },
      { id: '2', number: '310101202611250002', body: { version: 9, reason: '重复录入' } },
    ])
  })
  it('leaves out an empty optional opinion and types the yes/no', () => {
    expect(buildBulkRequests('accept', { opinion: '' }, [c('1', 2)])[0].body).toEqual({ version: 2 })
    expect(buildBulkRequests('sign', {}, [c('1', 2)])[0].body).toEqual({ version: 2 })
    expect(buildBulkRequests('set-urgent', { urgent: false }, [c('1', 2)])[0].body).toEqual({ version: 2, urgent: false })
  })
})

describe('results', () => {
  it('summarises successes and failures with the server message', () => {
    const s = summarise('accept', [
      { id: '1', number: 'n1', ok: true },
      failure({ id: '2', number: 'n2' }, new ApiError(409, 'version_conflict', 'the case is at version 2, not 1', 'version')),
      failure({ id: '3', number: 'n3' }, new Error('boom')),
    ])
    expect(s).toEqual({
      command: 'accept', total: 3, succeeded: 1,
      failed: [
        { id: '2', number: 'n2', status: 409, code: 'version_conflict', message: 'the case is at version 2, not 1' },
        { id: '3', number: 'n3', status: 0, code: 'unknown', message: 'boom' },
      ],
    })
    expect(summarise('accept', [])).toEqual({ command: 'accept', total: 0, succeeded: 0, failed: [] })
  })
  it('sends one case after another and carries on past a failure', async () => {
    const log: string[] = []
    let inFlight = 0
    const send = vi.fn(async (id: string, cmd: string, body: Record<string, unknown>) => {
      inFlight++
      expect(inFlight).toBe(1)
      await new Promise((r) => setTimeout(r, 1))
      log.push(`${id}:${cmd}:${body.version}`)
      inFlight--
      if (id === '2') throw new ApiError(409, 'version_conflict', 'someone changed it')
      return {}
    })
    const progress: number[] = []
    const s = await runBulk('accept', { opinion: '批量受理' }, [c('1', 1), c('2', 5), c('3', 7)], send, (d) => progress.push(d))
    expect(log).toEqual(['1:accept:1', '2:accept:5', '3:accept:7'])
    expect(send.mock.calls[0][2]).toEqual({ version: 1, opinion: '批量受理' })
    expect(progress).toEqual([1, 2, 3])
    expect(s.succeeded).toBe(2)
    expect(s.failed).toEqual([{ id: '2', number: '310101202611250002', status: 409, code: 'version_conflict', message: 'someone changed it' }])
  })
})
