"""`authz helpdesk …` (issue 13 helpdesk): the CLI equivalents of the helpdesk API call the same functions,
answer masked (R-MASK-1), unlock through the one lockout home (R-LOGIN-11), end sessions (R-LOGIN-13),
search and export the logs (R-LOG-1, R-LOG-2), and audit every command with the operator it requires."""
from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from authz import sessions, verification
from authz.cli import Env, main
from authz.db import database
from authz.errors import AuthzError
from authz.ids import person_domain
from authz.models import AuditLog, LoginLog
from authz.sessions import Entry, Identity
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import USCC, rid

DOC = rid("36010219800101001")  # world's legal rep
OP = ["--operator", "desk-07"]


@pytest.fixture
def cli(svc, settings, clock):
    """Run `authz …` in-process against the test database and clock, then hand the connection back."""
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(main, [str(a) for a in args], obj=Env(settings=settings, clock=clock))
        database.initialize(svc.db)
        svc.db.connect(reuse_if_open=True)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result
    return run


def rows(action: str) -> list[AuditLog]:
    return list(AuditLog.select().where(AuditLog.action == action).order_by(AuditLog.id))


def test_issue_13_helpdesk_cli_find_is_masked_audited_and_needs_an_operator(svc, world, cli):
    """issue 13 helpdesk, R-MASK-1: `authz helpdesk find` answers masked (text and --json), never the full
    document number, phone or name; it is audited as `cli` with the operator; without --operator, or with
    a malformed one, it refuses (exit 2) and audits nothing."""
    text = cli("helpdesk", "find", "--by", "document", DOC, *OP)
    assert text.exit_code == 0 and "p-legal" in text.output and "*三" in text.output
    as_json = cli("helpdesk", "find", "--by", "phone", "13800000001", *OP, "--json")
    assert json.loads(as_json.output)["items"][0]["phones"][0]["number_masked"] == "138****0001"
    for out in (text.output, as_json.output):
        assert DOC not in out and "13800000001" not in out and "张三" not in out
    assert [(r.actor, r.detail["operator"], r.target) for r in rows("helpdesk.person.find")] == [
        ("cli", "desk-07", "person:p-legal")] * 2
    assert cli("helpdesk", "find", "--by", "phone", "13800000001").exit_code == 2
    assert cli("helpdesk", "find", "--by", "phone", "13800000001", "--operator", "x y").exit_code == 2
    assert len(rows("helpdesk.person.find")) == 2


def test_R_LOGIN_11_helpdesk_cli_shows_and_lifts_a_lock_through_the_one_home(svc, world, cli):
    """R-LOGIN-11, issue 13 helpdesk: five wrong passwords through the one verification mechanism lock the
    password method; `helpdesk lockout` shows it, `helpdesk unlock
    --method password --reason …` lifts it (audited with the reason), and the check passes again."""
    person = world["plain"]

    def check(secret):
        return verification.verify(svc, purpose="login", factor_name="password", offered=("password",),
                                   person=person, secret=secret)
    for _ in range(5):
        with pytest.raises(AuthzError):
            check("Wrong@2026x")
    shown = cli("helpdesk", "lockout", "p-plain", *OP)
    assert "password" in shown.output and "LOCKED until" in shown.output
    assert cli("helpdesk", "unlock", "p-plain", "--method", "password", *OP).exit_code == 2  # --reason required
    done = cli("helpdesk", "unlock", "p-plain", "--method", "password", "--reason", "ticket 88", *OP, "--json")
    assert done.exit_code == 0 and json.loads(done.output)["unlocked"] == ["password"]
    assert check(PASSWORD).person_uid == "p-plain"
    row = rows("helpdesk.lockout.unlock")[-1]
    assert (row.actor, row.target, row.detail["operator"], row.detail["reason"]) == (
        "cli", "person:p-plain", "desk-07", "ticket 88")
    assert cli("helpdesk", "unlock", "p-plain", "--method", "fingerprint", "--reason", "x", *OP).exit_code == 2


def test_R_LOGIN_13_helpdesk_cli_lists_and_ends_sessions(svc, world, cli):
    """R-LOGIN-13, issue 13 helpdesk: `helpdesk sessions` lists handles (never ids); `end-session` ends one,
    `end-sessions` the rest; the ended ids no longer resolve."""
    person = world["plain"]
    ident = Identity(Entry.PERSONAL, person_domain(person.uid), "self")
    raw_a, row_a = sessions.create(svc, person, ident)
    raw_b, _ = sessions.create(svc, person, ident)
    listed = cli("helpdesk", "sessions", "p-plain", *OP, "--json")
    handles = [s["handle"] for s in json.loads(listed.output)["items"]]
    assert sorted(handles) == sorted([row_a.handle, sessions.resolve(svc, raw_b).handle])
    assert raw_a not in listed.output and raw_b not in listed.output
    assert "ended 1 session" in cli("helpdesk", "end-session", "p-plain", row_a.handle, "--reason", "lost", *OP).output
    with pytest.raises(AuthzError):
        sessions.resolve(svc, raw_a)
    assert sessions.resolve(svc, raw_b)
    assert "ended 1 session" in cli("helpdesk", "end-sessions", "p-plain", "--reason", "takeover", *OP).output
    with pytest.raises(AuthzError):
        sessions.resolve(svc, raw_b)
    missing = cli("helpdesk", "end-session", "p-plain", row_a.handle, "--reason", "again", *OP)
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_R_LOG_1_helpdesk_cli_export_streams_filtered_rows_to_a_file(svc, world, cli, tmp_path):
    """R-LOG-1, issue 13 helpdesk: `helpdesk export-logins --format jsonl --entry personal --output F`
    writes exactly the matching rows, masked; `export-audit` writes CSV; bad filters exit 1 with the
    field named, no traceback."""
    t = svc.clock.time()
    LoginLog.insert_many([{"at": t - 60 - i, "entry": "personal" if i % 2 else "enterprise", "step": "password",
                           "person_name": "张三", "uscc": USCC, "outcome": "ok"} for i in range(30)]).execute()
    out = tmp_path / "logins.jsonl"
    r = cli("helpdesk", "export-logins", "--format", "jsonl", "--entry", "personal", "--output", out, *OP)
    assert r.exit_code == 0, r.output
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(got) == 15 and {g["entry"] for g in got} == {"personal"} and "张三" not in out.read_text("utf-8")
    audit_csv = cli("helpdesk", "export-audit", "--action", "helpdesk", *OP)
    assert list(csv.DictReader(io.StringIO(audit_csv.output)))[0]["action"] == "helpdesk.audit.export"
    bad = cli("helpdesk", "audit", "--person", "p-x' OR 1=1", *OP)
    assert bad.exit_code == 1 and "person" in bad.output and "Traceback" not in bad.output
    window = cli("helpdesk", "logins", "--since", "2026-03-02", "--until", "2026-03-01", *OP)
    assert window.exit_code == 1 and "time range" in window.output
    assert cli("helpdesk", "logins", "--since", "yesterday", *OP).exit_code == 2


def test_issue_13_helpdesk_cli_bindings_and_enterprise_are_masked(svc, world, cli):
    """issue 13 helpdesk, R-BIND-12, R-MASK-1: `helpdesk enterprise` and `helpdesk bindings` show masked
    USCC, names; an unknown USCC exits 1."""
    e = cli("helpdesk", "enterprise", USCC, *OP)
    assert e.exit_code == 0 and USCC not in e.output and "9136" in e.output
    b = cli("helpdesk", "bindings", USCC, "--view", "live", *OP)
    assert "4 binding(s)" in b.output and "张三" not in b.output and "legal_rep" in b.output
    assert cli("helpdesk", "enterprise", "91360100MA35NOPE00", *OP).exit_code == 1
