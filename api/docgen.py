"""Regenerate the endpoint tables of docs/api.md from the OpenAPI document:
`python -m api.docgen > docs/api.md` (tests/test_docs.py fails when a path is missing from it)."""
from __future__ import annotations

import tempfile

INTRO = """# API

Everything here is also in the OpenAPI document (`GET /openapi.json`), rendered at `/docs` (Swagger UI,
served from the installed bundle, so it works without internet access). This page is generated from it by
`python -m api.docgen > docs/api.md`.

## Conventions

* **Callers.** Check, policy, integration, hall and helpdesk endpoints take a service key:
  `Authorization: Bearer azk_…` (`authz client create NAME --scope check|policy|integration|hall|helpdesk|helpdesk_export`).
  Helpdesk calls also name the operator at the desk in `X-Operator-Id` and are audited ([helpdesk.md](helpdesk.md)).
  Login flows are public; account-centre endpoints take the login session: the `authz_session` cookie
  (browsers; `HttpOnly`, `Secure`, `SameSite=Lax`) or `Authorization: Bearer azs_…` (apps).
* **Decisions.** Every account-centre endpoint asks the enforcer whether the session's *current* identity
  may use the function (`policies/rules.csv`); the domain always comes from the session, never from the
  request. Forbidden is `403 forbidden`; another enterprise's object ids answer `404 not_found`.
* **Errors.** `{code, status, message, errors, type}`: `code` is stable, `message` is Chinese, or English with
  `Accept-Language: en`; `type` is the code's catalogue entry `/api/v1/errors/<code>` (every code:
  docs/errors.md, `GET /api/v1/errors`). NUL characters are refused everywhere (`422 validation_failed`).
  The OAuth endpoints answer RFC 6749 / 6750 errors (`{error, error_description}`) instead.
* **Multi-step flows** (login, registration, password reset, phone changes, face scans) are stored on the
  server; the client carries only the flow id `azf_…`. A step is accepted only in its state; flows expire.
* **Responses** are `Cache-Control: no-store` (the web front end's files aside: [web.md](web.md)).
* **Rate limits.** The public endpoints (login, certificate login, registration, recovery) share one budget
  per client address, the account centres one per session; counted answers carry `RateLimit-Limit`,
  `RateLimit-Remaining`, `RateLimit-Reset` (seconds), and a spent budget answers `429 rate_limited` with
  `Retry-After`. The check, integration, hall and OAuth back-channel endpoints are not limited
  ([operations.md](operations.md#rate-limits)).
* **Menus.** `GET /api/v1/account/menu` answers, for the caller's session, the account-centre areas
  (`areas`: catalogue groups of `ac.*` functions, in catalogue order) and business functions (`business`)
  with the actions allowed, each decided by the enforcer for the session's identity and business entry (a
  special subject gets the switcher only, R-LOGIN-4 / R-SW-4), labelled from the rule file's catalogue in
  the request's language. Login choices and switcher options carry `identity_label` (the rule file's name
  of the identity type) and the masked `enterprise_masked` / `uscc_masked`; the login SMS factor answers
  `sends_left`. A front end needs no role names of its own.
* **Development only.** `GET /api/v1/dev` (which development pages to show),
  `GET /api/v1/dev/sms-outbox?phone=&limit=` (the codes sent) and `POST /api/v1/dev/scan` (the app
  simulator: a face check or a personal QR-login ticket scanned as a person) exist only with `AUTHZ_SMS_ADAPTER=dev` and
  `AUTHZ_DEV_PAGES=true` (`authz serve --demo` sets it); otherwise they answer 404 and are not in the
  OpenAPI document.

See [login.md](login.md) for the login state machines and a walkthrough, and
[account_person.md](account_person.md) for the person account centre.
"""


def render() -> str:
    from authz.config import Settings
    from . import create_app
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(database_url=f"sqlite:///{tmp}/doc.db", dev_pages=True), follow=False)
        spec = app.test_client().get("/openapi.json").get_json()
        app.extensions["authz"].close()
    groups: dict[str, list[tuple[str, str, str, str]]] = {}
    descriptions = {t["name"]: t.get("description", "") for t in spec.get("tags", [])}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            sec = op.get("security") or []
            who = ("service key" if any("serviceKey" in s for s in sec)
                   else "session" if any("sessionCookie" in s or "sessionBearer" in s for s in sec) else "public")
            groups.setdefault(op.get("tags", ["other"])[0], []).append(
                (method.upper(), path, who, (op.get("summary") or "").replace("|", "\\|")))
    out = [INTRO]
    for tag, rows in groups.items():
        out.append(f"\n## {tag}\n")
        if descriptions.get(tag):
            out.append(descriptions[tag] + "\n")
        out.append("| method | path | caller | what |\n|---|---|---|---|")
        out += [f"| {m} | `{p}` | {w} | {s} |" for m, p, w, s in rows]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(), end="")
