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


def test_each_code_is_grouped_under_the_module_that_names_it():
    """The catalogue's "raised in" (the table's grouping comments) names the module whose `code()` call
    names the code, so the page points at the rule (issue 13: "when it happens")."""
    from authz.errors import areas
    where, naming = areas(), {}
    for path in SOURCES:
        module = str(path.relative_to(ROOT))[:-3].replace("/", ".").removesuffix(".__init__")
        for node in ast.walk(_tree(path)):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "code" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                naming.setdefault(node.args[0].value, set()).add(module)
    wrong = {c: (where[c], sorted(mods)) for c, mods in naming.items() if where[c] not in mods}
    assert not wrong


def test_docs_errors_md_is_generated_from_the_table():
    """docs/errors.md equals `python -m authz.errors` (regenerate it after changing the table)."""
    from authz.errors import document
    assert (ROOT / "docs/errors.md").read_text(encoding="utf-8") == document()


def test_every_error_answer_links_its_catalogue_entry(svc):
    """An error answer's `type` is its catalogue entry, which answers the same code, status and texts
    without any credential (issue 13: the catalogue "linked from each error answer's type")."""
    from api import create_app
    client = create_app(service=svc).test_client()
    r = client.post("/api/v1/check", json={"subject": "x"})  # no service key
    body = r.get_json()
    assert body["type"] == f"/api/v1/errors/{body['code']}"
    entry = client.get(body["type"]).get_json()
    status, zh, en = MESSAGES[body["code"]]
    assert (entry["code"], entry["status"], entry["message_zh"], entry["message_en"]) == (body["code"], status, zh, en)
    listed = client.get("/api/v1/errors").get_json()["items"]
    assert {e["code"] for e in listed} == set(MESSAGES)
    missing = client.get("/api/v1/errors/no_such_code")
    assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"
