"""The enforcer: the one place that decides (R-AUTHZ-1). Built once by `build_enforcer`.

Decisions implement the Casbin model in policies/model.conf exactly (the test suite checks every answer
against a plain pycasbin Enforcer loaded through PeeweeAdapter), but over an index instead of a scan:

* rules are compiled into a table keyed by (object, action): for each identity type, "any domain" or the
  set of direct domain kinds and literal domains its rules match, so a decision is a few dict lookups;
* a person's grants in a domain (and the domain's kind) are read lazily from the database in one round
  trip and cached in a bounded LRU as one flat tuple of plain values, so start-up does not load millions
  of bindings, memory stays bounded however many enterprises are checked, and the cache costs the garbage
  collector nothing (see authz/grants.py; measurements in docs/PERFORMANCE.md);
* validity windows are compared with the clock at decision time, so an end date passing is immediate;
* writes invalidate the affected (person, domain) entry here at once and everywhere else via ChangeFeed.

`explain` asks pycasbin itself (enforce_ex over a filtered load) which rule allowed a request, and adds
the reason when nothing did.

Because decisions are compiled, not evaluated from the model's matchers, the enforcer honours exactly
`policy.HONOURED_MODEL`: it refuses to start on a model.conf that says anything else (as lint and every
reload do, `policy.check_model`), so a matcher edit is never silently ignored (issue 10).
"""
from __future__ import annotations

import copy
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import casbin

from . import metrics
from . import policy as pol
from .casbin_adapter import Filter, PeeweeAdapter
from .clock import Clock
from .grants import FIELDS, DomainStore, Grant, GrantStore, function_bit
from .ids import ENT_PREFIX, PERSON_PREFIX

WARM_BACKLOG = 50_000  # warm hints kept while the follower catches up (older ones are dropped: a later miss)


@dataclass
class Explanation:
    """Why a request was allowed or denied."""
    allowed: bool
    reason: str  # allowed | unknown_function | unknown_domain | no_identity | identity_not_live |
    #              not_in_function_set | no_rule
    rule: pol.Rule | None = None
    casbin_rule: list[str] | None = None
    grants: list[dict] = field(default_factory=list)
    detail: str = ""


DENY_TEXT = {
    "unknown_function": "the function/action pair is not in the catalogue",
    "unknown_domain": "the domain does not exist",
    "no_identity": "the subject holds no active identity in this domain",
    "identity_not_live": "the subject's identity here is outside its validity window",
    "not_in_function_set": "the identity type allows it, but the binding's function set does not include it",
    "no_rule": "no rule grants this to the identity types the subject holds here",
}


class Enforcer:
    """Domain verbs over the model: can / explain / functions / reload."""

    def __init__(self, model_path: str, index: pol.PolicyIndex, grants: GrantStore, domains: DomainStore,
                 clock: Clock):
        self.model_path = model_path
        self.index = index
        self.grants = grants
        self.domains = domains
        self.clock = clock
        self._reload_lock = threading.Lock()
        self._table: tuple = (None, {})
        # (subject, domain) pairs of sessions opened by other workers, read by the change-feed thread
        # (`warm_pending`); bounded so a flood of logins cannot grow it without limit
        self._to_warm: deque = deque(maxlen=WARM_BACKLOG)
        model_errors = pol.check_model(model_path)
        if model_errors:
            raise pol.PolicyInvalid(model_errors)
        self._model = casbin.Enforcer(model_path).get_model()  # parsed once; copied per explain

    # ---- decisions
    def can(self, subject: str, domain: str, obj: str, act: str, role: str | None = None) -> bool:
        """May `subject` do `act` on `obj` in `domain`? With `role`, only that identity type counts
        (a session acts as its current identity, not as every identity the person holds)."""
        index, table = self._table
        if index is not self.index:
            index, table = self._rebuild_table()
        spec = table.get((obj, act))
        if spec is None:
            return False
        entry = self.grants.entry(subject, domain)
        n = len(entry)
        if n == 1:
            return False
        kind = entry[0]
        if kind is None:
            return False
        bit, allow_by_role = spec
        now = None
        for i in range(1, n, FIELDS):  # role, function-set mask, since, until, ref
            r = entry[i]
            if role is not None and r != role:
                continue
            allow = allow_by_role.get(r)
            if allow is None or (allow is not True and kind not in allow and domain not in allow):
                continue
            since, until = entry[i + 2], entry[i + 3]
            if since is not None or until is not None:
                if now is None:
                    now = self.clock.time()
                if (since is not None and now < since) or (until is not None and now >= until):
                    continue
            if bit >= 0 and not (entry[i + 1] >> bit) & 1:
                continue
            return True
        return False

    def service_can(self, scope: str, domain: str, obj: str, act: str) -> bool:
        """May the calling service of this scope (`hall`, ...) do `act` on `obj` in `domain`? The model's m
        with the rule file's subject `service:<scope>` as its own role (Casbin's g(x, x, dom) holds): its
        `p` lines decide over the domain's kind; no bindings, function sets or validity windows. Only svc.
        functions are granted to services (lint); a business function never matches (no function set)."""
        index, table = self._table
        if index is not self.index:
            index, table = self._rebuild_table()
        spec = table.get((obj, act))
        if spec is None or spec[0] >= 0:
            return False
        allow = spec[1].get(pol.SERVICE_PREFIX + scope)
        if allow is None or allow is True:
            return allow is True
        kind = self.domains.kind(domain)
        return kind is not None and (kind in allow or domain in allow)

    def entry_allows(self, entry: str, obj: str, act: str) -> bool:
        """May a session of business entry `entry` reach (obj, act) at all? The model's m2 over the rule
        file's p2 lines (authz.actor.allowed asks this and `can` together for every session decision)."""
        return self.index.entry_allows(entry, obj, act)

    def _rebuild_table(self):
        """Compile the rule index into (object, action) -> (function bit for a business function, else -1;
        identity type -> True (any domain) | the direct kinds and literal domains its rules match). Same
        answers as walking the rules with the kind closure, without the walk."""
        index = self.index
        closure = index.kind_closure
        table: dict[tuple[str, str], tuple[int, dict[str, object]]] = {}
        for (obj, act), rules in index.by_obj_act.items():
            doms_by_role: dict[str, set[str]] = {}
            for r in rules:
                doms_by_role.setdefault(r.role, set()).add(r.dom)
            allow: dict[str, object] = {}
            for role, doms in doms_by_role.items():
                if "*" in doms:
                    allow[role] = True
                    continue
                kinds = {d for d in doms if d.startswith("kind:")}
                allow[role] = frozenset(doms | {direct for direct, implied in closure.items() if implied & kinds})
            table[(obj, act)] = (function_bit(obj) if obj.startswith(pol.BIZ_PREFIX) else -1, allow)
        self._table = (index, table)  # one assignment: readers see the old pair or the new, never a mix
        return index, table

    def can_many(self, requests: list[tuple[str, str, str, str]]) -> list[bool]:
        """Several decisions; the uncached (subject, domain) pairs are read from the database together
        first (one round trip per 100 pairs instead of one per pair). A request may carry a fifth item,
        the identity type, as `can`'s `role`."""
        self.prefetch((r[0], r[1]) for r in requests)
        return [self.can(*r) for r in requests]

    def prefetch(self, pairs) -> int:
        """Warm the grant cache for these (subject, domain) pairs in bulk; returns how many were read."""
        return self.grants.prefetch(pairs)

    def warm(self, pairs, source: str) -> int:
        """Read these pairs' grants now, ahead of their first decision (issue 14); returns how many were
        read from the database (cached pairs cost nothing). `source`: session (opened elsewhere) | start."""
        n = self.grants.warm(pairs)
        if n:
            metrics.inc("authz_grants_warmed_total", n, source=source)
        return n

    def warm_pending(self) -> int:
        """Warm the pairs that `warm` hints from the change feed asked for (the follower thread runs this
        after each poll, never a request's thread)."""
        pairs = []
        q = self._to_warm
        while q:
            try:
                pairs.append(q.popleft())
            except IndexError:
                break
        return self.warm(dict.fromkeys(pairs), "session") if pairs else 0

    def explain(self, subject: str, domain: str, obj: str, act: str, role: str | None = None) -> Explanation:
        """The decision with the rule that allowed it, or the reason none did."""
        allowed = self.can(subject, domain, obj, act, role)
        grants = self.grants.load(subject, domain)
        now = self.clock.time()
        shown = [_grant_view(g, now) for g in grants if role is None or g.role == role]
        if allowed:
            casbin_rule = self._casbin_explain(subject, domain, obj, act, role)
            rule = next((r for r in self.index.by_obj_act.get((obj, act), ())
                         if r.as_casbin() == casbin_rule), None)
            return Explanation(True, "allowed", rule, casbin_rule, shown, detail=f"rule file line {rule.line}"
                               if rule else "")
        if (obj, act) not in self.index.by_obj_act and (obj not in self.index.functions
                                                        or act not in self.index.functions[obj].actions):
            return Explanation(False, "unknown_function", grants=shown, detail=DENY_TEXT["unknown_function"])
        kind = self.domains.load(domain)
        if kind is None:
            return Explanation(False, "unknown_domain", grants=shown, detail=DENY_TEXT["unknown_domain"])
        relevant = [g for g in grants if role is None or g.role == role]
        if not relevant:
            return Explanation(False, "no_identity", grants=shown, detail=DENY_TEXT["no_identity"])
        kinds = self.index.kinds_of(kind)
        rules = self.index.by_obj_act.get((obj, act), ())
        ruled = [g for g in relevant if any(r.role == g.role and (r.dom in ("*", domain) or r.dom in kinds)
                                            for r in rules)]
        if not ruled:
            return Explanation(False, "no_rule", grants=shown, detail=DENY_TEXT["no_rule"])
        if not any(g.live(now) for g in ruled):
            return Explanation(False, "identity_not_live", grants=shown, detail=DENY_TEXT["identity_not_live"])
        return Explanation(False, "not_in_function_set", grants=shown, detail=DENY_TEXT["not_in_function_set"])

    def _casbin_explain(self, subject, domain, obj, act, role) -> list[str] | None:
        """Ask pycasbin (enforce_ex) over a filtered load which rule line matched."""
        e = reference_enforcer(self._model, Filter(subject, domain), only_role=role)
        ok, rule = e.enforce_ex(subject, domain, obj, act)
        return list(rule) if ok else None

    def functions(self, subject: str, domain: str, role: str | None = None) -> list[tuple[pol.FunctionDef, list[str]]]:
        """Catalogue entries the subject may use here, each with the actions allowed (menus)."""
        out = []
        for f in self.index.functions.values():
            acts = [a for a in f.actions if self.can(subject, domain, f.obj, a, role)]
            if acts:
                out.append((f, acts))
        return out

    def roles_in(self, subject: str, domain: str) -> list[Grant]:
        """The subject's live grants in the domain."""
        now = self.clock.time()
        return [g for g in self.grants.grants(subject, domain) if g.live(now)]

    # ---- policy and cache maintenance
    def reload(self, index: pol.PolicyIndex) -> None:
        """Swap in a new compiled rule file (atomic: readers see the old or the new, never a mix)."""
        with self._reload_lock:
            self.index = index

    def on_change(self, kind: str, key: str) -> None:
        """ChangeFeed listener: forget what a write elsewhere made stale."""
        if kind == "grant":
            subject, _, domain = key.partition("|")
            self.grants.invalidate(subject or None, domain or None)
        elif kind == "domain":
            self.domains.invalidate(key or None)
            self.grants.invalidate(None, key or None)
        elif kind == "warm":  # a session opened in this pair somewhere: read it ahead (warm_pending)
            subject, _, domain = key.partition("|")
            if subject and domain:
                self._to_warm.append((subject, domain))
        elif kind == "policy":
            from .policystore import load_current
            current = load_current()
            if current is not None and current.digest != self.index.digest:
                self.reload(current)


def _grant_view(g: Grant, now: float) -> dict:
    return {"identity_type": g.role, "source": g.source, "live": g.live(now),
            "functions": sorted(g.functions) if g.functions is not None else None,
            "since": g.since, "until": g.until}


def reference_enforcer(model, filter: Filter | None = None, only_role: str | None = None) -> casbin.Enforcer:
    """A plain pycasbin Enforcer over PeeweeAdapter (all grants, or one filtered pair) with the
    inFunctionSet function registered. Slow and complete: for explain, tests and benchmarks."""
    adapter = PeeweeAdapter(with_bindings=True)
    if isinstance(model, (str, Path)):
        e = casbin.Enforcer(str(model))
    else:
        e = casbin.Enforcer(copy.deepcopy(model))
    e.set_adapter(adapter)
    if filter is not None:
        e.load_filtered_policy(filter)
    else:
        e.load_policy()
    sets = adapter.function_sets
    if only_role is not None:
        g = e.get_model()["g"]["g"]
        g.policy = [p for p in g.policy if p[1] == only_role]
        e.build_role_links()

    e.add_function("inFunctionSet", function_set_matcher(sets))
    return e


def function_set_matcher(sets: dict):
    """The model's inFunctionSet(sub, role, dom, obj) for pycasbin over `sets`: (sub, role, dom) -> the
    function sets of that person's grants (None: every function of the identity type). Business functions
    (biz.*) must be in one of them; account-centre functions follow the identity type's ceiling alone."""
    def in_function_set(sub, role, dom, obj):
        if not str(obj).startswith(pol.BIZ_PREFIX):
            return True
        return any(fs is None or obj in fs for fs in sets.get((sub, role, dom), ()))
    return in_function_set


def is_enterprise_domain(domain: str) -> bool:
    return domain.startswith(ENT_PREFIX)


def is_person_domain(domain: str) -> bool:
    return domain.startswith(PERSON_PREFIX)
