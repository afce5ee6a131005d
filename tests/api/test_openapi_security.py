"""The OpenAPI document says who may call each route (R-AUTHZ-3 service keys, R-LOGIN-13 sessions): every
operation is called without any credentials, with schema-generated (schema-valid) requests driven like
tests/api/test_schemathesis.py, and

* a route that answers 401 for missing caller credentials (`session_required`, `unauthenticated`, ...)
  declares a security requirement, so docs/api.md does not list it as public;
* every 401 a route gives is documented among its responses;
* conversely, a route that declares a security requirement does answer 401 without credentials."""
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings

# 401 codes that mean "who is calling?" (a session or a service key), not "wrong password / signature"
CALLER_CODES = {"session_required", "session_expired", "identity_revoked", "unauthenticated"}
SESSION_SCHEMES = {"sessionCookie", "sessionBearer"}
# The routes the walkthrough found listed as public although they need a session
MUST_BE_SESSION = {"POST /api/v1/auth/logout", "GET /api/v1/account/session", "GET /api/v1/account/sessions",
                   "DELETE /api/v1/account/sessions/{handle}", "POST /api/v1/auth/qr/tickets/{ticket}/confirm"}


def _without_credentials(case) -> None:
    """Drop whatever the generator put in the Authorization header or cookies for declared schemes."""
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.cookies = {}


def answers_without_credentials(app, examples: int = 4) -> tuple[dict, dict[str, list[tuple[int, str]]]]:
    """The OpenAPI document and, per operation label, the (status, error code) of credential-less calls."""
    spec = app.test_client().get("/openapi.json").get_json()
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    seen: dict[str, list[tuple[int, str]]] = {}
    for result in schema.get_all_operations():
        op = result.ok()
        answers = seen.setdefault(op.label, [])

        @given(op.as_strategy())
        @hsettings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                   phases=[Phase.explicit, Phase.generate])
        def run(case):
            _without_credentials(case)
            resp = case.call()
            body = resp.json() if resp.headers.get("content-type", [""])[0].startswith("application/json") else {}
            answers.append((resp.status_code, body.get("code", "") if isinstance(body, dict) else ""))

        run()
    return spec, seen


@pytest.mark.slow
def test_R_AUTHZ_3_R_LOGIN_13_a_401_without_credentials_means_a_declared_security(app):
    """R-AUTHZ-3 / R-LOGIN-13: a route refusing an anonymous caller with 401 declares the service key or the
    session schemes and documents its 401; a route declaring them refuses an anonymous caller."""
    spec, seen = answers_without_credentials(app)
    assert len(seen) == sum(1 for ops in spec["paths"].values() for m in ops if m != "parameters")
    problems, refused = [], set()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            label = f"{method.upper()} {path}"
            answers = seen[label]
            schemes = {name for req in op.get("security") or [] for name in req}
            statuses = {s for s, _ in answers}
            codes = {c for s, c in answers if s == 401}
            if 401 in statuses and "401" not in op["responses"]:
                problems.append(f"{label}: answers 401 ({', '.join(sorted(codes))}) but does not document it")
            if codes & CALLER_CODES:
                refused.add(label)
                if not schemes:
                    problems.append(f"{label}: answers 401 {sorted(codes & CALLER_CODES)} but declares no security")
                elif codes & (CALLER_CODES - {"unauthenticated"}) and not schemes & SESSION_SCHEMES:
                    problems.append(f"{label}: needs a session but declares {sorted(schemes)}")
            elif schemes:
                problems.append(f"{label}: declares {sorted(schemes)} but answered {sorted(statuses)} without them")
    assert not problems, "\n".join(problems)
    assert MUST_BE_SESSION <= refused, MUST_BE_SESSION - refused
    for label in MUST_BE_SESSION:
        method, path = label.split(" ", 1)
        assert {"sessionCookie", "sessionBearer"} <= {n for r in spec["paths"][path][method.lower()]["security"]
                                                      for n in r}, label
