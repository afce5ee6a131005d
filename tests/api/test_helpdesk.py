"""The helpdesk operator API over HTTP, tried as an attacker would (issue 13 helpdesk): keys of another
scope and calls without an operator are refused before anything is read; answers are masked (R-MASK-1);
unlocking goes through the one lockout home and is audited (R-LOGIN-11); sessions end on the server
(R-LOGIN-13); bindings and their history (R-BIND-12); audit and login logs searched and exported with
their filters (R-LOG-1, R-LOG-2), the export streamed; garbage filters are validation errors, never 500."""
from __future__ import annotations

import csv
import io
import json

import pytest
from flask.testing import FlaskClient

from api import create_app
from authz import clients
from authz import helpdesk as hd
from authz.db import database
from authz.models import AuditLog, LoginLog
from tests.binding_support import move
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import USCC, login_session, rid

OP = "desk-0791-007"
LEGAL_DOC = rid("36010219800101001")  # world's legal rep


@pytest.fixture
def app(svc):
    return create_app(service=svc)


@pytest.fixture
def http(app):
    """A raw HTTP client (no browser cookies or CSRF help): what a script at the desk would be."""
    return FlaskClient(app)


@pytest.fixture
def keys(svc):
    return {scope: clients.create(f"k-{scope.replace('_', '-')}", scopes=scope)[1]
            for scope in ("check", "hall", "helpdesk", "helpdesk_export")}


def hdr(key: str, operator: str | None = OP, **more) -> dict:
    h = {"Authorization": f"Bearer {key}", **more}
    if operator is not None:
        h["X-Operator-Id"] = operator
    return h


def helpdesk_operations(app) -> list[tuple[str, str]]:
    """Every helpdesk operation in the OpenAPI document, with concrete path values."""
    spec = FlaskClient(app).get("/openapi.json").get_json()
    out = []
    for path, ops in spec["paths"].items():
        if not path.startswith("/api/v1/helpdesk"):
            continue
        for method in ops:
            if method != "parameters":
                out.append((method.upper(), path.replace("{uid}", "p-legal").replace("{uscc}", USCC)
                            .replace("{handle}", "abcd1234")))
    return out


def call(http, method: str, path: str, headers: dict):
    body = ({"by": "phone", "value": "13800000001"} if path.endswith("/search")
            else {"reason": "ticket 42"} if method == "POST" else None)
    return http.open(path, method=method, headers=headers, json=body)


def helpdesk_rows(action: str | None = None) -> list[AuditLog]:
    q = AuditLog.select().where(AuditLog.action.startswith("helpdesk."))
    if action:
        q = q.where(AuditLog.action == action)
    return list(q.order_by(AuditLog.id))


def test_issue_13_helpdesk_other_scopes_and_anonymous_callers_are_refused(svc, world, app, http, keys):
    """issue 13 helpdesk, R-AUTHZ-3: every helpdesk operation answers 401 without a key, 403 to a `check`
    or `hall` key, the search scope cannot export and the export scope cannot search, unlock or end
    sessions; none of those calls reads anything or writes a helpdesk audit row."""
    ops = helpdesk_operations(app)
    assert len(ops) == 13
    for method, path in ops:
        exporting = path.startswith("/api/v1/helpdesk/export/")
        r = call(http, method, path, {"X-Operator-Id": OP})
        assert r.status_code == 401 and r.get_json()["code"] == "unauthenticated", (method, path)
        for scope in ("check", "hall", "helpdesk_export" if not exporting else "helpdesk"):
            r = call(http, method, path, hdr(keys[scope]))
            assert r.status_code == 403 and r.get_json()["code"] == "forbidden", (scope, method, path)
    assert helpdesk_rows() == []


def test_issue_13_helpdesk_an_operator_id_is_required_and_checked(svc, world, app, http, keys):
    """issue 13 helpdesk: a right key without X-Operator-Id, or with one outside the strict alphabet
    (spaces, quotes, SQL, too long), answers 400 operator_required on every operation, before anything
    is read or written."""
    for method, path in helpdesk_operations(app):
        key = keys["helpdesk_export" if path.startswith("/api/v1/helpdesk/export/") else "helpdesk"]
        for operator in (None, "", "a b", "x' OR '1'='1", "desk;DROP TABLE audit_log", "x" * 65, "-lead"):
            r = call(http, method, path, hdr(key, operator))
            assert r.status_code == 400 and r.get_json()["code"] == "operator_required", (method, path, operator)
    assert helpdesk_rows() == []


def test_R_MASK_1_a_person_is_found_by_document_phone_or_username_and_answered_masked(svc, world, http, keys):
    """R-MASK-1, issue 13 helpdesk: an exact document number, phone or username finds the person; the
    answer (and the audit row of the look-up) never holds the full document number, phone, name or
    username, only masked forms and the person id."""
    legal = world["legal"]
    assert legal.username == "zhangsan01" and LEGAL_DOC in [d.doc_number for d in legal.documents]
    for by, value in (("document", LEGAL_DOC), ("document", LEGAL_DOC.lower()), ("phone", "13800000001"),
                      ("username", "zhangsan01")):
        r = http.post("/api/v1/helpdesk/persons/search", json={"by": by, "value": value}, headers=hdr(keys["helpdesk"]))
        assert r.status_code == 200, r.get_json()
        text = r.get_data(as_text=True)
        body = r.get_json()
        assert body["total"] == 1 and body["items"][0]["person"] == "p-legal"
        for full in (LEGAL_DOC, "13800000001", "zhangsan01", "张三"):
            assert full not in text, (by, full)
        item = body["items"][0]
        assert item["documents"][0]["number_masked"] == "36**************" + LEGAL_DOC[-2:]
        assert item["phones"] == [{"number_masked": "138****0001", "default": True}]
        assert item["name_masked"] == "*三" and item["username_masked"] == "zh*******1"
    rows = helpdesk_rows("helpdesk.person.find")
    assert len(rows) == 4
    for row in rows:
        assert row.actor == "service:k-helpdesk" and row.detail["operator"] == OP and row.target == "person:p-legal"
        flat = json.dumps(row.detail, ensure_ascii=False)
        assert LEGAL_DOC not in flat and "13800000001" not in flat and "zhangsan01" not in flat
    one = http.get("/api/v1/helpdesk/persons/p-legal", headers=hdr(keys["helpdesk"]))
    assert one.status_code == 200 and LEGAL_DOC not in one.get_data(as_text=True)
    for by, value in (("phone", "13999999999"), ("phone", LEGAL_DOC), ("username", "13800000001")):
        none = http.post("/api/v1/helpdesk/persons/search", json={"by": by, "value": value},
                         headers=hdr(keys["helpdesk"]))
        assert none.status_code == 200 and none.get_json() == {"items": [], "total": 0}, (by, value)
    missing = http.get("/api/v1/helpdesk/persons/p-nobody", headers=hdr(keys["helpdesk"]))
    assert missing.status_code == 404
    assert helpdesk_rows("helpdesk.person.view")[-1].outcome == "not_found"  # a refused look-up is audited too


def test_R_LOGIN_11_unlock_goes_through_the_lockout_home_and_is_audited(svc, world, app, http, keys):
    """R-LOGIN-11, issue 13 helpdesk: five wrong passwords at the real login lock the password method; the
    helpdesk sees it per method, unlocks it (reason and operator in the audit row, with the request id the
    answer carried), and the person's next login with the right password goes through."""
    browser = app.test_client()
    for _ in range(5):
        r = browser.post("/api/v1/auth/login", json={"entry": "personal", "account": "13800000004",
                                                     "password": "Wrong@2026x"})
    assert r.status_code == 423 and r.get_json()["code"] == "account_locked"
    seen = http.get("/api/v1/helpdesk/persons/p-plain/lockout", headers=hdr(keys["helpdesk"])).get_json()
    methods = {m["method"]: m for m in seen["methods"]}
    assert methods["password"]["locked"] and methods["password"]["locked_until"].endswith("+08:00")
    assert not methods["sms"]["locked"] and methods["sms"]["failures"] == 0 and methods["password"]["limit"] == 5
    refused = http.post("/api/v1/helpdesk/persons/p-plain/lockout/unlock", json={"methods": ["password"]},
                        headers=hdr(keys["helpdesk"]))
    assert refused.status_code == 422  # a reason is required
    r = http.post("/api/v1/helpdesk/persons/p-plain/lockout/unlock",
                  json={"methods": ["password"], "reason": "ticket 2026-0302-17, caller verified at the hall"},
                  headers=hdr(keys["helpdesk"], **{"X-Request-ID": "req-unlock-1"}))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["unlocked"] == ["password"]
    assert not {m["method"]: m for m in r.get_json()["methods"]}["password"]["locked"]
    row = helpdesk_rows("helpdesk.lockout.unlock")[-1]
    assert (row.actor, row.target, row.domain, row.request_id) == (
        "service:k-helpdesk", "person:p-plain", "person:p-plain", r.headers["X-Request-ID"])
    assert row.detail["operator"] == OP and row.detail["lifted"] == ["password"] and "ticket" in row.detail["reason"]
    assert login_session(browser, "personal", "13800000004", "13800000004") is not None


def test_R_LOGIN_13_helpdesk_lists_and_ends_sessions_on_the_server(svc, world, app, http, keys):
    """R-LOGIN-13, issue 13 helpdesk: the person's open sessions are listed by handle (never the session
    id); ending one by handle refuses that session at once, ending all refuses the rest; another
    person's handle ends nothing (404)."""
    raw_a = login_session(app.test_client(), "personal", "13800000004", "13800000004")
    raw_b = login_session(app.test_client(), "personal", "13800000004", "13800000004")
    raw_other = login_session(app.test_client(), "personal", "13800000002", "13800000002")
    listed = http.get("/api/v1/helpdesk/persons/p-plain/sessions", headers=hdr(keys["helpdesk"]))
    assert listed.status_code == 200 and listed.get_json()["total"] == 2
    assert raw_a not in listed.get_data(as_text=True) and raw_b not in listed.get_data(as_text=True)
    first = listed.get_json()["items"][0]["handle"]

    def me(raw):
        return http.get("/api/v1/account/session", headers={"Authorization": f"Bearer {raw}"}).status_code
    assert me(raw_a) == me(raw_b) == 200
    other_handle = http.get("/api/v1/helpdesk/persons/p-officer/sessions",
                            headers=hdr(keys["helpdesk"])).get_json()["items"][0]["handle"]
    cross = http.post(f"/api/v1/helpdesk/persons/p-plain/sessions/{other_handle}/end", json={"reason": "x"},
                      headers=hdr(keys["helpdesk"]))
    assert cross.status_code == 404 and me(raw_other) == 200
    one = http.post(f"/api/v1/helpdesk/persons/p-plain/sessions/{first}/end", json={"reason": "lost phone"},
                    headers=hdr(keys["helpdesk"]))
    assert one.status_code == 200 and one.get_json()["ended"] == 1
    assert sorted([me(raw_a), me(raw_b)]) == [200, 401]  # exactly the one named by its handle
    again = http.post(f"/api/v1/helpdesk/persons/p-plain/sessions/{first}/end", json={"reason": "lost phone"},
                      headers=hdr(keys["helpdesk"]))
    assert again.status_code == 404  # no longer open
    rest = http.post("/api/v1/helpdesk/persons/p-plain/sessions/end", json={"reason": "account takeover"},
                     headers=hdr(keys["helpdesk"]))
    assert rest.get_json()["ended"] == 1 and me(raw_a) == me(raw_b) == 401 and me(raw_other) == 200
    actions = [(r.action, r.outcome) for r in helpdesk_rows() if r.target == "person:p-plain"]
    assert actions == [("helpdesk.sessions.view", "ok"), ("helpdesk.sessions.end", "not_found"),
                       ("helpdesk.sessions.end", "ok"), ("helpdesk.sessions.end", "not_found"),
                       ("helpdesk.sessions.end_all", "ok")]


def test_R_BIND_12_helpdesk_sees_an_enterprises_bindings_and_history_masked(svc, world, http, keys):
    """R-BIND-12, R-MASK-1, issue 13 helpdesk: live bindings and history (a withdrawn one) of an
    enterprise, filtered by view and state, with masked names and document numbers."""
    pending = world["pending"].bindings.get()
    move(svc, pending, "withdrawn")
    get = lambda **q: http.get(f"/api/v1/helpdesk/enterprises/{USCC}/bindings", query_string=q,  # noqa: E731
                               headers=hdr(keys["helpdesk"]))
    everything = get()
    assert everything.status_code == 200 and everything.get_json()["total"] == 4
    history = get(view="history").get_json()
    assert [(i["person"], i["state"]) for i in history["items"]] == [("p-pending", "withdrawn")]
    live = get(view="live", state="active").get_json()
    assert {(i["person"], i["identity_type"]) for i in live["items"]} == {
        ("p-legal", "legal_rep"), ("p-legal", "finance_officer"), ("p-officer", "tax_officer")}
    text = everything.get_data(as_text=True)
    for full in (LEGAL_DOC, "张三", "李四", "王五"):
        assert full not in text
    assert get(view="history", state="active").status_code == 422
    ent = http.get(f"/api/v1/helpdesk/enterprises/{USCC}", headers=hdr(keys["helpdesk"])).get_json()
    assert ent["uscc_masked"] == "9136**********GIN1" and USCC not in json.dumps(ent)
    assert http.get("/api/v1/helpdesk/enterprises/91360100MA35NOPE00", headers=hdr(keys["helpdesk"])).status_code == 404


def _seed_logs(svc, n: int) -> None:
    """n audit rows alternating between two enterprises and actions, and n login rows, in one transaction."""
    t = svc.clock.time()
    other = "91360100MA35OTHER1"
    with database.atomic():
        AuditLog.insert_many([{"at": t - 3600 - i, "actor": "p-legal" if i % 2 else "p-officer", "identity": "",
                               "domain": f"ent:{USCC if i % 2 else other}", "action": "staff.add" if i % 3 else "login",
                               "target": f"binding:{i}", "outcome": "ok", "detail": None, "request_id": f"r{i}"}
                              for i in range(n)]).execute()
        LoginLog.insert_many([{"at": t - 3600 - i, "entry": "enterprise" if i % 2 else "personal",
                               "account_type": "phone", "step": "password", "factor": "", "person": None,
                               "person_name": "张三", "identity": "", "enterprise": None,
                               "uscc": USCC if i % 2 else other, "ip": "10.0.0.1",
                               "outcome": "ok" if i % 4 else "password_wrong"} for i in range(n)]).execute()


def test_R_LOG_2_audit_and_login_search_filter_and_page(svc, world, http, keys):
    """R-LOG-1, R-LOG-2, issue 13 helpdesk: the searches filter by enterprise, action (prefix of dotted
    actions), login step / outcome and time, page with limit/offset and a total, newest first, masked."""
    _seed_logs(svc, 60)
    search = lambda path, **q: http.get(path, query_string=q, headers=hdr(keys["helpdesk"]))  # noqa: E731
    page = search("/api/v1/helpdesk/audit", enterprise=USCC, action="staff", limit=7, offset=7).get_json()
    expected = [i for i in range(60) if i % 2 and i % 3]
    assert page["total"] == len(expected) and [r["request_id"] for r in page["items"]] == [
        f"r{i}" for i in expected[7:14]]
    assert all(r["domain_masked"] == "ent:9136**********GIN1" and r["actor_name_masked"] == "*三" for r in page["items"])
    assert search("/api/v1/helpdesk/audit", action="staff.ad").get_json()["total"] == 0  # a prefix is whole parts
    window = search("/api/v1/helpdesk/audit", since="2026-03-02T08:59:30+08:00",
                    until="2026-03-02T09:00:00+08:00").get_json()
    assert window["total"] == 31 and window["since"] == "2026-03-02T08:59:30.000+08:00"
    logins = search("/api/v1/helpdesk/logins", enterprise=USCC, outcome="password_wrong").get_json()
    assert logins["total"] == 0  # odd rows are USCC's, every fourth (even) row failed
    logins = search("/api/v1/helpdesk/logins", entry="personal", outcome="password_wrong").get_json()
    assert logins["total"] == 15 and all(r["name_masked"] == "*三" and r["uscc_masked"].startswith("9136*")
                                         for r in logins["items"])
    assert "张三" not in search("/api/v1/helpdesk/logins").get_data(as_text=True)
    row = helpdesk_rows("helpdesk.audit.search")[0]
    assert row.target == f"enterprise:{USCC}" and row.detail["filters"]["action"] == "staff"


def test_R_MASK_1_audit_rows_are_masked_in_search_and_export(svc, world, http, keys):
    """R-MASK-1, issue 13 helpdesk: what writers left unmasked in an audit row (an enterprise:<USCC> target,
    an agency's USCC, a phone or ID number in the detail) is masked in the search answer and the export."""
    AuditLog.create(at=svc.clock.time() - 5, actor="service:integration", action="agreement.file",
                    target=f"enterprise:{USCC}", domain=f"ent:{USCC}", request_id="r-x",
                    detail={"agency": "91360100MA35AGENCY", "agents": ["p-agent"], "nested": {"phone": "13800000005"},
                            "doc": LEGAL_DOC, "level": 5})
    page = http.get("/api/v1/helpdesk/audit", query_string={"action": "agreement"}, headers=hdr(keys["helpdesk"]))
    exported = http.get("/api/v1/helpdesk/export/audit", query_string={"action": "agreement", "format": "jsonl"},
                        headers=hdr(keys["helpdesk_export"]))
    for text in (page.get_data(as_text=True), exported.get_data(as_text=True)):
        for full in (USCC, "91360100MA35AGENCY", "13800000005", LEGAL_DOC):
            assert full not in text, full
    row = page.get_json()["items"][0]
    assert row["target"] == "enterprise:9136**********GIN1" and row["detail"]["agents"] == ["p-agent"]
    assert row["detail"]["nested"]["phone"] == "138****0005" and row["detail"]["level"] == 5


def _chunks(resp) -> list[str]:
    return [c.decode() if isinstance(c, bytes) else c for c in resp.response]


def test_issue_13_export_streams_every_matching_row_in_batches(svc, world, http, keys, monkeypatch):
    """issue 13 helpdesk, R-LOG-2: a CSV export of 1,667 matching rows (of 5,000) is a streamed response
    produced in keyset batches of hd.BATCH rows (so memory is bounded by the batch, not the result):
    more than 2500 / BATCH chunks, none holding more than one batch; every row matches the filter; the
    JSON-lines export of the login log honours its filters too; the export itself is audited."""
    monkeypatch.setattr(hd, "BATCH", 100)
    _seed_logs(svc, 5000)
    r = http.get("/api/v1/helpdesk/export/audit", query_string={"enterprise": USCC, "action": "staff", "format": "csv"},
                 headers=hdr(keys["helpdesk_export"]), buffered=False)
    expected = [i for i in range(5000) if i % 2 and i % 3]
    assert r.status_code == 200 and r.is_streamed and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"].startswith('attachment; filename="helpdesk-audit-')
    chunks = _chunks(r)
    assert len(chunks) >= 1 + len(expected) // 100
    assert max(c.count("\n") for c in chunks) <= 100
    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    assert [x["request_id"] for x in rows] == [f"r{i}" for i in expected]  # newest first, exactly the matches
    assert {x["domain_masked"] for x in rows} == {"ent:9136**********GIN1"} and {x["action"] for x in rows} == {"staff.add"}
    # lazily: rows deleted after the first batch went out are not sent, so nothing was read ahead of it
    lazy = http.get("/api/v1/helpdesk/export/audit", query_string={"enterprise": USCC, "action": "staff"},
                    headers=hdr(keys["helpdesk_export"]), buffered=False)
    it = iter(lazy.response)
    header, first = next(it), next(it)
    AuditLog.delete().where(AuditLog.action == "staff.add").execute()
    assert (first + b"".join(it)).count(b"\n") == 100 and header.startswith(b"id,at,actor")
    lines = http.get("/api/v1/helpdesk/export/logins", headers=hdr(keys["helpdesk_export"]),
                     query_string={"format": "jsonl", "entry": "personal", "outcome": "password_wrong",
                                   "until": "2026-03-02T08:00:00+08:00"}, buffered=False)
    assert lines.is_streamed and lines.mimetype == "application/x-ndjson"
    got = [json.loads(x) for x in "".join(_chunks(lines)).splitlines()]
    assert len(got) == len([i for i in range(5000) if i % 4 == 0 and 3600 + i >= 7200])
    assert all(x["entry"] == "personal" and x["outcome"] == "password_wrong" and "张三" not in json.dumps(x)
               for x in got)
    audits = helpdesk_rows()
    assert [a.action for a in audits] == ["helpdesk.audit.export", "helpdesk.audit.export", "helpdesk.logins.export"]
    assert audits[0].detail["format"] == "csv" and audits[0].detail["operator"] == OP


def test_issue_13_csv_export_defuses_spreadsheet_formulas(svc, world, http, keys):
    """issue 13 helpdesk: a logged value a spreadsheet would run (=HYPERLINK…, +, -, @) is exported as text."""
    AuditLog.create(at=svc.clock.time() - 10, actor="p-legal", action="x.y", target="=HYPERLINK(\"http://e\")",
                    domain="", request_id="@SUM(1)")
    text = http.get("/api/v1/helpdesk/export/audit", headers=hdr(keys["helpdesk_export"])).get_data(as_text=True)
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["action"] == "x.y")
    assert row["target"] == "'=HYPERLINK(\"http://e\")" and row["request_id"] == "'@SUM(1)"


SEARCH = "/api/v1/helpdesk/persons/search"  # a POST body; the rest are GET queries
GARBAGE = [
    (SEARCH, {"by": "document", "value": "1' OR '1'='1"}),
    (SEARCH, {"by": "name", "value": "张三"}),
    (SEARCH, {"by": "phone", "value": "%"}),
    (SEARCH, {"by": "phone", "value": "138000000%1"}),
    (SEARCH, {"by": "username", "value": "admin'--"}),
    (SEARCH, {"by": "document", "value": LEGAL_DOC, "doc_type": "x;--"}),
    (SEARCH, {"by": "phone"}),
    (SEARCH, {"by": "phone", "value": ["13800000001"]}),
    (SEARCH, {"by": "phone", "value": "13800000001", "fuzzy": True}),
    ("/api/v1/helpdesk/persons/p-x' OR 1=1--", {}),
    ("/api/v1/helpdesk/enterprises/1' OR '1'='1", {}),
    ("/api/v1/helpdesk/enterprises/" + USCC + "/bindings", {"view": "all; DROP TABLE binding"}),
    ("/api/v1/helpdesk/enterprises/" + USCC + "/bindings", {"limit": "1 OR 1=1"}),
    ("/api/v1/helpdesk/enterprises/" + USCC + "/bindings", {"offset": "99999999999"}),
    ("/api/v1/helpdesk/enterprises/" + USCC + "/bindings", {"identity_type": "legal_rep' OR 1"}),
    ("/api/v1/helpdesk/audit", {"person": "p-legal' OR '1'='1"}),
    ("/api/v1/helpdesk/audit", {"enterprise": "') UNION SELECT * FROM service_client--"}),
    ("/api/v1/helpdesk/audit", {"action": "login%"}),
    ("/api/v1/helpdesk/audit", {"action": "staff'); DELETE FROM audit_log;--"}),
    ("/api/v1/helpdesk/audit", {"since": "yesterday"}),
    ("/api/v1/helpdesk/audit", {"since": "2026-03-02T10:00:00+08:00", "until": "2026-03-01T10:00:00+08:00"}),
    ("/api/v1/helpdesk/audit", {"limit": "0"}),
    ("/api/v1/helpdesk/audit", {"limit": "-1"}),
    ("/api/v1/helpdesk/audit", {"offset": "10001"}),
    ("/api/v1/helpdesk/audit", {"sort": "at; DROP TABLE audit_log"}),
    ("/api/v1/helpdesk/audit", {"entry": "personal"}),
    ("/api/v1/helpdesk/logins", {"step": "password' OR 1=1"}),
    ("/api/v1/helpdesk/logins", {"outcome": "ok' --"}),
    ("/api/v1/helpdesk/logins", {"action": "login"}),
    ("/api/v1/helpdesk/logins", {"until": "\u0000"}),
    ("/api/v1/helpdesk/export/audit", {"format": "xml"}),
    ("/api/v1/helpdesk/export/audit", {"person": "*"}),
    ("/api/v1/helpdesk/export/logins", {"enterprise": "%%%"}),
]


@pytest.mark.parametrize("path,query", GARBAGE, ids=[f"{p.rsplit('/', 1)[-1][:20]}-{sorted(q)}" for p, q in GARBAGE])
def test_issue_13_garbage_and_sqlish_filters_are_validation_errors(svc, world, http, keys, path, query):
    """issue 13 helpdesk: SQL-ish, unknown or out-of-range input is answered 422 (validation_failed,
    log_range_invalid) with the field named, never 500 and never a result."""
    key = keys["helpdesk_export" if "/export/" in path else "helpdesk"]
    r = (http.post(path, json=query, headers=hdr(key)) if path == SEARCH
         else http.get(path, query_string=query, headers=hdr(key)))
    body = r.get_json()
    assert r.status_code == 422 and body["code"] in ("validation_failed", "log_range_invalid"), (r.status_code, body)
    assert "items" not in body


def test_issue_13_unlock_with_garbage_methods_is_a_validation_error(svc, world, http, keys):
    """issue 13 helpdesk, R-LOGIN-11: an unknown method, an empty list or a non-list is refused (422) and
    nothing is unlocked or audited as unlocked."""
    for body in ({"methods": ["password' OR 1"], "reason": "x"}, {"methods": [], "reason": "x"},
                 {"methods": "password", "reason": "x"}, {"reason": ""}, {"reason": "x" * 201}):
        r = http.post("/api/v1/helpdesk/persons/p-plain/lockout/unlock", json=body, headers=hdr(keys["helpdesk"]))
        assert r.status_code == 422, (body, r.get_json())
    assert helpdesk_rows("helpdesk.lockout.unlock") == []


def test_issue_13_helpdesk_operations_document_operation_id_summary_and_statuses(app):
    """issue 13 (integrators): each helpdesk operation has a unique operationId, a summary and documents
    200, 400 (operator), 401, 403 and 422; those naming a person or enterprise also 404."""
    spec = FlaskClient(app).get("/openapi.json").get_json()
    ids = []
    for path, ops in spec["paths"].items():
        if not path.startswith("/api/v1/helpdesk"):
            continue
        names = {p["name"] for p in ops.get("parameters", [])}
        for method, op in ops.items():
            if method == "parameters":
                continue
            ids.append(op["operationId"])
            assert op["summary"], (method, path)
            assert {"200", "400", "401", "403", "422"} <= set(op["responses"]), (method, path)
            assert "X-Operator-Id" in names, (method, path)
            if "{uid}" in path or "{uscc}" in path:
                assert "404" in op["responses"], (method, path)
    assert len(ids) == len(set(ids)) == 13


def test_issue_13_helpdesk_api_conforms_to_its_openapi(svc, world, app, keys):
    """issue 13 helpdesk: schema-generated requests never get a 5xx and every answer (status, content type,
    body) is as documented."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    _, both = clients.create("fuzz-desk", scopes="helpdesk,helpdesk_export")
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app).include(path_regex="^/api/v1/helpdesk")
    ran = []
    for result in schema.get_all_operations():
        op = result.ok()

        @given(op.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {both}", "X-Operator-Id": OP}
            resp = case.call()
            # refusals the schema cannot express: a window whose start is after its end (or after now), and
            # the document-wide input guard (NUL, lone surrogates: api.errors.refuse_bad_input)
            case.validate_response(resp, excluded_checks=[positive_data_acceptance])
            if resp.status_code == 422:
                body = resp.json()
                assert body["code"] == "log_range_invalid" or "request" in (body.get("errors") or {}), (
                    case.path, case.query, body)

        run()
        ran.append(op.label)
    assert len(ran) == 13
