"""`authz helpdesk …`: the helpdesk operations of issue 13 from a shell on a service host, the same
functions as the REST API (authz/helpdesk.py) and audited the same way: actor `cli`, the `--operator`
every command requires, what and whom. `--json` prints the API's answer; export streams to stdout or a
file."""
from __future__ import annotations

import datetime as dt
import json
import re
import sys

import click

from . import helpdesk as hd
from .clock import SHANGHAI, end_of_day_epoch, start_of_day_epoch
from .counters import METHODS
from .errors import AuthzError


def _operator(ctx, param, value):
    try:
        return hd.Operator.of("cli", value)
    except AuthzError:
        raise click.BadParameter("1-64 letters, digits, . _ @ -, starting with a letter or digit") from None


def _when(ctx, param, value):
    """An RFC 3339 time or a date (YYYY-MM-DD, Asia/Shanghai: --since from its start, --until to its end);
    without an offset a time is Asia/Shanghai."""
    if value is None:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = dt.date.fromisoformat(value)
            return start_of_day_epoch(day) if param.name == "since" else end_of_day_epoch(day) - 0.001
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("an RFC 3339 time (2026-03-02T10:00:00+08:00) or a date (2026-03-02)") from None
    return (t if t.tzinfo else t.replace(tzinfo=SHANGHAI)).timestamp()


def common(fn):
    """--operator (required: who at the desk, for the audit row) and --json."""
    fn = click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON (as the REST API gives it)")(fn)
    return click.option("--operator", "op", required=True, callback=_operator,
                        help="The operator's staff id, written to the audit row")(fn)


def log_filters(kind: str):
    def wrap(fn):
        opts = [click.option("--since", callback=_when, help="RFC 3339 time or date; default one month back"),
                click.option("--until", callback=_when, help="RFC 3339 time or date, inclusive; default now"),
                click.option("--person", help="Person id (p-…)"),
                click.option("--enterprise", help="USCC"),
                click.option("--outcome", help="ok or an error code")]
        if kind == "audit":
            opts.append(click.option("--action", help="An action, or a prefix of dotted actions"))
        else:
            opts += [click.option("--entry", type=click.Choice(hd.LOGIN_ENTRIES)),
                     click.option("--step", type=click.Choice(hd.LOGIN_STEPS))]
        for o in reversed(opts):
            fn = o(fn)
        return fn
    return wrap


def _call(env, fn, *args, **kw):
    """Run one helpdesk function on a Service; an AuthzError is the command's error (exit 1)."""
    from .cli import open_service
    with open_service(env) as svc:
        try:
            return fn(svc, *args, **kw)
        except AuthzError as exc:
            detail = f" {exc.errors}" if exc.errors else ""
            raise click.ClickException(exc.message("en") + detail) from None


def _out(answer: dict, as_json: bool, lines) -> None:
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    for line in lines(answer):
        click.echo(line)


def _person_lines(p: dict):
    yield (f"{p['person']}  {p['name_masked']}  {p['status']}  level {p['realname_level']}"
           f"{'  must change password' if p['must_change_password'] else ''}")
    for d in p["documents"]:
        yield f"  document {d['doc_type']} {d['number_masked']}{' (primary)' if d['primary'] else ''}"
    for ph in p["phones"]:
        yield f"  phone {ph['number_masked']}{' (default)' if ph['default'] else ''}"
    if p["username_masked"]:
        yield f"  username {p['username_masked']}"


@click.group("helpdesk", help="Helpdesk: find a person (masked), lockout and unlock, sessions, an enterprise's "
                              "bindings, audit and login logs (every command audited with --operator)")
def helpdesk() -> None:
    pass


@helpdesk.command("find")
@click.option("--by", type=click.Choice(hd.LOOKUPS), required=True, help="What VALUE is")
@click.argument("value")
@click.option("--doc-type", help="With --by document: only this document type")
@common
@click.pass_obj
def find(env, by, value, doc_type, op, as_json) -> None:
    """Find the person an exact document number, phone or username names; masked (R-MASK-1)."""
    answer = _call(env, hd.find_persons, op, by=by, value=value, doc_type=doc_type)
    _out(answer, as_json, lambda a: [line for p in a["items"] for line in _person_lines(p)] or ["no person"])


@helpdesk.command("person")
@click.argument("uid")
@common
@click.pass_obj
def person(env, uid, op, as_json) -> None:
    """One person, masked."""
    _out(_call(env, hd.get_person, op, uid), as_json, _person_lines)


def _lock_lines(a: dict):
    for m in a["methods"]:
        state = f"LOCKED until {m['locked_until']}" if m["locked"] else "not locked"
        yield f"{m['method']:<12} {m['failures']}/{m['limit']} failures today  {state}"
    if "unlocked" in a:
        yield f"unlocked: {', '.join(a['unlocked']) or 'nothing was locked'}"


@helpdesk.command("lockout")
@click.argument("uid")
@common
@click.pass_obj
def lockout(env, uid, op, as_json) -> None:
    """Failures and lock of each authentication method (R-LOGIN-11)."""
    _out(_call(env, hd.lockout, op, uid), as_json, _lock_lines)


@helpdesk.command("unlock")
@click.argument("uid")
@click.option("--method", "methods", multiple=True, type=click.Choice(METHODS),
              help="A method to unlock (repeat); default every method")
@click.option("--reason", required=True, help="Why (a ticket number, the person's request); audited")
@common
@click.pass_obj
def unlock(env, uid, methods, reason, op, as_json) -> None:
    """Unlock some or every method of a person, as a password reset does (R-LOGIN-11, R-PWD-4)."""
    _out(_call(env, hd.unlock, op, uid, methods=methods or None, reason=reason), as_json, _lock_lines)


@helpdesk.command("sessions")
@click.argument("uid")
@common
@click.pass_obj
def list_sessions(env, uid, op, as_json) -> None:
    """The person's open sessions, newest first, by handle (R-LOGIN-13)."""
    _out(_call(env, hd.list_sessions, op, uid), as_json, lambda a: [
        f"{s['handle']}  {s['client']:<7} {s['entry']:<11} {s['identity_type']:<16} {s['domain_masked']:<26} "
        f"since {s['login_at']}  seen {s['last_seen_at']}  {s['ip']}" for s in a["items"]] or ["no open session"])


@helpdesk.command("end-session")
@click.argument("uid")
@click.argument("handle")
@click.option("--reason", required=True, help="Why; audited")
@common
@click.pass_obj
def end_session(env, uid, handle, reason, op, as_json) -> None:
    """End one open session of the person by its handle."""
    _out(_call(env, hd.end_session, op, uid, handle, reason=reason), as_json,
         lambda a: [f"ended {a['ended']} session(s) of {a['person']}"])


@helpdesk.command("end-sessions")
@click.argument("uid")
@click.option("--reason", required=True, help="Why; audited")
@common
@click.pass_obj
def end_sessions(env, uid, reason, op, as_json) -> None:
    """End every open session of the person."""
    _out(_call(env, hd.end_all_sessions, op, uid, reason=reason), as_json,
         lambda a: [f"ended {a['ended']} session(s) of {a['person']}"])


@helpdesk.command("enterprise")
@click.argument("uscc")
@common
@click.pass_obj
def enterprise(env, uscc, op, as_json) -> None:
    """One enterprise, masked."""
    _out(_call(env, hd.get_enterprise, op, uscc), as_json, lambda e: [
        f"{e['uscc_masked']}  {e['name_masked']}  {e['kind']}  {e['tax_authority']}"])


def _page(limit_default: int = 50):
    def wrap(fn):
        fn = click.option("--offset", type=click.IntRange(0, hd.MAX_OFFSET), default=0, show_default=True)(fn)
        return click.option("--limit", type=click.IntRange(1, hd.MAX_LIMIT), default=limit_default,
                            show_default=True)(fn)
    return wrap


@helpdesk.command("bindings")
@click.argument("uscc")
@click.option("--view", type=click.Choice(list(hd.BINDING_VIEWS)), default="all", show_default=True)
@click.option("--state", type=click.Choice(hd.LIVE_STATES + hd.HISTORY_STATES))
@click.option("--identity-type")
@_page()
@common
@click.pass_obj
def bindings(env, uscc, view, state, identity_type, limit, offset, op, as_json) -> None:
    """The enterprise's bindings and their history (R-BIND-12), newest first, masked."""
    answer = _call(env, hd.enterprise_bindings, op, uscc, view=view, state=state, identity_type=identity_type,
                   limit=limit, offset=offset)
    _out(answer, as_json, lambda a: [
        f"{b['binding_id']:>8}  {b['person']:<20} {b['name_masked']:<8} {b['identity_type']:<16} {b['state']:<10} "
        f"{'enabled' if b['enabled'] else 'disabled':<9} {b['origin']:<12} updated {b['updated_at']}"
        for b in a["items"]] + [f"{a['total']} binding(s)"])


def _search(env, kind, op, limit, offset, filters):
    def run(svc):
        return hd.search(svc, op, kind, hd.log_filter(svc, kind, **filters), limit=limit, offset=offset)
    return _call(env, run)


@helpdesk.command("audit")
@log_filters("audit")
@_page()
@common
@click.pass_obj
def audit_search(env, limit, offset, op, as_json, **filters) -> None:
    """Search the audit log (R-LOG-2), newest first."""
    _out(_search(env, "audit", op, limit, offset, filters), as_json, lambda a: [
        f"{r['at']}  {r['actor']:<24} {r['action']:<28} {r['target']:<24} {r['outcome']}" for r in a["items"]]
        + [f"{a['total']} row(s)"])


@helpdesk.command("logins")
@log_filters("logins")
@_page()
@common
@click.pass_obj
def login_search(env, limit, offset, op, as_json, **filters) -> None:
    """Search the login log (R-LOG-1), newest first."""
    _out(_search(env, "logins", op, limit, offset, filters), as_json, lambda a: [
        f"{r['at']}  {r['entry']:<11} {r['step']:<9} {r['person'] or '-':<20} {r['name_masked']:<6} "
        f"{r['uscc_masked']:<20} {r['outcome']}" for r in a["items"]] + [f"{a['total']} row(s)"])


def _export_command(kind: str):
    @helpdesk.command(f"export-{kind}")
    @log_filters(kind)
    @click.option("--format", "fmt", type=click.Choice(hd.FORMATS), default="csv", show_default=True)
    @click.option("--output", type=click.Path(dir_okay=False, writable=True), help="A file (default: stdout)")
    @click.option("--operator", "op", required=True, callback=_operator, help="The operator's staff id (audited)")
    @click.pass_obj
    def export(env, fmt, output, op, **filters) -> None:
        from .cli import open_service
        with open_service(env) as svc:
            try:
                lines = hd.export(svc, op, kind, hd.log_filter(svc, kind, **filters), fmt)
            except AuthzError as exc:
                raise click.ClickException(exc.message("en") + (f" {exc.errors}" if exc.errors else "")) from None
            out = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
            try:
                for chunk in lines:
                    out.write(chunk)
            finally:
                if output:
                    out.close()
    export.help = (f"Export the {'audit' if kind == 'audit' else 'login'} log as CSV or JSON lines, streamed "
                   "(every matching row, newest first).")
    return export


export_audit = _export_command("audit")
export_logins = _export_command("logins")
