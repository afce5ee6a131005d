"""pycasbin adapter over peewee: the rule file in force (casbin_rule) plus bindings as g lines."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from casbin.persist.adapter_filtered import FilteredAdapter
from casbin.persist.batch_adapter import BatchAdapter
from casbin.persist.update_adapter import UpdateAdapter

from .db import database
from .grants import all_grants
from .ids import ENT_PREFIX, PERSON_PREFIX
from .models import PolicyRule

COLS = ("v0", "v1", "v2", "v3", "v4", "v5")


@dataclass
class Filter:
    """Load only what one (subject, domain) needs: the static rules, its g lines and its domain's kind."""
    subject: str
    domain: str


def _values(rule: list[str]) -> dict[str, str]:
    if len(rule) > len(COLS):
        raise ValueError(f"a rule has at most {len(COLS)} fields")
    return {c: (rule[i] if i < len(rule) else "") for i, c in enumerate(COLS)}


def _load(model, ptype: str, values: list[str]) -> None:
    """Append one line to the model the way pycasbin's own loaders do (no tokenizing of user text)."""
    sec = ptype[0]
    if sec in model.model and ptype in model.model[sec]:
        model.model[sec][ptype].policy.append(values)


def _row_values(row: PolicyRule) -> list[str]:
    vals = [getattr(row, c) for c in COLS]
    while vals and vals[-1] == "":
        vals.pop()
    return vals


class PeeweeAdapter(BatchAdapter, FilteredAdapter, UpdateAdapter):
    """Stores p and g2 rule lines in casbin_rule; with `with_bindings`, also emits g lines from bindings,
    agreements and persons, g2 lines from enterprise kinds, and registers their function sets with the
    enforcer it loads (see `function_sets`)."""

    def __init__(self, with_bindings: bool = True):
        self.with_bindings = with_bindings
        self._filtered = False
        # (subject, role, domain) -> list of function sets (None = ceiling) of the grants loaded
        self.function_sets: dict[tuple[str, str, str], list] = {}

    # -- loading
    def load_policy(self, model):
        """Load every stored rule line, then (optionally) every live grant."""
        self._filtered = False
        self.function_sets.clear()  # in place: enforcers built by reference_enforcer hold this dict
        for row in PolicyRule.select().order_by(PolicyRule.id):
            _load(model, row.ptype, _row_values(row))
        if self.with_bindings:
            self._load_grants(model, all_grants(), domains=None)

    def load_filtered_policy(self, model, filter):
        """Load the stored rules plus the grants and domain kind of one (subject, domain)."""
        from .grants import GrantStore
        self._filtered = True
        self.function_sets.clear()  # in place: enforcers built by reference_enforcer hold this dict
        for row in PolicyRule.select().order_by(PolicyRule.id):
            _load(model, row.ptype, _row_values(row))
        grants = GrantStore(capacity=1).load(filter.subject, filter.domain)
        self._load_grants(model, ((filter.subject, filter.domain, g) for g in grants), domains={filter.domain})

    def _load_grants(self, model, triples, domains):
        import time
        now = time.time()
        for subject, domain, g in triples:
            if not g.live(now):
                continue
            _load(model, "g", [subject, g.role, domain])
            self.function_sets.setdefault((subject, g.role, domain), []).append(g.functions)
        if domains is None:
            ents = ((ENT_PREFIX + u, k) for u, k in database.execute_sql("SELECT uscc, kind FROM enterprise"))
            persons = ((PERSON_PREFIX + u, "personal") for (u,) in database.execute_sql("SELECT uid FROM person"))
            rows = itertools.chain(ents, persons)
        else:
            from .grants import DomainStore
            ds = DomainStore(capacity=1)
            rows = [(d, ds.load(d)[5:]) for d in domains if ds.load(d)]
        for dom, kind in rows:
            _load(model, "g2", [dom, f"kind:{kind}"])

    def is_filtered(self):
        return self._filtered

    # -- writing (rule lines only; bindings are written by the binding flows)
    def save_policy(self, model):
        """Replace every stored rule line with the model's p and g2 lines, atomically."""
        with database.atomic():
            PolicyRule.delete().execute()
            rows = []
            for sec in ("p", "g"):
                for ptype, ast in model.model.get(sec, {}).items():
                    if sec == "g" and ptype == "g":
                        continue  # person bindings are not rule-file lines
                    for rule in ast.policy:
                        rows.append({"ptype": ptype, **_values(rule)})
            for i in range(0, len(rows), 500):
                PolicyRule.insert_many(rows[i:i + 500]).execute()
        return True

    def add_policy(self, sec, ptype, rule):
        """Add one rule line (ignored if present)."""
        PolicyRule.insert(ptype=ptype, **_values(rule)).on_conflict_ignore().execute()

    def add_policies(self, sec, ptype, rules):
        """Add several rule lines in one transaction."""
        with database.atomic():
            for rule in rules:
                self.add_policy(sec, ptype, rule)

    def remove_policy(self, sec, ptype, rule):
        """Remove one rule line."""
        q = PolicyRule.delete().where(PolicyRule.ptype == ptype)
        for c, v in _values(rule).items():
            q = q.where(getattr(PolicyRule, c) == v)
        return q.execute() > 0

    def remove_policies(self, sec, ptype, rules):
        """Remove several rule lines in one transaction."""
        with database.atomic():
            for rule in rules:
                self.remove_policy(sec, ptype, rule)

    def remove_filtered_policy(self, sec, ptype, field_index, *field_values):
        """Remove rule lines whose fields from field_index on equal field_values (empty matches any)."""
        q = PolicyRule.delete().where(PolicyRule.ptype == ptype)
        for i, v in enumerate(field_values):
            if v != "":
                q = q.where(getattr(PolicyRule, COLS[field_index + i]) == v)
        return q.execute() > 0

    def update_policy(self, sec, ptype, old_rule, new_policy):
        """Replace one rule line."""
        with database.atomic():
            self.remove_policy(sec, ptype, old_rule)
            self.add_policy(sec, ptype, new_policy)
        return True
