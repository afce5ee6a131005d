"""The person's own logs: login log (R-LOG-1, "a person sees their own") and audit log (R-LOG-2, "by the
person for their own") [000, 001, 003 日志管理].

* Login log: every login attempt recorded for this person, default the last calendar month up to today
  (Asia/Shanghai), filtered by login type (entry), time range, identity type, taxpayer name (fuzzy) and
  USCC; newest first.
* Audit log: what the person did (actor) and what was done to their account (target person:<uid>, e.g.
  a phone number taken over by someone who proved it, R-PHONE-6); who else acted is not shown.
* Only allow-listed filters; every query is scoped to the actor's own person. Masked fields (names,
  USCCs, phone and document numbers) are masked here too (R-MASK-1).
"""
from __future__ import annotations

import datetime as dt
import re

from peewee import JOIN

from ..actor import Actor, require
from ..clock import end_of_day_epoch, month_before, start_of_day_epoch
from ..errors import AuthzError, code
from ..ids import USCC_RE
from ..masking import mask_enterprise_name, mask_name, mask_phone, mask_uscc
from ..models import AuditLog, Enterprise, LoginLog
from ..sessions import Entry
from . import stepup

E_LOG_FILTER = code("log_filter_invalid")
MAX_PER_PAGE = 100
ACTION_RE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
_LONG_CODE = re.compile(r"^[0-9A-Z]{15,20}$")
_PHONE = re.compile(r"^1[3-9][0-9]{9}$")


def _range(svc, since: dt.date | None, until: dt.date | None) -> tuple[float, float, dt.date, dt.date]:
    today = svc.clock.today()
    until = until or today
    since = since or month_before(until)
    if since > until:
        raise AuthzError(E_LOG_FILTER, field="since", errors={"since": ["not after until"]})
    start, end = start_of_day_epoch(since), end_of_day_epoch(until)
    return start, end, since, until


def _page(page: int, per_page: int) -> tuple[int, int]:
    if not isinstance(page, int) or page < 1:
        raise AuthzError(E_LOG_FILTER, field="page", errors={"page": [">= 1"]})
    if not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
        raise AuthzError(E_LOG_FILTER, field="per_page", errors={"per_page": [f"1-{MAX_PER_PAGE}"]})
    return page, per_page


def login_logs(svc, actor: Actor, *, entry: str | None = None, since: dt.date | None = None,
               until: dt.date | None = None, identity_type: str | None = None, taxpayer_name: str | None = None,
               uscc: str | None = None, page: int = 1, per_page: int = 20) -> dict:
    """The person's own login attempts (R-LOG-1), newest first."""
    require(svc, actor, "ac.person.logs", "view")
    person = stepup.person_of(actor)
    page, per_page = _page(page, per_page)
    start, end, since, until = _range(svc, since, until)
    q = (LoginLog.select(LoginLog, Enterprise.name.alias("taxpayer"))
         .join(Enterprise, JOIN.LEFT_OUTER, on=(LoginLog.enterprise == Enterprise.id))
         .where((LoginLog.person == person) & (LoginLog.at >= start) & (LoginLog.at < end)))
    if entry:
        if entry not in {e.value for e in Entry}:
            raise AuthzError(E_LOG_FILTER, field="entry", errors={"entry": [e.value for e in Entry]})
        q = q.where(LoginLog.entry == entry)
    if identity_type:
        if identity_type not in svc.enforcer.index.roles:
            raise AuthzError(E_LOG_FILTER, field="identity_type")
        q = q.where(LoginLog.identity == identity_type)
    if uscc:
        if not USCC_RE.fullmatch(uscc):
            raise AuthzError(E_LOG_FILTER, field="uscc")
        q = q.where(LoginLog.uscc == uscc)
    if taxpayer_name:
        if len(taxpayer_name) > 100:
            raise AuthzError(E_LOG_FILTER, field="taxpayer_name")
        q = q.where(Enterprise.name.contains(taxpayer_name))
    total = q.count()
    rows = q.order_by(LoginLog.at.desc(), LoginLog.id.desc()).paginate(page, per_page).objects()
    return {"since": since.isoformat(), "until": until.isoformat(), "page": page, "per_page": per_page,
            "total": total, "items": [_login_view(r) for r in rows]}


def _login_view(r: LoginLog) -> dict:
    ent_name = getattr(r, "taxpayer", None) or ""
    return {"at": r.at, "entry": r.entry, "account_type": r.account_type, "step": r.step, "factor": r.factor,
            "name": mask_name(r.person_name), "identity_type": r.identity or None,
            "uscc": mask_uscc(r.uscc) or None, "taxpayer_name": mask_enterprise_name(ent_name) or None,
            "ip": r.ip, "outcome": r.outcome}


def audit_logs(svc, actor: Actor, *, action: str | None = None, since: dt.date | None = None,
               until: dt.date | None = None, page: int = 1, per_page: int = 20) -> dict:
    """What the person did and what was done to their account (R-LOG-2), newest first."""
    require(svc, actor, "ac.person.audit", "view")
    person = stepup.person_of(actor)
    page, per_page = _page(page, per_page)
    start, end, since, until = _range(svc, since, until)
    mine = (AuditLog.actor == person.uid) | (AuditLog.target << [person.uid, f"person:{person.uid}"])
    q = AuditLog.select().where(mine & (AuditLog.at >= start) & (AuditLog.at < end))
    if action:
        if not ACTION_RE.fullmatch(action):
            raise AuthzError(E_LOG_FILTER, field="action")
        q = q.where((AuditLog.action == action) | AuditLog.action.startswith(action + "."))
    total = q.count()
    rows = q.order_by(AuditLog.at.desc(), AuditLog.id.desc()).paginate(page, per_page)
    return {"since": since.isoformat(), "until": until.isoformat(), "page": page, "per_page": per_page,
            "total": total, "items": [_audit_view(r, person.uid) for r in rows]}


def _masked_domain(value: str) -> str:
    """ent:<USCC> and enterprise:<USCC> show a masked USCC; other references stay."""
    for prefix in ("ent:", "enterprise:"):
        if value.startswith(prefix):
            return prefix + mask_uscc(value[len(prefix):])
    return value


def _safe(value):
    """Mask anything in an audit detail that looks like a phone, a USCC or a document number."""
    if isinstance(value, dict):
        return {k: _safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe(v) for v in value]
    if isinstance(value, str):
        if _PHONE.fullmatch(value):
            return mask_phone(value)
        if _LONG_CODE.fullmatch(value):
            return mask_uscc(value)
        return _masked_domain(value)
    return value


def _audit_view(r: AuditLog, uid: str) -> dict:
    """One row; for a row someone else wrote about me, who acted (identity, domain) stays hidden."""
    mine = r.actor == uid
    return {"at": r.at, "action": r.action, "by_me": mine, "identity_type": (r.identity or None) if mine else None,
            "domain": (_masked_domain(r.domain) or None) if mine else None,
            "target": _masked_domain(r.target) or None, "outcome": r.outcome,
            "detail": _safe(r.detail) if r.detail else None}
