"""Check flows shared by the REST API and the CLI: plain dicts in, plain dicts out."""
from __future__ import annotations

import time

from . import actor, metrics, sessions
from .enforcer import Enforcer
from .errors import AuthzError


def _answer(r: dict, allowed: bool) -> dict:
    return {"allowed": allowed, "subject": r["subject"], "domain": r["domain"], "object": r["object"],
            "action": r["action"]}


def _args(r: dict) -> tuple:
    return r["subject"], r["domain"], r["object"], r["action"], r.get("identity_type")


def check(e: Enforcer, req: dict) -> dict:
    """One decision."""
    t0 = time.perf_counter()
    allowed = e.can(*_args(req))
    metrics.observe("authz_decision_seconds", time.perf_counter() - t0, call="check")
    metrics.inc("authz_decisions_total", allowed="true" if allowed else "false")
    out = _answer(req, allowed)
    out["policy"] = e.index.digest[:12]
    return out


def batch(e: Enforcer, reqs: list[dict]) -> dict:
    """Decisions in request order, all against one policy version; the uncached (subject, domain) pairs
    are read from the database together (Enforcer.can_many)."""
    t0 = time.perf_counter()
    allowed = e.can_many([_args(r) for r in reqs])
    metrics.observe("authz_decision_seconds", time.perf_counter() - t0, call="batch")
    n_allowed = sum(allowed)
    if n_allowed:
        metrics.inc("authz_decisions_total", n_allowed, allowed="true")
    if len(allowed) - n_allowed:
        metrics.inc("authz_decisions_total", len(allowed) - n_allowed, allowed="false")
    return {"results": [_answer(r, a) for r, a in zip(reqs, allowed)], "policy": e.index.digest[:12]}


def functions(e: Enforcer, req: dict, lang: str = "zh") -> dict:
    """The menu: catalogue entries the subject may use in the domain."""
    role = req.get("identity_type")
    items = [{"object": f.obj, "actions": acts, "group": f.group, "label": f.en if lang == "en" else f.zh,
              "label_zh": f.zh, "label_en": f.en}
             for f, acts in e.functions(req["subject"], req["domain"], role)]
    types = sorted({g.role for g in e.roles_in(req["subject"], req["domain"]) if role is None or g.role == role})
    return {"subject": req["subject"], "domain": req["domain"], "identity_types": types, "functions": items}


def explain(e: Enforcer, req: dict) -> dict:
    """Why the decision is what it is."""
    x = e.explain(req["subject"], req["domain"], req["object"], req["action"], req.get("identity_type"))
    rule = None
    if x.rule:
        rule = {"line": x.rule.line, "identity_type": x.rule.role, "domain": x.rule.dom,
                "object": x.rule.obj, "action": x.rule.act}
    return {"allowed": x.allowed, "reason": x.reason, "detail": x.detail, "rule": rule, "grants": x.grants}


SESSION_STATUS = {"session_required": "unknown", "session_expired": "expired", "identity_revoked": "identity_revoked"}


def holder_session(svc, raw: str):
    """The live portal session a service was handed: a session id (azs_...) or a relying party's OpenID
    Connect access token (azat_..., issue 12), which stands for the session its grant was approved in for
    as long as `authz.oidc.grants.token_live` says. Never touches the idle timer (a service's read)."""
    from .oidc import grants as oidc_grants
    if isinstance(raw, str) and raw.startswith(oidc_grants.ACCESS_PREFIX):
        return oidc_grants.session_of_access_token(svc, raw)
    return sessions.resolve(svc, raw, touch=False)


def session_check(svc, raw: str, obj: str, act: str) -> dict:
    """May the holder of this session (or access token) do `act` on `obj` now, as its current identity?
    The subject and domain come from the server-side session, never from the caller (R-AUTHZ-2);
    `session_status` says why a session gives nothing (unknown, expired, identity_revoked)."""
    out = {"allowed": False, "object": obj, "action": act, "policy": svc.enforcer.index.digest[:12]}
    try:
        row = holder_session(svc, raw)
    except AuthzError as err:
        out["session_status"] = SESSION_STATUS.get(err.code, err.code)
        return out
    out.update(session_status="active", subject=row.person.uid, domain=row.domain, identity_type=row.role,
               entry=row.entry, allowed=actor.allowed(svc, actor.of_session(row), obj, act))
    return out
