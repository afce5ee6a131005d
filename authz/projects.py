"""Cross-region projects (跨区域报验 inspection projects, 跨区税源登记 tax-source registrations) and who may
be in one (R-LOGIN-4, R-SW-4). The rows come from the core tax system through the integration port
(`flows/integration.file_project`); login, switching and every session check read them here, so a
project that ends (or stops naming its handler) is gone from the lists and refuses the sessions inside
it at once, the way an ended agreement does (R-AGT-2, R-AUTHZ-5).

Legal rep, finance officer and a main tax officer see every project of their enterprise; a sub-identity
tax officer only the projects naming them as handler.
"""
from __future__ import annotations

from .models import Binding
from .models_login import CrossRegionProject

KINDS = ("inspection", "tax_source")
STATUSES = ("active", "ended")
MAIN_ROLES = ("legal_rep", "finance_officer", "tax_officer")  # R-LOGIN-4: who sees every project


def sees_all(binding: Binding) -> bool:
    """A main identity (legal rep, finance officer, main tax officer) sees every project."""
    return binding.role in MAIN_ROLES and not binding.sub_identity


def is_handler_identity(binding: Binding) -> bool:
    """A sub-identity tax officer: sees only the projects naming them as handler."""
    return binding.role == "tax_officer" and bool(binding.sub_identity)


def open_to(person_id: int, binding_id: int | None, domain: str, management_no: str) -> bool:
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
    return sees_all(b) or (is_handler_identity(b) and p.handler_id == person_id)
