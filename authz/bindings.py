"""Every binding state transition, with its one guard (R-BIND-2..13, R-BIND-18: two-way confirmation).

The state machine is drawn in `docs/bindings.md`, generated from `TRANSITIONS` below by
`python -m authz.bindings > docs/bindings.md`; a test holds the two equal.

The invariant "who may move a binding" has exactly this home: `transition` refuses a transition the
table does not give the party, and a person's confirmation without a face proof of that very person.
So the person's own application (initiated_by person) can only become active by the enterprise's
decision, and nothing the enterprise or a source created becomes active without the person's face
(R-BIND-6, R-BIND-18). Every flow (staff, person_bindings, login, integration) calls this; nothing else
writes Binding.state. The write is one conditional UPDATE (... RETURNING where the database has it), in
one transaction with the change-log row, so the enforcer's answer changes at once (R-AUTHZ-5).
"""
from __future__ import annotations

import sqlite3
from typing import Callable

import peewee

from .db import database
from .directory import E_BAD_STATE
from .errors import AuthzError, code
from .models import Binding, Person
from .verification import Proof
from .vocab import BindingState as S, Method, Party

E_FACE = code("face_verification_required")


def applied_by_person(b: Binding) -> bool:
    """The person's own application (R-BIND-7): the enterprise decides it, not the person."""
    return b.initiated_by == "person"


def not_applied_by_person(b: Binding) -> bool:
    """Added by the enterprise or filed by a source: the person decides it (R-BIND-2/3/6)."""
    return b.initiated_by != "person"


def always(b: Binding) -> bool:
    return True


# (from, to) -> {party: predicate(binding)}: which party may take this transition for this binding.
TRANSITIONS: dict[tuple[S, S], dict[Party, Callable[[Binding], bool]]] = {
    (S.PENDING, S.ACTIVE): {Party.PERSON: not_applied_by_person, Party.ENTERPRISE: applied_by_person},
    (S.PENDING, S.REFUSED): {Party.PERSON: not_applied_by_person, Party.ENTERPRISE: applied_by_person},
    (S.PENDING, S.WITHDRAWN): {Party.PERSON: applied_by_person, Party.ENTERPRISE: not_applied_by_person,
                               Party.SOURCE: always},
    (S.ACTIVE, S.DELETED): {Party.ENTERPRISE: always},
    (S.ACTIVE, S.ENDED): {Party.PERSON: always, Party.SOURCE: always},
}
PREDICATE_TEXT = {not_applied_by_person: "not own application", applied_by_person: "own application",
                  always: ""}


def may(b: Binding, to: S, by: Party) -> bool:
    """Does the table give `by` the transition of `b` from its state to `to`?"""
    try:
        key = (S(b.state), S(to))
    except ValueError:
        return False
    rule = TRANSITIONS.get(key, {}).get(Party(by))
    return bool(rule and rule(b))


def transition(svc, b: Binding, to: S | str, *, by: Party, proof: Proof | None = None) -> Binding:
    """Move binding `b` to `to` as party `by`. The person's confirmation (pending -> active by the
    person) needs a face `proof` of that person (R-BIND-6). Atomic against races: the row changes only if
    it is still in the state read. Returns the row as written."""
    to = S(to)
    if not may(b, to, by):
        raise AuthzError(E_BAD_STATE)
    if by is Party.PERSON and to is S.ACTIVE:
        uid = b.person.uid
        if proof is None or not proof.proves(uid, Method.FACE):
            raise AuthzError(E_FACE)
    now = svc.clock.time()
    query = (Binding.update(state=to.value, updated_at=now, decided_at=now, version=Binding.version + 1)
             .where((Binding.id == b.id) & (Binding.state == b.state)))
    if not _has_returning(database.obj):  # SQLite before 3.35: update, then re-read
        with database.atomic():
            if query.execute() != 1:
                raise AuthzError(E_BAD_STATE)
            svc.grant_changed(b.person.uid, b.domain)
        return Binding.get_by_id(b.id)
    # One round trip: the row as written, and the person's uid, come back with the UPDATE.
    uid_col = Person.select(Person.uid).where(Person.id == Binding.person).alias("person_uid")
    with database.atomic():
        rows = list(query.returning(Binding, uid_col).objects(Binding).execute())
        if len(rows) != 1:
            raise AuthzError(E_BAD_STATE)
        updated = rows[0]
        svc.grant_changed(updated.__dict__.pop("person_uid"), b.domain)
    return updated


def _has_returning(db) -> bool:
    """UPDATE ... RETURNING: PostgreSQL, and SQLite from 3.35 on."""
    return not isinstance(db, peewee.SqliteDatabase) or sqlite3.sqlite_version_info >= (3, 35, 0)


def document() -> str:
    """docs/bindings.md: the table as a diagram and as a list, with where each transition is taken."""
    rows = []
    for (frm, to), parties in TRANSITIONS.items():
        for party, pred in parties.items():
            cond = PREDICATE_TEXT[pred] or "any binding"
            proof = "face scan of the binding's person" if party is Party.PERSON and to is S.ACTIVE else ""
            rows.append(f"| {frm.value} | {to.value} | {party.value} | {cond} | {proof} |")
    return "\n".join([
        "# Binding state machine",
        "",
        "Generated from `authz/bindings.py` (`TRANSITIONS`) by `python -m authz.bindings > docs/bindings.md`;",
        "`tests/test_docs.py` fails when this file and the code disagree. `bindings.transition` is the only",
        "code that writes a binding's state: it refuses any transition the table does not give the party,",
        "and a person's confirmation without a face proof of that person (R-BIND-6).",
        "",
        "\"Own application\" is a binding the person applied for (R-BIND-7, `initiated_by = person`); every",
        "other pending binding was added by the enterprise (R-BIND-2) or filed by a source (R-BIND-3).",
        "",
        "```mermaid",
        mermaid().rstrip("\n"),
        "```",
        "",
        "| from | to | party | for which bindings | proof |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "Parties: `person` (the binding's own person, from the personal account centre or the enterprise",
        "login's confirm step), `enterprise` (legal representative, finance officer or admin, as",
        "`policies/rules.csv` grants `ac.staff`), `source` (the integration API: core tax system, hall,",
        "agency filings).",
        "",
    ])


def mermaid() -> str:
    """The state machine drawn from TRANSITIONS (docs/bindings.md holds this text; a test compares)."""
    lines = ["stateDiagram-v2",
             "    [*] --> pending: enterprise adds, source files, person applies",
             "    [*] --> active: authoritative source (registration data, agency filing)"]
    for (frm, to), parties in TRANSITIONS.items():
        who = []
        for party, pred in parties.items():
            cond = PREDICATE_TEXT[pred]
            face = " + face" if party is Party.PERSON and to is S.ACTIVE else ""
            who.append(f"{party.value}{face}" + (f" ({cond})" if cond else ""))
        lines.append(f"    {frm.value} --> {to.value}: {' / '.join(who)}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(document(), end="")
