"""Cross-region projects (跨区域报验 inspection projects, 跨区税源登记 tax-source registrations) and who may
be in one (R-LOGIN-4, R-SW-4). The rows come from the core tax system through the integration port
(`flows/integration.file_project`); login, switching and every session check read them here, so a
project that ends (or stops naming its handler) is gone from the lists and refuses the sessions inside
it at once, the way an ended agreement does (R-AGT-2, R-AUTHZ-5).

Who sees every project of their enterprise is the rule file's `ac.special.projects_all, view` (legal rep,
finance officer and main tax officer as shipped); a sub-identity tax officer sees only the projects naming
them as handler.
"""
from __future__ import annotations

from .models import Binding, CrossRegionProject

KINDS = ("inspection", "tax_source")
STATUSES = ("active", "ended")
SEE_ALL = ("ac.special.projects_all", "view")  # policies/rules.csv: who sees every project of the enterprise
# Which identity a person who sees every project acts as when they hold several: presentation, not a grant.
ACTING_ORDER = ("legal_rep", "finance_officer", "tax_officer")


def acting_rank(binding: Binding) -> int:
    return ACTING_ORDER.index(binding.role) if binding.role in ACTING_ORDER else len(ACTING_ORDER)


def sees_all(svc, uid: str, binding: Binding) -> bool:
    """Does this binding see every project of its enterprise? The rule file says which identity types do
    (SEE_ALL); a sub-identity never does (R-LOGIN-4)."""
    return not binding.sub_identity and svc.enforcer.can(uid, binding.domain, *SEE_ALL, binding.role)


def is_handler_identity(binding: Binding) -> bool:
    """A sub-identity (the handler named in a cross-region report): sees only the projects naming them."""
    return bool(binding.sub_identity)


def open_to(svc, uid: str, person_id: int, binding_id: int | None, domain: str, management_no: str) -> bool:
    """May a session of this person, acting through this binding in `domain`, still be in the project?
    Active, of that enterprise, and naming the person unless the binding sees every project. (That the
    binding itself is still live is the enforcer's answer, asked separately.)"""
    if binding_id is None:
        return False
    p = CrossRegionProject.get_or_none(CrossRegionProject.management_no == management_no)
    if p is None or p.status != "active":
        return False
    b = Binding.get_or_none(Binding.id == binding_id)
    if b is None or b.person_id != person_id or b.domain != domain or b.enterprise_id != p.enterprise_id:
        return False
    return sees_all(svc, uid, b) or (is_handler_identity(b) and p.handler_id == person_id)
