"""The demo data set behind `authz serve --demo`: idempotent, covers every identity type, and the checks it
prints answer exactly as printed (R-AUTHZ-2, R-AUTHZ-3, R-BIND-*, R-AGT-*); its cross-region projects and
the agent's two clients make special-subject login and client switching visible (R-LOGIN-4, R-SW-4,
R-SW-5); the document numbers it prints work for forgot-password (R-PWD-4)."""
from __future__ import annotations

import json
import shlex
from urllib.parse import urlsplit

import pytest

from api import create_app
from authz import clients, demo
from authz.models import (Agreement, AgreementAgent, Binding, Document, Enterprise, Person, Phone,
                          ServiceClient)
from authz.models import CrossRegionProject

COUNTED = (Enterprise, Person, Document, Phone, Binding, Agreement, AgreementAgent, ServiceClient,
           CrossRegionProject)


def parse_curl(line: str) -> dict:
    """The method, URL, headers and JSON body of one printed curl command."""
    args = shlex.split(line.strip())
    assert args[0] == "curl", line
    out = {"method": "GET", "url": None, "headers": {}, "body": None}
    it = iter(args[1:])
    for a in it:
        if a == "-X":
            out["method"] = next(it)
        elif a == "-H":
            name, _, value = next(it).partition(":")
            out["headers"][name.strip()] = value.strip()
        elif a == "-d":
            out["body"] = json.loads(next(it))
        elif a == "-s":
            continue
        else:
            out["url"] = a
    return out


def printed_calls(lines: list[str]) -> dict[str, dict]:
    """The curl command under each heading (ALLOWED, DENIED, MENU, EXPLAIN) of the printed instructions."""
    calls, heading = {}, None
    for line in lines:
        word = line.split(" ", 1)[0]
        if word in ("ALLOWED", "DENIED", "MENU", "EXPLAIN"):
            heading = word
        elif line.strip().startswith("curl ") and heading:
            calls[heading] = parse_curl(line)
            heading = None
    return calls


def call(client, c: dict):
    parts = urlsplit(c["url"])
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return client.open(path, method=c["method"], headers=c["headers"], json=c["body"])


@pytest.fixture
def seeded(svc):
    demo.seed(svc, progress=lambda _: None)
    return svc


def counts():
    return {m.__name__: m.select().count() for m in COUNTED}


def test_demo_seed_is_idempotent(svc):
    """Seeding twice neither duplicates nor fails (the demo behind R-AUTHZ-2's printed instructions)."""
    lines: list[str] = []
    first = demo.seed(svc, progress=lines.append)
    before = counts()
    assert first == {"enterprises": len(demo.ENTERPRISES), "persons": len(demo.PERSONS),
                     "bindings": len(demo.BINDINGS), "agreements": len(demo.AGREEMENTS),
                     "projects": len(demo.PROJECTS)}
    assert any(demo.USCC_MAIN in line for line in lines), "progress lines are printed while seeding"
    for number, *_ in demo.PROJECTS:
        assert any(line.strip().startswith(f"project {number}") for line in lines), number
    again_lines: list[str] = []
    again = demo.seed(svc, progress=again_lines.append)
    assert again == {"enterprises": 0, "persons": 0, "bindings": 0, "agreements": 0, "projects": 0}
    assert counts() == before
    assert all(line.endswith("— exists") for line in again_lines if line.strip().startswith("project "))
    assert svc.enforcer.can(**_req(demo.ALLOWED_CHECK))


def _req(body: dict) -> dict:
    return {"subject": body["subject"], "domain": body["domain"], "obj": body["object"], "act": body["action"]}


def test_R_AUTHZ_2_printed_instructions_give_an_allowed_and_a_denied_check(seeded):
    """R-AUTHZ-2 / R-AUTHZ-3: the curl commands `authz serve --demo` prints, run as printed, answer
    allowed and denied; the menu and explain calls work with the same key."""
    key = demo.ensure_client()
    lines = demo.instructions("http://127.0.0.1:8000", key)
    assert key in "\n".join(lines) and any("/docs" in line for line in lines)
    calls = printed_calls(lines)
    assert set(calls) == {"ALLOWED", "DENIED", "MENU", "EXPLAIN"}
    client = create_app(service=seeded).test_client()

    allowed = call(client, calls["ALLOWED"])
    assert allowed.status_code == 200 and allowed.get_json()["allowed"] is True
    denied = call(client, calls["DENIED"])
    assert denied.status_code == 200 and denied.get_json()["allowed"] is False
    assert calls["ALLOWED"]["body"] == demo.ALLOWED_CHECK and calls["DENIED"]["body"] == demo.DENIED_CHECK

    menu = call(client, calls["MENU"]).get_json()
    objs = {f["object"] for f in menu["functions"]}
    assert set(demo.OFFICER_FUNCTIONS) <= objs and "biz.invoice_use" not in objs
    assert menu["identity_types"] == ["tax_officer"]
    explained = call(client, calls["EXPLAIN"]).get_json()
    assert explained["allowed"] is False and explained["reason"] == "not_in_function_set"

    anonymous = dict(calls["ALLOWED"], headers={"Content-Type": "application/json"})
    assert call(client, anonymous).status_code == 401


def test_R_AUTHZ_3_demo_client_is_rotated_not_duplicated(seeded):
    """R-AUTHZ-3: re-running the demo rotates the demo key: the old one stops working, one row remains,
    holding a digest only."""
    old = demo.ensure_client()
    new = demo.ensure_client()
    assert ServiceClient.select().where(ServiceClient.name == demo.CLIENT_NAME).count() == 1
    row = clients.authenticate(new)
    assert row.scopes == "check,policy" and clients.KEY_RE.match(new).group(2) not in row.key_hash
    with pytest.raises(Exception):
        clients.authenticate(old)


def test_R_BIND_demo_covers_every_identity_type_and_binding_state(seeded):
    """R-BIND-1/2/4/6/9, R-SW-1: legal rep (registration) and finance officer (tax report) active, a tax officer
    with a narrowed set, an invoice officer, an admin, a pending officer, two identities in one enterprise,
    agents; every identity type of the rule file is held by somebody."""
    e = seeded.enforcer
    held = {b.role for b in Binding.select().where(Binding.state == "active")}
    assert set(e.index.roles) - {"self"} <= held
    origin = {(b.person.uid, b.role): (b.origin, b.state) for b in Binding.select()}
    assert origin[(demo.LEGAL, "legal_rep")] == ("registration", "active")
    assert origin[(demo.FINANCE, "finance_officer")] == ("tax_report", "active")
    assert origin[(demo.PENDING, "tax_officer")][1] == "pending"

    officer = Binding.select().join(Person).where((Binding.role == "tax_officer") & (Binding.state == "active")
                                                 & (Person.uid == demo.OFFICER)).get()
    assert officer.person.uid == demo.OFFICER and officer.functions == sorted(demo.OFFICER_FUNCTIONS)
    assert officer.valid_until is not None

    dom = demo.DOM_MAIN
    assert not e.can(demo.PENDING, dom, "biz.declare_pay", "use"), "R-BIND-6: pending grants nothing"
    assert e.can(demo.INVOICE, dom, "biz.invoice_use", "use")
    assert e.can(demo.LEGAL, dom, "ac.staff:admin", "delete") and not e.can(demo.ADMIN, dom, "ac.staff:admin", "delete")
    two = Binding.select().join(Person).where((Person.uid == demo.ADMIN) & (Binding.domain == dom)).count()
    assert two == 2
    assert e.can(demo.ADMIN, dom, "biz.invoice_use", "use", role="invoice_officer")
    assert not e.can(demo.ADMIN, dom, "biz.invoice_use", "use", role="admin")


def test_R_AGT_demo_agreements_active_expired_and_ended(seeded):
    """R-AGT-1/2, R-LOGIN-5: the active agreement grants its permissions in the client; the expired one and the
    ended one grant nothing."""
    e = seeded.enforcer
    for fn in demo.AGENT_PERMISSIONS:
        assert e.can(demo.AGENT, demo.DOM_CLIENT, fn, "use")
    assert not e.can(demo.AGENT, demo.DOM_CLIENT, "biz.refund", "use"), "outside the agreement's permissions"
    assert e.explain(demo.AGENT, demo.DOM_MAIN, "biz.declare_pay", "use").reason == "identity_not_live"
    assert not e.can(demo.AGENT2, demo.DOM_CLIENT, "biz.declare_pay", "use")
    assert Agreement.get(Agreement.number == demo.AGREEMENT_ENDED).status == "ended"
    assert e.can(demo.AGENCY_LEGAL, demo.DOM_AGENCY, "ac.agency.clients", "view")
    assert e.can(demo.CLIENT_LEGAL, demo.DOM_CLIENT, "ac.agency.mine", "view")


def test_demo_enterprises_and_persons_facts(seeded):
    """R-AGT-1 / §1 actors: one enterprise of each kind (the non-resident one with its identity code); every
    person has a resident ID with a valid check digit and one default phone, real-name level 4, a password."""
    kinds = {ent.uscc: ent.kind for ent in Enterprise.select()}
    assert kinds == {demo.USCC_MAIN: "ordinary", demo.USCC_CLIENT: "ordinary", demo.USCC_AGENCY: "agency",
                     demo.USCC_NONRESIDENT: "nonresident", demo.USCC_CLIENT2: "ordinary"}
    assert Enterprise.get(Enterprise.uscc == demo.USCC_NONRESIDENT).nonresident_code == demo.NONRESIDENT_CODE
    assert Enterprise.get(Enterprise.uscc == demo.USCC_MAIN).name == "江西示例科技有限公司"
    for uid, name, id17, phone in demo.PERSONS:
        p = Person.get(Person.uid == uid)
        assert p.realname_level == 4 and p.password_hash and p.name == name
        (doc,) = list(p.documents)
        assert doc.doc_type == "resident_id" and doc.doc_number == demo.resident_id(id17) and len(doc.doc_number) == 18
        assert [(ph.number, ph.is_default) for ph in p.phones] == [(phone, True)]
    assert demo.resident_id("11010519491231002") == "11010519491231002X"  # the GB 11643 worked example


def test_R_PWD_1_demo_persons_log_in_with_the_printed_password(tmp_path):
    """R-PWD-1 / R-LOGIN-1: the demo password satisfies the password policy and verifies for every demo
    person, so the README walkthrough works without extra steps."""
    from authz import demo
    from authz.config import Settings
    from authz.credentials import Hasher, check_policy
    from authz.models import Person
    from authz.service import Service
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", argon2_time_cost=1, argon2_memory_kib=1024)
    check_policy(demo.DEMO_PASSWORD, settings)
    svc = Service(settings).start(follow=False)
    try:
        with svc.db.connection_context():
            demo.seed(svc, progress=lambda _: None)
            hasher = Hasher(settings)
            persons = list(Person.select().where(Person.uid.startswith("p-demo-")))
            assert persons and all(hasher.verify_person(p, demo.DEMO_PASSWORD) for p in persons)
            assert all(p.agreement_signed_at and not p.must_change_password for p in persons)
    finally:
        svc.close()


def test_R_SW_5_demo_agent_has_two_live_clients(seeded):
    """R-SW-5 / R-LOGIN-5 / R-AGT-2: the demo agent holds two active agreements covering today, each with its
    own permissions, so agent login lists two clients and switching between them changes the answers."""
    from authz.flows import login
    from authz.sessions import Entry
    e = seeded.enforcer
    agency = Enterprise.get(Enterprise.uscc == demo.USCC_AGENCY)
    agent = Person.get(Person.uid == demo.AGENT)
    clients_listed = login.identity_choices(seeded, agent, Entry.AGENT, agency)["clients"]
    assert [(c["id"], c["domain"]) for c in clients_listed] == [
        (demo.AGREEMENT_ACTIVE, demo.DOM_CLIENT), (demo.AGREEMENT_SECOND, demo.DOM_CLIENT2)]
    assert e.can(demo.AGENT, demo.DOM_CLIENT, "biz.invoice_use", "use")
    assert e.can(demo.AGENT, demo.DOM_CLIENT2, "biz.declare_pay", "use")
    assert not e.can(demo.AGENT, demo.DOM_CLIENT2, "biz.invoice_use", "use"), "the second agreement is narrower"


def test_R_LOGIN_4_demo_projects_by_identity(seeded):
    """R-LOGIN-4 / R-SW-4: the main enterprise's projects: the legal rep, the finance officer and the main
    tax officer see every active one of a kind; the sub-identity officer only those naming them; the
    ended one nobody."""
    from authz.flows import login
    from authz.sessions import Entry
    ent = Enterprise.get(Enterprise.uscc == demo.USCC_MAIN)

    def listed(uid, kind):
        c = login.identity_choices(seeded, Person.get(Person.uid == uid), Entry.SPECIAL, ent, kind)
        return [p["id"] for p in c.get("projects", [])]

    every = [demo.PROJECT_INSPECTION_HANDLED, demo.PROJECT_INSPECTION_OTHER]
    for uid in (demo.LEGAL, demo.FINANCE, demo.OFFICER):
        assert listed(uid, "inspection") == every, uid
        assert listed(uid, "tax_source") == [demo.PROJECT_TAX_SOURCE], uid
    assert listed(demo.HANDLER, "inspection") == [demo.PROJECT_INSPECTION_HANDLED]
    assert listed(demo.HANDLER, "tax_source") == [demo.PROJECT_TAX_SOURCE]
    handler_binding = Binding.select().join(Person).where(Person.uid == demo.HANDLER).get()
    assert handler_binding.sub_identity and handler_binding.role == "tax_officer"
    assert CrossRegionProject.get(CrossRegionProject.management_no == demo.PROJECT_ENDED).status == "ended"
    assert listed(demo.INVOICE, "inspection") == [], "an invoice officer is no special subject"


def test_R_PWD_4_printed_document_numbers_start_a_password_reset(seeded):
    """R-PWD-4: the instructions print every demo person's full document number (with its check digit),
    and that type + number is what forgot-password accepts."""
    from authz.flows import password_reset
    text = "\n".join(demo.instructions("http://127.0.0.1:8000", "azk_x"))
    for uid, name, id17, phone in demo.PERSONS:
        line = next(line for line in text.splitlines() if line.strip().startswith(uid + " "))
        assert f"{demo.DOC_TYPE} {demo.resident_id(id17)}" in line and phone in line, uid
    assert demo.PROJECT_INSPECTION_HANDLED in text and demo.AGREEMENT_SECOND in text
    assert printed_calls(text.splitlines()).keys() == {"ALLOWED", "DENIED", "MENU", "EXPLAIN"}
    for uid, _, id17, _ in demo.PERSONS:
        started = password_reset.start(seeded, doc_type=demo.DOC_TYPE, doc_number=demo.resident_id(id17))
        assert started["state"] == "verify", uid
