"""R-AUTHZ-5 (a binding change and its change-log row are one write): Directory.transition answers with
UPDATE ... RETURNING (the row as written and the person's uid) instead of re-reading the binding and lazily
loading its person, and must write and return exactly what the update-then-re-read path did — the path
SQLite before 3.35 still takes, forced here for comparison."""
from __future__ import annotations

import datetime as dt

import pytest

from authz import bindings as directory_mod
from authz.clock import Clock
from authz.errors import AuthzError
from authz.models import Binding, ChangeLog, Document, Enterprise, Person
from tests.binding_support import move

USCC = "91360100MA35ABCD1X"


class TickClock(Clock):
    """Every reading is a quarter second later, so rows show which reading went where."""

    def __init__(self):
        self.t = 1_770_000_000.0

    def time(self) -> float:
        self.t += 0.25
        return self.t


def _plain(b: Binding) -> dict:
    return {"data": dict(b.__data__), "dirty": set(b._dirty), "rel": sorted(b.__rel__)}


def _run(directory) -> tuple[list, list, list]:
    """Bind and transition through every path; returns (returned objects, binding rows, change_log rows)."""
    _reset()
    directory.svc.clock = TickClock()
    ent = directory.upsert_enterprise(USCC, "示例科技有限公司", "ordinary")
    p = directory.create_person("李四", "resident_id", "360102199202021234", uid="p-officer")
    q = directory.create_person("王五", "resident_id", "360102199303031235", uid="p-clerk")
    out = []
    a = directory.bind(p, ent, "tax_officer", state="active", origin="hall")
    b = directory.bind(q, ent, "invoice_officer", state="pending", origin="enterprise", functions=["biz.query"],
                       valid_until=dt.date(2027, 1, 31), initiated_by="person", sub_identity=True)
    out += [_plain(a), _plain(b)]
    out.append(_plain(move(directory.svc, a, "deleted")))  # person cached on the binding
    fresh = Binding.get_by_id(b.id)  # person not loaded: its uid comes from the database
    out.append(_plain(move(directory.svc, fresh, "active")))
    with pytest.raises(AuthzError) as err:
        move(directory.svc, fresh, "refused")  # stale: the row is active now
    out.append(err.value.code)
    with pytest.raises(AuthzError) as err:
        directory.bind(q, ent, "tax_officer", state="deleted", origin="hall")
    out.append(err.value.code)
    rows = list(Binding.select().order_by(Binding.id).dicts())
    first = ChangeLog.select().order_by(ChangeLog.id).first().id
    log = [(c.id - first, c.kind, c.key, c.at) for c in ChangeLog.select().order_by(ChangeLog.id)]
    return out, rows, log


def _reset():
    for model in (ChangeLog, Binding, Document, Person, Enterprise):
        model.delete().execute()


def test_R_AUTHZ_5_returning_writes_match_the_reread_path(directory, monkeypatch):
    """R-AUTHZ-5, R-BIND-10: same rows, change-log rows, returned bindings and errors either way."""
    fast = _run(directory)
    monkeypatch.setattr(directory_mod, "_has_returning", lambda db: False)
    slow = _run(directory)

    def without_ids(run):  # PostgreSQL sequences do not restart after _reset
        out, rows, log = run
        ids = ("id", "person", "enterprise")
        out = [{**o, "data": {k: v for k, v in o["data"].items() if k not in ids}} if isinstance(o, dict) else o
               for o in out]
        return out, [{k: v for k, v in r.items() if k not in ids} for r in rows], log

    assert without_ids(fast) == without_ids(slow)
    out, rows, log = fast
    assert [r["state"] for r in rows] == ["deleted", "active"]
    assert [r["version"] for r in rows] == [2, 2]
    assert [k for _, _, k, _ in log] == [f"p-officer|ent:{USCC}", f"p-officer|ent:{USCC}",
                                         f"p-clerk|ent:{USCC}"]
    assert out[2]["data"]["state"] == "deleted" and out[2]["dirty"] == set() and out[2]["rel"] == []
    assert out[4:] == ["binding_state", "binding_state"]


def test_R_BIND_10_transition_answers_like_a_reread(directory):
    """R-BIND-10: the binding returned by an end is the row in the database; a stale state is refused and
    records no change."""
    ent = directory.upsert_enterprise(USCC, "示例科技有限公司", "ordinary")
    p = directory.create_person("李四", "resident_id", "360102199202021234", uid="p-officer")
    b = directory.bind(p, ent, "tax_officer", state="active", origin="hall", valid_until=dt.date(2027, 1, 31),
                       functions=["biz.query"])
    assert Binding.get_by_id(b.id).__data__ == {"assist_functions": None, **b.__data__}  # as Binding.create
    n = ChangeLog.select().count()
    b2 = move(directory.svc, Binding.get_by_id(b.id), "ended")
    assert b2.__data__ == Binding.get_by_id(b.id).__data__
    assert b2.valid_until == dt.date(2027, 1, 31) and b2.functions == ["biz.query"] and b2.enabled is True
    assert ChangeLog.select().count() == n + 1
    with pytest.raises(AuthzError):
        move(directory.svc, b, "deleted")  # b still says active; the row is ended
    assert ChangeLog.select().count() == n + 1
