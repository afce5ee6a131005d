"""The error catalogue is one table (issue 10: "one error catalogue in one table, not assembled by
import side effects"; ENGINEERING.md item 6): every code with its status and both texts is a literal
entry of `authz.errors.MESSAGES`, modules only name codes, and no code is dead or unknown."""
from __future__ import annotations

import ast
import pathlib

from authz.errors import MESSAGES, AuthzError

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = sorted([*ROOT.glob("authz/**/*.py"), *ROOT.glob("api/**/*.py")])


def _tree(path: pathlib.Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"))


def test_the_table_is_one_literal_in_errors_py():
    """MESSAGES is written once, as a dict literal; no module assigns into it or updates it."""
    tree = _tree(ROOT / "authz/errors.py")
    literal = [n for n in tree.body if isinstance(n, ast.AnnAssign) and getattr(n.target, "id", "") == "MESSAGES"]
    assert len(literal) == 1 and isinstance(literal[0].value, ast.Dict)
    assert len(literal[0].value.keys) == len(MESSAGES)  # nothing was added after the literal
    for path in SOURCES:
        for node in ast.walk(_tree(path)):
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    assert not (isinstance(t, ast.Subscript) and getattr(t.value, "id", "") == "MESSAGES"), path
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = getattr(node.func.value, "id", "")
                assert not (owner == "MESSAGES" and node.func.attr in {"update", "setdefault", "__setitem__"}), path


def _named_codes() -> dict[str, str]:
    named = {}
    for path in SOURCES:
        for node in ast.walk(_tree(path)):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "code" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                named[node.args[0].value] = str(path.relative_to(ROOT))
    return named


def test_every_named_code_is_in_the_table():
    unknown = {c: where for c, where in _named_codes().items() if c not in MESSAGES}
    assert not unknown


def test_no_code_in_the_table_is_dead():
    """Each code is raised or named somewhere in authz/ or api/ (a dead entry would mislead the catalogue)."""
    text = "".join(p.read_text(encoding="utf-8") for p in SOURCES if p.name != "errors.py" or p.parent.name != "authz")
    dead = [c for c in MESSAGES if f'"{c}"' not in text and f"'{c}'" not in text]
    assert not dead


def test_every_entry_has_a_status_and_both_texts():
    for code, (status, zh, en) in MESSAGES.items():
        assert 400 <= status <= 599, code
        assert zh.strip() and en.strip(), code
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), code
        assert en.isascii(), code


def test_an_unknown_code_cannot_be_raised():
    try:
        AuthzError("no_such_code")
    except KeyError:
        return
    raise AssertionError("AuthzError accepted a code missing from the table")
