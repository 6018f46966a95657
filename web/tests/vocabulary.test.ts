import { describe, expect, it } from 'vitest'
import document from '../openapi.json'
import zh from '../src/locales/zh-CN'
import en from '../src/locales/en'
import {
  ALARM_LEVELS, API_KEY_PERMISSIONS, APPEAL_GROUNDS, CALLBACK_OUTCOMES, CASE_SOURCES, CASE_STATES, CATEGORY_KINDS, CONDITION_KINDS, DEVICE_STATUSES, FIELD_KINDS, OPEN_STATES, REJECT_REASONS,
  RULE_SCOPE_KINDS, SATISFACTIONS, SECOND_FACTORS, SETTING_SOURCES, STAFF_ROLES, TERM_UNITS, TICKET_KINDS, UNIT_KINDS, UNIT_ORGANIZATIONS, URGENCIES,
} from '../src/lib/vocabulary'
import { TERM_STAGES } from '../src/lib/categories'

// The compiler already holds these lists and tables to the generated unions; this checks the
// same against the server's document itself, and the order the UI shows them in.
const schemas = document.components.schemas as Record<string, { enum?: string[] }>
const enumOf = (name: string): string[] => schemas[name].enum ?? []
const sorted = (values: readonly string[]) => [...values].sort()

describe("the server's vocabularies in the UI", () => {
  it('lists every case state once, the open ones first', () => {
    expect(sorted(CASE_STATES)).toEqual(sorted(enumOf('CaseState')))
    expect(CASE_STATES.slice(0, OPEN_STATES.length)).toEqual(OPEN_STATES)
    expect(CASE_STATES.slice(OPEN_STATES.length)).toEqual(['closed', 'invalid', 'cancelled', 'merged'])
  })

  it('lists sources, reject reasons and warning levels in the server order', () => {
    expect(CASE_SOURCES).toEqual(enumOf('CaseSource'))
    expect(REJECT_REASONS).toEqual(enumOf('RejectReason'))
    expect(ALARM_LEVELS).toEqual(enumOf('WarningLevel'))
  })

  it("lists call-back outcomes and satisfaction grades in the server order", () => {
    expect(CALLBACK_OUTCOMES).toEqual(enumOf('CallbackOutcome'))
    expect(SATISFACTIONS).toEqual(enumOf('Satisfaction'))
  })

  it("lists a call's kinds in the server order, with words for each in both languages", () => {
    expect(TICKET_KINDS).toEqual(enumOf('TicketKind'))
    for (const messages of [zh, en]) expect(Object.keys(messages.hotline.kinds)).toEqual(enumOf('TicketKind'))
  })

  it('has words for every role, state, source, command, stage, alarm level and state, unit kind and organization, call-back outcome and satisfaction in both languages', () => {
    for (const messages of [zh, en]) {
      expect(sorted(Object.keys(messages.roles))).toEqual(sorted(enumOf('Role')))
      expect(sorted(Object.keys(messages.states))).toEqual(sorted(enumOf('CaseState')))
      expect(sorted(Object.keys(messages.sources))).toEqual(sorted(enumOf('CaseSource')))
      expect(sorted(Object.keys(messages.actions))).toEqual(sorted([...enumOf('CommandWireName'), 'create']))
      expect(sorted(Object.keys(messages.case.stages))).toEqual(sorted(enumOf('CaseStage')))
      expect(sorted(Object.keys(messages.case.pendingKinds))).toEqual(sorted(enumOf('PendingKind')))
      expect(sorted(Object.keys(messages.alarms.levels))).toEqual(sorted(enumOf('WarningLevel')))
      expect(sorted(Object.keys(messages.alarms.states))).toEqual(sorted(enumOf('AlarmState')))
      expect(sorted(Object.keys(messages.units.kinds))).toEqual(sorted(enumOf('UnitKind')))
      expect(sorted(Object.keys(messages.units.organizations))).toEqual(sorted(enumOf('UnitOrganization')))
      expect(sorted(Object.keys(messages.callback.outcomes))).toEqual(sorted(enumOf('CallbackOutcome')))
      expect(sorted(Object.keys(messages.callback.satisfaction))).toEqual(sorted(enumOf('Satisfaction')))
    }
  })

  it('lists the grounds of an appeal in the server order, with a name and a sentence for each in both languages', () => {
    expect(APPEAL_GROUNDS).toEqual(enumOf('AppealGround'))
    for (const messages of [zh, en]) {
      expect(Object.keys(messages.appeals.grounds)).toEqual(enumOf('AppealGround'))
      expect(Object.keys(messages.appeals.groundHints)).toEqual(enumOf('AppealGround'))
      for (const field of ['ground', 'appeal', 'accepted'] as const) expect(messages.fields[field]).toBeTruthy()
    }
  })

  it("lists units' lines of work and organizations in the server order", () => {
    expect(UNIT_KINDS).toEqual(enumOf('UnitKind'))
    expect(UNIT_ORGANIZATIONS).toEqual(enumOf('UnitOrganization'))
  })

  it('lists staff roles, API key permissions and second-factor states in the server order, with words for each in both languages', () => {
    expect(STAFF_ROLES).toEqual(enumOf('StaffRole'))
    expect(API_KEY_PERMISSIONS).toEqual(enumOf('ApiKeyPermission'))
    expect(SECOND_FACTORS).toEqual(enumOf('SecondFactor'))
    for (const messages of [zh, en]) {
      expect(Object.keys(messages.admin.keys.permissions)).toEqual(enumOf('ApiKeyPermission'))
      expect(Object.keys(messages.admin.keys.permissionHints)).toEqual(enumOf('ApiKeyPermission'))
      expect(Object.keys(messages.admin.users.secondFactor)).toEqual(enumOf('SecondFactor'))
    }
  })

  it("lists a term's units, urgencies, category kinds and the stages a class gives terms for in the server order, with words for each in both languages", () => {
    const termsView = (document.components.schemas as Record<string, { required?: string[] }>).TermsView
    expect(TERM_UNITS).toEqual(enumOf('TermUnit'))
    expect(URGENCIES).toEqual(enumOf('Urgency'))
    expect(CATEGORY_KINDS).toEqual(enumOf('CategoryKind'))
    expect(TERM_STAGES).toEqual(termsView.required)
    for (const messages of [zh, en]) {
      const words = messages.admin.categories
      expect(Object.keys(words.units)).toEqual(enumOf('TermUnit'))
      expect(Object.keys(words.term)).toEqual(enumOf('TermUnit'))
      expect(Object.keys(words.urgencies)).toEqual(enumOf('Urgency'))
      expect(Object.keys(words.kinds)).toEqual(enumOf('CategoryKind'))
      expect(Object.keys(words.stageHints)).toEqual(TERM_STAGES)
    }
  })

  it("lists the kinds of a class's extra fields in the server's order, with words for each in both languages", () => {
    expect(FIELD_KINDS).toEqual(enumOf('FieldKind'))
    for (const messages of [zh, en]) {
      expect(Object.keys(messages.admin.categories.fieldKinds)).toEqual(enumOf('FieldKind'))
      expect(Object.keys(messages.extra.problem).sort()).toEqual(['choice', 'date', 'long', 'number', 'required'])
    }
  })

  it("lists device statuses, rule scopes, condition kinds and setting sources in the server's order, with words for each in both languages", () => {
    type OneOf = { oneOf: { properties: { kind: { enum: string[] } } }[] }
    const kinds = (name: string) => (schemas[name] as unknown as OneOf).oneOf.map((v) => v.properties.kind.enum[0])
    expect(DEVICE_STATUSES).toEqual(enumOf('DeviceStatus'))
    expect(SETTING_SOURCES).toEqual(enumOf('SettingSource'))
    expect(RULE_SCOPE_KINDS).toEqual(kinds('RuleScope'))
    expect(CONDITION_KINDS).toEqual(kinds('Condition'))
    for (const messages of [zh, en]) {
      const words = messages.admin.devices
      expect(Object.keys(words.statuses)).toEqual(DEVICE_STATUSES)
      expect(Object.keys(words.statusHints)).toEqual(DEVICE_STATUSES)
      expect(Object.keys(words.scopeText)).toEqual(RULE_SCOPE_KINDS)
      expect(Object.keys(words.ruleForm.scopes)).toEqual(RULE_SCOPE_KINDS)
      expect(Object.keys(words.ruleForm.conditions)).toEqual(CONDITION_KINDS)
      expect(Object.keys(messages.admin.settings.sources)).toEqual(SETTING_SOURCES)
    }
  })
})
