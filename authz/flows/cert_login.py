"""Digital-certificate login for enterprises (R-LOGIN-9), modelled as a signed-challenge factor.

```
start (human check, account + personal password, serial + certificate password) ──> challenge
challenge (signature over the 32 random bytes) ──> choose ──> done      (one identity: straight to done)
```
* The person is named by account + personal password (one personal password serves every entry); the
  certificate replaces the SMS / app second factor. Personal-password failures count toward the method
  `password`, certificate-password and signature failures toward the method `certificate` (R-LOGIN-11).
* Unknown serials cost one argon2 verify like known ones (dummy hash); revoked or expired certificates are
  refused with certificate_revoked / certificate_expired, only after the certificate password matched.
* The challenge is 32 random bytes (standard base64) kept in the flow's private context; the client signs
  the decoded bytes. A verified flow moves on, so a replayed verify finds flow_state, and a signature made
  for another flow's challenge does not verify.
* Only the certificate's enterprise's live identities are offered (pending ones are confirmed through the
  password login); a stock person (initial password, agreement unsigned) must log in by password first.
"""
from __future__ import annotations

import base64
import secrets
from enum import Enum

from .. import accounts, audit, codes, loginlog, verification
from ..db import database
from ..errors import AuthzError, code
from ..models import Enterprise, TaxCertificate
from ..ports import ports_of
from ..ports.human import verify_once
from ..sessions import Entry, Identity
from ..vocab import Method
from .. import sessions
from . import base, certificates
from .login import (DEFAULT_ACCOUNT_TYPES, E_CHOICE, E_GENERIC, E_NO_RELATION, Step, identity_choices,
                    identity_for, password_step)

E_FIRST_LOGIN = code("certificate_login_first_password")


class CertFlowKind(str, Enum):
    CERT_LOGIN = "cert_login"


class CertState(str, Enum):
    CHALLENGE = "challenge"
    CHOOSE = "choose"
    DONE = "done"


S = CertState
MACHINE = base.Machine(CertFlowKind.CERT_LOGIN, CertState, {
    S.CHALLENGE: {S.CHOOSE, S.DONE},
    S.CHOOSE: {S.DONE},
}, terminal=frozenset({S.DONE}))
ALGORITHMS = {"sm": "ECDSA-P256-SHA256 (SM2 stand-in)", "rsa": "RSA-PKCS1v15-SHA256"}


def start(svc, *, serial: str, certificate_password: str, account: str, password: str,
          human_token: str | None = None, ip: str = "", client: str = "browser") -> Step:
    """Human check; account + personal password; certificate serial + password; then a challenge."""
    ports = ports_of(svc)
    now = svc.clock.time()
    verify_once(ports.human, ports.counters, human_token, now)  # R-LOGIN-14, one use per solved check
    cert = TaxCertificate.get_or_none(TaxCertificate.serial == (serial or ""))
    ent = Enterprise.get_by_id(cert.enterprise_id) if cert else None
    person, account_type = accounts.find_account(account, allow=DEFAULT_ACCOUNT_TYPES)
    if not accounts.can_log_in(person):
        person = None
    log = dict(entry=Entry.ENTERPRISE.value, step="certificate", factor="certificate", account_type=account_type,
               ip=ip, uscc=ent.uscc if ent else "", enterprise=ent)
    with verification.Held() as held:  # at most the limit evaluated of either method, whatever the concurrency
        password_step(svc, held, person=person, account=account, password=password, unknown_code=E_GENERIC,
                      log=log, also=(Method.CERTIFICATE,))
        try:  # its slot was reserved with the password's, in `held`
            verification.verify(svc, purpose=codes.Purpose.LOGIN, factor_name="certificate_password",
                                offered=("certificate_password",), person=person, secret=certificate_password,
                                against=cert, held=held)
        except AuthzError as err:
            loginlog.record(svc, person=person, outcome=err.code, **log)
            raise
    try:
        certificates.usable(svc, cert)
        if person.must_change_password or person.agreement_signed_at is None:
            raise AuthzError(E_FIRST_LOGIN)
    except AuthzError as err:
        loginlog.record(svc, person=person, outcome=err.code, **log)
        raise
    challenge = base64.b64encode(secrets.token_bytes(32)).decode()
    ctx = {"entry": Entry.ENTERPRISE.value, "uscc": ent.uscc, "serial": cert.serial, "challenge": challenge,
           "client": client, "ip": ip, "account_type": account_type}
    raw, flow = base.create(svc, MACHINE, S.CHALLENGE, person=person, context=ctx)
    loginlog.record(svc, person=person, outcome="ok", **log)
    return Step(dict(view(svc, flow), flow=raw))


def _cert(flow) -> TaxCertificate:
    return TaxCertificate.get(TaxCertificate.serial == flow.context["serial"])


def verify(svc, flow_id: str, signature: str) -> Step:
    """Check the signature over this flow's challenge with the certificate's public key."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.CHALLENGE)
    ctx = flow.context or {}
    cert = _cert(flow)
    person = flow.person
    log = dict(entry=ctx["entry"], step="signature", factor="certificate", account_type=ctx.get("account_type", ""),
               ip=ctx.get("ip", ""), uscc=ctx["uscc"])
    try:  # the same mechanism, and lockout, as every other counted check (R-LOGIN-11)
        verification.verify(svc, purpose=codes.Purpose.LOGIN, factor_name="certificate", offered=("certificate",),
                            flow_hash=flow.id_hash, person=person, secret=signature, against=(cert, ctx["challenge"]))
    except AuthzError as err:
        if verification.counted(err) or err.code in ("account_locked", "attempts_in_progress"):
            loginlog.record(svc, person=person, outcome=err.code, **log)
        raise
    loginlog.record(svc, person=person, outcome="ok", **log)
    flow = base.update_context(svc, flow, factor="certificate", challenge=None)
    ids = _choices(svc, flow)
    if len(ids) == 1:
        return _finish(svc, flow, identity_for(Entry.ENTERPRISE, ids[0]))
    if not ids:
        raise AuthzError(E_NO_RELATION)
    flow = base.transition(svc, MACHINE, flow, S.CHOOSE)
    return Step(view(svc, flow))


def _choices(svc, flow) -> list[dict]:
    ent = Enterprise.get_or_none(Enterprise.uscc == flow.context["uscc"])
    return identity_choices(svc, flow.person, Entry.ENTERPRISE, ent).get("identities", [])


def choose(svc, flow_id: str, choice: str) -> Step:
    """Enter as one of the listed identities (the tax officer, R-LOGIN-9)."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.CHOOSE)
    item = next((i for i in _choices(svc, flow) if i["id"] == choice), None)
    if item is None:
        raise AuthzError(E_CHOICE)
    return _finish(svc, flow, identity_for(Entry.ENTERPRISE, item))


def _finish(svc, flow, ident: Identity) -> Step:
    ctx = flow.context or {}
    with database.atomic():
        flow = base.transition(svc, MACHINE, flow, S.DONE)
        raw, row = sessions.create(svc, flow.person, ident, client=ctx.get("client", "browser"), ip=ctx.get("ip", ""),
                                   factors=("password", "certificate"))
    ent = Enterprise.get_or_none(Enterprise.uscc == ctx["uscc"])
    loginlog.record(svc, entry=ctx["entry"], step="identity", factor="certificate", person=flow.person,
                    identity=ident.role, enterprise=ent, ip=ctx.get("ip", ""), outcome="ok",
                    account_type=ctx.get("account_type", ""))
    audit.record(svc, actor=flow.person.uid, identity=ident.role, domain=ident.domain, action="login",
                 target=ident.entry.value, detail={"factor": "certificate", "entry": ident.entry.value,
                                                   "certificate": ctx["serial"]})
    return Step(view(svc, flow), session=raw, session_row=row)


def view(svc, flow) -> dict:
    """The public view: the challenge while it is to be signed, the identities while choosing."""
    state = MACHINE.state_of(flow)
    ctx = flow.context or {}
    out = {"kind": flow.kind, "state": state.value, "entry": ctx.get("entry"), "expires_at": flow.expires_at}
    if state == S.CHALLENGE:
        cert = _cert(flow)
        out.update(challenge=ctx["challenge"], algorithm=ALGORITHMS[cert.kind])
    elif state == S.CHOOSE:
        out["choices"] = _choices(svc, flow)
    return out
