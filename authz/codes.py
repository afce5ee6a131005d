"""The one verification-code process (R-SMS-1, R-SMS-2). SMS login, registration, password reset, phone
recovery and the account centre's phone changes all use it.

A code is 6 digits from the CSPRNG, valid `code_ttl_seconds` (5 minutes), bound to a purpose and to the
flow that asked for it, tried at most `code_max_attempts` times, compared in constant time, and used at
most once: the winning submission is the one whose `UPDATE ... WHERE used_at IS NULL` changes the row, so
twenty concurrent submissions of the right code give exactly one success. Only a keyed digest of the code
is stored; the text goes out through the SMS port and nowhere else.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from enum import Enum

from .db import database
from .errors import AuthzError, register
from .models_login import VerificationCode
from .ports import ports_of

E_CODE_WRONG = register("code_invalid", 422, "验证码错误", "The verification code is wrong")
E_CODE_EXPIRED = register("code_expired", 422, "验证码已失效，请重新获取", "The verification code has expired; request a new one")
E_CODE_USED = register("code_used", 422, "验证码已使用，请重新获取", "The verification code was already used; request a new one")
E_CODE_EXHAUSTED = register("code_attempts_exhausted", 422, "验证码错误次数过多，请重新获取",
                            "Too many wrong attempts for this code; request a new one")
E_CODE_NONE = register("code_not_requested", 422, "请先获取验证码", "Request a verification code first")


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


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def issue(svc, purpose: Purpose, flow_hash: str, phone: str) -> VerificationCode:
    """Send a fresh code for (purpose, flow) to `phone`; earlier unused codes of the same pair die.
    Takes one unit of the phone's SMS quota first (R-SMS-1)."""
    purpose = Purpose(purpose)
    now = svc.clock.time()
    ports = ports_of(svc)
    ports.counters.take_sms(phone, now)
    code = new_code()
    with database.atomic():
        (VerificationCode.update(superseded=True)
         .where((VerificationCode.flow_hash == flow_hash) & (VerificationCode.purpose == purpose.value)
                & VerificationCode.used_at.is_null()).execute())
        row = VerificationCode.create(purpose=purpose.value, flow_hash=flow_hash, phone=phone, code_digest="",
                                      max_attempts=svc.settings.code_max_attempts, created_at=now,
                                      expires_at=now + svc.settings.code_ttl_seconds)
        row.code_digest = _digest(row.id, flow_hash, code)
        row.save()
        ports.sms.send(phone, TEXTS[purpose].format(code=code))
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
