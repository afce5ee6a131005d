/**
 * The one HTTP client of the front end (docs/web.md): same-origin fetch with cookies, the CSRF token of
 * `GET /api/v1/auth/csrf` fetched once per page load and sent as X-CSRF-Token on every unsafe method
 * (docs/login.md "Browsers"), Accept-Language following the chosen language, and the service's error shape
 * `{code, status, message, errors}` turned into an ApiError whose messages a form shows next to its fields.
 */
export interface ApiErrorBody {
  code: string
  status: number
  message: string
  errors?: Record<string, unknown> | null
}

/** A refused request: `message` is the service's own text in the chosen language. */
export class ApiError extends Error {
  readonly code: string
  readonly status: number
  readonly errors: Record<string, unknown>

  constructor(body: ApiErrorBody) {
    super(body.message)
    this.code = body.code
    this.status = body.status
    this.errors = (body.errors ?? {}) as Record<string, unknown>
  }

  /**
   * Messages per form field: the validator's field messages (`errors.json.<field>`, `errors.query.<field>`),
   * and the whole message on the field `codeFields` names for this error's code. What no field takes is
   * left for the form's own alert (`formMessage`).
   */
  fieldMessages(codeFields: Record<string, string> = {}): Record<string, string> {
    const out: Record<string, string> = {}
    for (const where of ['json', 'query']) {
      const fields = this.errors[where]
      if (fields && typeof fields === 'object') {
        for (const [name, msgs] of Object.entries(fields as Record<string, unknown>)) {
          out[name] = `${this.message}: ${Array.isArray(msgs) ? msgs.join(' ') : String(msgs)}`
        }
      }
    }
    const field = codeFields[this.code]
    if (field && !out[field]) out[field] = this.message
    return out
  }

  /** The message for the form's alert, or '' when a field shows it. */
  formMessage(codeFields: Record<string, string> = {}): string {
    return Object.keys(this.fieldMessages(codeFields)).length ? '' : this.message
  }

  /** When the refusal ends (lockout: `errors.locked_until`, seconds since the epoch), if it says. */
  get until(): Date | null {
    const t = this.errors['locked_until']
    return typeof t === 'number' ? new Date(t * 1000) : null
  }
}

const BASE = '/api/v1'
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
let language = 'zh-CN'
let csrf: Promise<string> | null = null
const sessionLostListeners: Array<(code: string) => void> = []

/** Accept-Language of every later request. */
export function setLanguage(lang: string): void {
  language = lang
}

/** Called when an account-centre request answers that the session is gone (to return to the login page). */
export function onSessionLost(fn: (code: string) => void): void {
  sessionLostListeners.push(fn)
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  return { Accept: 'application/json', 'Accept-Language': language === 'en' ? 'en' : 'zh-CN,zh;q=0.9', ...extra }
}

function csrfToken(refresh = false): Promise<string> {
  if (!csrf || refresh) {
    csrf = fetch(`${BASE}/auth/csrf`, { credentials: 'same-origin', headers: headers() })
      .then(async (r) => {
        if (!r.ok) throw new ApiError(await errorBody(r))
        return ((await r.json()) as { token: string }).token
      })
      .catch((e) => {
        csrf = null
        throw e
      })
  }
  return csrf
}

async function errorBody(r: Response): Promise<ApiErrorBody> {
  try {
    const body = (await r.json()) as ApiErrorBody
    if (body && typeof body.code === 'string') return body
  } catch {
    /* not our JSON: fall through */
  }
  return { code: 'unavailable', status: r.status, message: r.statusText || String(r.status) }
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>
  /** Do not report a lost session (the login page asks who is logged in without wanting a redirect). */
  quiet?: boolean
}

/** One API call; resolves with the JSON answer or rejects with an ApiError. */
export async function request<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
  const query = opts.query
    ? '?' + new URLSearchParams(Object.entries(opts.query).filter(([, v]) => v !== undefined && v !== '')
        .map(([k, v]) => [k, String(v)])).toString()
    : ''
  const send = async (refresh: boolean): Promise<Response> => {
    const extra: Record<string, string> = {}
    if (body !== undefined) extra['Content-Type'] = 'application/json'
    if (UNSAFE.has(method)) extra['X-CSRF-Token'] = await csrfToken(refresh)
    return fetch(BASE + path + (query === '?' ? '' : query), {
      method,
      credentials: 'same-origin',
      headers: headers(extra),
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  }
  let r = await send(false)
  if (r.status === 403 && UNSAFE.has(method)) {
    const err = await errorBody(r.clone())
    if (err.code === 'csrf_failed') r = await send(true) // the browser cookie changed: a fresh token, once
  }
  if (!r.ok) {
    const err = new ApiError(await errorBody(r))
    if (!opts.quiet && ['session_required', 'session_expired', 'identity_revoked'].includes(err.code)) {
      sessionLostListeners.forEach((fn) => fn(err.code))
    }
    throw err
  }
  return (r.status === 204 ? {} : await r.json()) as T
}
