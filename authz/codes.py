"""The one verification-code process (R-SMS-1, R-SMS-2). SMS login, registration, password reset, phone
recovery and the account centre's phone changes all use it.

A code is 6 digits from the CSPRNG, valid `code_ttl_seconds` (5 minutes), bound to a purpose and to the
flow that asked for it, tried at most `code_max_attempts` times, compared in constant time, and used at
most once: the winning submission is the one whose `UPDATE ... WHERE used_at IS NULL` changes the row, so
twenty concurrent submissions of the right code give exactly one success. Only a keyed digest of the code
is stored; the text goes out through the SMS port and nowhere else.

Before a code is sent, `spend` takes it from every budget it counts against (issue 10 finding 6, decision
in docs/login.md "SMS send caps and budgets"):

* the flow's cap (`sms_flow_max_sends` in its life, resends included), for every send;
* a send to a number the asking party has not proven as theirs (`proven=False`: registration, password
  reset, phone recovery, a new number in the account centre) first needs a human check whose token is
  spent by this send (R-LOGIN-14 port), then takes one unit of the client address's cap
  (`sms_client_quota` per `sms_client_window_minutes`), then one unit of the phone's quota *for that
  purpose* (R-SMS-1 per phone, on a key of its own);
* a send by a party who has proven something (`proven=True`: a login after the correct password, an
  account-centre step-up to the session person's own phone) takes one unit of the phone's own quota
  (R-SMS-1 as the seeds state it). Anonymous sends never spend it, so they cannot block the person's
  SMS login; proven sends are not refused by a client cap that anonymous parties behind the same
  address (a carrier NAT, an office) may have filled.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from enum import Enum

from . import metrics
from .db import database
from .errors import AuthzError, code
from .models import VerificationCode
from .counters import retry_after
from .ports import ports_of
from .ports.human import verify_once

E_CODE_WRONG = code("code_invalid")
E_CODE_EXPIRED = code("code_expired")
E_CODE_USED = code("code_used")
E_CODE_EXHAUSTED = code("code_attempts_exhausted")
E_CODE_NONE = code("code_not_requested")
E_FLOW_CAP = code("sms_flow_limit")
E_CLIENT_CAP = code("sms_client_limit")
FLOW_CAP_WINDOW = 86_400  # a flow's cap lasts longer than any flow (15 minutes, extended per step)


class Purpose(str, Enum):
    LOGIN = "login"
    REGISTER = "register"
    RESET = "reset"
    PHONE_RECOVERY = "phone_recovery"
    PHONE_CHANGE = "phone_change"
    ACCOUNT = "account"  # account-centre confirmations (password change, deregistration, ...)


TEXTS = {
    Purpose.LOGIN: "您正在登录电子税务局，验证码{code}，5分钟内有效。请勿泄露给他人。",
    Purpose.REGISTER: "您正在注册电子税务局用户，验证码{code}，5分钟内有效。请勿泄露给他人。",
    Purpose.RESET: "您正在重置电子税务局登录密码，验证码{code}，5分钟内有效。请勿泄露给他人。",
    Purpose.PHONE_RECOVERY: "您正在找回电子税务局手机号码，验证码{code}，5分钟内有效。请勿泄露给他人。",
    Purpose.PHONE_CHANGE: "您正在修改电子税务局手机号码，验证码{code}，5分钟内有效。请勿泄露给他人。",
    Purpose.ACCOUNT: "您正在电子税务局账户中心办理业务，验证码{code}，5分钟内有效。请勿泄露给他人。",
}


def _digest(code_id: int, flow_hash: str, code: str) -> str:
    """Keyed by the row and the flow, so a digest copied to another row or flow matches nothing."""
    return hmac.new(f"{code_id}|{flow_hash}".encode(), code.encode(), hashlib.sha256).hexdigest()


DECOY_DIGEST = "decoy"  # never equal to a hex HMAC-SHA256, so a decoy row verifies nothing


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def spend(svc, purpose: Purpose, flow_hash: str, phone: str, *, proven: bool = False, client: str | None = None,
          human_token: str | None = None) -> None:
    """Take one send from every budget it counts against, in this order (see the module docstring), or
    raise: human_check_failed (422), sms_flow_limit (429), sms_client_limit (429, Retry-After),
    sms_quota (429, Retry-After). Nothing is sent here. An earlier budget's unit stays spent when a
    later one refuses: the refusal is the abuse being limited."""
    try:
        _spend(svc, Purpose(purpose), flow_hash, phone, proven, client, human_token)
    except AuthzError as err:
        metrics.inc("authz_sms_refused_total", reason=err.code)
        raise


def _spend(svc, purpose: Purpose, flow_hash: str, phone: str, proven: bool, client: str | None,
           human_token: str | None) -> None:
    now = svc.clock.time()
    ports = ports_of(svc)
    st = svc.settings
    if not proven:
        verify_once(ports.human, ports.counters, human_token, now)
    if ports.counters.take(f"smsflow:{flow_hash}", st.sms_flow_max_sends, FLOW_CAP_WINDOW, now) is not None:
        raise AuthzError(E_FLOW_CAP)
    if not proven and client:
        end = ports.counters.take(f"smsip:{client}", st.sms_client_quota, st.sms_client_window_minutes * 60, now)
        if end is not None:
            raise AuthzError(E_CLIENT_CAP, headers=retry_after(end - now))
    ports.counters.take_sms(phone, now, scope="" if proven else purpose.value)


def sends_left(svc, flow_hash: str) -> int:
    """How many more codes this flow may send (AUTHZ_SMS_FLOW_MAX_SENDS): its codes on record, any purpose.
    For a flow whose sends are real (login); a decoy send leaves no row, so never show this for one."""
    sent = VerificationCode.select().where(VerificationCode.flow_hash == flow_hash).count()
    return max(0, svc.settings.sms_flow_max_sends - sent)


def issue(svc, purpose: Purpose, flow_hash: str, phone: str, *, proven: bool = False, client: str | None = None,
          human_token: str | None = None, deliver: bool = True) -> VerificationCode:
    """Send a fresh code for (purpose, flow) to `phone`; earlier unused codes of the same pair die.
    `spend` first: the caps of issue 10 finding 6 and the phone's quota (R-SMS-1), own or per purpose.

    `deliver=False` is the generic-errors decoy (a phone that is not the account's, an unknown account):
    the same budgets are spent and a code row exists with the same attempts and expiry, so every later
    answer (code_invalid, code_attempts_exhausted, code_expired) is the one a real code gives, but
    nothing is sent and no typed code can match it (its digest is not a digest)."""
    purpose = Purpose(purpose)
    now = svc.clock.time()
    ports = ports_of(svc)
    spend(svc, purpose, flow_hash, phone, proven=proven, client=client, human_token=human_token)
    code = new_code()
    with database.atomic():
        (VerificationCode.update(superseded=True)
         .where((VerificationCode.flow_hash == flow_hash) & (VerificationCode.purpose == purpose.value)
                & VerificationCode.used_at.is_null()).execute())
        row = VerificationCode.create(purpose=purpose.value, flow_hash=flow_hash, phone=phone, code_digest="",
                                      max_attempts=svc.settings.code_max_attempts, created_at=now,
                                      expires_at=now + svc.settings.code_ttl_seconds)
        row.code_digest = _digest(row.id, flow_hash, code) if deliver else DECOY_DIGEST
        row.save()
        if deliver:
            ports.sms.send(phone, TEXTS[purpose].format(code=code))
    metrics.inc("authz_sms_sent_total", purpose=purpose.value)
    return row


def verify(svc, purpose: Purpose, flow_hash: str, code: str) -> VerificationCode:
    """Consume the current code of (purpose, flow) if `code` matches; else raise a code_* error.
    The caller counts a failure toward the lockout (R-SMS-2 -> R-LOGIN-11)."""
    purpose = Purpose(purpose)
    now = svc.clock.time()
    row = (VerificationCode.select()
           .where((VerificationCode.flow_hash == flow_hash) & (VerificationCode.purpose == purpose.value)
                  & (VerificationCode.superseded == False))  # noqa: E712
           .order_by(VerificationCode.id.desc()).first())
    if row is None:
        raise AuthzError(E_CODE_NONE)
    if row.used_at is not None:
        raise AuthzError(E_CODE_USED)
    if row.expires_at <= now:
        raise AuthzError(E_CODE_EXPIRED)
    # one attempt taken atomically before comparing: the cap holds under concurrency
    took = (VerificationCode.update(attempts=VerificationCode.attempts + 1)
            .where((VerificationCode.id == row.id) & (VerificationCode.attempts < VerificationCode.max_attempts)
                   & VerificationCode.used_at.is_null()).execute())
    if took != 1:
        fresh = VerificationCode.get_by_id(row.id)
        raise AuthzError(E_CODE_USED if fresh.used_at is not None else E_CODE_EXHAUSTED)
    given = code if isinstance(code, str) and len(code) == 6 and code.isdigit() else "------"
    if not hmac.compare_digest(row.code_digest, _digest(row.id, flow_hash, given)):
        raise AuthzError(E_CODE_WRONG)
    won = (VerificationCode.update(used_at=now)
           .where((VerificationCode.id == row.id) & VerificationCode.used_at.is_null()).execute())
    if won != 1:
        raise AuthzError(E_CODE_USED)
    return row
