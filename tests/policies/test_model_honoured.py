"""issue 10, R-AUTHZ-4: a model.conf matcher edit is honoured or refused by lint, never silently ignored.
The enforcer compiles decisions from the rule file (authz/enforcer.py) instead of evaluating the model's
matchers, so lint (`authz policy lint`, every reload, enforcer start) refuses any model whose matcher,
effect, request, policy or role definition differs from policy.HONOURED_MODEL with model_not_honoured."""
from pathlib import Path

import pytest

from authz import policy as pol
from authz.errors import MESSAGES

MODEL = (Path(__file__).resolve().parents[2] / "policies" / "model.conf").read_text(encoding="utf-8")
RULES = Path(__file__).resolve().parents[2] / "policies" / "rules.csv"

EDITS = [
    ("r.act == p.act", "true", "m"),                                            # drop the action check
    ("r.obj == p.obj", "keyMatch(r.obj, p.obj)", "m"),                          # wildcard objects
    ('(p2.act == "*" || r2.act == p2.act)', "r2.act == p2.act", "m2"),
    ("e = some(where (p.eft == allow))", "e = !some(where (p.eft == deny))", "e"),
    ("g2 = _, _", "g2 = _, _\ng3 = _, _", "g3"),                                # a definition nobody honours
    ("[matchers]", "[matchers]\nm3 = r.sub == p.sub", "m3"),
    ("e2 = some(where (p.eft == allow))\n", "", "e2"),                          # one removed
    ('p.dom == "*"', 'p.dom == " *"', "m"),                                     # inside a string literal
]


@pytest.mark.parametrize("old,new,key", EDITS)
def test_issue_10_R_AUTHZ_4_lint_refuses_a_model_edit_the_enforcer_would_ignore(tmp_path, old, new, key):
    """issue 10, R-AUTHZ-4: each edit of a temp copy of model.conf is a model_not_honoured error naming
    the definition and its line; lint of the rule file against it fails."""
    assert old in MODEL
    path = tmp_path / "model.conf"
    path.write_text(MODEL.replace(old, new, 1), encoding="utf-8")
    errors = pol.lint(path, RULES)
    assert [e.code for e in errors] == [pol.E_MODEL_NOT_HONOURED], errors
    assert errors[0].message.startswith(f"{key} in [")
    if new:
        assert errors[0].line > 0 and path.read_text().splitlines()[errors[0].line - 1].startswith(key)


def test_issue_10_R_AUTHZ_4_the_shipped_model_and_whitespace_edits_pass(tmp_path):
    """issue 10, R-AUTHZ-4: the shipped model lints clean; spacing outside string literals is no edit."""
    assert pol.lint(Path(__file__).resolve().parents[2] / "policies" / "model.conf", RULES) == []
    path = tmp_path / "model.conf"
    path.write_text(MODEL.replace("r.obj == p.obj && r.act == p.act", "r.obj==p.obj  &&  r.act == p.act"))
    assert pol.check_model(path) == []


def test_issue_10_R_AUTHZ_4_model_not_honoured_has_chinese_and_english_text():
    """issue 10: the code is in the one message table, Chinese and English."""
    status, zh, en = MESSAGES[pol.E_MODEL_NOT_HONOURED]
    assert status == 422 and "model.conf" in zh and "silently ignored" in en


def test_issue_10_R_AUTHZ_4_the_enforcer_refuses_to_start_on_such_a_model(svc, tmp_path):
    """issue 10, R-AUTHZ-4: an enforcer is never built over a model it would not honour."""
    from authz.enforcer import Enforcer
    path = tmp_path / "model.conf"
    path.write_text(MODEL.replace("r.act == p.act", "true", 1), encoding="utf-8")
    e = svc.enforcer
    with pytest.raises(pol.PolicyInvalid) as exc:
        Enforcer(str(path), e.index, e.grants, e.domains, svc.clock)
    assert exc.value.errors[0].code == pol.E_MODEL_NOT_HONOURED
