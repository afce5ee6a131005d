"""The enterprise's logs in the account centre: logins into its account (R-LOG-1) and its audit log
(R-LOG-2). Both are decided by the enforcer (ac.logs.enterprise / ac.audit.enterprise, view) for the
session's current identity and are scoped to the session's enterprise, never to a domain from the
request. Names are masked (R-MASK-1); filters are an allow-list."""
from __future__ import annotations


from ..actor import Actor, require
from ..clock import month_before, start_of_day_epoch
from ..errors import AuthzError, code
from ..ids import ENT_PREFIX
from ..masking import mask_name
from ..models import AuditLog, Enterprise, LoginLog, Person
from .staff import identity_label

E_RANGE = code("log_range_invalid")
ENTRIES = ("enterprise", "agent", "personal", "special", "nonresident")
MAX_PER_PAGE = 100


def _enterprise(actor: Actor) -> Enterprise:
    ent = Enterprise.get_or_none(Enterprise.uscc == actor.domain[len(ENT_PREFIX):]) \
        if actor.domain.startswith(ENT_PREFIX) else None
    if ent is None:
        raise AuthzError("forbidden")
    return ent


def default_since(svc) -> float:
    """One calendar month back from today (Asia/Shanghai), the manuals' default range."""
    return start_of_day_epoch(month_before(svc.clock.today()))


def _range(svc, since: float | None, until: float | None) -> tuple[float, float]:
    lo = default_since(svc) if since is None else since
    hi = svc.clock.time() if until is None else until
    if lo > hi:
        raise AuthzError(E_RANGE)
    return lo, hi


def _labels(svc, role: str | None) -> dict:
    """The identity type's catalogue names (rules.csv `role` lines), so a log view needs no table of its own."""
    if not role:
        return {"identity_type_name": None, "identity_type_name_en": None}
    out = identity_label(svc, role)
    return {"identity_type_name": out["identity_type_name"], "identity_type_name_en": out["identity_type_name_en"]}


def identity_types(svc) -> list[dict]:
    """Every identity type of the catalogue with its names: the choices of the identity-type filter."""
    return [identity_label(svc, r) for r in svc.enforcer.index.roles]


def _page(query, page: int, per_page: int):
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    total = query.count()
    return total, list(query.paginate(max(1, page), per_page))


def login_logs(svc, actor: Actor, *, entry: str | None = None, since: float | None = None,
               until: float | None = None, name: str | None = None, identity_type: str | None = None,
               page: int = 1, per_page: int = 50) -> dict:
    """Logins into this enterprise's account (R-LOG-1): identity choices and attempts naming it."""
    require(svc, actor, "ac.logs.enterprise", "view")
    ent = _enterprise(actor)
    lo, hi = _range(svc, since, until)
    q = (LoginLog.select().where(((LoginLog.enterprise == ent) | (LoginLog.uscc == ent.uscc))
                                 & (LoginLog.at >= lo) & (LoginLog.at <= hi)).order_by(LoginLog.at.desc(),
                                                                                      LoginLog.id.desc()))
    if entry:
        if entry not in ENTRIES:
            raise AuthzError("validation_failed", errors={"entry": list(ENTRIES)})
        q = q.where(LoginLog.entry == entry)
    if name:
        q = q.where(LoginLog.person_name.contains(name))
    if identity_type:
        q = q.where(LoginLog.identity == identity_type)
    total, rows = _page(q, page, per_page)
    return {"total": total, "since": lo, "until": hi, "items": [
        {"at": r.at, "entry": r.entry, "step": r.step, "factor": r.factor, "account_type": r.account_type,
         "name": mask_name(r.person_name), "identity_type": r.identity, **_labels(svc, r.identity),
         "outcome": r.outcome, "ip": r.ip}
        for r in rows], "identity_types": identity_types(svc)}


def audit_log(svc, actor: Actor, *, since: float | None = None, until: float | None = None,
              action: str | None = None, page: int = 1, per_page: int = 50) -> dict:
    """Account-centre changes and reveals in this enterprise (R-LOG-2), newest first."""
    require(svc, actor, "ac.audit.enterprise", "view")
    _enterprise(actor)
    lo, hi = _range(svc, since, until)
    q = (AuditLog.select().where((AuditLog.domain == actor.domain) & (AuditLog.at >= lo) & (AuditLog.at <= hi))
         .order_by(AuditLog.at.desc(), AuditLog.id.desc()))
    if action:
        q = q.where(AuditLog.action.startswith(action))
    total, rows = _page(q, page, per_page)
    names = {p.uid: p.name for p in Person.select(Person.uid, Person.name)
             .where(Person.uid.in_({r.actor for r in rows}))} if rows else {}
    return {"total": total, "since": lo, "until": hi, "items": [
        {"at": r.at, "actor": mask_name(names[r.actor]) if r.actor in names else r.actor,
         "identity_type": r.identity, **_labels(svc, r.identity), "action": r.action, "target": r.target,
         "outcome": r.outcome}
        for r in rows], "identity_types": identity_types(svc)}
