"""`authz policy test` (issue 13, policy authors): assertion files decide requests with pycasbin from the
model and a rule file; the shipped rules come with policies/tests.csv, which CI runs here; a rule-file edit
that breaks an assertion fails with the line; exit codes 0 / 1 / 2 for scripts."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from authz.cli import main

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "policies" / "rules.csv"
TESTS = ROOT / "policies" / "tests.csv"


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_the_shipped_rules_pass_their_shipped_assertions():
    r = _cli("policy", "test", "--json")
    body = json.loads(r.stdout)
    assert r.exit_code == 0 and not body["failed"] and body["passed"] >= 30, r.output


def test_an_edit_that_breaks_an_assertion_fails_with_its_line(tmp_path):
    """Giving the administrator the right to add administrators (R-BIND-4 says only the legal representative
    and the finance officer may) is caught by the shipped assertion, named by file and line."""
    edited = tmp_path / "rules.csv"
    edited.write_text(RULES.read_text(encoding="utf-8") + "p, admin, kind:enterprise, ac.staff:admin, add\n",
                      encoding="utf-8")
    r = _cli("policy", "test", TESTS, "--rules", edited)
    assert r.exit_code == 1
    line = next(n for n, text in enumerate(TESTS.read_text(encoding="utf-8").splitlines(), 1)
                if text.startswith("deny, p-admin, ent:A, ac.staff:admin, add"))
    assert f"{TESTS}:{line}: FAILED deny, p-admin, ent:A, ac.staff:admin, add (got allow)" in r.stdout


def test_entry_scope_assertions_use_the_model_s_second_matcher(tmp_path):
    """deny-entry lines are decided by m2 (R-LOGIN-4): letting special subjects into the staff pages fails."""
    edited = tmp_path / "rules.csv"
    edited.write_text(RULES.read_text(encoding="utf-8") + "p2, special, ac.staff, view\n", encoding="utf-8")
    r = _cli("policy", "test", TESTS, "--rules", edited, "--json")
    assert r.exit_code == 1
    assert [f["assertion"] for f in json.loads(r.stdout)["failed"]] == ["deny-entry, special, ac.staff, view"]


def test_a_broken_assertion_file_exits_2_with_its_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("g2, ent:A, kind:ordinary\nmaybe, p-x, ent:A, biz.query, use\n", encoding="utf-8")
    r = _cli("policy", "test", bad)
    assert r.exit_code == 2 and f"{bad}:2:" in r.output
    empty = tmp_path / "empty.csv"
    empty.write_text("# nothing\n", encoding="utf-8")
    assert _cli("policy", "test", empty).exit_code == 2
