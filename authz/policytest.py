"""Policy tests (issue 13, policy authors): assertion files that say, for a model and a rule file, which
requests are allowed and which denied, decided by pycasbin itself from `model.conf` (the reference the
fast enforcer is held equal to), with no database.

An assertion file is CSV like the rule file (`#` comments, blank lines ignored):

    g2, ent:A, kind:ordinary                       # domain ent:A is an ordinary enterprise
    g, p-legal, legal_rep, ent:A                   # p-legal holds legal_rep in ent:A (every function)
    g, p-clerk, tax_officer, ent:A, biz.query      # ... or a binding narrowed to these business functions
    allow, p-legal, ent:A, ac.staff:admin, add     # expected decisions (matcher m)
    deny, p-clerk, ent:A, ac.staff:admin, delete
    allow-entry, enterprise, ac.staff, view        # what a session of an entry may reach (matcher m2)
    deny-entry, special, ac.staff, view

`run` answers one result per assertion with its line; `authz policy test FILE…` prints the failures
and exits 1 when any assertion fails (2 when a file is broken), so CI runs the shipped file
(`policies/tests.csv`) against the shipped rules.
"""
from __future__ import annotations

import copy
import csv
import io
from dataclasses import dataclass
from pathlib import Path

import casbin

from . import policy as pol
from .enforcer import function_set_matcher

VERDICTS = {"allow": True, "deny": False}
ENTRY_VERDICTS = {"allow-entry": True, "deny-entry": False}


@dataclass(frozen=True)
class Assertion:
    line: int
    expect: bool
    request: tuple[str, ...]  # (sub, dom, obj, act) or (entry, obj, act)
    entry: bool

    def text(self) -> str:
        verdict = ("allow" if self.expect else "deny") + ("-entry" if self.entry else "")
        return ", ".join((verdict, *self.request))


@dataclass(frozen=True)
class Result:
    assertion: Assertion
    got: bool

    @property
    def ok(self) -> bool:
        return self.got == self.assertion.expect


class AssertionFileInvalid(ValueError):
    def __init__(self, errors: list[tuple[int, str]]):
        super().__init__("; ".join(f"line {n}: {m}" for n, m in errors))
        self.errors = errors


def parse(text: str) -> tuple[list[list[str]], list[list[str]], dict, list[Assertion]]:
    """(g lines, g2 lines, function sets, assertions) of an assertion file, or AssertionFileInvalid."""
    g, g2, sets, asserts, errors = [], [], {}, [], []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        row = [c.strip() for c in next(csv.reader(io.StringIO(line)))]
        kind = row[0]
        if kind == "g" and len(row) >= 4:
            g.append(row[1:4])
            sets.setdefault(tuple(row[1:4]), []).append(frozenset(row[4:]) if len(row) > 4 else None)
        elif kind == "g2" and len(row) == 3:
            g2.append(row[1:3])
        elif kind in VERDICTS and len(row) == 5:
            asserts.append(Assertion(n, VERDICTS[kind], tuple(row[1:]), False))
        elif kind in ENTRY_VERDICTS and len(row) == 4:
            asserts.append(Assertion(n, ENTRY_VERDICTS[kind], tuple(row[1:]), True))
        else:
            errors.append((n, f"not an assertion line: {raw.strip()!r} (g, g2, allow, deny, allow-entry, deny-entry)"))
    if errors:
        raise AssertionFileInvalid(errors)
    if not asserts:
        raise AssertionFileInvalid([(0, "no allow / deny assertions")])
    return g, g2, sets, asserts


def run(model_path: str | Path, index: pol.PolicyIndex, text: str) -> list[Result]:
    """Decide every assertion with pycasbin over `model_path`, the rule file's lines and the file's grants."""
    g, g2, sets, asserts = parse(text)
    e = casbin.Enforcer(str(model_path))
    model = e.get_model()
    for ptype, values in index.casbin_lines():
        model.model[ptype[0]][ptype].policy.append(list(values))
    model.model["g"]["g"].policy.extend(copy.deepcopy(g))
    model.model["g"]["g2"].policy.extend(copy.deepcopy(g2))
    e.build_role_links()

    e.add_function("inFunctionSet", function_set_matcher(sets))
    entry_ctx = e.new_enforce_context("2")
    out = []
    for a in asserts:
        got = e.enforce(entry_ctx, *a.request) if a.entry else e.enforce(*a.request)
        out.append(Result(a, bool(got)))
    return out
