"""Check flows shared by the REST API and the CLI: plain dicts in, plain dicts out."""
from __future__ import annotations

from .enforcer import Enforcer


def _answer(r: dict, allowed: bool) -> dict:
    return {"allowed": allowed, "subject": r["subject"], "domain": r["domain"], "object": r["object"],
            "action": r["action"]}


def _args(r: dict) -> tuple:
    return r["subject"], r["domain"], r["object"], r["action"], r.get("identity_type")


def check(e: Enforcer, req: dict) -> dict:
    """One decision."""
    out = _answer(req, e.can(*_args(req)))
    out["policy"] = e.index.digest[:12]
    return out


def batch(e: Enforcer, reqs: list[dict]) -> dict:
    """Decisions in request order, all against one policy version; the uncached (subject, domain) pairs
    are read from the database together (Enforcer.can_many)."""
    allowed = e.can_many([_args(r) for r in reqs])
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
