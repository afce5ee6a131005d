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

/** A catalogue function as the enterprise account centre labels it (the permission view). */
export interface FunctionView {
  function: string
  name: string
  name_en: string
  group: string
}

/** Enterprise basic information, masked (R-ENT-1, R-MASK-1); `scope: 'full'` adds tax info (R-ENT-2). */
export interface EnterpriseInfo {
  uscc: string
  name: string
  legal_rep_name: string
  kind: string
  realname_status: string | null
  tax_authority: string | null
  province: string | null
  my_realname_level: number | null
  current_identity: IdentityLabel & { current: boolean }
  other_identities: Array<IdentityLabel & { current: boolean }>
  main_personnel: Array<IdentityLabel & { name: string; doc_type: string; doc_number: string; phone: string | null }>
  scope: 'basic' | 'full'
  tax_info?: Record<string, unknown>
  not_provided?: string[]
}

export interface IdentityLabel {
  identity_type: string
  identity_type_name: string
  identity_type_name_en: string
}

/** One binding (staff entry) as the enterprise sees it; `actions` are what this session may do to it. */
export interface StaffEntry extends IdentityLabel {
  id: number
  version: number
  name: string
  doc_type: string
  doc_number: string
  sub_identity: boolean
  state: string
  status: string
  valid_until: string | null
  long_term: boolean
  functions: FunctionView[]
  origin: string
  initiated_by: string
  assist_code: boolean
  created_at: number | null
  decided_at: number | null
  actions: string[]
}

export interface StaffPage {
  items: StaffEntry[]
  total: number
  limit: number
  offset: number
}

/** What the staff pages may offer: identity types with allowed actions and ceilings, document types. */
export interface StaffOptions {
  identity_types: Array<IdentityLabel & { actions: string[]; functions: FunctionView[] }>
  doc_types: Array<{ code: string; name: string; name_en: string }>
}

export interface StaffAdd {
  name: string
  doc_type: string
  doc_number: string
  identity_type: string
  functions: string[]
  valid_until: string | null
  risk_confirmed: boolean
}

export type StaffQuery = Record<string, string | number | undefined>

/** What the current identity holds in this enterprise (R-BIND-14). */
export interface MyPermissions extends IdentityLabel {
  grants: Array<IdentityLabel & { source: string; live: boolean; valid_until: string | null; long_term: boolean;
    functions: FunctionView[] }>
}

interface LogPage {
  total: number
  /** epoch seconds of the range shown (default: the last month) */
  since: number
  until: number
  identity_types: IdentityLabel[]
}

export interface LoginLogPage extends LogPage {
  items: Array<{ at: number; entry: string; step: string | null; factor: string | null; account_type: string | null;
    name: string; identity_type: string | null; identity_type_name: string | null; identity_type_name_en: string | null;
    outcome: string | null; ip: string | null }>
}

export interface AuditLogPage extends LogPage {
  items: Array<{ at: number; actor: string; identity_type: string | null; identity_type_name: string | null;
    identity_type_name_en: string | null; action: string; target: string | null; outcome: string | null }>
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

const E = '/account/enterprise'

export const enterprise = {
  info: () => request<EnterpriseInfo>('GET', `${E}/info`),
  fullInfo: () => request<EnterpriseInfo>('GET', `${E}/info/full`),
  /** The full taxpayer name (the "eye" icon); the service writes the reveal to the audit log (R-MASK-1). */
  reveal: () => request<{ name: string }>('POST', `${E}/info/reveal`),
  staffOptions: () => request<StaffOptions>('GET', `${E}/staff/options`),
  staff: (query: StaffQuery) => request<StaffPage>('GET', `${E}/staff`, undefined, { query }),
  addStaff: (body: StaffAdd) => request<StaffEntry>('POST', `${E}/staff`, body),
  manageStaff: (id: number, body: { functions: string[]; valid_until: string | null; version: number }) =>
    request<StaffEntry>('PATCH', `${E}/staff/${id}`, body),
  deleteStaff: (id: number) => request<StaffEntry>('DELETE', `${E}/staff/${id}`),
  pending: (query: StaffQuery) => request<StaffPage>('GET', `${E}/pending`, undefined, { query }),
  withdraw: (id: number) => request<StaffEntry>('POST', `${E}/pending/${id}/withdraw`),
  confirmApplication: (id: number) => request<StaffEntry>('POST', `${E}/applications/${id}/confirm`, {}),
  refuseApplication: (id: number) => request<StaffEntry>('POST', `${E}/applications/${id}/refuse`),
  history: (query: StaffQuery) => request<StaffPage>('GET', `${E}/history`, undefined, { query }),
  clearHistory: (ids: number[]) => request<{ cleared: number }>('POST', `${E}/history/clear`, { ids }),
  myPermissions: () => request<MyPermissions>('GET', `${E}/my-permissions`),
  loginLogs: (query: StaffQuery) => request<LoginLogPage>('GET', `${E}/logs/login`, undefined, { query }),
  auditLog: (query: StaffQuery) => request<AuditLogPage>('GET', `${E}/logs/audit`, undefined, { query }),
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
