"""`authz dev …`: development simulators and outboxes (the development adapters' side of each port)."""
from __future__ import annotations

import click

from .demo import DEMO_PASSWORD


@click.group("dev", help="development simulators and outboxes (refused in production)")
@click.pass_obj
def dev(env) -> None:
    """Commands are added by the modules that own each development adapter. In production (an explicit
    AUTHZ_ENVIRONMENT=production or any production adapter) every one refuses: an outbox read or a
    simulated face scan would act on real people's flows (issue 13)."""
    refuse_in_production(env.get_settings(), "authz dev")


class ProductionRefusal(click.ClickException):
    exit_code = 2


def refuse_in_production(settings, what: str) -> None:
    """The one home of "development tools do not run against production" (CLI commands and `--demo`)."""
    reasons = settings.production_reasons
    if reasons:
        raise ProductionRefusal(f"{what} is a development tool and this configuration is production "
                                f"({', '.join(reasons)}); it would act on real people and real data")


# ---- login and identity (issue 3): the SMS outbox and the tax-app / IIT-app simulator
@dev.command("outbox")
@click.option("--phone", help="Only messages to this phone")
@click.option("--limit", default=10, show_default=True, help="How many of the newest messages")
@click.pass_obj
def outbox(env, phone, limit) -> None:
    """Read the development SMS outbox (codes sent by login, registration, reset...)."""
    import datetime as dt

    from .cli import open_service
    from .clock import SHANGHAI
    from .ports.sms import outbox as read
    with open_service(env):
        rows = read(phone, limit)
        if not rows:
            click.echo("(no messages)")
        for m in rows:
            when = dt.datetime.fromtimestamp(m["sent_at"], tz=SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
            click.echo(f"{when}  {m['phone']}  {m['text']}")


@dev.command("scan")
@click.argument("ticket")
@click.option("--as", "person", help="Person id (p-...) scanning: the face shown, or the person logged in on the app")
@click.option("--app", type=click.Choice(["taxapp", "iitapp"]), default="taxapp", show_default=True)
@click.option("--enterprise", "uscc", help="QR login from the tax app in enterprise business: the USCC")
@click.option("--identity", "identity_type", help="QR login in enterprise business: the identity type")
@click.option("--fail", is_flag=True, help="Face verification: the face does not match")
@click.pass_obj
def scan(env, ticket, person, app, uscc, identity_type, fail) -> None:
    """Simulate the app scanning TICKET: a face verification or a QR-login confirmation (the same
    confirmation the apps' signed callbacks make in production)."""
    from .cli import open_service
    from .errors import AuthzError
    from .flows.qr_login import confirm_by_callback
    with open_service(env, enforcer=True) as svc:
        payload = {"ticket": ticket, "person": person, "face_ok": not fail, "app_login": bool(person)}
        if uscc:
            payload.update(entry="enterprise", uscc=uscc, identity_type=identity_type or _only_role(svc, person, uscc))
        try:
            out = confirm_by_callback(svc, app, payload)
        except AuthzError as err:
            raise click.ClickException(f"{err.code}: {err.message('zh')}")
        click.echo(f"{out['ticket']}: {out['state']}")


def _only_role(svc, person, uscc) -> str:
    roles = sorted({g.role for g in svc.enforcer.roles_in(person or "", f"ent:{uscc}") if g.source.startswith("binding:")})
    if len(roles) != 1:
        raise click.ClickException(f"give --identity: {person} holds {roles or 'no identity'} in {uscc}")
    return roles[0]


@dev.command("password", help=(
    "Set PERSON's (p-...) login password (policy-checked, argon2id) and sign the agreement for them. "
    f"The demo persons already log in with {DEMO_PASSWORD} (set when the demo is seeded); use this to give "
    "one of them another password, or a password to a person created without one (e.g. from the hall's "
    "offline collection or integration data). Development only; real users register or reset."))
@click.argument("person")
@click.argument("password")
@click.pass_obj
def set_password(env, person, password) -> None:
    from .cli import open_service
    from .credentials import check_policy
    from .errors import AuthzError
    from .models import Person
    from .ports import ports_of
    with open_service(env) as svc:
        try:
            check_policy(password, svc.settings)
        except AuthzError as err:
            raise click.ClickException(f"{err.code}: {err.message('zh')}")
        now = svc.clock.time()
        n = Person.update(password_hash=ports_of(svc).hasher.hash(password), must_change_password=False,
                          registered=True, agreement_signed_at=now, updated_at=now).where(
            (Person.uid == person) & (Person.status == "active")).execute()
        if n != 1:
            raise click.ClickException(f"no active person {person}")
        click.echo(f"{person}: password set")


# ---- production topology on one machine (issue 5): several instances on one database and Redis
@dev.command("instances")
@click.option("--count", default=2, show_default=True, type=click.IntRange(1, 8), help="How many instances")
@click.option("--base-port", default=8001, show_default=True, type=click.IntRange(1, 65000),
              help="Instance k listens on base-port + k")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="gunicorn workers each")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.pass_obj
def instances(env, count, base_port, workers, host) -> None:
    """Start COUNT `authz serve` instances on consecutive ports against the same DATABASE_URL and
    REDIS_URL, as the production topology runs them (docs/operations.md); Ctrl-C stops them all.
    The schema is upgraded and the policy installed once, here, before any instance starts."""
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    from .cli import safe_url
    from .service import Service
    settings = env.get_settings()
    if not settings.database_url.startswith("postgres") or not settings.redis_url:
        click.echo("note: the production topology is PostgreSQL (DATABASE_URL) and Redis (REDIS_URL); "
                   f"running on {safe_url(settings.database_url)}"
                   f"{' with Redis' if settings.redis_url else ' without Redis (changes travel by polling)'}")
    Service(settings, clock=env.clock).start(follow=False).close()  # migrate and install the policy once
    child_env = dict(os.environ, DATABASE_URL=settings.database_url, REDIS_URL=settings.redis_url,
                     AUTHZ_MODEL_PATH=settings.model_path, AUTHZ_RULES_PATH=settings.rules_path)
    procs = []
    ports = [base_port + k for k in range(count)]

    def _terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        for port in ports:
            procs.append(subprocess.Popen([sys.executable, "-m", "authz.cli", "serve", "--host", host,
                                           "--port", str(port), "--workers", str(workers)], env=child_env))
        pending = dict(zip(ports, procs))
        deadline = time.monotonic() + 60
        while pending and time.monotonic() < deadline:
            for port, proc in list(pending.items()):
                if proc.poll() is not None:
                    raise click.ClickException(f"the instance on port {port} exited with {proc.returncode}")
                try:
                    with urllib.request.urlopen(f"http://{host}:{port}/readyz", timeout=1) as r:
                        if r.status == 200:
                            click.echo(f"instance {len(ports) - len(pending) + 1}: http://{host}:{port} ready")
                            del pending[port]
                except OSError:
                    pass
            time.sleep(0.2)
        if pending:
            raise click.ClickException(f"not ready within 60 s: ports {sorted(pending)}")
        click.echo(f"{count} instances running on {safe_url(settings.database_url)}; Ctrl-C stops them")
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        raise click.ClickException("an instance exited; stopping the others")
    except KeyboardInterrupt:
        click.echo("stopping")
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
