/**
 * Typed calls of the REST API the pages use (shapes as in /openapi.json; docs/api.md). Pages import from
 * here only; they never call fetch themselves.
 */
import { request } from './client'

export { ApiError, onSessionLost, setLanguage } from './client'
export { useApiAction } from './action'

export type Entry = 'enterprise' | 'personal' | 'agent' | 'special' | 'nonresident'

/** One identity, project or client offered at login or in the switcher, labelled by the service. */
export interface Choice {
  id: string
  entry?: string
  identity_type?: string
  identity_label?: string
  domain?: string
  enterprise?: string
  enterprise_masked?: string
  uscc_masked?: string
  name?: string
  region?: string
  kind?: string
  until?: string
  acting?: string
  sub_identity?: boolean
  project?: string | null
  agreement?: string | null
}

/** A login flow as the service answers it: the page renders `state`, never deciding the next step itself. */
export interface LoginFlow {
  flow: string
  kind: string
  state: 'second_factor' | 'sign_agreement' | 'change_password' | 'choose' | 'confirm_pending' | 'done'
  entry: Entry
  expires_at: number
  factors?: string[]
  sms_phone?: string | null
  choices?: Choice[]
  pending?: Choice[]
  identity?: Choice & { entry: string }
}

export interface FactorStarted {
  factor: string
  phone?: string
  expires_in?: number
  sends_left?: number
  ticket?: string
  expires_at?: number
}

export interface LoginStart {
  entry: Entry
  account: string
  password: string
  uscc?: string
  special_type?: string
  nonresident_code?: string
}

export interface SessionView {
  handle: string
  entry: string
  domain: string
  identity_type: string
  person: string
  enterprise_switch_allowed: boolean
  idle_expires_at: number
  absolute_expires_at: number
}

export interface MenuFunction {
  object: string
  actions: string[]
  label: string
  label_zh: string
  label_en: string
  group?: string
  group_label?: string
}

export interface Menu {
  entry: string
  /** `group` is the catalogue's key, `label` its name in the chosen language */
  areas: Array<{ group: string; label: string; functions: MenuFunction[] }>
  business: MenuFunction[]
}

export interface SwitchOptions {
  current: Choice
  identities: Choice[]
  enterprises: Choice[]
  projects: Choice[]
  clients: Choice[]
  personal: Choice | null
}

export interface PersonInfo {
  person: string
  name: string
  gender: string | null
  nationality: string | null
  email: string | null
  address: string | null
  username: string | null
  realname_level: number
  overseas: boolean
  phones: Array<{ id: number; phone: string; is_default: boolean }>
  documents: Array<{ id: number; doc_type: string; doc_type_name: string; doc_number: string; primary: boolean;
    valid_from: string | null; valid_to: string | null; long_term: boolean }>
  completeness: { percent: number; items: Record<string, boolean> }
}

export interface DevInfo {
  adapters: Record<string, string>
  pages: string[]
}

export interface OutboxMessage {
  phone: string
  text: string
  sent_at: number
}

const flowPath = (flow: string) => `/auth/login/${encodeURIComponent(flow)}`

export const auth = {
  start: (body: LoginStart) => request<LoginFlow>('POST', '/auth/login', { ...body, client: 'browser' }),
  get: (flow: string) => request<LoginFlow>('GET', flowPath(flow)),
  beginFactor: (flow: string, factor: string) =>
    request<FactorStarted>('POST', `${flowPath(flow)}/factors/${encodeURIComponent(factor)}`),
  verifyFactor: (flow: string, factor: string, code?: string) =>
    request<LoginFlow>('POST', `${flowPath(flow)}/factors/${encodeURIComponent(factor)}/verify`, code ? { code } : {}),
  signAgreement: (flow: string) => request<LoginFlow>('POST', `${flowPath(flow)}/agreement`),
  changePassword: (flow: string, newPassword: string, confirmPassword: string) =>
    request<LoginFlow>('POST', `${flowPath(flow)}/password`,
      { new_password: newPassword, confirm_password: confirmPassword }),
  choose: (flow: string, choice: string) => request<LoginFlow>('POST', `${flowPath(flow)}/choose`, { choice }),
  confirm: (flow: string, choice: string, factor: string) =>
    request<FactorStarted>('POST', `${flowPath(flow)}/confirm`, { choice, factor }),
  confirmVerify: (flow: string) => request<LoginFlow>('POST', `${flowPath(flow)}/confirm/verify`, {}),
  logout: () => request<{ ok: boolean }>('POST', '/auth/logout'),
}

export const account = {
  session: (quiet = false) => request<SessionView>('GET', '/account/session', undefined, { quiet }),
  menu: () => request<Menu>('GET', '/account/menu'),
  switchOptions: () => request<SwitchOptions>('GET', '/account/switch'),
  switchTo: (target: string) => request<{ identity: Choice }>('POST', '/account/switch', { target }),
  personInfo: () => request<PersonInfo>('GET', '/account/person/info'),
}

/** What the app simulator is told to play: the face shown (a person id, or none: the ticket's own subject) and,
 * for a QR login from the tax app in enterprise business, the enterprise and the identity logged in as. */
export interface DevScan {
  ticket: string
  person?: string
  app: string
  face_ok: boolean
  uscc?: string
  identity_type?: string
}

export const dev = {
  /** Which development pages to show; rejects (404) when the service runs production adapters. */
  info: () => request<DevInfo>('GET', '/dev', undefined, { quiet: true }),
  scan: (body: DevScan) => request<{ ticket: string; state: string }>('POST', '/dev/scan', body),
  outbox: (phone?: string) => request<{ messages: OutboxMessage[] }>('GET', '/dev/sms-outbox', undefined,
    { query: { phone, limit: 20 }, quiet: true }),
}

// ---- QR login (R-LOGIN-7), registration (R-REG), forgot password (R-PWD-4), phone recovery (R-PHONE-7)

/** A QR-login flow: `waiting` (the ticket is drawn), `expired` (refresh it) or `done` (the session cookie is
 * set now; `identity` is the business the app was logged in to, named by the service). */
export interface QrFlow {
  flow: string
  state: 'waiting' | 'expired' | 'done'
  ticket?: string
  ticket_expires_at?: number | null
  expires_at?: number
  identity?: Choice & { entry: string }
}

export const qr = {
  start: () => request<QrFlow>('POST', '/auth/qr', { client: 'browser' }),
  poll: (flow: string) => request<QrFlow>('GET', `/auth/qr/${encodeURIComponent(flow)}`),
  refresh: (flow: string) => request<QrFlow>('POST', `/auth/qr/${encodeURIComponent(flow)}/refresh`),
}

/** One of the eleven document types (R-REG-2), named in the chosen language; `online: false` types register
 * only after a hall collection. */
export interface DocType {
  code: string
  name: string
  online: boolean
  overseas: boolean
}

/** Registration, reset and recovery flows as the service answers them (`state` decides the page's step). */
export interface IdentityFlow {
  flow?: string
  kind?: string
  state: string
  expires_at?: number
  factors?: string[]
  gender?: string | null
  nationality?: string | null
  phone?: string
  person?: string
  realname_level?: number
  verified_by?: string | null
}

export interface RegisterBasic {
  password: string
  confirm_password: string
  phone: string
  code: string
  username?: string
  registration_code?: string
}

const regPath = (flow: string) => `/register/${encodeURIComponent(flow)}`

export const register = {
  documentTypes: () => request<{ document_types: DocType[] }>('GET', '/register/document-types'),
  start: (overseas: boolean) => request<IdentityFlow>('POST', '/register', { agreement: true, overseas }),
  get: (flow: string) => request<IdentityFlow>('GET', regPath(flow)),
  identity: (flow: string, name: string, docType: string, docNumber: string) =>
    request<IdentityFlow>('POST', `${regPath(flow)}/identity`, { name, doc_type: docType, doc_number: docNumber }),
  sendCode: (flow: string, phone: string) => request<FactorStarted>('POST', `${regPath(flow)}/sms-code`, { phone }),
  basic: (flow: string, body: RegisterBasic) => request<IdentityFlow>('POST', `${regPath(flow)}/basic`, body),
  beginFace: (flow: string, app: string) =>
    request<FactorStarted>('POST', `${regPath(flow)}/face/${encodeURIComponent(app)}`),
  verifyFace: (flow: string) => request<IdentityFlow>('POST', `${regPath(flow)}/face/verify`),
}

const resetPath = (flow: string) => `/password-reset/${encodeURIComponent(flow)}`

export const passwordReset = {
  start: (docType: string, docNumber: string) =>
    request<IdentityFlow>('POST', '/password-reset', { doc_type: docType, doc_number: docNumber }),
  beginFactor: (flow: string, factor: string, phone?: string) =>
    request<FactorStarted>('POST', `${resetPath(flow)}/factors/${encodeURIComponent(factor)}`, phone ? { phone } : {}),
  verifyFactor: (flow: string, factor: string, code?: string) =>
    request<IdentityFlow>('POST', `${resetPath(flow)}/factors/${encodeURIComponent(factor)}/verify`, code ? { code } : {}),
  setPassword: (flow: string, newPassword: string, confirmPassword: string) =>
    request<IdentityFlow>('POST', `${resetPath(flow)}/password`,
      { new_password: newPassword, confirm_password: confirmPassword }),
}

const recoveryPath = (flow: string) => `/phone-recovery/${encodeURIComponent(flow)}`

export const phoneRecovery = {
  start: (docType: string, docNumber: string, password: string, newPhone: string) =>
    request<IdentityFlow>('POST', '/phone-recovery',
      { doc_type: docType, doc_number: docNumber, password, new_phone: newPhone }),
  resend: (flow: string) => request<IdentityFlow>('POST', `${recoveryPath(flow)}/resend`, {}),
  verify: (flow: string, code: string) => request<IdentityFlow>('POST', `${recoveryPath(flow)}/verify`, { code }),
}
