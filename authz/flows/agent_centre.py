"""The agent's account centre (R-AGT-5): an agent acting for a client enterprise sees the client's basic
information and their own permissions in that client (exactly what the agreement grants, nothing more),
and switches between clients and to personal business (authz.flows.identity_switch, R-SW-5).

Both views are functions the enforcer decides for the session's current identity (`ac.agent.client_info`,
`ac.agent.permissions`, view); the domain is the session's client, never one from the request."""
from __future__ import annotations

from ..actor import Actor, require
from ..masking import mask_enterprise_name, mask_uscc
from ..models import Agreement
from .enterprise_info import _basic
from .staff import enterprise_of, identity_label

CLIENT_INFO = "ac.agent.client_info"
PERMISSIONS = "ac.agent.permissions"


def client_info(svc, actor: Actor) -> dict:
    """The client's basic information (masked), as the agent sees it."""
    require(svc, actor, CLIENT_INFO, "view")
    ent = enterprise_of(actor)
    return {**_basic(svc, actor, ent), "scope": "agent"}


def my_permissions(svc, actor: Actor) -> dict:
    """The agent's permissions in the current client: the live agreements naming them, with the business
    functions each grants (labels from the rule file's catalogue) and the service window."""
    require(svc, actor, PERMISSIONS, "view")
    enterprise_of(actor)
    now = svc.clock.time()
    functions = svc.enforcer.index.functions
    out = []
    for g in svc.enforcer.grants.grants(actor.uid, actor.domain):
        if g.role != actor.role or not g.source.startswith("agreement:") or not g.live(now):
            continue
        ag = Agreement.get_or_none(Agreement.number == g.source.split(":", 1)[1])
        if ag is None:
            continue
        out.append({"agreement": ag.number, "agency": mask_enterprise_name(ag.agency.name),
                    "agency_uscc": mask_uscc(ag.agency.uscc), "start": str(ag.start), "end": str(ag.end),
                    "status": ag.status,
                    "functions": [{"object": f, "label_zh": functions[f].zh if f in functions else f,
                                   "label_en": functions[f].en if f in functions else f}
                                  for f in sorted(g.functions or ())]})
    return {**identity_label(svc, actor.role), "agreements": out}
