"""Identifiers that may enter Casbin policy fields: strict alphabets, checked before use."""
from __future__ import annotations

import re
import secrets

from .errors import AuthzError

# Roles, objects, actions, kinds: lower-case words with . _ - and one optional ':' qualifier.
TOKEN_RE = re.compile(r"^[a-z][a-z0-9_.\-]{0,62}(:[a-z0-9_\-]{1,40})?$")
# A unified social credit code (18) or a taxpayer / non-resident identity code (15-20), upper-case letters and digits.
USCC_RE = re.compile(r"^[0-9A-Z]{15,20}$")
PERSON_UID_RE = re.compile(r"^p-[a-z0-9][a-z0-9\-]{2,40}$")
# A cross-region project's management number (跨区域报验 / 跨区税源登记 管理编号): upper-case letters and digits.
# Not a policy field, but it travels in session rows and switch targets (`p:<number>`), so it is as strict.
MANAGEMENT_NO_RE = re.compile(r"^[0-9A-Z]{6,40}$")
DOMAIN_RE = re.compile(r"^(ent:[0-9A-Z]{15,20}|person:p-[a-z0-9][a-z0-9\-]{2,40})$")

ENT_PREFIX = "ent:"
PERSON_PREFIX = "person:"

_UID_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_person_uid() -> str:
    """A fresh public person id, e.g. p-k3m9x2q7w4r8."""
    return "p-" + "".join(secrets.choice(_UID_ALPHABET) for _ in range(12))


def enterprise_domain(uscc: str) -> str:
    """The Casbin domain of an enterprise."""
    return ENT_PREFIX + uscc


def person_domain(uid: str) -> str:
    """The Casbin domain of a person's personal business."""
    return PERSON_PREFIX + uid


def is_token(value: str) -> bool:
    return bool(TOKEN_RE.fullmatch(value or ""))


def check_subject(value: str) -> str:
    """A person uid, or raise invalid_identifier."""
    if not isinstance(value, str) or not PERSON_UID_RE.fullmatch(value):
        raise AuthzError("invalid_identifier", errors={"subject": ["not a person id (p-...)"]})
    return value


def check_domain(value: str) -> str:
    """A domain id (ent:<USCC> or person:<uid>), or raise invalid_identifier."""
    if not isinstance(value, str) or not DOMAIN_RE.fullmatch(value):
        raise AuthzError("invalid_identifier", errors={"domain": ["not a domain id (ent:<USCC> or person:<uid>)"]})
    return value
