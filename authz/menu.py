"""The menu of a login session: which account-centre areas and functions, and which business functions,
the session's current identity may reach, with the catalogue's labels (issue 11).

Every entry is decided by `authz.actor.allowed` (the identity's ceiling and function set AND the business
entry's p2 scope), so a front end that draws its menus from this answer needs no role names, identity
types or permission lists of its own. A special subject gets the switcher only (R-LOGIN-4, R-SW-4)."""
from __future__ import annotations

from . import actor as actor_mod
from .policy import AC_PREFIX, BIZ_PREFIX


def menu(svc, actor: actor_mod.Actor, lang: str = "zh") -> dict:
    """Areas (catalogue groups of ac.* functions, in catalogue order) and business functions allowed now."""
    areas: dict[str, dict] = {}
    business: list[dict] = []
    for f in svc.enforcer.index.functions.values():
        if not f.obj.startswith((AC_PREFIX, BIZ_PREFIX)):
            continue
        acts = [a for a in f.actions if actor_mod.allowed(svc, actor, f.obj, a)]
        if not acts:
            continue
        item = {"object": f.obj, "actions": acts, "label": f.en if lang == "en" else f.zh,
                "label_zh": f.zh, "label_en": f.en}
        index = svc.enforcer.index
        if f.obj.startswith(BIZ_PREFIX):
            business.append(dict(item, group=f.group, group_label=index.group_label(f.group, lang)))
        else:
            areas.setdefault(f.group, {"group": f.group, "label": index.group_label(f.group, lang),
                                       "functions": []})["functions"].append(item)
    return {"entry": actor.entry.value, "areas": list(areas.values()), "business": business,
            "policy": svc.enforcer.index.digest[:12]}
