"""Login log (R-LOG-1 data): every attempt with entry, account type, step, factor, identity, enterprise,
IP and outcome. Never a password, code or session id: the signature below has no place for one."""
from __future__ import annotations

import logging

from . import metrics
from .models import LoginLog

log = logging.getLogger("authz.login")


def record(svc, *, entry: str, step: str, outcome: str, person=None, account_type: str = "", factor: str = "",
           identity: str = "", enterprise=None, uscc: str = "", ip: str = "") -> None:
    """Append one login-log row (and a log line without secrets)."""
    LoginLog.create(at=svc.clock.time(), entry=entry, account_type=account_type, step=step, factor=factor,
                    person=person, person_name=person.name if person else "", identity=identity,
                    enterprise=enterprise, uscc=uscc or (enterprise.uscc if enterprise else ""), ip=(ip or "")[:64],
                    outcome=outcome)
    metrics.inc("authz_logins_total", entry=entry, step=step, outcome=outcome)
    log.info("login entry=%s step=%s factor=%s person=%s outcome=%s", entry, step, factor,
             person.uid if person else "-", outcome)
