"""Display labels for what a person chooses between (login identity choice, the header's switcher): the
identity type's name from the rule file's catalogue (`role` lines) and the taxpayer name and USCC masked
as seed 001 shows them in the switcher (R-SW-1, R-MASK-1). So a front end names identities without a
table of role names of its own (issue 11)."""
from __future__ import annotations

from authz.masking import mask_enterprise_name, mask_uscc

from .errors import language

LISTS = ("choices", "pending", "identities", "enterprises", "projects", "clients")
ONES = ("identity", "current", "personal")


def _label(item: dict, roles: dict, lang: str) -> dict:
    out = dict(item)
    role = roles.get(item.get("identity_type") or "")
    if role is not None:
        out["identity_label"] = role.en if lang == "en" else role.zh
    if item.get("enterprise"):
        out["enterprise_masked"] = mask_enterprise_name(item["enterprise"])
    domain = item.get("domain") or ""
    if domain.startswith("ent:"):
        out["uscc_masked"] = mask_uscc(domain[4:])
    return out


def labelled(view: dict) -> dict:
    """`view` with each choice / option / identity it holds labelled (a copy; other keys untouched)."""
    from flask import current_app
    roles = current_app.extensions["authz"].enforcer.index.roles
    lang = language()
    out = dict(view)
    for key in LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_label(i, roles, lang) if isinstance(i, dict) else i for i in out[key]]
    for key in ONES:
        if isinstance(out.get(key), dict):
            item = out[key]
            domain = item.get("domain") or ""
            if domain.startswith("ent:") and not item.get("enterprise"):  # the current identity names no enterprise
                from authz.models import Enterprise
                ent = Enterprise.get_or_none(Enterprise.uscc == domain[4:])
                item = dict(item, enterprise=ent.name) if ent else item
            out[key] = _label(item, roles, lang)
    return out
