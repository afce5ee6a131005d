"""Masking of sensitive fields for every view (R-MASK-1): person names, document numbers, phones, USCCs
and enterprise names.

Every function returns a string that never contains the full value (for any input of two or more
characters) and keeps just enough to recognise one's own data. Views call these; only an explicit,
audited reveal (authz.flows.enterprise_info.reveal_name) returns a full value.

    mask_name("张三丰")                    -> "**丰"
    mask_doc("360102199001011234")         -> "36**************34"
    mask_phone("13812345678")              -> "138****5678"
    mask_uscc("91360100MA35ABCD1X")        -> "9136**********CD1X"
    mask_enterprise_name("示例科技有限公司") -> "示例****公司"
    mask_username("zhangsan01")            -> "zh*******1"
"""
from __future__ import annotations

STAR = "*"


def _keep(value: str, head: int, tail: int) -> str:
    """Keep `head` leading and `tail` trailing characters, star the rest; at least one star always."""
    n = len(value)
    if head + tail >= n:  # too short to keep that much: keep at most the last character
        head, tail = 0, (1 if n > 1 else 0)
    return value[:head] + STAR * (n - head - tail) + value[n - tail:]


def mask_name(name: str | None) -> str:
    """A person's name: only the last character shows (张三 -> *三, John Smith -> *********h)."""
    if not name:
        return ""
    return _keep(name, 0, 1)


def mask_doc(number: str | None) -> str:
    """A document number: the first two and last two characters (shorter numbers: the last one)."""
    if not number:
        return ""
    return _keep(number, 2, 2) if len(number) >= 8 else _keep(number, 0, 1)


def mask_phone(number: str | None) -> str:
    """A phone number: 138****5678 for 11 digits; otherwise the first two and last two."""
    if not number:
        return ""
    if len(number) == 11:
        return _keep(number, 3, 4)
    return _keep(number, 2, 2) if len(number) >= 7 else _keep(number, 0, 1)


def mask_uscc(code: str | None) -> str:
    """A USCC / taxpayer id / non-resident code: the first four and last four characters."""
    if not code:
        return ""
    return _keep(code, 4, 4) if len(code) >= 12 else _keep(code, 2, 2)


def mask_enterprise_name(name: str | None) -> str:
    """A taxpayer name: the first two and last two characters (short names: first and last)."""
    if not name:
        return ""
    n = len(name)
    if n >= 6:
        return _keep(name, 2, 2)
    if n >= 3:
        return _keep(name, 1, 1)
    return _keep(name, 0, 1)


def mask_username(name: str | None) -> str:
    """A username (a login key, shown to the helpdesk): the first two and the last character (short: the last)."""
    if not name:
        return ""
    return _keep(name, 2, 1) if len(name) >= 6 else _keep(name, 0, 1)


def mask_email(email: str | None) -> str:
    """An e-mail address: the first character of the local part, then the domain (a***@example.com)."""
    if not email:
        return ""
    local, at, domain = email.partition("@")
    if not at:
        return _keep(email, 1, 0) if len(email) > 1 else STAR
    return (local[:1] + STAR * max(3, len(local) - 1)) + "@" + domain
