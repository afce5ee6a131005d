"""`authz`: serve the API, upgrade the database, manage service clients, lint / diff / reload / explain policy.

Every command reads Settings from the environment (DATABASE_URL, AUTHZ_*) and builds its own Service, so the
CLI and the API decide with the same code. Tests pass an `Env` as click's `obj` to inject settings and a
clock; nothing else differs between a test run and a real one.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import click
import peewee

from . import audit, clients, migrations, policystore
from . import policy as pol
from .cli_dev import dev
from .cli_helpdesk import helpdesk
from .clock import SHANGHAI, Clock
from .config import ConfigError, Settings, unknown_names
from .errors import AuthzError
from .ids import DOMAIN_RE, PERSON_UID_RE, TOKEN_RE
from .models import PolicyState, ServiceClient
from .service import Service

WSGI_APP = "api.wsgi:app"


@dataclass
class Env:
    """What every command needs from outside: settings (default: the environment) and a clock."""
    settings: Settings | None = None
    clock: Clock | None = None

    def get_settings(self) -> Settings:
        """The settings, validated: a bad value stops the command with every problem listed (exit 2), a
        misspelt AUTHZ_* name is a warning on stderr."""
        if self.settings is None:
            for warning in unknown_names():
                click.echo(f"warning: {warning}", err=True)
            try:
                self.settings = Settings.from_env()
            except ConfigError as exc:
                raise BadConfig(str(exc)) from None
        return self.settings


class BadConfig(click.ClickException):
    """The configuration is invalid (exit 2): each bad setting on its own line."""
    exit_code = 2


class Unreadable(click.ClickException):
    """A file the command was asked to read cannot be read (exit 2)."""
    exit_code = 2


def safe_url(url: str) -> str:
    """A database URL fit for printing (password hidden)."""
    p = urlparse(url)
    if p.password:
        netloc = p.netloc.replace(f":{p.password}@", ":***@")
        return urlunparse(p._replace(netloc=netloc))
    return url


def read_text(path: str | Path) -> str:
    """A UTF-8 text file, or exit 2 naming the file and the reason."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise Unreadable(f"{path}: cannot read: {reason}")


@contextmanager
def open_service(env: Env, *, enforcer: bool = False):
    """A Service on the configured database with the schema current (and the enforcer loaded if asked);
    closed on exit."""
    settings = env.get_settings()
    svc = Service(settings, clock=env.clock)
    try:
        try:
            svc.db.connect(reuse_if_open=True)
            stale = migrations.pending(svc.db)
        except peewee.OperationalError as exc:
            raise click.ClickException(f"cannot open the database {safe_url(settings.database_url)}: {exc}")
        if stale:
            raise click.ClickException(f"the database schema is not current ({len(stale)} migration(s) pending):"
                                       f" run `authz db upgrade` first")
        if enforcer:
            svc.start(upgrade=False, follow=False)
            svc.db.connect(reuse_if_open=True)
        yield svc
    finally:
        svc.close()


def print_lint_errors(errors: list[tuple[str, pol.LintError]]) -> None:
    for path, e in errors:
        click.echo(f"{path}:{e.line}: [{e.code}] {e.message}")
    click.echo(f"{len(errors)} error(s); nothing was loaded", err=True)


def lint_json(errors: list[tuple[str, pol.LintError]]) -> list[dict]:
    return [{"file": str(path), "line": e.line, "code": e.code, "message": e.message} for path, e in errors]


def parse_or_exit(path: str, text: str, *, status: int = 1, as_json: bool = False) -> pol.PolicyIndex:
    """Parse a rule file, or print its line-numbered errors (or them as JSON) and exit `status`."""
    try:
        return pol.parse(text)
    except pol.PolicyInvalid as exc:
        errors = [(path, e) for e in exc.errors]
        if as_json:
            click.echo(json.dumps({"ok": False, "errors": lint_json(errors)}, ensure_ascii=False, indent=2))
        else:
            print_lint_errors(errors)
        sys.exit(status)


# ---------------------------------------------------------------------------------------------------- root
@click.group(help="Tax identity & authorization service: serve the API, manage the database, service "
                  "clients and the rule file. Configuration: DATABASE_URL and AUTHZ_* environment variables.")
@click.pass_context
def main(ctx: click.Context) -> None:
    ctx.ensure_object(Env)


main.add_command(dev)
main.add_command(helpdesk)  # the helpdesk operations of issue 13, the REST API's equivalents


# ---------------------------------------------------------------------------------------------------- serve
@main.command()
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="gunicorn workers")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="threads per worker")
@click.option("--demo", is_flag=True, help="Seed the demo data set and print how to try it")
@click.pass_obj
def serve(env: Env, port: int, host: str, workers: int, threads: int, demo: bool) -> None:
    """Upgrade the database, install the policy if none, (seed the demo,) and run gunicorn."""
    from . import demo as demo_data

    settings = env.get_settings()
    if demo:
        from .cli_dev import refuse_in_production
        refuse_in_production(settings, "authz serve --demo")
    click.echo(f"database: {safe_url(settings.database_url)}")
    svc = Service(settings, clock=env.clock)
    try:
        with svc.db.connection_context():
            upgrade_schema(svc.db)
            had_policy = policystore.load_current() is not None
        svc.start(upgrade=False, follow=False)
        index = svc.enforcer.index
        click.echo(f"policy: {'in force' if had_policy else 'installed from ' + settings.rules_path}"
                   f" (digest {index.digest[:12]}, {len(index.rules)} rules)")
        if demo:
            svc.db.connect(reuse_if_open=True)
            click.echo("seeding the demo data set:")
            created = demo_data.seed(svc, progress=click.echo)
            click.echo("demo data: " + ", ".join(f"{v} {k} created" for k, v in created.items()))
            key = demo_data.ensure_client()
            shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
            shown = f"[{shown}]" if ":" in shown else shown
            for line in demo_data.instructions(f"http://{shown}:{port}", key):
                click.echo(line)
    finally:
        svc.close()
    # Workers build their own Service from the environment: make it say what this command prepared.
    os.environ["DATABASE_URL"] = settings.database_url
    os.environ["AUTHZ_MODEL_PATH"] = settings.model_path
    os.environ["AUTHZ_RULES_PATH"] = settings.rules_path
    if demo:  # the demo's browser pages may read the development SMS outbox (docs/web.md)
        os.environ.setdefault("AUTHZ_DEV_PAGES", "true")
        # the demo is served over plain HTTP: Secure cookies and an https-only Origin check would refuse
        # every login the portal at http://127.0.0.1:8000/ sends (unless the environment says otherwise)
        os.environ.setdefault("AUTHZ_COOKIE_SECURE", "false")
    metrics_dir = prepare_metrics_dir(port)
    click.echo(f"starting gunicorn: http://{host}:{port} ({workers} workers × {threads} threads); "
               f"readiness at /readyz, documentation at /docs")
    click.echo(f"metrics of every worker summed at /metrics (files in {metrics_dir})")
    run_gunicorn({"bind": f"{host}:{port}", "workers": workers, "threads": threads})


def prepare_metrics_dir(port: int) -> str:
    """An empty PROMETHEUS_MULTIPROC_DIR for this server's workers (authz.metrics): set before gunicorn
    forks them, emptied at every start so a restart does not add up the previous run's samples. An
    operator's own PROMETHEUS_MULTIPROC_DIR is used as given."""
    import shutil
    import tempfile
    d = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not d:
        d = os.path.join(tempfile.gettempdir(), f"authz-metrics-{os.getuid()}-{port}")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = d
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d, exist_ok=True)
    return d


def run_gunicorn(options: dict) -> None:
    """Run gunicorn in this process with api.wsgi loaded in each worker after fork (no preload)."""
    from gunicorn.app.base import BaseApplication

    class AuthzServer(BaseApplication):
        def load_config(self):
            # control_socket_disable: gunicorn >= 24 opens ~/.gunicorn/gunicorn.ctl, which a second
            # instance on the same host would fight over; nothing here uses it.
            from . import metrics
            defaults = {"worker_class": "gthread", "preload_app": False, "proc_name": "authz",
                        "timeout": 30, "graceful_timeout": 10, "errorlog": "-", "loglevel": "info",
                        "control_socket_disable": True,
                        "child_exit": lambda server, worker: metrics.worker_exited(worker.pid)}
            for k, v in {**defaults, **options}.items():
                if k in self.cfg.settings:
                    self.cfg.set(k, v)

        def load(self):
            from gunicorn.util import import_app
            return import_app(WSGI_APP)

    AuthzServer().run()


# ---------------------------------------------------------------------------------------------------- config
@main.group()
def config() -> None:
    """The effective settings (environment variables, docs/operations.md "Settings")."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: variable -> value")
@click.pass_obj
def config_show(env: Env, as_json: bool) -> None:
    """Print every setting's effective value, secrets and URL passwords hidden; * = set in the environment."""
    rows = env.get_settings().shown()
    if as_json:
        click.echo(json.dumps({name: value for name, value, _ in rows}, ensure_ascii=False, indent=2))
        return
    width = max(len(name) for name, _, _ in rows)
    for name, value, from_env in rows:
        click.echo(f"{'*' if from_env else ' '} {name.ljust(width)}  {value}")


@config.command("check")
@click.pass_obj
def config_check(env: Env) -> None:
    """Validate the settings: exit 0 and "ok" when valid, else every problem (exit 2)."""
    env.get_settings()
    click.echo("configuration ok")


# ---------------------------------------------------------------------------------------------------- db
@main.group()
def db() -> None:
    """Database schema."""


def upgrade_schema(database) -> list[int]:
    applied = migrations.upgrade(database, progress=lambda m: click.echo(f"  {m}"))
    version = migrations.current_version(database)
    click.echo(f"schema upgraded to version {version}" if applied else f"schema is current (version {version})")
    return applied


@db.command("upgrade")
@click.pass_obj
def db_upgrade(env: Env) -> None:
    """Apply pending schema migrations (never loses data)."""
    settings = env.get_settings()
    click.echo(f"database: {safe_url(settings.database_url)}")
    svc = Service(settings, clock=env.clock)
    try:
        with svc.db.connection_context():
            upgrade_schema(svc.db)
    except peewee.OperationalError as exc:
        raise click.ClickException(f"cannot open the database: {exc}")
    finally:
        svc.close()


# ---------------------------------------------------------------------------------------------------- client
@main.group()
def client() -> None:
    """Service clients that call the check API (keys stored hashed)."""


def _scope(ctx, param, values):
    for v in values:
        if v not in clients.SCOPES:
            raise click.BadParameter(f"{v!r} is not a scope; choose from {', '.join(clients.SCOPES)}")
    return tuple(dict.fromkeys(values))


@client.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, default=("check",), show_default=True, callback=_scope,
              help="; ".join(f"{k} ({v})" for k, v in clients.SCOPES.items()) + "; repeat for several")
@click.pass_obj
def client_create(env: Env, name: str, scopes: tuple[str, ...]) -> None:
    """Create a service client; the key is printed once, as the last line."""
    with open_service(env) as svc:
        try:
            row, key = clients.create(name, scopes=",".join(scopes))
        except AuthzError as exc:
            detail = f" {exc.errors}" if exc.errors else ""
            raise click.ClickException(exc.message("en") + detail)
        audit.record(svc, actor="cli", action="client.create", target=name, detail={"scopes": row.scopes})
    click.echo(f"created service client {name!r} with scopes {row.scopes}")
    click.echo("the key is shown only this once (the database keeps a SHA-256 digest); send it as "
               "'Authorization: Bearer <key>':")
    click.echo(key)


@client.command("list")
@click.pass_obj
def client_list(env: Env) -> None:
    """Service clients with their scopes and state."""
    with open_service(env):
        rows = list(ServiceClient.select().order_by(ServiceClient.name))
        if not rows:
            click.echo("no service clients")
            return
        click.echo(f"{'NAME':<24} {'SCOPES':<20} {'STATE':<8} {'CREATED':<17} LAST USED")
        for r in rows:
            click.echo(f"{r.name:<24} {r.scopes:<20} {'active' if r.active else 'revoked':<8} "
                       f"{_when(r.created_at):<17} {_when(r.last_used_at) or '-'}")


@client.command("revoke")
@click.argument("name")
@click.pass_obj
def client_revoke(env: Env, name: str) -> None:
    """Revoke a service client's key (its calls get 401 from now on)."""
    with open_service(env) as svc:
        if not clients.revoke(name):
            raise click.ClickException(f"no service client named {name!r}")
        audit.record(svc, actor="cli", action="client.revoke", target=name)
    click.echo(f"revoked service client {name!r}")


def _when(epoch: float | None) -> str:
    if not epoch:
        return ""
    return dt.datetime.fromtimestamp(epoch, tz=SHANGHAI).strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------------------------------------- policy
@main.group()
def policy() -> None:
    """The rule file: lint, diff, reload, explain."""


@policy.command("lint")
@click.argument("file", required=False)
@click.option("--model", "model_file", help="model.conf to check against (default: the configured one)")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: ok, errors [{file, line, code, message}], counts")
@click.pass_obj
def policy_lint(env: Env, file: str | None, model_file: str | None, as_json: bool) -> None:
    """Check a rule file against the model and its function catalogue (exit 1 on any error, 2 unreadable)."""
    settings = env.get_settings()
    rules_path = file or settings.rules_path
    model_path = model_file or settings.model_path
    text = read_text(rules_path)
    read_text(model_path)
    errors = [(model_path, e) for e in pol.check_model(model_path)]
    index = None
    try:
        index = pol.parse(text)
    except pol.PolicyInvalid as exc:
        errors += [(rules_path, e) for e in exc.errors]
    if errors:
        if as_json:
            click.echo(json.dumps({"ok": False, "errors": lint_json(errors)}, ensure_ascii=False, indent=2))
        else:
            print_lint_errors(errors)
        sys.exit(1)
    biz = sum(1 for f in index.functions.values() if f.is_business)
    svc_fns = sum(1 for f in index.functions.values() if f.obj.startswith(pol.SVC_PREFIX))
    if as_json:
        click.echo(json.dumps({"ok": True, "errors": [], "file": str(rules_path), "rules": len(index.rules),
                               "functions": len(index.functions), "business_functions": biz,
                               "service_functions": svc_fns, "identity_types": len(index.roles),
                               "kind_links": len(index.kind_links), "digest": index.digest},
                              ensure_ascii=False, indent=2))
        return
    click.echo(f"{rules_path}: ok — {len(index.rules)} rules, {len(index.functions)} functions "
               f"({biz} business, {len(index.functions) - biz - svc_fns} account-centre, {svc_fns} service), "
               f"{len(index.roles)} identity types, {len(index.kind_links)} kind links")


def _http(method: str, url: str, key: str | None, body: dict | None = None,
          headers: dict | None = None) -> tuple[int, dict]:
    """Call the running service (stdlib only); returns (status, JSON body)."""
    if not key:
        raise click.UsageError("--key (or AUTHZ_KEY) is required with --url")
    if urlparse(url).scheme not in ("http", "https"):
        raise click.UsageError(f"--url must be an http:// or https:// address, not {url!r}")
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json", **(headers or {})}
    if data is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = {"message": raw.decode("utf-8", "replace")[:300]}
        return exc.code, payload
    except (urllib.error.URLError, OSError) as exc:
        raise click.ClickException(f"cannot reach {url}: {getattr(exc, 'reason', exc)}")


def _fail_http(status: int, payload: dict) -> None:
    raise click.ClickException(f"the service answered {status} {payload.get('code', '')}: "
                               f"{payload.get('message', '')}".rstrip(": "))


def _policy_url(url: str) -> str:
    return url.rstrip("/") + "/api/v1/policy"


def _fetch_remote(url: str, key: str | None) -> str:
    status, payload = _http("GET", _policy_url(url), key)
    if status != 200:
        _fail_http(status, payload)
    return payload["source"]


def _lines(index: pol.PolicyIndex) -> dict[tuple, int]:
    out = {("p", r.role, r.dom, r.obj, r.act): r.line for r in index.rules}
    out.update({("g2", c, p): line for c, p, line in index.kind_links})
    return out


def diff_json(old: pol.PolicyIndex, new: pol.PolicyIndex, old_label: str, new_label: str) -> dict:
    """The effective permission changes as data: each added / removed rule with its line and label."""
    a, b = _lines(old), _lines(new)

    def row(r, lines, index):
        fn = index.functions.get(r[3]) if r[0] == "p" else None
        return {"kind": r[0], "rule": ", ".join(r), "line": lines[r], "label_zh": fn.zh if fn else "",
                "label_en": fn.en if fn else ""}
    return {"old": old_label, "new": new_label, "old_digest": old.digest, "new_digest": new.digest,
            "added": [row(r, b, new) for r in sorted(set(b) - set(a))],
            "removed": [row(r, a, old) for r in sorted(set(a) - set(b))]}


def print_diff(old: pol.PolicyIndex, new: pol.PolicyIndex, old_label: str, new_label: str) -> tuple[int, int]:
    """Print the effective permission changes (p rules and kind links); returns (added, removed)."""
    a, b = _lines(old), _lines(new)
    removed = sorted(set(a) - set(b))
    added = sorted(set(b) - set(a))
    if not added and not removed:
        click.echo("no changes")
        return 0, 0
    click.echo(f"--- {old_label}")
    click.echo(f"+++ {new_label}")
    for sign, rows, lines in (("-", removed, a), ("+", added, b)):
        for row in rows:
            text = ", ".join(row)
            label = ""
            if row[0] == "p" and row[3] in (new.functions if sign == "+" else old.functions):
                fn = (new.functions if sign == "+" else old.functions)[row[3]]
                label = f" {fn.zh}"
            click.echo(f"{sign} {text:<72} # line {lines[row]}{label}")
    click.echo(f"{len(added)} added, {len(removed)} removed")
    return len(added), len(removed)


@policy.command("test")
@click.argument("files", nargs=-1, metavar="[ASSERTIONS.csv]...")
@click.option("--rules", "rules_file", help="Rule file under test (default: the configured one)")
@click.option("--model", "model_file", help="model.conf (default: the configured one)")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: passed, failed [{file, line, assertion, got}]")
@click.pass_obj
def policy_test(env: Env, files: tuple[str, ...], rules_file: str | None, model_file: str | None,
                as_json: bool) -> None:
    """Run assertion files (default: policies/tests.csv beside the rule file) against a rule file: exit 0
    when every assertion holds, 1 when one fails, 2 when a file is broken (authz/policytest.py)."""
    from . import policytest
    settings = env.get_settings()
    rules_path = rules_file or settings.rules_path
    model_path = model_file or settings.model_path
    index = parse_or_exit(rules_path, read_text(rules_path), status=2, as_json=as_json)
    paths = list(files) or [str(Path(rules_path).with_name("tests.csv"))]
    passed, failed = 0, []
    for path in paths:
        try:
            results = policytest.run(model_path, index, read_text(path))
        except policytest.AssertionFileInvalid as exc:
            for line, message in exc.errors:
                click.echo(f"{path}:{line}: {message}", err=True)
            sys.exit(2)
        for r in results:
            if r.ok:
                passed += 1
            else:
                failed.append({"file": path, "line": r.assertion.line, "assertion": r.assertion.text(),
                               "got": "allow" if r.got else "deny"})
    if as_json:
        click.echo(json.dumps({"rules": rules_path, "passed": passed, "failed": failed}, ensure_ascii=False, indent=2))
    else:
        for f in failed:
            click.echo(f"{f['file']}:{f['line']}: FAILED {f['assertion']} (got {f['got']})")
        click.echo(f"{passed} passed, {len(failed)} failed ({rules_path})")
    sys.exit(1 if failed else 0)


@policy.command("diff")
@click.argument("files", nargs=-1, metavar="[OLD] NEW")
@click.option("--url", help="Compare with the policy in force in a running service (needs --key)")
@click.option("--key", envvar="AUTHZ_KEY", help="Service key with the policy scope (or AUTHZ_KEY)")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: old, new, added [...], removed [...]")
@click.pass_obj
def policy_diff(env: Env, files: tuple[str, ...], url: str | None, key: str | None, as_json: bool) -> None:
    """Effective permission changes: OLD file → NEW file, or the policy in force (database, or --url) → NEW.
    Exit 0: no change, 1: changes, 2: a file is broken or unreadable (as diff(1) does, for scripts)."""
    if len(files) > 2 or (len(files) == 2 and url):
        raise click.UsageError("give OLD and NEW files, or NEW alone (compared with the policy in force)")
    settings = env.get_settings()
    new_path = files[-1] if files else settings.rules_path
    new_text = read_text(new_path)
    if len(files) == 2:
        old_label, old_text = files[0], read_text(files[0])
    elif url:
        old_label, old_text = f"policy in force at {url}", _fetch_remote(url, key)
    else:
        with open_service(env):
            row = PolicyState.get_or_none(PolicyState.id == 1)
        if row is None and not as_json:
            click.echo("no policy is in force in the database yet: every rule would be added")
        old_label = f"policy in force in {safe_url(settings.database_url)}"
        old_text = row.source if row else ""
    old = parse_or_exit(old_label, old_text, status=2, as_json=as_json)
    new = parse_or_exit(new_path, new_text, status=2, as_json=as_json)
    if as_json:
        out = diff_json(old, new, old_label, new_path)
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        changed = bool(out["added"] or out["removed"])
    else:
        changed = any(print_diff(old, new, old_label, new_path))
    sys.exit(1 if changed else 0)


@policy.command("reload")
@click.argument("file", required=False)
@click.option("--url", help="Reload a running service through its API (needs --key)")
@click.option("--key", envvar="AUTHZ_KEY", help="Service key with the policy scope (or AUTHZ_KEY)")
@click.option("--force", is_flag=True,
              help="Apply a file that removes more than half of the rule lines in force (an empty file: all)")
@click.option("--expect", metavar="DIGEST",
              help="Reload only if this policy (the in-force digest your diff was against, `policy diff --json`) "
                   "is still in force: another author's reload in between is refused (HTTP If-Match)")
@click.pass_obj
def policy_reload(env: Env, file: str | None, url: str | None, key: str | None, force: bool,
                  expect: str | None) -> None:
    """Validate a rule file and put it in force; a broken file, or one removing most of the rules in force
    (unless --force), is refused and nothing changes; so is one whose --expect digest is no longer in force."""
    settings = env.get_settings()
    path = file or settings.rules_path
    text = read_text(path)
    if url:
        body = {"source": text, "force": True} if force else {"source": text}
        status, payload = _http("PUT", _policy_url(url), key, body, {"If-Match": f'"{expect}"'} if expect else None)
        if status == 412:
            _changed_meanwhile(payload.get("errors") or {})
        if status == 409 and payload.get("code") == pol.E_MASS_REMOVAL:
            _mass_removal(payload.get("message", ""))
        if status == 422 and isinstance(payload.get("errors"), list):
            errors = [(path, pol.LintError(e.get("line", 0), e.get("code", ""), e.get("message", "")))
                      for e in payload["errors"]]
            print_lint_errors(errors)
            click.echo(f"refused by {url}: the last good policy stays in force", err=True)
            sys.exit(1)
        if status != 200:
            _fail_http(status, payload)
        for sign, rows in (("-", payload.get("removed", [])), ("+", payload.get("added", []))):
            for row in rows:
                click.echo(f"{sign} p, {', '.join(row)}")
        click.echo(f"reloaded {url}: policy {payload['digest'][:12]} in force "
                   f"({len(payload.get('added', []))} added, {len(payload.get('removed', []))} removed)")
        return
    with open_service(env) as svc:
        done = install_locally(svc, path, text, force=force, expect=expect, action="policy.reload")
    if done is None:
        click.echo(f"{path}: already in force (policy {pol.parse(text).digest[:12]}); nothing changed")
        return
    current, index, diff = done
    if diff is not None:
        print_diff(current, index, "previous policy", path)
    click.echo(f"installed {path}: policy {index.digest[:12]} in force; running workers apply it within "
               f"{svc.settings.change_poll_ms} ms")


def install_locally(svc, label: str, text: str, *, force: bool, expect: str | None, action: str,
                    note: str = "", detail: dict | None = None):
    """The CLI's one install into the database (reload and rollback): parse (exit 1 with the errors),
    nothing when already in force (None), the removal guard, the expected digest, the audit row. Returns
    (previous index, new index, diff)."""
    new = parse_or_exit(label, text)
    current = policystore.load_current()
    if current is not None and current.digest == new.digest:
        return None
    try:
        pol.guard_removal(current, new, force=force)
    except AuthzError as exc:
        _mass_removal(exc.message("en"))
    try:
        index, diff = policystore.install(svc.settings.model_path, text, by="cli", expect=expect, note=note)
    except AuthzError as exc:
        if exc.code != policystore.E_CHANGED:
            raise
        _changed_meanwhile(exc.errors or {})
    except pol.PolicyInvalid as exc:  # the model itself is broken
        print_lint_errors([(svc.settings.model_path if e.line == 0 else label, e) for e in exc.errors])
        sys.exit(1)
    audit.record(svc, actor="cli", action=action, target=index.digest,
                 detail={**(detail or {}), "added": len(diff.added) if diff else len(index.rules),
                         "removed": len(diff.removed) if diff else 0, "forced": force})
    return current, index, diff


@policy.command("history")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="A JSON list: digest, loaded_at, loaded_by, added, removed, note")
@click.pass_obj
def policy_history(env: Env, limit: int, as_json: bool) -> None:
    """Every rule file put in force, newest first: when, by whom, how many lines it added and removed."""
    with open_service(env):
        rows = policystore.history(limit)
    out = [{"digest": r.digest, "loaded_at": dt.datetime.fromtimestamp(r.loaded_at, tz=SHANGHAI).isoformat(),
            "loaded_by": r.loaded_by, "added": r.added, "removed": r.removed, "note": r.note} for r in rows]
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    for n, r in enumerate(out):
        mark = "in force" if n == 0 else f"-{n}"
        click.echo(f"{mark:>9}  {r['digest'][:12]}  {r['loaded_at'][:19]}  {r['loaded_by']:<24} "
                   f"+{r['added']} -{r['removed']}  {r['note']}".rstrip())


@policy.command("rollback")
@click.argument("digest", required=False)
@click.option("--steps", type=click.IntRange(1, 1000), default=1, show_default=True,
              help="Without DIGEST: go back this many installs")
@click.option("--force", is_flag=True, help="Also when it removes more than half of the rule lines in force")
@click.pass_obj
def policy_rollback(env: Env, digest: str | None, steps: int, force: bool) -> None:
    """Put an earlier rule file back in force: DIGEST from `policy history` (6+ characters), or the one
    --steps installs back (default: the previous one). It goes through the same install as a reload (lint,
    removal guard, history, every worker follows) and shows the effective diff."""
    settings = env.get_settings()
    with open_service(env) as svc:
        try:
            entry = policystore.earlier(digest or f"-{steps}")
        except AuthzError as exc:
            raise click.ClickException(exc.message("en"))
        in_force = PolicyState.get_or_none(PolicyState.id == 1)
        done = install_locally(svc, f"history {entry.digest[:12]}", entry.source, force=force,
                               expect=in_force.digest if in_force else None, action="policy.rollback",
                               note=f"rollback to {entry.digest[:12]}", detail={"to": entry.digest})
    if done is None:
        click.echo(f"policy {entry.digest[:12]} is already in force; nothing changed")
        return
    current, index, diff = done
    if diff is not None:
        print_diff(current, index, "policy in force", f"history {entry.digest[:12]}")
    click.echo(f"rolled back: policy {index.digest[:12]} in force; running workers apply it within "
               f"{settings.change_poll_ms} ms")


def _changed_meanwhile(errors: dict) -> None:
    click.echo(f"refused: the policy in force is {str(errors.get('in_force'))[:12]}, not the {str(errors.get('expected'))[:12]} "
               "you expected (another reload happened); nothing changed", err=True)
    click.echo("run `authz policy diff` again against what is in force now", err=True)
    sys.exit(1)


def _mass_removal(message: str) -> None:
    click.echo(f"refused: {message}", err=True)
    click.echo("run `authz policy diff` to see what would go; --force applies it anyway", err=True)
    sys.exit(1)


def _check_arg(regex, what: str):
    def cb(ctx, param, value):
        if value is not None and not regex.fullmatch(value):
            raise click.BadParameter(f"{value!r} is not {what}")
        return value
    return cb


def _day(epoch: float | None, *, exclusive_end: bool = False) -> str:
    if epoch is None:
        return ""
    return dt.datetime.fromtimestamp(epoch - (1 if exclusive_end else 0), tz=SHANGHAI).date().isoformat()


@policy.command("explain")
@click.argument("subject", callback=_check_arg(PERSON_UID_RE, "a person id (p-...)"))
@click.argument("domain", callback=_check_arg(DOMAIN_RE, "a domain (ent:<USCC> or person:<uid>)"))
@click.argument("obj", metavar="OBJ", callback=_check_arg(TOKEN_RE, "a function name"))
@click.argument("act", metavar="ACT", callback=_check_arg(TOKEN_RE, "an action name"))
@click.option("--identity-type", callback=_check_arg(TOKEN_RE, "an identity type"),
              help="Decide only as this identity type (as a session does)")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: allowed, rule, reason, detail, grants, policy")
@click.pass_obj
def policy_explain(env: Env, subject: str, domain: str, obj: str, act: str, identity_type: str | None,
                   as_json: bool) -> None:
    """Decide SUB DOM OBJ ACT against the database and say why: the rule line, or the reason.
    Exit 0: allowed, 1: denied, 2: bad arguments (for scripts)."""
    with open_service(env, enforcer=True) as svc:
        e = svc.enforcer
        x = e.explain(subject, domain, obj, act, identity_type)
        if as_json:
            r = x.rule
            click.echo(json.dumps({
                "allowed": x.allowed, "subject": subject, "domain": domain, "object": obj, "action": act,
                "identity_type": identity_type,
                "rule": {"line": r.line, "text": f"p, {r.role}, {r.dom}, {r.obj}, {r.act}"} if r else None,
                "reason": None if x.allowed else x.reason, "detail": None if x.allowed else x.detail,
                "grants": [{**g, "since": _day(g["since"]) or None,
                            "until": _day(g["until"], exclusive_end=True) or None} for g in x.grants],
                "policy": e.index.digest}, ensure_ascii=False, indent=2, default=str))
            sys.exit(0 if x.allowed else 1)
        fn = e.index.functions.get(obj)
        label = f" ({fn.zh} / {fn.en})" if fn else ""
        as_type = f" as {identity_type}" if identity_type else ""
        click.echo(f"{'ALLOWED' if x.allowed else 'DENIED'}: {subject}{as_type} → {act} {obj}{label} in {domain}")
        if x.rule is not None:
            r = x.rule
            click.echo(f"  allowed by rule file line {r.line}: p, {r.role}, {r.dom}, {r.obj}, {r.act}")
        elif x.allowed:
            click.echo("  allowed (pycasbin matched a rule not in the index: reload the policy)")
        else:
            click.echo(f"  reason: {x.reason} — {x.detail}")
        click.echo(f"  policy in force: {e.index.digest[:12]}")
        click.echo(f"grants of {subject} in {domain}:")
        if not x.grants:
            click.echo("  (none)")
        for g in x.grants:
            fs = "every function of the identity type" if g["functions"] is None else ", ".join(g["functions"])
            window = ""
            if g["since"] is not None:
                window += f" from {_day(g['since'])}"
            window += f" until {_day(g['until'], exclusive_end=True)}" if g["until"] is not None else " long-term"
            click.echo(f"  {g['identity_type']:<16} {g['source']:<24} {'live' if g['live'] else 'NOT LIVE'}"
                       f"{window}; functions: {fs}")
    sys.exit(0 if x.allowed else 1)


# ---- outbound events (R-BIND-15 "data sync")
@main.group()
def events() -> None:
    """Outbound events for downstream e-tax systems: list, deliver, requeue."""


@events.command("list")
@click.option("--status", type=click.Choice(["pending", "delivered", "dead"]), default=None)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.pass_obj
def events_list(env: Env, status: str | None, limit: int) -> None:
    """The newest events, one line each."""
    from . import events as ev
    with open_service(env):
        rows = ev.recent(limit=limit, status=status)
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False, default=str))
        click.echo(f"{len(rows)} event(s)")


@events.command("drain")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--follow", is_flag=True, help="Keep draining every --interval seconds until interrupted.")
@click.option("--interval", type=click.FloatRange(0.1, 3600), default=2.0, show_default=True)
@click.option("--full-sweep-seconds", type=click.FloatRange(0, 86_400), default=30.0, show_default=True,
              help="How often back-channel logout asks every live SSO grant whether it still stands (timeouts, "
                   "revoked identities); sessions already ended are swept every round")
@click.pass_obj
def events_drain(env: Env, limit: int, follow: bool, interval: float, full_sweep_seconds: float) -> None:
    """Deliver due events through the configured adapter (AUTHZ_EVENTS_ADAPTER), and OpenID Connect
    back-channel logout tokens to each relying party whose grant ended (docs/sso.md)."""
    import time as _time
    from . import events as ev
    from .oidc import backchannel
    last_full = None
    with open_service(env, enforcer=True) as svc:  # the sweep asks whether each grant's identity is live
        while True:
            svc.feed.poll()  # other processes' binding and policy changes, before judging grants
            r = ev.drain(svc, limit=limit)
            if r.delivered or r.retrying or r.dead or not follow:
                click.echo(f"delivered {len(r.delivered)}, retrying {len(r.retrying)}, dead {len(r.dead)}")
            full = last_full is None or _time.monotonic() - last_full >= full_sweep_seconds
            if full:
                last_full = _time.monotonic()
            queued, b = backchannel.run(svc, limit=limit, full=full)
            if queued or b.delivered or b.retrying or b.dead or not follow:
                click.echo(f"back-channel logout: queued {len(queued)}, delivered {len(b.delivered)}, "
                           f"retrying {len(b.retrying)}, dead {len(b.dead)}")
            if not follow:
                return
            _time.sleep(interval)


@events.command("requeue")
@click.argument("event_ids", nargs=-1)
@click.pass_obj
def events_requeue(env: Env, event_ids: tuple[str, ...]) -> None:
    """Give dead events (all, or the ids given) a fresh start."""
    from . import events as ev
    with open_service(env) as svc:
        click.echo(f"requeued {ev.requeue(svc, list(event_ids) or None)} event(s)")


# ---- single sign-on (issue 12): relying-party clients and signing keys of the OpenID Connect provider
@main.group()
def oidc() -> None:
    """The OpenID Connect provider: relying-party clients and signing keys (docs/sso.md)."""


@oidc.group("client")
def oidc_client() -> None:
    """Relying parties (tax application systems) that log people in through the portal."""


def _oidc_fail(exc: AuthzError) -> None:
    detail = f" {exc.errors}" if exc.errors else ""
    raise click.ClickException(exc.message("en") + detail)


@oidc_client.command("create")
@click.argument("client_id")
@click.option("--name", default="", help="Display name shown on the consent page (default: the id)")
@click.option("--public", is_flag=True, help="A public client (app, single-page site): no secret, PKCE only")
@click.option("--redirect-uri", "redirect_uris", multiple=True, required=True,
              help="A redirect URI, compared exactly; repeat for several")
@click.option("--post-logout-redirect-uri", "post_logout", multiple=True,
              help="Where RP-initiated logout may return, compared exactly; repeat for several")
@click.option("--scope", "scopes", multiple=True, default=("openid",), show_default=True,
              help="A scope the client may ask for (openid, profile, identity, identity.uscc); repeat")
@click.option("--first-party", is_flag=True, help="The bureau's own system: no consent screen")
@click.option("--pairwise", is_flag=True, help="Give this client its own sub per person")
@click.option("--backchannel-logout-uri", default=None,
              help="Where signed logout tokens are POSTed when the person's portal session ends (https)")
@click.pass_obj
def oidc_client_create(env: Env, client_id: str, name: str, public: bool, redirect_uris: tuple[str, ...],
                       post_logout: tuple[str, ...], scopes: tuple[str, ...], first_party: bool,
                       pairwise: bool, backchannel_logout_uri: str | None) -> None:
    """Register a relying party; a confidential client's secret is printed once, as the last line."""
    from .oidc import clients as oc
    with open_service(env) as svc:
        try:
            row, secret = oc.create(svc, client_id, name=name, kind="public" if public else "confidential",
                                    redirect_uris=redirect_uris, post_logout_redirect_uris=post_logout,
                                    scopes=scopes, first_party=first_party, pairwise=pairwise,
                                    backchannel_logout_uri=backchannel_logout_uri)
        except AuthzError as exc:
            _oidc_fail(exc)
        audit.record(svc, actor="cli", action="oidc.client.create", target=f"oidc_client:{client_id}",
                     detail={"kind": row.kind, "redirect_uris": row.redirect_uris, "scopes": row.scopes,
                             "first_party": row.first_party, "pairwise": bool(row.pairwise_salt),
                             "backchannel_logout_uri": row.backchannel_logout_uri})
    click.echo(f"created {row.kind} OpenID Connect client {client_id!r} with scopes {' '.join(row.scopes)}")
    if secret:
        click.echo("the client secret is shown only this once (the database keeps a SHA-256 digest):")
        click.echo(secret)


@oidc_client.command("update")
@click.argument("client_id")
@click.option("--name", default=None, help="A new display name")
@click.option("--backchannel-logout-uri", default=None, help="Where signed logout tokens are POSTed (https)")
@click.option("--no-backchannel-logout", is_flag=True, help="Stop sending this client logout tokens")
@click.pass_obj
def oidc_client_update(env: Env, client_id: str, name: str | None, backchannel_logout_uri: str | None,
                       no_backchannel_logout: bool) -> None:
    """Change a relying party's display name or back-channel logout URI (audited)."""
    from .oidc import clients as oc
    if backchannel_logout_uri and no_backchannel_logout:
        raise click.UsageError("--backchannel-logout-uri and --no-backchannel-logout exclude each other")
    changes = {} if name is None else {"name": name}
    if backchannel_logout_uri or no_backchannel_logout:
        changes["backchannel_logout_uri"] = backchannel_logout_uri or None
    if not changes:
        raise click.UsageError("nothing to change: give --name, --backchannel-logout-uri or --no-backchannel-logout")
    with open_service(env) as svc:
        try:
            row = oc.update(svc, client_id, **changes)
        except AuthzError as exc:
            _oidc_fail(exc)
        audit.record(svc, actor="cli", action="oidc.client.update", target=f"oidc_client:{client_id}",
                     detail=changes)
    click.echo(f"updated OpenID Connect client {client_id!r}: name {row.name!r}, back-channel logout "
               f"{row.backchannel_logout_uri or 'none'}")


@oidc_client.command("list")
@click.pass_obj
def oidc_client_list(env: Env) -> None:
    """Relying parties with their kind, scopes and redirect URIs."""
    from .models import OidcClient
    with open_service(env):
        rows = list(OidcClient.select().where(OidcClient.deleted_at.is_null()).order_by(OidcClient.client_id))
        if not rows:
            click.echo("no OpenID Connect clients")
            return
        click.echo(f"{'CLIENT ID':<24} {'KIND':<13} {'FIRST':<6} {'SCOPES':<36} REDIRECT URIS")
        for r in rows:
            click.echo(f"{r.client_id:<24} {r.kind:<13} {'yes' if r.first_party else 'no':<6} "
                       f"{' '.join(r.scopes):<36} {' '.join(r.redirect_uris)}")
            if r.backchannel_logout_uri:
                click.echo(f"{'':<24} back-channel logout: {r.backchannel_logout_uri}")


@oidc_client.command("rotate-secret")
@click.argument("client_id")
@click.pass_obj
def oidc_client_rotate_secret(env: Env, client_id: str) -> None:
    """A new secret for a confidential client (the old one stops at once), printed once as the last line."""
    from .oidc import clients as oc
    with open_service(env) as svc:
        try:
            secret = oc.rotate_secret(svc, client_id)
        except AuthzError as exc:
            _oidc_fail(exc)
        audit.record(svc, actor="cli", action="oidc.client.rotate_secret", target=f"oidc_client:{client_id}")
    click.echo(f"new secret for {client_id!r}, shown only this once:")
    click.echo(secret)


@oidc_client.command("delete")
@click.argument("client_id")
@click.pass_obj
def oidc_client_delete(env: Env, client_id: str) -> None:
    """Remove a relying party: its codes and tokens stop working at once."""
    from .oidc import clients as oc
    with open_service(env) as svc:
        try:
            revoked = oc.delete(svc, client_id)
        except AuthzError as exc:
            _oidc_fail(exc)
        audit.record(svc, actor="cli", action="oidc.client.delete", target=f"oidc_client:{client_id}",
                     detail={"tokens_revoked": revoked})
    click.echo(f"deleted OpenID Connect client {client_id!r} ({revoked} token(s) revoked)")


@oidc.command("cleanup")
@click.option("--older-than-hours", type=click.FloatRange(0, 24 * 365), default=24.0, show_default=True,
              help="Keep what expired more recently than this (for inspection)")
@click.pass_obj
def oidc_cleanup(env: Env, older_than_hours: float) -> None:
    """Delete codes and tokens that can never be used again (a live grant's, and what replay and reuse
    detection still need, are kept); queues any back-channel logout still owed first."""
    from .oidc import cleanup
    with open_service(env, enforcer=True) as svc:  # the back-channel sweep judges identities
        out = cleanup.purge(svc, older_than_hours * 3600)
        audit.record(svc, actor="cli", action="oidc.cleanup", detail=out.as_dict())
    click.echo(f"deleted {out.tokens} token(s) and {out.codes} code(s); queued {out.logouts_queued} "
               "back-channel logout(s)")


@oidc.group("keys")
def oidc_keys() -> None:
    """ID-token signing keys (stored in the database; private halves are never printed)."""


@oidc_keys.command("rotate")
@click.option("--alg", type=click.Choice(["ES256", "RS256"]), default="ES256", show_default=True)
@click.option("--lead-seconds", type=click.IntRange(0, 30 * 86400), default=None,
              help="Publish this long before it signs (default AUTHZ_OIDC_KEY_LEAD_SECONDS)")
@click.pass_obj
def oidc_keys_rotate(env: Env, alg: str, lead_seconds: int | None) -> None:
    """Add a signing key: published in JWKS now, signing after the lead; older keys retire after that."""
    from .oidc import keys as ok
    with open_service(env) as svc:
        row = ok.rotate(svc, alg, lead_seconds=lead_seconds)
        audit.record(svc, actor="cli", action="oidc.keys.rotate", target=f"oidc_key:{row.kid}",
                     detail={"alg": row.alg, "signs_from": row.signs_from})
    click.echo(f"added {row.alg} key {row.kid}: published now, signs from {_when(row.signs_from)}")


@oidc_keys.command("list")
@click.pass_obj
def oidc_keys_list(env: Env) -> None:
    """Signing keys: id, algorithm, state (next, signing, published, retired) and times."""
    from .models import SigningKey
    from .oidc import keys as ok
    with open_service(env) as svc:
        now = svc.clock.time()
        rows = list(SigningKey.select().order_by(SigningKey.signs_from.desc(), SigningKey.id.desc()))
        if not rows:
            click.echo("no signing keys (the first is made when a token is first signed or JWKS first served)")
            return
        current = ok.signing(svc).kid
        click.echo(f"{'KID':<18} {'ALG':<6} {'STATE':<10} {'SIGNS FROM':<17} RETIRES")
        for r in rows:
            state = ("retired" if r.retire_at is not None and r.retire_at <= now else "signing" if r.kid == current
                     else "next" if r.signs_from > now else "published")
            click.echo(f"{r.kid:<18} {r.alg:<6} {state:<10} {_when(r.signs_from):<17} {_when(r.retire_at) or '-'}")


if __name__ == "__main__":  # python -m authz.cli
    main()
