"""Lint of the rule file's p2 lines (what a session of each business entry may reach; R-LOGIN-4,
R-SW-4, issue 10 finding 3): errors are line-numbered, and an entry left without any p2 line is refused
rather than silently locking its sessions out."""


from authz import policy as pol

from tests.policies.support import SHIPPED
from tests.policies.support import lint_codes as _errors


def test_R_LOGIN_4_p2_lines_are_linted():
    assert "unknown_entry" in _errors(SHIPPED + "p2, specail, ac.switch, use\n")
    assert "unknown_function" in _errors(SHIPPED + "p2, special, ac.nothing*, *\n")
    assert "unknown_action" in _errors(SHIPPED + "p2, special, ac.switch, fly\n")
    assert "duplicate" in _errors(SHIPPED + "p2, special, ac.switch, use\n")


def test_R_LOGIN_4_an_entry_without_p2_lines_is_refused():
    text = "\n".join(line for line in SHIPPED.splitlines() if not line.startswith("p2, special,"))
    assert "entry_unscoped" in _errors(text)


def test_R_LOGIN_4_p2_lines_reach_casbin():
    index = pol.parse(SHIPPED)
    assert ("p2", ["special", "ac.switch", "use"]) in index.casbin_lines()
    assert index.entry_allows("special", "ac.switch", "use") and not index.entry_allows("special", "ac.staff", "view")


def test_R_AUTHZ_4_parser_refuses_line_breaks_and_lone_surrogates_in_a_rule_file():
    """R-AUTHZ-4 (issue 10 finding 9): a rule file read from disk (the CLI path, no HTTP guard in front)
    with a line break inside a quoted field or a lone surrogate is refused by the parser."""
    import pytest as _pytest
    from authz.policy import PolicyInvalid, parse
    for text in ('p, "tax_officer\nx", *, biz.query, use\n', "# note \udfff\n", 'p, tax_officer, *, "biz.q\ud800", use\n'):
        with _pytest.raises(PolicyInvalid) as e:
            parse(text)
        assert "bad_character" in [err.code for err in e.value.errors]
