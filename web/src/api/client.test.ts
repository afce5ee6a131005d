// Unit tests of the API client's error mapping and of the message catalogues (run by `npm test`, and by
// tests/web/test_web_unit.py in the Python suite).
import { describe, expect, it } from 'vitest'
import { ApiError } from './client'
import zhCN from '../i18n/zh-CN'
import en from '../i18n/en'

describe('ApiError', () => {
  it('puts a validator message next to its field', () => {
    const e = new ApiError({ code: 'validation_failed', status: 422, message: '请求参数校验未通过',
      errors: { json: { account: ['Length must be between 1 and 254.'] } } })
    expect(e.fieldMessages()).toEqual({ account: '请求参数校验未通过: Length must be between 1 and 254.' })
    expect(e.formMessage()).toBe('')
  })
  it('puts a domain error on the field the form names for its code, else on the form', () => {
    const e = new ApiError({ code: 'password_wrong', status: 401, message: '密码错误' })
    expect(e.fieldMessages({ password_wrong: 'password' })).toEqual({ password: '密码错误' })
    expect(e.formMessage({})).toBe('密码错误')
  })
  it('reads the lockout end', () => {
    const e = new ApiError({ code: 'account_locked', status: 423, message: 'locked', errors: { locked_until: 1772467200 } })
    expect(e.until?.toISOString()).toBe('2026-03-02T16:00:00.000Z')
  })
})

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`]))
}

describe('messages', () => {
  it('English has every Chinese key and no other', () => {
    expect(keys(en).sort()).toEqual(keys(zhCN).sort())
  })
})
