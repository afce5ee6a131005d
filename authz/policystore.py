"""The rule file in force lives in the database, so every worker and instance loads the same one.

`install` validates a rule file, writes its Casbin lines through PeeweeAdapter and its source to
policy_state, and records a change so that other workers reload. A file that fails lint is refused and
nothing changes: the last good policy stays in force (R-AUTHZ-4).
"""
from __future__ import annotations

import time
from pathlib import Path

import casbin

from . import changes
from . import policy as pol
from .casbin_adapter import PeeweeAdapter
from .db import database
from .errors import AuthzError, code
from .models import PolicyHistory, PolicyState

E_CHANGED = code("policy_changed")
E_NO_ENTRY = code("policy_history_unknown")


def load_current() -> pol.PolicyIndex | None:
    """The rule file in force, or None if none was ever installed."""
    row = PolicyState.get_or_none(PolicyState.id == 1)
    return pol.parse(row.source) if row else None


def install(model_path: str, text: str, by: str = "", *, expect: str | None = None, note: str = ""
            ) -> tuple[pol.PolicyIndex, pol.PolicyDiff | None]:
    """Validate and put `text` in force; returns the new index and the diff from the previous one.
    Raises policy.PolicyInvalid (nothing changed) when the file has errors. With `expect` (the digest the
    author read, HTTP If-Match), the install happens only if that digest is still in force, checked in
    the install's own transaction (the row stays locked until commit), else 412 policy_changed: two
    authors cannot overwrite each other."""
    model_errors = pol.check_model(model_path)
    if model_errors:
        raise pol.PolicyInvalid(model_errors)
    index = pol.parse(text)
    previous = load_current()
    model = casbin.Enforcer(model_path).get_model()
    for ptype, values in index.casbin_lines():
        model.model[ptype[0]][ptype].policy.append(values)
    with database.atomic():
        if expect is not None:
            held = (PolicyState.update(loaded_by=PolicyState.loaded_by)
                    .where((PolicyState.id == 1) & (PolicyState.digest == expect)).execute())
            if held != 1:
                current = PolicyState.get_or_none(PolicyState.id == 1)
                raise AuthzError(E_CHANGED, errors={"in_force": current.digest if current else None,
                                                    "expected": expect})
        PeeweeAdapter(with_bindings=False).save_policy(model)
        PolicyState.insert(id=1, digest=index.digest, source=text, loaded_at=time.time(), loaded_by=by) \
            .on_conflict(conflict_target=[PolicyState.id],
                         update={PolicyState.digest: index.digest, PolicyState.source: text,
                                 PolicyState.loaded_at: time.time(), PolicyState.loaded_by: by}).execute()
        changes.record("policy", index.digest)
        d = pol.diff(previous, index) if previous else None
        PolicyHistory.create(digest=index.digest, source=text, loaded_at=time.time(), loaded_by=by,
                             added=len(d.added) if d else len(index.rules), removed=len(d.removed) if d else 0,
                             note=note[:200])
    return index, d


def history(limit: int = 50) -> list[PolicyHistory]:
    """The newest `limit` entries of the rule-file history, newest first."""
    return list(PolicyHistory.select().order_by(PolicyHistory.id.desc()).limit(limit))


def earlier(ref: str) -> PolicyHistory:
    """The history entry `ref` names: a digest (or its first 6+ characters), or `-N` (N installs back)."""
    if ref.startswith("-") and ref[1:].isdigit():
        rows = list(PolicyHistory.select().order_by(PolicyHistory.id.desc()).limit(int(ref[1:]) + 1))
        if len(rows) <= int(ref[1:]):
            raise AuthzError(E_NO_ENTRY, ref=ref)
        return rows[-1]
    if len(ref) >= 6 and all(c in "0123456789abcdef" for c in ref):
        row = (PolicyHistory.select().where(PolicyHistory.digest.startswith(ref))
               .order_by(PolicyHistory.id.desc()).first())
        if row is not None:
            return row
    raise AuthzError(E_NO_ENTRY, ref=ref)


def ensure_installed(model_path: str, rules_path: str) -> pol.PolicyIndex:
    """At start-up: the policy in the database, or the rule file on disk installed if there is none."""
    current = load_current()
    if current is not None:
        return current
    index, _ = install(model_path, Path(rules_path).read_text(encoding="utf-8"), by="startup")
    return index
