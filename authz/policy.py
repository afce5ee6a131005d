"""The rule file: parse, lint against the model and the function catalogue, compile into an index.

A rule file has five line kinds (see the header of policies/rules.csv): `role`, `fn`, `g2`, `p` and `p2`
(what a session of each business entry may reach at all: the model's second matcher, m2). Casbin itself
only sees `p`, `p2` and `g2` lines (pycasbin's own file loader skips the others), so the same
file loads unchanged into a plain `casbin.Enforcer`, which the tests use as the reference.

A `p` line's subject is an identity type, or `service:<scope>` for what a calling service may do
(`svc.*` functions, e.g. which identity types' bindings the tax hall handles, R-BIND-3): the same matcher m,
with the subject as its own role (Casbin's g(x, x, dom) holds), asked by `Enforcer.service_can`.

`check_model` refuses a model.conf the enforcer would not honour: decisions are compiled from the rule
file (authz/enforcer.py, `PolicyIndex.entry_allows`), not evaluated from the model's matchers, so a
matcher, effect or role definition other than HONOURED_MODEL would be silently ignored (issue 10).
"""
from __future__ import annotations

import csv
import re
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import casbin

from .clients import SCOPES
from .errors import AuthzError, code
from .ids import DOMAIN_RE, TOKEN_RE
from .vocab import ENTRIES

# The model the enforcer implements (authz.enforcer.Enforcer.can / service_can for m, PolicyIndex.entry_allows
# for m2, PolicyIndex.kind_closure for g2, grants from the database for g). check_model compares the model
# file's definitions with these, whitespace aside; to change one, change the fast path first, then this.
HONOURED_MODEL = """
[request_definition]
r = sub, dom, obj, act
r2 = entry, obj, act

[policy_definition]
p = sub, dom, obj, act
p2 = entry, obj, act

[role_definition]
g = _, _, _
g2 = _, _

[policy_effect]
e = some(where (p.eft == allow))
e2 = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && (p.dom == "*" || p.dom == r.dom || g2(r.dom, p.dom)) && r.obj == p.obj \
&& r.act == p.act && inFunctionSet(r.sub, p.sub, r.dom, r.obj)
m2 = r2.entry == p2.entry && keyMatch(r2.obj, p2.obj) && (p2.act == "*" || r2.act == p2.act)
"""
SECTION_NAMES = {"r": "request_definition", "p": "policy_definition", "g": "role_definition",
                 "e": "policy_effect", "m": "matchers"}
E_MODEL_NOT_HONOURED = code("model_not_honoured")

BUILTIN_KINDS = ("kind:ordinary", "kind:agency", "kind:nonresident", "kind:personal")
ACTION_RE = TOKEN_RE
BIZ_PREFIX = "biz."
AC_PREFIX = "ac."
SVC_PREFIX = "svc."  # functions of a calling service (service:<scope> subjects only; no session reaches them)
SERVICE_PREFIX = "service:"  # a p line subject naming a service scope (authz.clients.SCOPES), never an identity type
# A field may not hold a line break, a NUL or a lone surrogate (issue 10 finding 9): a quoted CSV field can
# carry them, they would be stored and shown as if they were two lines, and a lone surrogate cannot be encoded.
BAD_CHARS_RE = re.compile("[\n\r\x00\ud800-\udfff]")
# A reload that removes more than this share of the p/p2/g2 lines in force needs an explicit force (R-AUTHZ-4).
MASS_REMOVAL_SHARE = 0.5
E_MASS_REMOVAL = code("policy_mass_removal")


@dataclass(frozen=True)
class LintError:
    """One problem in a rule file, with its 1-based line number."""
    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: [{self.code}] {self.message}"


@dataclass(frozen=True)
class FunctionDef:
    """A catalogue entry: an object, the actions it has, and its menu labels."""
    obj: str
    actions: tuple[str, ...]
    group: str
    zh: str
    en: str
    line: int

    @property
    def is_business(self) -> bool:
        return self.obj.startswith(BIZ_PREFIX)


@dataclass(frozen=True)
class RoleDef:
    name: str
    zh: str
    en: str
    line: int


@dataclass(frozen=True)
class Rule:
    """A `p` line: identity type `role` may `act` on `obj` in domains matching `dom`."""
    role: str
    dom: str
    obj: str
    act: str
    line: int

    def as_casbin(self) -> list[str]:
        return [self.role, self.dom, self.obj, self.act]


@dataclass(frozen=True)
class ScopeRule:
    """A `p2` line: a session of business entry `entry` may reach function `obj` (or every function
    starting with the prefix before a final `*`) with action `act` (or any action for `*`); the
    model's m2 with keyMatch."""
    entry: str
    obj: str
    act: str
    line: int

    def matches(self, obj: str, act: str) -> bool:
        if self.act != "*" and self.act != act:
            return False
        if self.obj.endswith("*"):
            return obj.startswith(self.obj[:-1])
        return obj == self.obj

    def as_casbin(self) -> list[str]:
        return [self.entry, self.obj, self.act]


@dataclass
class PolicyIndex:
    """A compiled, immutable rule file. Swapped whole on reload, never mutated in place."""
    source: str
    roles: dict[str, RoleDef]
    functions: dict[str, FunctionDef]
    rules: list[Rule]
    kind_links: list[tuple[str, str, int]]
    scopes: list[ScopeRule] = field(default_factory=list)
    by_obj_act: dict[tuple[str, str], tuple[Rule, ...]] = field(default_factory=dict)
    kind_closure: dict[str, frozenset[str]] = field(default_factory=dict)
    digest: str = ""
    groups: dict[str, str] = field(default_factory=dict)  # menu group (as fn lines name it) -> English name

    def group_label(self, group: str, lang: str = "zh") -> str:
        """A menu group's name in `lang` (the Chinese name when the file gives no English one)."""
        return self.groups.get(group, group) if lang == "en" else group

    def __post_init__(self) -> None:
        idx: dict[tuple[str, str], list[Rule]] = {}
        for r in self.rules:
            idx.setdefault((r.obj, r.act), []).append(r)
        self.by_obj_act = {k: tuple(v) for k, v in idx.items()}
        parents: dict[str, set[str]] = {}
        for child, parent, _ in self.kind_links:
            parents.setdefault(child, set()).add(parent)
        closure: dict[str, frozenset[str]] = {}
        for k in set(parents) | set(BUILTIN_KINDS):
            seen, stack = {k}, [k]
            while stack:
                for p in parents.get(stack.pop(), ()):
                    if p not in seen:
                        seen.add(p)
                        stack.append(p)
            closure[k] = frozenset(seen)
        self.kind_closure = closure
        self.digest = hashlib.sha256(self.source.encode()).hexdigest()
        self._entry_cache: dict[tuple[str, str, str], bool] = {}

    def entry_allows(self, entry: str, obj: str, act: str) -> bool:
        """May a session of this business entry reach (obj, act) at all (R-LOGIN-4, R-SW-4: a special
        subject has no account centre)? The `p2` lines decide; the identity's own rules (`p`) still apply."""
        key = (entry, obj, act)
        hit = self._entry_cache.get(key)
        if hit is None:
            hit = any(s.entry == entry and s.matches(obj, act) for s in self.scopes)
            if len(self._entry_cache) < 100_000:
                self._entry_cache[key] = hit
        return hit

    def kinds_of(self, direct_kind: str) -> frozenset[str]:
        """A domain's kind attribute and every broader kind it implies."""
        return self.kind_closure.get(direct_kind, frozenset((direct_kind,)))

    def ceiling(self, role: str, kinds: frozenset[str] | None = None) -> list[str]:
        """Business functions `role` may hold (in a domain with these kinds; any domain if None)."""
        out = []
        for f in self.functions.values():
            if not f.is_business:
                continue
            for r in self.by_obj_act.get((f.obj, "use"), ()):
                if r.role == role and (kinds is None or r.dom == "*" or r.dom in kinds):
                    out.append(f.obj)
                    break
        return out

    def effective(self) -> set[tuple[str, str, str, str]]:
        """Every (role, domain pattern, object, action) the file grants, for diffs."""
        return {(r.role, r.dom, r.obj, r.act) for r in self.rules}

    def casbin_lines(self) -> list[tuple[str, list[str]]]:
        """(ptype, values) for every line Casbin stores: p rules and g2 kind links."""
        lines = [("p", r.as_casbin()) for r in self.rules]
        lines += [("p2", s.as_casbin()) for s in self.scopes]
        lines += [("g2", [c, p]) for c, p, _ in self.kind_links]
        return lines


class PolicyInvalid(Exception):
    """The rule file has errors; nothing was loaded."""

    def __init__(self, errors: list[LintError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def _rows(text: str, err):
    reader = csv.reader(io.StringIO(text), skipinitialspace=True)
    for row in reader:
        line = reader.line_num
        cells = [c.strip() for c in row]
        if not cells or all(c == "" for c in cells) or cells[0].startswith("#"):
            continue
        bad = next((c for c in row if BAD_CHARS_RE.search(c)), None)
        if bad is not None:
            ch = BAD_CHARS_RE.search(bad).group()
            err(line, "bad_character", f"a field contains {_char_name(ch)} (a quoted field may not hold a line "
                                       f"break, a NUL or a lone surrogate): {bad.strip()[:40]!r}")
            continue
        yield line, cells


def _char_name(ch: str) -> str:
    return {"\n": "a line feed", "\r": "a carriage return", "\x00": "a NUL character"}.get(
        ch, f"a lone surrogate U+{ord(ch):04X}")


def _bad_text(text: str) -> list[LintError]:
    """NUL and lone surrogates anywhere (comments too): csv cannot read the one, UTF-8 cannot hold the other."""
    out = []
    for n, physical in enumerate(text.split("\n"), 1):
        m = re.search("[\x00\ud800-\udfff]", physical)
        if m:
            out.append(LintError(n, "bad_character", f"the line contains {_char_name(m.group())}"))
    return out


def check_model(model_path: str | Path) -> list[LintError]:
    """The model must load in pycasbin, have the request/policy shape this service relies on, and define
    exactly what the enforcer honours (HONOURED_MODEL): a matcher, effect or definition edited, added or
    removed is refused with model_not_honoured rather than silently ignored by every decision (issue 10)."""
    try:
        m = casbin.Enforcer(str(model_path)).get_model()
    except Exception as exc:  # pycasbin raises plain exceptions of several kinds
        return [LintError(0, "model_invalid", f"model.conf does not load: {exc}")]
    errors = []
    shape = set()
    if m["r"]["r"].tokens != ["r_sub", "r_dom", "r_obj", "r_act"]:
        errors.append(LintError(0, "model_shape", "request must be r = sub, dom, obj, act"))
        shape.add("r")
    if m["p"]["p"].tokens != ["p_sub", "p_dom", "p_obj", "p_act"]:
        errors.append(LintError(0, "model_shape", "policy must be p = sub, dom, obj, act"))
        shape.add("p")
    if "g" not in m.model or "g" not in m["g"] or "g2" not in m["g"]:
        errors.append(LintError(0, "model_shape", "role definitions g (3 fields) and g2 (2 fields) are required"))
        shape.update(("g", "g2"))
    try:
        lines = Path(model_path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    honoured_lines = HONOURED_MODEL.splitlines()
    for section, key, found, honoured in model_differences(m):
        if key in shape:
            continue
        line = _model_line(lines, section, key)
        if found is not None and line:
            found = lines[line - 1].split("=", 1)[1].strip()  # as the author wrote it, not as pycasbin holds it
        if honoured is not None:
            honoured = honoured_lines[_model_line(honoured_lines, section, key) - 1].split("=", 1)[1].strip()
        errors.append(LintError(line, E_MODEL_NOT_HONOURED, AuthzError(
            E_MODEL_NOT_HONOURED, key=key, section=SECTION_NAMES[section], found=found or "-",
            honoured=honoured or "-").message("en")))
    return errors


_LITERAL_RE = re.compile(r"\"[^\"]*\"|'[^']*'")
_honoured = None


def _canonical(value: str) -> str:
    """A definition as pycasbin holds it (r.sub already r_sub), without whitespace outside string literals."""
    out, pos = [], 0
    for lit in _LITERAL_RE.finditer(value):
        out += [re.sub(r"\s+", "", value[pos:lit.start()]), lit.group()]
        pos = lit.end()
    return "".join(out) + re.sub(r"\s+", "", value[pos:])


def _definitions(model) -> dict[tuple[str, str], tuple[str, str]]:
    """(section, key) -> (canonical value, value as written) for every definition of a loaded model."""
    return {(sec, key): (_canonical(a.value), a.value) for sec, assertions in model.model.items()
            for key, a in assertions.items()}


def model_differences(model) -> list[tuple[str, str, str | None, str | None]]:
    """(section, key, value in the file, value the enforcer implements) for every definition of a loaded
    pycasbin model that differs from HONOURED_MODEL, whitespace aside: a changed value, an extra definition
    (m3, g3, r3…: None as honoured) or a missing one (None as found)."""
    global _honoured
    if _honoured is None:
        honoured = casbin.model.Model()
        honoured.load_model_from_text(HONOURED_MODEL)
        _honoured = _definitions(honoured)
    have = _definitions(model)
    out = []
    for (sec, key), (want, written) in _honoured.items():
        got = have.get((sec, key))
        if got is None or got[0] != want:
            out.append((sec, key, got[1] if got else None, written))
    out += [(sec, key, written, None) for (sec, key), (_, written) in have.items() if (sec, key) not in _honoured]
    return out


def _model_line(lines: list[str], section: str, key: str) -> int:
    """The 1-based line defining `key` in `section` of model.conf (0 when it has none)."""
    current = None
    for n, line in enumerate(lines, 1):
        text = line.strip()
        if text.startswith("[") and text.endswith("]"):
            current = text[1:-1].strip()
        elif current == SECTION_NAMES[section] and re.match(rf"{re.escape(key)}\s*=", text):
            return n
    return 0


def parse(text: str) -> PolicyIndex:
    """Parse and lint a rule file; raise PolicyInvalid with every error found (line-numbered)."""
    errors: list[LintError] = []
    roles: dict[str, RoleDef] = {}
    functions: dict[str, FunctionDef] = {}
    rules: list[Rule] = []
    kind_links: list[tuple[str, str, int]] = []
    seen_rules: dict[tuple, int] = {}
    pending_p: list[tuple[int, list[str]]] = []
    arity = {"role": 4, "fn": 6, "group": 3, "g2": 3, "p": 5, "p2": 4}
    groups: dict[str, tuple[str, int]] = {}
    pending_p2: list[tuple[int, list[str]]] = []

    def err(line, code, msg):
        errors.append(LintError(line, code, msg))

    bad_text = _bad_text(text)
    if bad_text:
        raise PolicyInvalid(bad_text)
    for line, cells in _rows(text, err):
        kind = cells[0]
        if kind not in arity:
            hint = " (bindings live in the database, not in the rule file)" if kind == "g" else ""
            err(line, "unknown_line_kind", f"unknown line kind {kind!r}; expected role, fn, group, g2, p or p2{hint}")
            continue
        if len(cells) != arity[kind]:
            err(line, "bad_arity", f"a {kind} line has {arity[kind] - 1} fields, this one has {len(cells) - 1}")
            continue
        if kind == "role":
            _, name, zh, en = cells
            if not TOKEN_RE.fullmatch(name) or ":" in name:
                err(line, "bad_identifier", f"identity type {name!r} must match [a-z][a-z0-9_.-]*")
            elif name in roles:
                err(line, "duplicate", f"identity type {name!r} already declared on line {roles[name].line}")
            else:
                roles[name] = RoleDef(name, zh, en, line)
        elif kind == "fn":
            _, obj, acts, group, zh, en = cells
            actions = tuple(a.strip() for a in acts.split("|"))
            if not TOKEN_RE.fullmatch(obj) or not obj.startswith((BIZ_PREFIX, AC_PREFIX, SVC_PREFIX)):
                err(line, "bad_identifier", f"function {obj!r} must start with biz., ac. or svc. and use [a-z0-9_.:-]")
            elif obj in functions:
                err(line, "duplicate", f"function {obj!r} already declared on line {functions[obj].line}")
            elif not all(ACTION_RE.fullmatch(a) for a in actions):
                err(line, "bad_identifier", f"actions {acts!r} must be words separated by |")
            elif obj.startswith(BIZ_PREFIX) and actions != ("use",):
                err(line, "bad_action", f"business function {obj!r} has the single action 'use'")
            elif not zh or not en:
                err(line, "missing_label", f"function {obj!r} needs a Chinese and an English label")
            else:
                functions[obj] = FunctionDef(obj, actions, group, zh, en, line)
        elif kind == "group":
            _, zh, en = cells
            if not zh or not en:
                err(line, "missing_label", "a group line names a menu group and its English name")
            elif zh in groups:
                err(line, "duplicate", f"group {zh!r} already named on line {groups[zh][1]}")
            else:
                groups[zh] = (en, line)
        elif kind == "g2":
            _, child, parent = cells
            for v in (child, parent):
                if not v.startswith("kind:") or not TOKEN_RE.fullmatch(v):
                    err(line, "bad_identifier", f"{v!r} is not a kind (kind:<word>)")
                    break
            else:
                kind_links.append((child, parent, line))
        elif kind == "p2":
            pending_p2.append((line, cells[1:]))
        else:
            pending_p.append((line, cells[1:]))

    kind_lines: dict[str, int | None] = dict.fromkeys(BUILTIN_KINDS)
    for child, parent, line in kind_links:
        kind_lines.setdefault(child, line)
        kind_lines.setdefault(parent, line)
    role_lines = {name: r.line for name, r in roles.items()}
    function_lines = {obj: f.line for obj, f in functions.items()}
    used_roles: set[str] = set()
    used_functions: set[str] = set()
    unknown_roles: dict[str, list[int]] = {}  # an undefined name the rules use -> the lines using it
    unknown_functions: dict[str, list[int]] = {}
    for line, (role, dom, obj, act) in pending_p:
        used_roles.add(role)
        used_functions.add(obj)
        if role not in roles and TOKEN_RE.fullmatch(role) and not role.startswith(SERVICE_PREFIX):
            unknown_roles.setdefault(role, []).append(line)
        if obj not in functions and TOKEN_RE.fullmatch(obj):
            unknown_functions.setdefault(obj, []).append(line)
    for line, (role, dom, obj, act) in pending_p:
        bad = [v for v in (role, obj, act) if not TOKEN_RE.fullmatch(v)]
        if bad:
            err(line, "bad_identifier", f"forbidden characters in {bad[0]!r} (allowed: a-z 0-9 _ . - and one ':')")
            continue
        service = role.startswith(SERVICE_PREFIX)
        if service and role[len(SERVICE_PREFIX):] not in SCOPES:
            scope = role[len(SERVICE_PREFIX):]
            err(line, "unknown_service", f"unknown service scope {scope!r} in {role!r} (one of: {', '.join(SCOPES)})"
                + _suggest(scope, dict.fromkeys(SCOPES)))
            continue
        if not service and role not in roles:
            err(line, "unknown_role", f"unknown identity type {role!r}" + _suggest(role, role_lines))
            continue
        if dom != "*" and not dom.startswith("kind:") and not DOMAIN_RE.fullmatch(dom):
            err(line, "bad_domain", f"domain {dom!r} must be *, kind:<word>, ent:<USCC> or person:<uid>")
            continue
        if dom.startswith("kind:") and dom not in kind_lines:
            err(line, "unknown_kind", f"unknown kind {dom!r}" + _suggest(dom, kind_lines))
            continue
        if obj not in functions:
            err(line, "unknown_function", f"unknown function {obj!r}" + _suggest(obj, function_lines))
            continue
        if act not in functions[obj].actions:
            err(line, "unknown_action",
                f"function {obj!r} has no action {act!r} (declared: {'|'.join(functions[obj].actions)})")
            continue
        if service != obj.startswith(SVC_PREFIX):
            err(line, "service_function", f"{role!r} cannot hold {obj!r}: svc. functions are for service:<scope> "
                                          "subjects only, and a service subject holds only svc. functions")
            continue
        key = (role, dom, obj, act)
        if key in seen_rules:
            err(line, "duplicate", f"same rule as line {seen_rules[key]}")
            continue
        seen_rules[key] = line
        rules.append(Rule(role, dom, obj, act, line))

    scopes = _scope_rules(pending_p2, functions, err)

    # A definition no rule uses while the rules use a near-identical undefined name is most likely the
    # typo (the rule lines above then suggest it): say so at the definition's own line.
    for what, lines, used, unknown in (("identity type", role_lines, used_roles, unknown_roles),
                                       ("function", function_lines, used_functions, unknown_functions)):
        for name, line in lines.items():
            if name in used:
                continue
            near = [u for u in unknown if _closest(u, lines) == name]
            if near:
                uses = "; ".join(f"{u!r} ({_line_list(unknown[u])})" for u in sorted(near))
                err(line, "unused_definition", f"{what} {name!r} is used by no rule; rules use {uses}")

    used_groups = {f.group for f in functions.values()}
    for zh, (_, line) in groups.items():
        if zh not in used_groups:
            err(line, "unused_definition", f"group {zh!r} is the menu group of no fn line")
    if errors:
        raise PolicyInvalid(sorted(errors, key=lambda e: e.line))
    return PolicyIndex(source=text, roles=roles, functions=functions, rules=rules, kind_links=kind_links,
                       scopes=scopes, groups={zh: en for zh, (en, _) in groups.items()})


def _scope_rules(pending: list[tuple[int, list[str]]], functions: dict[str, FunctionDef], err) -> list[ScopeRule]:
    """`p2, <entry>, <function | prefix*>, <action | *>` lines; every entry needs at least one (an entry
    without any would let its sessions do nothing, which is never what an author meant)."""
    out: list[ScopeRule] = []
    seen: dict[tuple, int] = {}
    for line, (entry, obj, act) in pending:
        if entry not in ENTRIES:
            err(line, "unknown_entry", f"unknown business entry {entry!r} (one of: {', '.join(ENTRIES)})")
            continue
        if obj.startswith(SVC_PREFIX) or (obj.endswith("*") and obj[:-1] and SVC_PREFIX.startswith(obj[:-1])):
            err(line, "service_function", f"{obj!r} reaches svc. functions: those are for calling services, "
                                          "no session reaches them")
            continue
        if obj.endswith("*"):
            prefix = obj[:-1]
            if not prefix or "*" in prefix or not any(f.startswith(prefix) for f in functions):
                err(line, "unknown_function", f"{obj!r} matches no function of the catalogue")
                continue
            if act != "*" and not any(f.startswith(prefix) and act in d.actions for f, d in functions.items()):
                err(line, "unknown_action", f"no function matching {obj!r} has action {act!r}")
                continue
        elif obj not in functions:
            err(line, "unknown_function", f"unknown function {obj!r}" + _suggest(obj, {k: v.line for k, v in functions.items()}))
            continue
        elif act != "*" and act not in functions[obj].actions:
            err(line, "unknown_action", f"function {obj!r} has no action {act!r}")
            continue
        key = (entry, obj, act)
        if key in seen:
            err(line, "duplicate", f"same entry scope as line {seen[key]}")
            continue
        seen[key] = line
        out.append(ScopeRule(entry, obj, act, line))
    if functions:
        for entry in ENTRIES:
            if not any(s.entry == entry for s in out):
                err(0, "entry_unscoped", f"no p2 line for business entry {entry!r}: its sessions could reach nothing")
    return out


def _closest(word: str, options) -> str | None:
    """The defined name `word` is most likely a typo of, if any is close enough."""
    import difflib
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.75)
    return close[0] if close else None


def _suggest(word: str, defined: dict[str, int | None]) -> str:
    """'; did you mean X (defined at line N)?' for the closest defined name (built-ins have no line)."""
    close = _closest(word, defined)
    if close is None:
        return ""
    where = f" (defined at line {defined[close]})" if defined[close] else ""
    return f"; did you mean {close!r}{where}?"


def _line_list(lines: list[int], most: int = 5) -> str:
    shown = ", ".join(str(n) for n in lines[:most])
    return f"line {shown}" if len(lines) == 1 else f"lines {shown}" + (", …" if len(lines) > most else "")


def load_file(path: str | Path) -> PolicyIndex:
    """Read and parse a rule file from disk (UTF-8)."""
    return parse(Path(path).read_text(encoding="utf-8"))


def lint(model_path: str | Path, rules_path: str | Path) -> list[LintError]:
    """Every problem in the model and rule file; empty when both are good."""
    errors = check_model(model_path)
    try:
        text = Path(rules_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return errors + [LintError(0, "unreadable", f"cannot read {rules_path}: {exc}")]
    try:
        parse(text)
    except PolicyInvalid as exc:
        errors += exc.errors
    return errors


@dataclass(frozen=True)
class PolicyDiff:
    added: list[tuple[str, str, str, str]]
    removed: list[tuple[str, str, str, str]]

    @property
    def empty(self) -> bool:
        return not self.added and not self.removed


def diff(old: PolicyIndex, new: PolicyIndex) -> PolicyDiff:
    """Effective permission changes from `old` to `new`, sorted."""
    a, b = old.effective(), new.effective()
    return PolicyDiff(added=sorted(b - a), removed=sorted(a - b))


def _lines_in_force(index: PolicyIndex) -> set[tuple[str, ...]]:
    return {(ptype, *values) for ptype, values in index.casbin_lines()}


def guard_removal(old: PolicyIndex | None, new: PolicyIndex, *, force: bool = False) -> PolicyDiff | None:
    """R-AUTHZ-4 (issue 10 finding 9): the one rule for a reload that empties the policy. A new file that
    removes more than MASS_REMOVAL_SHARE of the p/p2/g2 lines in force (an empty file removes all of them,
    and every decision would become deny) is refused with policy_mass_removal (409) unless `force`.
    Returns the diff from `old` (None when nothing is in force yet). The API and the CLI both call this."""
    if old is None:
        return None
    d = diff(old, new)
    a, b = _lines_in_force(old), _lines_in_force(new)
    removed, added = len(a - b), len(b - a)
    if not force and a and removed > MASS_REMOVAL_SHARE * len(a):
        raise AuthzError(E_MASS_REMOVAL, in_force=len(a), removed=removed, errors={
            "lines_in_force": len(a), "lines_removed": removed, "lines_added": added,
            "rules_removed": len(d.removed), "rules_added": len(d.added), "share": MASS_REMOVAL_SHARE})
    return d
