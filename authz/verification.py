"""The one verification mechanism (issue 10): every step-up and login factor (SMS code, app face scan,
password, certificate password, certificate signature) is a strategy in `authz/factors/` behind one small
interface, and every flow reaches it through the two calls here:

    begin(svc, purpose=, factor_name=, flow_hash=, offered= | at_least=, person= | subject=, phone=, ...) -> dict
    verify(svc, purpose=, factor_name=, flow_hash=, offered= | at_least=, person= | subject=, code= | secret=) -> Proof

* A flow says what it accepts: `offered` factor names and/or `at_least` a `vocab.Strength`; any other
  factor is refused with factor_not_offered before anything is sent or checked.
* The lockout is applied here and only here (R-LOGIN-11, R-SMS-2): begin refuses a locked method; verify
  reserves an evaluation slot atomically before the check (`factors.base.reserved`), counts a failure
  once (codes in `factors.base.COUNTED`), locks at the limit, and resets on success. Whose count: the
  person's; or, in an anonymous flow (`anonymous=True`: registration, password reset, phone recovery),
  the flow purpose's own count for the phone or face (`factors.base.anonymous_subject`), so a stranger
  never spends or locks a person's login; or an explicit `lockout` subject (an unknown login account).
* What comes back is a `Proof`: this person passed this method through this factor for this purpose in
  this flow. The code or ticket behind it was bound to the flow key (an SMS code also to the purpose;
  a second verification inside one flow uses `bound_to(flow, purpose)` as its key), so a code or scan
  of one flow proves nothing in another, and a Proof asked for one purpose does not stand for another
  (`Proof.proves(uid, method, purpose)`). Invariants that need a verification take a Proof
  (`bindings.transition`: a person's confirmation needs their face, R-BIND-6).
* The helpdesk (issue 13) reads a person's lockout with `lockout_state` and lifts it with `unlock`, the
  same counters `verify` reserves in and counts to; nothing else reads or clears a lock.
"""
from __future__ import annotations

import hashlib
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass
from typing import Callable

from . import metrics
from .counters import METHODS
from .errors import AuthzError, code
from .factors import FACTORS, Factor
from .factors.base import COUNTED, anonymous_subject, ensure_unlocked, locked_error, reserved
from .ports import ports_of
from .vocab import Method, Strength

E_FACTOR = code("factor_not_offered")
E_NO_PHONE = code("phone_missing_use_face")


def _value(purpose) -> str:
    return getattr(purpose, "value", purpose)


@dataclass(frozen=True)
class Proof:
    """What one verification proved. `phone`: where the code went, for a factor that sends one."""
    person_uid: str
    method: Method
    factor: str  # a name in factors.FACTORS
    flow_hash: str
    purpose: str = ""
    phone: str | None = None

    def proves(self, person_uid: str, method: Method, purpose=None, flow_hash: str | None = None) -> bool:
        """Did `person_uid` pass `method` (for `purpose`, in the flow keyed `flow_hash`, when given)?"""
        return (self.person_uid == person_uid and self.method == method
                and (purpose is None or self.purpose == _value(purpose))
                and (flow_hash is None or self.flow_hash == flow_hash))


def bound_to(flow_hash: str, purpose: str) -> str:
    """The key a factor's code or ticket is bound to for one purpose inside one flow: a face scan asked
    to confirm an authorisation during login is not the login's own second factor, and the reverse."""
    return hashlib.sha256(f"{flow_hash}:{purpose}".encode()).hexdigest()


def names(*, offered: tuple[str, ...] = (), at_least: Strength | None = None) -> tuple[str, ...]:
    """The factor names a step accepts: those `offered` (all, when none are named) of at least `at_least`."""
    if not offered and at_least is None:
        raise ValueError("a step names the factors it offers or the strength it needs")
    return tuple(n for n in (offered or FACTORS) if n in FACTORS
                 and (at_least is None or FACTORS[n].strength >= at_least))


def offered_factor(name: str, *, offered: tuple[str, ...] = (), at_least: Strength | None = None) -> Factor:
    """The factor `name` if the step accepts it, else factor_not_offered (listing what it accepts)."""
    accepted = names(offered=offered, at_least=at_least)
    if name not in accepted:
        raise AuthzError(E_FACTOR, errors={"factor": list(accepted)})
    return FACTORS[name]


def _subject(f: Factor, purpose, *, person, subject, anonymous, lockout, phone) -> str:
    """Whose lockout count a check of `f` goes to (see the module docstring)."""
    if lockout:
        return lockout
    if anonymous:
        return anonymous_subject(_value(purpose), f.lockout_key(
            phone=phone, subject=subject or (person.uid if person is not None else None)))
    if person is None:
        raise ValueError("a verification counts toward someone: a person, anonymous=True or a lockout subject")
    return person.uid


def begin(svc, *, purpose, factor_name: str, flow_hash: str, offered: tuple[str, ...] = (),
          at_least: Strength | None = None, person=None, subject: str | None = None, anonymous: bool = False,
          lockout: str | None = None, phone: str | Callable[[], str | None] | None = None, **send) -> dict:
    """Start factor `factor_name` for the flow key (send a code, show a ticket) if the step offers it and
    its method is not locked. `phone`: the number to send to, or a function giving it, asked only of a
    factor that needs one (none: phone_missing_use_face). `subject`: whom a scan must match when not
    `person`. `send`: how an SMS is budgeted (proven, client, human_token; decoy: spend, send nothing).
    Returns what the client may see."""
    f = offered_factor(factor_name, offered=offered, at_least=at_least)
    if f.needs_phone:
        phone = phone() if callable(phone) else phone
        if not phone:
            raise AuthzError(E_NO_PHONE)
    else:
        phone = None
    ensure_unlocked(svc, _subject(f, purpose, person=person, subject=subject, anonymous=anonymous,
                                  lockout=lockout, phone=phone), f.method.value)
    return f.begin(svc, flow_hash, purpose=_value(purpose), person=person, phone=phone, subject=subject, **send)


class Held(ExitStack):
    """The evaluation slots one request reserved, kept until the request ends: a request that checks
    several secrets (certificate login: personal password, then certificate password) reserves every
    method before the first check, so a locked second method answers before the first says anything."""

    def __init__(self):
        super().__init__()
        self._slots: dict[tuple[str, str], object] = {}

    def reserve(self, svc, subject: str, method: str):
        if (subject, method) not in self._slots:
            self._slots[(subject, method)] = self.enter_context(reserved(svc, subject, method))
        return self._slots[(subject, method)]


_ANY = object()


def verify(svc, *, purpose, factor_name: str, flow_hash: str = "", offered: tuple[str, ...] = (),
           at_least: Strength | None = None, person=None, subject: str | None = None, anonymous: bool = False,
           lockout: str | None = None, phone: str | None = None, code: str | None = None,
           secret: str | None = None, against=None, begun=_ANY, held: Held | None = None,
           also: tuple[Method, ...] = (), same_cost: bool = False) -> Proof:
    """Check factor `factor_name` under the lockout and return the Proof, or raise: factor_not_offered;
    the factor's not-begun error when the flow began another factor (`begun`: the one it began); locked
    (423) or attempts_in_progress (429) before any check; a counted failure (then account_locked /
    code_purpose_locked once it reaches the limit); a not-yet state (scan_pending), uncounted.

    `code`: an SMS code; `secret`: a typed password or a signature; `against`: what the factor checks
    the secret against when not the person (a certificate). `phone`: in an anonymous flow, the phone the
    code went to (its lockout key). `held`/`also`: keep the reservation in the request's `Held` and
    reserve the methods `also` the request checks next, before this check. `same_cost`: a refusal still
    spends what a check costs (an anonymous caller must not tell a locked account by the answer's time)."""
    f = offered_factor(factor_name, offered=offered, at_least=at_least)
    if begun is not _ANY and begun != f.name:
        raise AuthzError(f.not_begun)
    who = _subject(f, purpose, person=person, subject=subject, anonymous=anonymous, lockout=lockout, phone=phone)
    method = f.method.value
    own = held is None
    slots = Held() if own else held
    with slots if own else nullcontext():
        try:
            counters = slots.reserve(svc, who, method)
            for m in also:
                slots.reserve(svc, who, Method(m).value)
        except AuthzError:
            if same_cost:
                f.refused(svc, secret)
            raise
        try:
            sent_to = f.complete(svc, flow_hash, purpose=_value(purpose), person=person, code=code, secret=secret,
                                 against=against)
        except AuthzError as err:
            metrics.inc("authz_verifications_total", factor=f.name, purpose=_value(purpose), outcome=err.code)
            if err.code in COUNTED:
                err.counted = True
                until = counters.fail(who, method, svc.clock.time())
                if until:
                    metrics.inc("authz_lockouts_total", method=method)
                    locked = locked_error(until, who)
                    locked.counted = True
                    raise locked from None
            raise
        metrics.inc("authz_verifications_total", factor=f.name, purpose=_value(purpose), outcome="ok")
        if f.resets:
            counters.succeed(who, method)
    return Proof(person.uid if person is not None else "", f.method, f.name, flow_hash, _value(purpose), sent_to)


# ---- reading and lifting a person's lockout (the helpdesk, issue 13): the same counters `verify` counts in

@dataclass(frozen=True)
class LockState:
    """One method's lockout as `verify` sees it now: consecutive failures in the current window, the
    limit, and the lock end when it is locked (R-LOGIN-11)."""
    method: str
    failures: int
    limit: int
    locked_until: float | None


def lockout_state(svc, uid: str) -> list[LockState]:
    """The person's own lockout of every method (`counters.METHODS`), read from the counters `verify`
    reserves in and counts to."""
    c = ports_of(svc).counters
    now = svc.clock.time()
    return [LockState(m, c.failures(uid, m, now), svc.settings.lockout_failures, c.locked_until(uid, m, now))
            for m in METHODS]


def unlock(svc, uid: str, methods: tuple[str, ...] | None = None) -> list[str]:
    """Lift the person's lock and failure count of `methods` (default every method), as a password reset
    does (R-PWD-4, through the same `Counters.unlock`); returns the methods that were locked."""
    chosen = tuple(dict.fromkeys(methods)) if methods else METHODS
    unknown = [m for m in chosen if m not in METHODS]
    if unknown:
        raise AuthzError("validation_failed", errors={"methods": list(METHODS)})
    was = [s.method for s in lockout_state(svc, uid) if s.method in chosen and s.locked_until]
    ports_of(svc).counters.unlock(uid, chosen)
    return was


def counted(err: AuthzError) -> bool:
    """Was `err` a checked and counted failure (not a refusal before any check)?"""
    return getattr(err, "counted", False)
