"""Check flows shared by the REST API and the CLI: plain dicts in, plain dicts out."""
from __future__ import annotations

import time

from . import metrics
from .enforcer import Enforcer


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
