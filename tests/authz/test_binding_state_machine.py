"""Bindings under random operations and under races: R-BIND-18, R-BIND-1, R-BIND-2, R-BIND-5, R-BIND-6,
R-BIND-10, R-BIND-11, R-BIND-4 (one pending binding per person and type).

The state machine lets the enterprise side (legal rep, finance officer, admins, a tax officer, the
integration port) and the persons perform random operations through the real flows, and checks after
every step that:
  * no active tax or invoice officer binding exists without its person's own consent — their confirm
    (with face verification) or their own application (R-BIND-18), and the enforcer agrees;
  * the legal rep and finance officer bindings survive every enterprise-side operation (R-BIND-1/2/10);
  * a person never holds two live bindings of one type in one enterprise (R-BIND-4).
Races run real threads against a file SQLite database (or PostgreSQL with AUTHZ_TEST_DATABASE_URL)."""
from __future__ import annotations

import collections
import datetime as dt
import threading

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule,
                                 run_state_machine_as_test)

from authz.actor import Actor
from authz.db import database, is_postgres
from authz.errors import AuthzError
from authz.flows import person_bindings as pb
from authz.flows import integration, staff
from authz.ids import enterprise_domain, person_domain
from authz.models import (Agreement, AgreementAgent, AuditLog, Binding, ChangeLog, Document, Enterprise,
                          Person, Phone)
from authz.models import BindingConstraint, OutboxEvent

from .test_staff import build_world, person_actor
from tests.binding_support import face_proof, move

USCC = "91360100MA35ABCD1X"
DOM = enterprise_domain(USCC)
OFFICERS = ("tax_officer", "invoice_officer")
PEOPLE = {"p-l": ("欧阳明远", "360102198001011112"), "p-f": ("司马青衫", "360102198102022224"),
          "p-a": ("上官云霄", "360102198203033336"), "p-1": ("令狐冲霄", "360102198607077773"),
          "p-2": ("任盈如意", "360102198708088885")}
# Weighted towards operations that can succeed, so that the interesting states are reached often.
ENTERPRISE_SIDE = [("p-l", "legal_rep"), ("p-f", "finance_officer"), ("p-a", "admin"), ("p-l", "legal_rep"),
                   ("p-f", "finance_officer"), ("p-1", "admin"), ("p-2", "tax_officer")]
PERSON_SIDE = ("p-1", "p-2", "p-1", "p-2", "p-l")
ADD_TYPES = ("tax_officer", "invoice_officer", "tax_officer", "invoice_officer", "admin", "legal_rep",
             "finance_officer")
FUNCTION_SETS = (None, ["biz.query"], ["biz.invoice_use", "biz.query"], None, [], ["biz.refund"])


def _reset(svc) -> None:
    for m in (OutboxEvent, BindingConstraint, AuditLog, ChangeLog, AgreementAgent, Agreement, Binding, Phone,
              Document, Person, Enterprise):
        m.delete().execute()
    svc.enforcer.grants.invalidate(None, None)
    svc.enforcer.domains.invalidate()


CREATED = Bundle("bindings")
# Most operations target bindings created during the run; some target the initial legal rep, finance
# officer and admin bindings.
TARGET = st.one_of(CREATED, CREATED, CREATED, st.sampled_from(("legal", "fin", "admin")))


class BindingMachine(RuleBasedStateMachine):
    """Random enterprise-side, integration and person operations on one enterprise's bindings."""

    svc = None
    directory = None
    bindings = Bundle("bindings")  # ids of bindings created during the run

    @initialize()
    def world(self):
        svc, d = self.svc, self.directory
        _reset(svc)
        self.clock_start = svc.clock.time()
        self.ent = d.upsert_enterprise(USCC, "赣江示例科技有限公司", "ordinary", province="36")
        self.p = {uid: d.create_person(n, "resident_id", doc, uid=uid, registered=True)
                  for uid, (n, doc) in PEOPLE.items()}
        self.legal = d.bind(self.p["p-l"], self.ent, "legal_rep", state="active", origin="registration",
                            initiated_by="integration")
        self.fin = d.bind(self.p["p-f"], self.ent, "finance_officer", state="active", origin="tax_report",
                          initiated_by="integration")
        self.admin = d.bind(self.p["p-a"], self.ent, "admin", state="active", origin="enterprise")
        self.consented: set[int] = set()  # bindings the person confirmed or applied for themselves

    def _id(self, i) -> int:
        """A binding id drawn by TARGET: one created during the run, or one of the initial three."""
        return {"legal": self.legal.id, "fin": self.fin.id, "admin": self.admin.id}.get(i, i)

    def teardown(self):
        self.svc.clock.set(self.clock_start)

    # ---- helpers
    outcomes: collections.Counter = collections.Counter()  # (flow, outcome) over a whole run

    @classmethod
    def _try(cls, fn, *a, **kw):
        try:
            out = fn(*a, **kw)
            cls.outcomes[(fn.__name__, "ok")] += 1
            return out
        except AuthzError as exc:
            cls.outcomes[(fn.__name__, exc.code)] += 1
            return None

    # ---- enterprise side
    @staticmethod
    def _new(out):
        return multiple(out["id"]) if out else multiple()

    @rule(target=bindings, who=st.sampled_from(ENTERPRISE_SIDE), uid=st.sampled_from(("p-1", "p-2")),
          role=st.sampled_from(ADD_TYPES), fs=st.sampled_from(FUNCTION_SETS),
          until=st.sampled_from((None, 0, 30, None, -1)), risk=st.sampled_from((True, True, True, False)))
    def ent_add(self, who, uid, role, fs, until, risk):
        name, doc = PEOPLE[uid]
        day = None if until is None else self.svc.clock.today() + dt.timedelta(days=until)
        return self._new(self._try(staff.add_staff, self.svc, Actor(who[0], DOM, who[1]), name=name,
                                   doc_type="resident_id", doc_number=doc, identity_type=role, functions=fs,
                                   valid_until=day, risk_confirmed=risk))

    @rule(target=bindings, who=st.sampled_from(ENTERPRISE_SIDE[:2]), uid=st.sampled_from(("p-1", "p-2")),
          role=st.sampled_from(("tax_officer", "invoice_officer", "admin")), fs=st.sampled_from((None, ["biz.query"])))
    def ent_add_plain(self, who, uid, role, fs):
        """The common case, so that the interesting states are reached often: a valid add."""
        name, doc = PEOPLE[uid]
        return self._new(self._try(staff.add_staff, self.svc, Actor(who[0], DOM, who[1]), name=name,
                                   doc_type="resident_id", doc_number=doc, identity_type=role, functions=fs,
                                   risk_confirmed=True))

    @rule(i=CREATED, j=st.one_of(st.none(), CREATED))
    def person_confirm_own(self, i, j):
        """The common case: the binding's own person confirms with face verification."""
        b = Binding.get_or_none(Binding.id == i)
        if b is None or b.person.uid not in PERSON_SIDE:
            return
        ids = sorted({i} | ({j} if j is not None else set()))
        out = self._try(pb.confirm, self.svc, person_actor(b.person.uid), ids, proof=face_proof(b.person.uid))
        if out is not None:
            self.consented.update(o["id"] for o in out)

    @rule(i=CREATED, op=st.sampled_from(("end", "withdraw", "refuse")))
    def person_acts_on_own(self, i, op):
        """The common case: the binding's own person ends it, withdraws their application or refuses."""
        b = Binding.get_or_none(Binding.id == i)
        if b is None or b.person.uid not in PERSON_SIDE:
            return
        fn = {"end": pb.end_binding, "withdraw": pb.withdraw_application, "refuse": pb.refuse}[op]
        self._try(fn, self.svc, person_actor(b.person.uid), i)

    @rule(i=CREATED, who=st.sampled_from(ENTERPRISE_SIDE[:2]), op=st.sampled_from(("confirm", "refuse")))
    def ent_decides_application(self, i, who, op):
        """The common case: the legal rep or finance officer decides on an application."""
        fn = {"confirm": staff.confirm_application, "refuse": staff.refuse_application}[op]
        self._try(fn, self.svc, Actor(who[0], DOM, who[1]), i)

    @rule(who=st.sampled_from(ENTERPRISE_SIDE), i=TARGET)
    def ent_withdraw(self, who, i):
        i = self._id(i)
        self._try(staff.withdraw_staff, self.svc, Actor(who[0], DOM, who[1]), i)

    @rule(who=st.sampled_from(ENTERPRISE_SIDE), i=TARGET, fs=st.sampled_from(FUNCTION_SETS),
          until=st.sampled_from((..., None, 3)))
    def ent_manage(self, who, i, fs, until):
        i = self._id(i)
        kw = {"functions": fs}
        if until is not ...:
            kw["valid_until"] = None if until is None else self.svc.clock.today() + dt.timedelta(days=until)
        self._try(staff.manage_staff, self.svc, Actor(who[0], DOM, who[1]), i, **kw)

    @rule(who=st.sampled_from(ENTERPRISE_SIDE), i=TARGET)
    def ent_delete(self, who, i):
        i = self._id(i)
        self._try(staff.delete_staff, self.svc, Actor(who[0], DOM, who[1]), i)

    @rule(who=st.sampled_from(ENTERPRISE_SIDE), i=TARGET, fs=st.sampled_from(FUNCTION_SETS[:3]))
    def ent_confirm_application(self, who, i, fs):
        i = self._id(i)
        self._try(staff.confirm_application, self.svc, Actor(who[0], DOM, who[1]), i, functions=fs)

    @rule(who=st.sampled_from(ENTERPRISE_SIDE), i=TARGET)
    def ent_refuse_application(self, who, i):
        i = self._id(i)
        self._try(staff.refuse_application, self.svc, Actor(who[0], DOM, who[1]), i)

    @rule(who=st.sampled_from(ENTERPRISE_SIDE), i=TARGET, on=st.booleans())
    def ent_assist_code(self, who, i, on):
        i = self._id(i)
        self._try(staff.set_assist_code, self.svc, Actor(who[0], DOM, who[1]), i, enabled=on)

    @rule(who=st.sampled_from(ENTERPRISE_SIDE))
    def ent_clear_history(self, who):
        self._try(staff.clear_history, self.svc, Actor(who[0], DOM, who[1]))

    @rule(target=bindings, uid=st.sampled_from(("p-1", "p-2")),
          source=st.sampled_from(("core_tax", "hall:tax_officer", "hall:invoice_officer", "hall:admin")))
    def integration_pending(self, uid, source):
        """The integration port (core tax system, tax hall) brings pending bindings (R-BIND-3), which the
        enterprise cannot withdraw online; it never makes an active officer."""
        name, doc = PEOPLE[uid]
        ref = {"doc_type": "resident_id", "doc_number": doc, "name": name}
        if source == "core_tax":
            out = self._try(integration.report_tax_officers, self.svc, "service:core-tax", uscc=USCC,
                            officers=[{"person": ref}])
            out = out["results"][0] if out else None
        else:
            out = self._try(integration.hall_add_binding, self.svc, "service:hall", uscc=USCC, person=ref,
                            identity_type=source.split(":")[1])
        return multiple(out["binding_id"]) if out and out["changed"] else multiple()

    # ---- person side (the person acting is the binding's own person, or someone else)
    @staticmethod
    def _who(uid: str, i: int, as_owner: bool) -> str:
        if as_owner:  # only persons of PERSON_SIDE act (the finance officer may end their own binding)
            b = Binding.get_or_none(Binding.id == i)
            if b is not None and b.person.uid in PERSON_SIDE:
                return b.person.uid
        return uid

    @rule(uid=st.sampled_from(PERSON_SIDE), i=TARGET, j=st.one_of(st.none(), TARGET), as_owner=st.booleans(),
          verified=st.sampled_from((True, True, False)))
    def person_confirm(self, uid, i, j, as_owner, verified):
        i = self._id(i)
        j = None if j is None else self._id(j)
        ids = sorted({i} | ({j} if j is not None else set()))
        out = self._try(pb.confirm, self.svc, person_actor(self._who(uid, i, as_owner)), ids, proof=face_proof(self._who(uid, i, as_owner)) if verified else None)
        if out is not None:
            assert verified is True, "R-BIND-6: a confirm without face verification succeeded"
            self.consented.update(o["id"] for o in out)

    @rule(uid=st.sampled_from(PERSON_SIDE), i=TARGET, as_owner=st.booleans())
    def person_refuse(self, uid, i, as_owner):
        i = self._id(i)
        self._try(pb.refuse, self.svc, person_actor(self._who(uid, i, as_owner)), i)

    @rule(uid=st.sampled_from(PERSON_SIDE), i=TARGET, as_owner=st.booleans())
    def person_end(self, uid, i, as_owner):
        i = self._id(i)
        self._try(pb.end_binding, self.svc, person_actor(self._who(uid, i, as_owner)), i)

    @rule(target=bindings, uid=st.sampled_from(PERSON_SIDE), role=st.sampled_from(ADD_TYPES))
    def person_apply(self, uid, role):
        out = self._try(pb.apply, self.svc, person_actor(uid), uscc=USCC, identity_type=role)
        if out is not None:
            self.consented.add(out["id"])
        return self._new(out)

    @rule(uid=st.sampled_from(PERSON_SIDE), i=TARGET, as_owner=st.booleans())
    def person_withdraw(self, uid, i, as_owner):
        i = self._id(i)
        self._try(pb.withdraw_application, self.svc, person_actor(self._who(uid, i, as_owner)), i)

    @rule(days=st.integers(1, 40))
    def time_passes(self, days):
        self.svc.clock.advance(days=days)

    # ---- invariants
    @invariant()
    def R_BIND_18_no_active_officer_without_consent(self):
        rows = list(Binding.select().where((Binding.domain == DOM) & (Binding.role.in_(OFFICERS))
                                           & (Binding.state == "active")))
        for b in rows:
            assert b.id in self.consented, f"R-BIND-18: binding {b.id} ({b.role}) active without consent"
        for uid in PEOPLE:
            for role in OFFICERS:
                if self.svc.enforcer.can(uid, DOM, "biz.query", "use", role) or \
                        self.svc.enforcer.can(uid, DOM, "biz.invoice_use", "use", role):
                    assert any(b.person.uid == uid and b.role == role for b in rows), (uid, role)

    @invariant()
    def R_BIND_1_legal_rep_and_finance_officer_survive(self):
        if not hasattr(self, "legal"):
            return
        assert Binding.get_by_id(self.legal.id).state == "active"
        assert Binding.get_by_id(self.fin.id).state == "active"
        assert Binding.get_by_id(self.legal.id).functions is None
        assert self.svc.enforcer.can("p-l", DOM, "ac.staff", "view", "legal_rep")
        assert self.svc.enforcer.can("p-f", DOM, "ac.staff", "view", "finance_officer")

    @invariant()
    def R_BIND_4_one_live_binding_per_person_and_type(self):
        seen = set()
        for b in Binding.select().where((Binding.domain == DOM) & (Binding.state.in_(("pending", "active")))):
            key = (b.person_id, b.role)
            assert key not in seen, f"two live {b.role} bindings for person {b.person_id}"
            seen.add(key)


def _run(svc, directory, **kw):
    BindingMachine.svc, BindingMachine.directory = svc, directory
    BindingMachine.outcomes.clear()
    run_state_machine_as_test(BindingMachine, settings=settings(
        stateful_step_count=40, deadline=None, database=None, suppress_health_check=list(HealthCheck), **kw))


def test_R_BIND_18_state_machine_random(svc, directory):
    """R-BIND-18 / R-BIND-1 / R-BIND-2 / R-BIND-4 / R-BIND-6 / R-BIND-10 / R-BIND-11: random operations by
    everyone never make someone an active tax/invoice officer without their consent, never remove the
    legal rep or finance officer, never duplicate a live binding. A new random run every time."""
    _run(svc, directory, max_examples=25 if is_postgres() else 60)


def test_R_BIND_18_state_machine_fixed_seed_reaches_every_transition(svc, directory):
    """R-BIND-18 (same invariants): a derandomized run, so that its coverage can be asserted — it goes
    through every transition the invariants are about, and is refused often."""
    _run(svc, directory, max_examples=100, derandomize=True)
    for flow in ("add_staff", "confirm", "apply", "confirm_application", "delete_staff", "withdraw_staff",
                 "refuse", "end_binding"):
        assert BindingMachine.outcomes[(flow, "ok")] > 0, (flow, sorted(BindingMachine.outcomes.items()))
    for flow, code in (("confirm", "face_verification_required"), ("delete_staff", "forbidden"),
                       ("manage_staff", "forbidden"), ("end_binding", "forbidden")):
        assert BindingMachine.outcomes[(flow, code)] > 0, (flow, code)


def test_R_BIND_18_invariant_catches_a_bypass(svc, directory, monkeypatch):
    """The R-BIND-18 invariant is not vacuous: replaying "the enterprise adds, then confirms its own add
    as if it were an application" (a bypass patched in here) trips it."""
    def bypass(svc_, actor, binding_id, **kw):
        b = staff.binding_in_domain(actor, binding_id)
        move(svc_, b, "active")
        return {}

    BindingMachine.svc, BindingMachine.directory = svc, directory
    m = BindingMachine()
    m.world()
    [bid] = m.ent_add_plain(who=("p-l", "legal_rep"), uid="p-1", role="tax_officer", fs=None).values
    m.R_BIND_18_no_active_officer_without_consent()
    monkeypatch.setattr(staff, "confirm_application", bypass)
    m.ent_confirm_application(who=("p-l", "legal_rep"), i=bid, fs=None)
    with pytest.raises(AssertionError, match="R-BIND-18"):
        m.R_BIND_18_no_active_officer_without_consent()
    m.teardown()


# ---- races (threads on a file SQLite database, or PostgreSQL)
def race(*calls, rounds_timeout: float = 30.0) -> list[tuple[bool, object]]:
    """Run the calls at the same moment in threads, each on its own connection."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, fn):
        database.connect(reuse_if_open=True)
        try:
            barrier.wait()
            results[i] = (True, fn())
        except AuthzError as exc:
            results[i] = (False, exc.code)
        except Exception as exc:  # anything else is a failure of the test
            results[i] = (False, repr(exc))
        finally:
            database.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(rounds_timeout)
    return results


@pytest.fixture
def w(svc, directory):
    return build_world(svc, directory)


def _fresh_pending(svc, w, directory, n: int) -> list[Binding]:
    out = []
    for k in range(n):
        p = directory.create_person(f"并发测试{k}", "resident_id", f"3601021999010{k:05d}", uid=f"p-race{k}",
                                    registered=True)
        out.append(directory.bind(p, w.E, "tax_officer", state="pending", origin="enterprise", functions=["biz.query"]))
    return out


ROUNDS = 8


def test_R_BIND_5_R_BIND_6_race_confirm_vs_withdraw_exactly_one_wins(svc, w, directory):
    """R-BIND-5 / R-BIND-6: the person confirms while the enterprise withdraws: exactly one wins, and the
    final state is the winner's."""
    for b in _fresh_pending(svc, w, directory, ROUNDS):
        uid = b.person.uid
        res = race(lambda: pb.confirm(svc, person_actor(uid), [b.id], proof=face_proof(uid)),
                   lambda: staff.withdraw_staff(svc, Actor("p-legal", w.dom["E"], "legal_rep"), b.id))
        assert sorted(ok for ok, _ in res) == [False, True], res
        loser = next(v for ok, v in res if not ok)
        assert loser == "binding_state", res
        state = Binding.get_by_id(b.id).state
        assert state == ("active" if res[0][0] else "withdrawn")
        assert svc.enforcer.can(uid, w.dom["E"], "biz.query", "use") == (state == "active")


def test_R_BIND_6_race_two_confirms_one_wins(svc, w, directory):
    """R-BIND-6: two confirms of the same authorisation (two tabs): one succeeds, one is refused."""
    for b in _fresh_pending(svc, w, directory, ROUNDS):
        uid = b.person.uid
        res = race(lambda: pb.confirm(svc, person_actor(uid), [b.id], proof=face_proof(uid)),
                   lambda: pb.confirm(svc, person_actor(uid), [b.id], proof=face_proof(uid)))
        assert sorted(ok for ok, _ in res) == [False, True], res
        assert next(v for ok, v in res if not ok) == "binding_state"
        assert Binding.get_by_id(b.id).state == "active"
        assert AuditLog.select().where((AuditLog.action == "authorisation.confirm")
                                       & (AuditLog.target == f"binding:{b.id}")).count() == 1


def test_R_BIND_4_race_two_adds_of_the_same_person_one_pending(svc, w, directory):
    """R-BIND-4: the legal rep and the finance officer add the same person at the same moment: one
    pending binding, the other gets binding_exists."""
    for k in range(ROUNDS):
        name, doc = f"并发新人{k}", f"3601022000010{k:05d}"
        directory.create_person(name, "resident_id", doc, uid=f"p-twin{k}", registered=True)
        kw = dict(name=name, doc_type="resident_id", doc_number=doc, identity_type="tax_officer", risk_confirmed=True)
        res = race(lambda: staff.add_staff(svc, Actor("p-legal", w.dom["E"], "legal_rep"), **kw),
                   lambda: staff.add_staff(svc, Actor("p-fin", w.dom["E"], "finance_officer"), **kw))
        assert sorted(ok for ok, _ in res) == [False, True], res
        assert next(v for ok, v in res if not ok) == "binding_exists"
        live = Binding.select().join(Person).where((Person.uid == f"p-twin{k}") & (Binding.state == "pending"))
        assert live.count() == 1


def test_R_BIND_7_race_apply_vs_enterprise_add_one_pending(svc, w, directory):
    """R-BIND-4 / R-BIND-7: the person applies while the enterprise adds them: one live binding."""
    for k in range(ROUNDS):
        name, doc = f"并发申请{k}", f"3601022001010{k:05d}"
        directory.create_person(name, "resident_id", doc, uid=f"p-app{k}", registered=True)
        res = race(lambda: pb.apply(svc, person_actor(f"p-app{k}"), uscc=w.E.uscc, identity_type="tax_officer"),
                   lambda: staff.add_staff(svc, Actor("p-legal", w.dom["E"], "legal_rep"), name=name,
                                           doc_type="resident_id", doc_number=doc, identity_type="tax_officer",
                                           risk_confirmed=True))
        assert sorted(ok for ok, _ in res) == [False, True], res
        assert Binding.select().join(Person).where(
            (Person.uid == f"p-app{k}") & (Binding.state == "pending")).count() == 1


def test_R_BIND_10_race_delete_vs_manage_leaves_no_live_grant(svc, w, directory):
    """R-BIND-10 / R-BIND-9: delete and manage at the same moment: whichever order, the binding ends
    deleted and the next check denies."""
    for k in range(ROUNDS):
        p = directory.create_person(f"并发删除{k}", "resident_id", f"3601022002010{k:05d}", uid=f"p-del{k}",
                                    registered=True)
        b = directory.bind(p, w.E, "tax_officer", state="active", origin="enterprise")
        res = race(lambda: staff.delete_staff(svc, Actor("p-legal", w.dom["E"], "legal_rep"), b.id),
                   lambda: staff.manage_staff(svc, Actor("p-fin", w.dom["E"], "finance_officer"), b.id,
                                              functions=["biz.query"]))
        assert res[0][0] is True, res
        assert res[1][0] or res[1][1] in ("binding_state", "conflict"), res
        assert Binding.get_by_id(b.id).state == "deleted"
        assert not svc.enforcer.can(p.uid, w.dom["E"], "biz.query", "use")


# ---- one home (issue 10 "Bindings"): no code outside authz/bindings.py writes a binding row
ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
WRITE_METHODS = {"create", "insert", "insert_many", "insert_from", "replace", "replace_many", "update", "delete",
                 "delete_by_id", "set_by_id", "bulk_create", "bulk_update", "get_or_create", "save", "delete_instance"}
BINDING_MODELS = {"Binding", "BindingConstraint"}
# Receivers that hold a binding row in the flows (an instance `.save()` / `.delete_instance()` on one of
# these would write a binding outside its home; AST cannot know types, so the names are the proxy).
BINDING_VARIABLES = {"b", "b1", "b2", "binding", "updated", "keep", "existing", "again", "row_binding"}
HOME = {"authz/bindings.py"}


def binding_writes_outside_home(root=ROOT) -> list[str]:
    """Every `Binding.<write>(...)` / `BindingConstraint.<write>(...)` call, instance write on a
    binding-named variable, and raw SQL writing the binding table in authz/ and api/, outside HOME."""
    import ast
    import re
    sql = re.compile(r"\b(update|insert\s+into|delete\s+from|replace\s+into)\s+\"?binding(constraint)?\b", re.I)
    found = []
    for path in sorted([*(root / "authz").rglob("*.py"), *(root / "api").rglob("*.py")]):
        rel = path.relative_to(root).as_posix()
        if rel in HOME:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), rel)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITE_METHODS:
                recv = node.func.value
                name = recv.id if isinstance(recv, ast.Name) else recv.attr if isinstance(recv, ast.Attribute) else ""
                if name in BINDING_MODELS or (node.func.attr in ("save", "delete_instance")
                                              and name.lower() in BINDING_VARIABLES):
                    found.append((rel, node.lineno, f"{name}.{node.func.attr}(...)"))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and sql.search(node.value):
                found.append((rel, node.lineno, f"SQL {node.value[:60]!r}"))
    return [f"{rel}:{line}: {what}" for rel, line, what in sorted(found)]


def test_R_BIND_18_one_home_no_binding_write_outside_authz_bindings():
    """R-BIND-2/3/6/7/18, R-BIND-15, R-LOG-2 (issue 10 "one home"): every write of a binding row — creation,
    state, fields, the source's constraints — is in authz/bindings.py, which takes who acted and writes
    the guard, the audit row, the binding.changed event and the cache invalidation with it. So no flow,
    route, seed (authz/demo.py goes through Directory.bind -> bindings.create) or migration can create,
    move or edit a binding around the two-way confirmation, or without an audit row and an event."""
    assert binding_writes_outside_home() == []


def test_one_home_scan_is_not_vacuous(tmp_path):
    """The scan finds the write shapes it is meant to forbid (so an empty answer above means something)."""
    (tmp_path / "authz").mkdir()
    (tmp_path / "api").mkdir()
    (tmp_path / "authz" / "bindings.py").write_text("Binding.update(state='active').execute()\n")
    (tmp_path / "authz" / "rogue.py").write_text(
        "Binding.create(state='active')\nBinding.update(hidden_for_person=True).execute()\n"
        "models.Binding.insert_many([]).execute()\nBindingConstraint.create(binding=1)\nb.save()\n"
        "db.execute_sql('UPDATE binding SET state = 1')\nphone.save()\n")
    found = binding_writes_outside_home(tmp_path)
    assert [f.split(":")[1] for f in found] == ["1", "2", "3", "4", "5", "6"], found


def test_R_BIND_4_one_live_binding_is_guarded_in_bindings_create_for_every_party(svc, w, directory, monkeypatch):
    """R-BIND-4 / R-BIND-7 (issue 10 "one home"): whoever creates it — the enterprise, the person, a source —
    a second pending or active binding of the same identity type for the same person in the same
    enterprise is binding_exists; and when a concurrent create slipped past the check (simulated by
    blinding it), the partial unique index still refuses it with binding_exists, not a 500."""
    from authz import bindings
    from authz.vocab import Party
    p = directory.create_person("唯一测试", "resident_id", "360102199901019999", uid="p-once", registered=True)
    first = bindings.create(svc, p, w.E, "invoice_officer", by=bindings.Who(Party.SOURCE, "service:hall"),
                            state="active", origin="hall")
    for who in (bindings.Who(Party.ENTERPRISE, "p-legal"), bindings.Who(Party.PERSON, "p-once"),
                bindings.Who(Party.SOURCE, "service:core")):
        with pytest.raises(AuthzError) as e:
            bindings.create(svc, p, w.E, "invoice_officer", by=who, state="pending", origin="core_tax")
        assert e.value.code == "binding_exists"
    monkeypatch.setattr(bindings, "live_binding", lambda *a: None)  # the check lost the race
    with pytest.raises(AuthzError) as e:
        bindings.create(svc, p, w.E, "invoice_officer", by=bindings.Who(Party.ENTERPRISE, "p-legal"))
    assert e.value.code == "binding_exists"
    live = Binding.select().where((Binding.person == p.id) & (Binding.state.in_(["pending", "active"]))
                                  & (Binding.role == "invoice_officer"))
    assert [b.id for b in live] == [first.id]
