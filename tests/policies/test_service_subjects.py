"""Lint of the rule file's service lines (issue 10, R-AUTHZ-4): what a calling service may do is policy data,
`p, service:<scope>, <domain>, svc.<function>, <action>` (as shipped: which identity types' bindings the tax
hall adds, withdraws and ends, R-BIND-3). A service subject names a real key scope, holds only svc.
functions, and no identity type or session entry reaches svc. functions."""

import pytest

from authz import policy as pol

from tests.policies.support import SHIPPED
from tests.policies.support import lint_codes as _errors


def test_R_AUTHZ_4_the_hall_lines_are_in_the_shipped_rule_file():
    """R-AUTHZ-4, R-BIND-3 (issue 10): the former HALL_ROLES tuple is nine p lines of service:hall."""
    index = pol.parse(SHIPPED)
    hall = {(r.obj, r.act) for r in index.rules if r.role == "service:hall"}
    assert hall == {(f"svc.binding:{t}", a) for t in ("tax_officer", "invoice_officer", "admin")
                    for a in ("add", "withdraw", "end")}
    assert "service:hall" not in index.roles
    assert ("p", ["service:hall", "kind:enterprise", "svc.binding:admin", "add"]) in index.casbin_lines()


def test_R_AUTHZ_4_a_service_subject_must_name_a_key_scope():
    """R-AUTHZ-4 (issue 10): a misspelt scope is an error that names the scopes (a typo would otherwise
    silently grant nothing)."""
    with pytest.raises(pol.PolicyInvalid) as exc:
        pol.parse(SHIPPED + "p, service:hal, kind:enterprise, svc.binding:admin, add\n")
    (e,) = exc.value.errors
    assert e.code == "unknown_service" and "did you mean 'hall'" in e.message
    assert e.line == len(SHIPPED.splitlines()) + 1


def test_R_AUTHZ_1_svc_functions_are_for_services_only():
    """R-AUTHZ-1 (issue 10): an identity type cannot hold an svc. function, a service cannot hold an
    account-centre or business function, and no p2 line lets a session entry reach svc. functions."""
    assert _errors(SHIPPED + "p, admin, kind:enterprise, svc.binding:admin, add\n") == ["service_function"]
    assert _errors(SHIPPED + "p, service:hall, kind:enterprise, ac.staff:admin, add\n") == ["service_function"]
    assert _errors(SHIPPED + "p, service:hall, kind:enterprise, biz.query, use\n") == ["service_function"]
    assert _errors(SHIPPED + "p2, enterprise, svc.*, *\n") == ["service_function"]
    assert _errors(SHIPPED + "p2, enterprise, svc.binding:admin, add\n") == ["service_function"]
    assert _errors(SHIPPED + "role, service:hall, 办税服务厅, Hall\n") == ["bad_identifier"]
