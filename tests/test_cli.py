"""The `authz` command line: policy lint / diff / reload / explain (R-AUTHZ-4), service clients (R-AUTHZ-3),
db upgrade, and one slow end-to-end run of `authz serve --demo` under gunicorn."""
from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from api import create_app
from authz import clients, demo
from authz import policy as pol
from authz.cli import Env, main
from authz.db import database
from authz.models import PolicyState, ServiceClient

from .test_demo import printed_calls

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "policies" / "rules.csv"
SHIPPED = RULES.read_text(encoding="utf-8")
ENT = "91360100MA35CLI01X"
DOM = f"ent:{ENT}"
INVOICE_QUERY = "p, invoice_officer, kind:enterprise, biz.query, use"


@pytest.fixture
def cli(svc, settings, clock):
    """Run `authz …` in-process against the test database and clock, then hand the connection back."""
    runner = CliRunner()

    def run(*args: str, env: Env | None = None):
        result = runner.invoke(main, [str(a) for a in args], obj=env or Env(settings=settings, clock=clock))
        database.initialize(svc.db)
        svc.db.connect(reuse_if_open=True)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result
    return run


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def shipped_lines() -> int:
    return len(SHIPPED.splitlines())


def without(line: str, text: str = SHIPPED) -> str:
    assert f"\n{line}\n" in text
    return text.replace(f"\n{line}\n", "\n", 1)


def line_of(text: str, line: str) -> int:
    return text.splitlines().index(line) + 1


# ---------------------------------------------------------------------------------------------- lint
BROKEN = [
    ("p, tax_oficer, kind:enterprise, biz.query, use", "unknown_role"),  # typo in an identity type
    ("p, tax_officer, kind:enterprise, biz.invoice_usage, use", "unknown_function"),
    ("p, tax_officer, kind:enterprise, biz.query", "bad_arity"),
    ("p, tax officer, kind:enterprise, biz.query, use", "bad_identifier"),  # a space in an id
    ('p, tax_officer, kind:enterprise, biz.qu"ery, use', "bad_identifier"),  # a quote in an id
    ("g, p-demo-legal, legal_rep, ent:91360100MA35DEMO1A", "unknown_line_kind"),  # bindings are not rules
    ("group, 个人信息, Personal details", "duplicate"),  # a menu group named twice
    ("group, 个人资料, Personal details", "unused_definition"),  # a group no fn line uses (a typo)
]


def test_R_AUTHZ_4_lint_names_the_line_of_every_error(cli, tmp_path):
    """R-AUTHZ-4: a typo in a role, an unknown function, bad arity, forbidden characters and a `g` line are each
    reported as FILE:LINE: [code] with the right line number; exit 1."""
    text = SHIPPED.rstrip("\n") + "\n" + "\n".join(line for line, _ in BROKEN) + "\n"
    path = write(tmp_path, "broken.csv", text)
    result = cli("policy", "lint", path)
    assert result.exit_code == 1, result.output
    reported = [line for line in result.stdout.splitlines() if line.startswith(f"{path}:")]
    assert len(reported) == len(BROKEN), result.output
    first = shipped_lines() + 1
    for i, (_, code) in enumerate(BROKEN):
        assert reported[i].startswith(f"{path}:{first + i}: [{code}] "), reported[i]
    assert "did you mean 'tax_officer'" in reported[0]
    assert "database" in reported[5] or "bindings" in reported[5]


def test_R_AUTHZ_4_lint_points_at_a_misspelt_definition(cli, tmp_path):
    """R-AUTHZ-4: a typo on a catalogue or role line (not on the rule lines) is reported at the definition's
    own line as [unused_definition], and every rule line using the correct name says where the name it
    suggests is defined, so the author is sent to the line to fix."""
    fn_line = "fn, biz.declare_pay, use, 我要办税, 税费申报及缴纳, Tax declaration and payment"
    role_line = "role, tax_officer, 办税员, Tax officer"
    text = (SHIPPED.replace(f"\n{fn_line}\n", f"\n{fn_line.replace('declare_pay', 'declare_pya')}\n", 1)
            .replace(f"\n{role_line}\n", f"\n{role_line.replace('tax_officer', 'tax_oficer')}\n", 1))
    fn_at, role_at = line_of(SHIPPED, fn_line), line_of(SHIPPED, role_line)
    fn_uses = [i for i, l in enumerate(SHIPPED.splitlines(), 1) if l.startswith("p,") and "biz.declare_pay," in l]
    role_uses = [i for i, l in enumerate(SHIPPED.splitlines(), 1) if l.startswith("p, tax_officer,")]
    assert len(fn_uses) >= 2 and len(role_uses) > 5
    path = write(tmp_path, "typo.csv", text)
    result = cli("policy", "lint", path)
    assert result.exit_code == 1, result.output
    reported = {int(l.split(":")[1]): l for l in result.stdout.splitlines() if l.startswith(f"{path}:")}

    assert reported[fn_at] == (f"{path}:{fn_at}: [unused_definition] function 'biz.declare_pya' is used by no "
                               f"rule; rules use 'biz.declare_pay' (lines {', '.join(map(str, fn_uses))})")
    assert reported[role_at].startswith(f"{path}:{role_at}: [unused_definition] identity type 'tax_oficer' is "
                                        f"used by no rule; rules use 'tax_officer' (lines {role_uses[0]}, ")
    assert reported[role_at].endswith(", …)")  # long lists are cut after five lines
    for n in fn_uses:
        if n in role_uses:  # that line reports its (first) unknown identity type
            continue
        assert reported[n] == (f"{path}:{n}: [unknown_function] unknown function 'biz.declare_pay'; did you "
                               f"mean 'biz.declare_pya' (defined at line {fn_at})?")
    for n in role_uses:
        assert reported[n].endswith(f"did you mean 'tax_oficer' (defined at line {role_at})?"), reported[n]
    assert set(reported) == {fn_at, role_at, *fn_uses, *role_uses}


def test_R_AUTHZ_4_lint_accepts_a_definition_no_rule_uses(tmp_path):
    """R-AUTHZ-4: a catalogue entry or identity type without rules is allowed (nothing is granted yet); it is
    reported only when the rules use a near-identical name that is not defined."""
    text = SHIPPED + "role, auditor, 审计员, Auditor\nfn, biz.audit_view, use, 我要办税, 审计查看, Audit view\n"
    index = pol.parse(text)
    assert "auditor" in index.roles and "biz.audit_view" in index.functions
    with pytest.raises(pol.PolicyInvalid) as exc:
        pol.parse(text + "p, auditor, kind:enterprise, biz.audit_veiw, use\n")
    (fn_def, use) = exc.value.errors
    assert (fn_def.code, fn_def.line) == ("unused_definition", len(text.splitlines()))
    assert (use.code, use.line) == ("unknown_function", len(text.splitlines()) + 1)
    assert "(defined at line" in use.message and "'biz.audit_view'" in use.message


def test_R_AUTHZ_4_lint_of_the_shipped_files_passes(cli, settings):
    """R-AUTHZ-4: the shipped model and rule file lint clean, with a one-line summary."""
    index = pol.load_file(RULES)
    result = cli("policy", "lint")
    assert result.exit_code == 0, result.output
    (summary,) = result.stdout.splitlines()
    assert summary.startswith(f"{settings.rules_path}: ok")
    assert f"{len(index.rules)} rules" in summary and f"{len(index.functions)} functions" in summary
    assert f"{len(index.roles)} identity types" in summary
    assert cli("policy", "lint", RULES, "--model", settings.model_path).exit_code == 0


def test_R_AUTHZ_4_lint_unreadable_file_exits_2_and_broken_model_exits_1(cli, tmp_path):
    """R-AUTHZ-4: a missing or non-UTF-8 file exits 2 naming it; a model of the wrong shape exits 1."""
    missing = cli("policy", "lint", tmp_path / "nope.csv")
    assert missing.exit_code == 2 and "nope.csv: cannot read" in missing.output
    binary = tmp_path / "latin1.csv"
    binary.write_bytes("role, x, \xe9, y\n".encode("latin-1"))
    assert cli("policy", "lint", binary).exit_code == 2
    model = write(tmp_path, "model.conf", (ROOT / "policies" / "model.conf").read_text()
                  .replace("r = sub, dom, obj, act", "r = sub, obj, act")
                  .replace("r.dom", "p.dom"))
    result = cli("policy", "lint", "--model", model)
    assert result.exit_code == 1 and f"{model}:0: [model_shape]" in result.stdout


def test_issue_10_R_AUTHZ_4_lint_refuses_a_matcher_edit_it_would_ignore(cli, tmp_path):
    """issue 10, R-AUTHZ-4: `authz policy lint --model` over a temp copy of model.conf whose matcher m no
    longer compares actions exits 1 with model_not_honoured at the matcher's line; the shipped model passes."""
    text = (ROOT / "policies" / "model.conf").read_text()
    model = write(tmp_path, "model.conf", text.replace("r.act == p.act", "true", 1))
    line = next(n for n, l in enumerate(text.splitlines(), 1) if l.startswith("m = "))
    result = cli("policy", "lint", "--model", model)
    assert result.exit_code == 1 and f"{model}:{line}: [model_not_honoured] m in [matchers]" in result.stdout
    assert cli("policy", "lint", "--model", ROOT / "policies" / "model.conf").exit_code == 0


# ---------------------------------------------------------------------------------------------- diff
def test_R_AUTHZ_4_diff_between_two_files_shows_exactly_the_change(cli, tmp_path):
    """R-AUTHZ-4: removing one rule and adding another shows exactly those two effective changes."""
    added = "p, invoice_officer, kind:enterprise, biz.certificate, use"
    new_text = without(INVOICE_QUERY).rstrip("\n") + f"\n{added}\n"
    new = write(tmp_path, "new.csv", new_text)
    result = cli("policy", "diff", RULES, new)
    assert result.exit_code == 1, result.output  # 1: something changes (issue 13: exit codes for scripts)
    changes = [line for line in result.stdout.splitlines() if line[:2] in ("+ ", "- ")]
    assert len(changes) == 2, result.output
    assert changes[0].startswith(f"- {INVOICE_QUERY} ") and f"# line {line_of(SHIPPED, INVOICE_QUERY)}" in changes[0]
    assert changes[1].startswith(f"+ {added} ") and f"# line {line_of(new_text, added)}" in changes[1]
    assert "1 added, 1 removed" in result.stdout

    same = cli("policy", "diff", RULES, write(tmp_path, "copy.csv", "# reordered comment\n" + SHIPPED))
    assert same.exit_code == 0 and same.stdout.strip() == "no changes"


def test_R_AUTHZ_4_diff_against_the_policy_in_force_and_refuses_a_broken_file(cli, tmp_path):
    """R-AUTHZ-4: with NEW alone the diff is against the policy in force in the database; a broken NEW is
    reported with its line numbers instead of a diff."""
    result = cli("policy", "diff", write(tmp_path, "new.csv", without(INVOICE_QUERY)))
    assert result.exit_code == 1
    assert [line[:2] for line in result.stdout.splitlines() if line[:2] in ("+ ", "- ")] == ["- "]
    assert "policy in force" in result.stdout
    broken = write(tmp_path, "broken.csv", SHIPPED + "p, nobody, *, ac.switch, use\n")
    bad = cli("policy", "diff", broken)
    assert bad.exit_code == 2 and f"{broken}:{shipped_lines() + 1}: [unknown_role]" in bad.stdout


# ---------------------------------------------------------------------------------------------- reload
@pytest.fixture
def world(directory):
    ent = directory.upsert_enterprise(ENT, "命令行示例有限公司", "ordinary")
    person = directory.create_person("钱七", "resident_id", "36010219900101123X", uid="p-cli-invoice")
    directory.bind(person, ent, "invoice_officer", state="active", origin="hall")
    return person


def test_R_AUTHZ_4_reload_refuses_a_broken_file_and_a_good_one_changes_the_next_check(cli, svc, world, tmp_path):
    """R-AUTHZ-4 / R-AUTHZ-5: a broken file is refused with line-numbered errors and nothing changes; a good one
    is installed in the database and the running enforcer answers differently after the change feed."""
    e = svc.enforcer
    assert e.can("p-cli-invoice", DOM, "biz.query", "use")
    digest = PolicyState.get_by_id(1).digest

    broken_text = without(INVOICE_QUERY) + "p, invoice_oficer, kind:enterprise, biz.query, use\n"
    broken = write(tmp_path, "broken.csv", broken_text)
    result = cli("policy", "reload", broken)
    assert result.exit_code == 1
    assert f"{broken}:{len(broken_text.splitlines())}: [unknown_role]" in result.stdout
    assert PolicyState.get_by_id(1).digest == digest
    svc.feed.poll()
    assert e.can("p-cli-invoice", DOM, "biz.query", "use"), "the last good policy stays in force"

    good = write(tmp_path, "good.csv", without(INVOICE_QUERY))
    result = cli("policy", "reload", good)
    assert result.exit_code == 0, result.output
    assert f"- {INVOICE_QUERY}" in result.stdout
    assert PolicyState.get_by_id(1).digest == pol.load_file(good).digest
    svc.feed.poll()  # what a running worker's follower thread does every change_poll_ms
    assert not e.can("p-cli-invoice", DOM, "biz.query", "use")
    assert e.can("p-cli-invoice", DOM, "biz.invoice_use", "use")
    again = cli("policy", "reload", good)
    assert again.exit_code == 0 and "already in force" in again.stdout


@pytest.fixture
def live_server(svc):
    """The API on a real loopback socket (werkzeug, in a thread) around the test Service."""
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, create_app(service=svc), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def test_R_AUTHZ_4_diff_and_reload_through_the_running_service(cli, svc, world, live_server, tmp_path):
    """R-AUTHZ-4: `--url` diffs against and reloads the running service; the service refuses a broken file with
    line-numbered errors (422) and keeps its policy; a key without the policy scope is refused."""
    _, key = clients.create("policy-author", scopes="check,policy")
    _, check_only = clients.create("billing", scopes="check")
    good = write(tmp_path, "good.csv", without(INVOICE_QUERY))

    diff = cli("policy", "diff", good, "--url", live_server, "--key", key)
    assert diff.exit_code == 1 and f"- {INVOICE_QUERY}" in diff.stdout and "1 removed" in diff.stdout

    broken_text = SHIPPED + "p, invoice_officer, kind:enterprise, biz.nothing, use\n"
    broken = write(tmp_path, "broken.csv", broken_text)
    refused = cli("policy", "reload", broken, "--url", live_server, "--key", key)
    assert refused.exit_code == 1
    assert f"{broken}:{len(broken_text.splitlines())}: [unknown_function]" in refused.stdout
    assert svc.enforcer.can("p-cli-invoice", DOM, "biz.query", "use")

    forbidden = cli("policy", "reload", good, "--url", live_server, "--key", check_only)
    assert forbidden.exit_code == 1 and "403" in forbidden.output
    assert cli("policy", "reload", good, "--url", live_server).exit_code == 2, "--key is required"

    done = cli("policy", "reload", good, "--url", live_server, "--key", key)
    assert done.exit_code == 0, done.output
    assert not svc.enforcer.can("p-cli-invoice", DOM, "biz.query", "use")
    assert cli("policy", "diff", good, "--url", live_server, "--key", key).stdout.strip() == "no changes"


# ---------------------------------------------------------------------------------------------- explain
def test_R_AUTHZ_2_explain_names_the_rule_line_or_the_reason(cli, svc):
    """R-AUTHZ-2: `policy explain` prints allowed with the rule file line that allowed it, or denied with the
    reason, and the subject's grants."""
    demo.seed(svc, progress=lambda _: None)
    rule = next(r for r in pol.load_file(RULES).rules
                if (r.role, r.obj, r.act) == ("tax_officer", "biz.declare_pay", "use"))
    a = demo.ALLOWED_CHECK
    allowed = cli("policy", "explain", a["subject"], a["domain"], a["object"], a["action"])
    assert allowed.exit_code == 0, allowed.output
    assert allowed.stdout.startswith("ALLOWED")
    assert f"line {rule.line}: p, tax_officer, kind:enterprise, biz.declare_pay, use" in allowed.stdout
    assert "tax_officer" in allowed.stdout.split("grants of", 1)[1]

    d = demo.DENIED_CHECK
    denied = cli("policy", "explain", d["subject"], d["domain"], d["object"], d["action"])
    assert denied.stdout.startswith("DENIED") and "not_in_function_set" in denied.stdout
    assert denied.exit_code == 1  # issue 13: explain exits 1 on deny

    as_admin = cli("policy", "explain", demo.ADMIN, demo.DOM_MAIN, "biz.invoice_use", "use", "--identity-type", "admin")
    assert as_admin.stdout.startswith("DENIED") and "invoice_officer" not in as_admin.stdout.split("grants of")[1]
    assert cli("policy", "explain", "nobody", demo.DOM_MAIN, "biz.query", "use").exit_code == 2


# ---------------------------------------------------------------------------------------------- clients
def test_R_AUTHZ_3_client_create_prints_a_working_key_last_and_stores_only_its_digest(cli, svc, settings, clock):
    """R-AUTHZ-3: `client create` prints the key as the last line; it authenticates against the API built with
    the same settings; the database holds only a SHA-256 digest; revoking it makes the API refuse it."""
    result = cli("client", "create", "billing-system", "--scope", "check")
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[-1]
    secret = clients.KEY_RE.match(key).group(2)  # azk_<id>_<secret>; the secret may contain "_"
    row = ServiceClient.get(ServiceClient.name == "billing-system")
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = json.dumps([str(v) for v in row.__data__.values()])
    assert secret not in stored and key not in stored

    app = create_app(settings, clock=clock, follow=False)
    try:
        client = app.test_client()
        body = {"subject": "p-nobody", "domain": DOM, "object": "biz.query", "action": "use"}
        ok = client.post("/api/v1/check", json=body, headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200 and ok.get_json()["allowed"] is False
        assert client.post("/api/v1/check", json=body).status_code == 401
        listed = cli("client", "list")
        assert "billing-system" in listed.stdout and "active" in listed.stdout and key not in listed.stdout
        assert cli("client", "revoke", "billing-system").exit_code == 0
        database.initialize(app.extensions["authz"].db)
        gone = client.post("/api/v1/check", json=body, headers={"Authorization": f"Bearer {key}"})
        assert gone.status_code == 401
    finally:
        app.extensions["authz"].close()
        database.initialize(svc.db)


def test_R_AUTHZ_3_client_create_refuses_duplicates_and_bad_names(cli):
    """R-AUTHZ-3: a second client with the same name, a bad name or scope are refused without printing a key."""
    assert cli("client", "create", "sys-a", "--scope", "check", "--scope", "policy").exit_code == 0
    assert ServiceClient.get(ServiceClient.name == "sys-a").scopes == "check,policy"
    dup = cli("client", "create", "sys-a")
    assert dup.exit_code == 1 and "azk_" not in dup.output
    assert cli("client", "create", "Bad Name").exit_code == 1
    assert cli("client", "create", "sys-b", "--scope", "x y").exit_code == 2
    assert cli("client", "revoke", "no-such").exit_code == 1


def test_R_AUTHZ_3_client_create_offers_every_scope_the_api_checks(cli):
    """R-AUTHZ-3: `client create --help` names every scope a key can hold (check, policy, integration, hall,
    helpdesk, helpdesk_export (issue 13): the ones the API's service-authenticated blueprints ask for), and an
    unknown scope is refused."""
    from api.security import authenticate_service
    assert set(clients.SCOPES) == {"check", "policy", "integration", "hall", "helpdesk", "helpdesk_export"}
    with pytest.raises(ValueError):  # a blueprint asking for a scope the CLI cannot give fails at import
        authenticate_service("integation")
    text = " ".join(cli("client", "create", "--help").output.split())
    for scope in clients.SCOPES:
        assert f"{scope} (" in text, (scope, text)
    typo = cli("client", "create", "sys-c", "--scope", "integation")
    assert typo.exit_code == 2 and "integration" in typo.output and "azk_" not in typo.output
    assert cli("client", "create", "sys-c", "--scope", "integration", "--scope", "hall").exit_code == 0
    assert ServiceClient.get(ServiceClient.name == "sys-c").scopes == "integration,hall"


# ---------------------------------------------------------------------------------------------- db
def test_db_upgrade_applies_each_migration_once_and_commands_need_a_current_schema(cli, tmp_path, settings):
    """Schema migrations (issue 2 item 2): `db upgrade` prints each step applied, then "schema is current";
    other commands on an un-migrated database say to run it."""
    fresh = Env(settings=settings.with_(database_url=f"sqlite:///{tmp_path / 'fresh.db'}"))
    refused = cli("client", "list", env=fresh)
    assert refused.exit_code == 1 and "authz db upgrade" in refused.output
    first = cli("db", "upgrade", env=fresh)
    assert first.exit_code == 0 and "applying 1: initial schema" in first.stdout
    second = cli("db", "upgrade", env=fresh)
    assert second.exit_code == 0 and "schema is current" in second.stdout and "applying" not in second.stdout
    assert cli("client", "list", env=fresh).stdout.strip() == "no service clients"


# ---------------------------------------------------------------------------------------------- serve
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(c: dict) -> dict:
    req = urllib.request.Request(c["url"], data=json.dumps(c["body"]).encode(), method=c["method"],
                                 headers=c["headers"])
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.mark.slow
def test_R_AUTHZ_2_serve_demo_starts_gunicorn_and_the_printed_checks_answer(tmp_path):
    """R-AUTHZ-2 / R-AUTHZ-3 / R-AUTHZ-4 end to end: `authz serve --demo` on a temporary SQLite database becomes
    ready; the printed allowed and denied checks answer as printed; `policy reload --url` reaches every worker."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", "PYTHONUNBUFFERED": "1"}
    out_path, err_path = tmp_path / "out.txt", tmp_path / "err.txt"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "authz.cli", "serve", "--port", str(port), "--demo",
                                 "--workers", "2"], stdout=out, stderr=err, cwd=tmp_path, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        ready = False
        while time.monotonic() < deadline and proc.poll() is None and not ready:
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=2) as resp:
                    ready = resp.status == 200
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        assert ready, out_path.read_text() + err_path.read_text()

        calls = printed_calls(out_path.read_text().splitlines())
        assert calls["ALLOWED"]["url"] == f"{base}/api/v1/check"
        assert _post(calls["ALLOWED"])["allowed"] is True
        assert _post(calls["DENIED"])["allowed"] is False

        key = calls["ALLOWED"]["headers"]["Authorization"].split(" ", 1)[1]
        rule = "p, tax_officer, kind:enterprise, biz.declare_pay, use"
        narrowed = write(tmp_path, "narrowed.csv", without(rule))
        result = CliRunner().invoke(main, ["policy", "reload", str(narrowed), "--url", base, "--key", key],
                                    obj=Env(settings=None))
        assert result.exit_code == 0, result.output
        deadline, denied_in_a_row = time.monotonic() + 5, 0
        while time.monotonic() < deadline and denied_in_a_row < 10:  # both workers, whichever answers
            denied_in_a_row = denied_in_a_row + 1 if not _post(calls["ALLOWED"])["allowed"] else 0
        assert denied_in_a_row >= 10
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def test_R_BIND_15_events_cli_lists_and_drains_the_outbox(tmp_path):
    """R-BIND-15: `authz events list|drain` show and deliver the data-sync events (dev adapter: outbox)."""
    from click.testing import CliRunner
    from authz.cli import Env, main
    from authz.config import Settings
    from authz.service import Service
    from authz.directory import Directory
    from authz.flows import integration
    from authz.models import Binding
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'ev.db'}")
    svc = Service(settings).start(follow=False)
    with svc.db.connection_context():
        d = Directory(svc)
        ent = d.upsert_enterprise("91360100MA35EVNT1X", "事件测试有限公司")
        p = d.create_person("张三", "resident_id", "36010219900101123X", uid="p-events")
        b = d.bind(p, ent, "legal_rep", state="active", origin="registration")
        integration.sync_binding(svc, Binding.get_by_id(b.id), "p-events")
    svc.close()
    runner = CliRunner()
    env = Env(settings=settings)
    out = runner.invoke(main, ["events", "list"], obj=env)  # the binding's creation (bindings.create) and the sync
    assert out.exit_code == 0 and out.output.strip().endswith("2 event(s)"), out.output
    assert "binding.changed" in out.output and "binding.sync" in out.output
    out = runner.invoke(main, ["events", "drain"], obj=env)
    assert out.exit_code == 0 and "delivered 2" in out.output, out.output
    out = runner.invoke(main, ["events", "list", "--status", "pending"], obj=env)
    assert out.output.strip().endswith("0 event(s)")


def test_R_PWD_1_dev_password_help_names_the_demo_password():
    """R-PWD-1: `authz dev password --help` tells the truth about the demo persons: they already log in with
    the demo password (tests/test_demo.py proves it does), so the command is for another password."""
    text = " ".join(CliRunner().invoke(main, ["dev", "password", "--help"]).output.split())
    assert demo.DEMO_PASSWORD in text and "without passwords" not in text


def test_R_AUTHZ_4_reload_refuses_an_empty_file_unless_forced(cli, svc, world, live_server, tmp_path):
    """R-AUTHZ-4 (issue 10 finding 9): `authz policy reload` of an empty file (locally and with --url) is refused
    with policy_mass_removal and nothing changes; a newline inside a field is a bad_character lint error;
    --force applies the empty file."""
    digest = PolicyState.get_by_id(1).digest
    empty = write(tmp_path, "empty.csv", "# every rule gone\n")
    _, key = clients.create("policy-author", scopes="check,policy")
    for extra in ((), ("--url", live_server, "--key", key)):
        refused = cli("policy", "reload", empty, *extra)
        assert refused.exit_code == 1 and "--force" in refused.output, refused.output
        n = len(pol.parse(SHIPPED).casbin_lines())
        assert f"removes {n} of the {n}" in refused.output or f"{n} 行中的 {n} 行" in refused.output
        assert PolicyState.get_by_id(1).digest == digest
        assert svc.enforcer.can("p-cli-invoice", DOM, "biz.query", "use")

    newline = write(tmp_path, "newline.csv", SHIPPED + 'p, "invoice_officer\n", kind:enterprise, biz.query, use\n')
    refused = cli("policy", "reload", newline)
    assert refused.exit_code == 1 and "[bad_character]" in refused.stdout
    assert PolicyState.get_by_id(1).digest == digest

    forced = cli("policy", "reload", empty, "--force")
    assert forced.exit_code == 0, forced.output
    svc.feed.poll()
    assert not svc.enforcer.can("p-cli-invoice", DOM, "biz.query", "use")


# ---------------------------------------------------------------------------------------------- --json
def test_policy_commands_answer_json_with_meaningful_exit_codes(cli, svc, tmp_path):
    """Issue 13 (policy authors): lint, diff and explain print one JSON object with --json, and exit for
    scripts: lint 1 on errors, diff 0 / 1 (changes) / 2 (broken file), explain 0 allowed / 1 denied."""
    ok = cli("policy", "lint", RULES, "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"] is True
    broken = write(tmp_path, "broken.csv", SHIPPED + "p, nobody, *, ac.switch, use\n")
    bad = cli("policy", "lint", broken, "--json")
    body = json.loads(bad.stdout)
    assert bad.exit_code == 1 and body["ok"] is False
    assert body["errors"][0]["code"] == "unknown_role" and body["errors"][0]["line"] == shipped_lines() + 1

    same = cli("policy", "diff", RULES, RULES, "--json")
    assert same.exit_code == 0 and json.loads(same.stdout)["added"] == json.loads(same.stdout)["removed"] == []
    changed = cli("policy", "diff", RULES, write(tmp_path, "new.csv", without(INVOICE_QUERY)), "--json")
    body = json.loads(changed.stdout)
    assert changed.exit_code == 1 and body["added"] == []
    assert [r["rule"] for r in body["removed"]] == [INVOICE_QUERY] and body["removed"][0]["label_zh"]
    assert cli("policy", "diff", RULES, broken, "--json").exit_code == 2

    demo.seed(svc, progress=lambda _: None)
    a, d = demo.ALLOWED_CHECK, demo.DENIED_CHECK
    allowed = cli("policy", "explain", a["subject"], a["domain"], a["object"], a["action"], "--json")
    body = json.loads(allowed.stdout)
    assert allowed.exit_code == 0 and body["allowed"] is True and body["rule"]["line"] > 0
    denied = cli("policy", "explain", d["subject"], d["domain"], d["object"], d["action"], "--json")
    body = json.loads(denied.stdout)
    assert denied.exit_code == 1 and body["allowed"] is False and body["reason"] == "not_in_function_set"


def test_reload_with_a_stale_expect_is_refused_and_changes_nothing(cli, svc, tmp_path):
    """Issue 13 (two authors): `policy reload --expect DIGEST` installs only while DIGEST is in force; the
    digest to expect is the `old_digest` of `policy diff --json`."""
    new = write(tmp_path, "new.csv", without(INVOICE_QUERY))
    diff = json.loads(cli("policy", "diff", new, "--json").stdout)
    stale = cli("policy", "reload", new, "--expect", "0" * 64)
    assert stale.exit_code == 1 and "another reload happened" in stale.output
    from authz import policystore
    assert policystore.load_current().digest == diff["old_digest"]  # nothing was installed
    done = cli("policy", "reload", new, "--expect", diff["old_digest"])
    assert done.exit_code == 0, done.output


# ---------------------------------------------------------------------------------------------- history
def test_policy_history_lists_every_install_and_rollback_restores_an_earlier_one(cli, svc, tmp_path):
    """Issue 13 (policy authors): every rule file put in force is in the history with who, when and the
    effective line counts; `policy rollback` (the previous one, or a digest) puts the previous source back in force through
    the same install (history row, every worker follows), and the rollback is itself history."""
    from authz import policystore
    first = policystore.load_current().digest
    new = write(tmp_path, "new.csv", without(INVOICE_QUERY))
    assert cli("policy", "reload", new).exit_code == 0
    second = policystore.load_current().digest
    rows = json.loads(cli("policy", "history", "--json").stdout)
    assert [r["digest"] for r in rows[:2]] == [second, first]
    assert rows[0]["loaded_by"] == "cli" and rows[0]["removed"] == 1 and rows[0]["added"] == 0

    back = cli("policy", "rollback")
    assert back.exit_code == 0, back.output
    assert f"+ {INVOICE_QUERY}" in back.stdout
    assert policystore.load_current().digest == first
    rows = json.loads(cli("policy", "history", "--json").stdout)
    assert rows[0]["digest"] == first and rows[0]["note"] == f"rollback to {first[:12]}"
    assert cli("policy", "rollback", second[:8]).exit_code == 0 and policystore.load_current().digest == second
    unknown = cli("policy", "rollback", "abcdef0123")
    assert unknown.exit_code == 1 and "No rule file abcdef0123" in unknown.output
    assert cli("policy", "rollback", "--steps", "99").exit_code == 1
