"""Identifiers and codes are matched whole: Python's `$` also matches before a trailing newline, so every
validator at the API edge (api.schemas.Pattern) and in the core (`fullmatch`) refuses "valid\\n" — an
attacker's way to make a second spelling of an id, a USCC or a document number (R-REG-1, R-AUTHZ-3)."""
import pytest

from authz import accounts, clients, ids
from authz.accounts import id_check_char

DOM = "ent:91360100MA35ABCD1X"
RID = "36010219900101123" + id_check_char("36010219900101123")


@pytest.mark.parametrize("field,value", [("subject", "p-legal\n"), ("domain", DOM + "\n"),
                                         ("object", "biz.query\n"), ("action", "use\n"),
                                         ("identity_type", "tax_officer\n")])
def test_R_AUTHZ_2_check_refuses_a_trailing_newline_in_any_field(client, auth, field, value):
    """R-AUTHZ-2: each field of a check, with a newline appended, is a 422 naming that field."""
    body = {"subject": "p-legal", "domain": DOM, "object": "biz.query", "action": "use", field: value}
    r = client.post("/api/v1/check", json=body, headers=auth)
    assert r.status_code == 422 and field in r.get_json()["errors"]["json"], r.get_json()
    r = client.post("/api/v1/check/batch", json={"requests": [body]}, headers=auth)
    assert r.status_code == 422


def test_R_LOGIN_3_login_refuses_a_uscc_with_a_trailing_newline(client):
    """R-LOGIN-3: the enterprise entry's USCC is validated whole."""
    r = client.post("/api/v1/auth/login", json={"entry": "enterprise", "uscc": "91360100MA35ABCD1X\n",
                                                "account": "13800000001", "password": "Shui@2026ok"})
    assert r.status_code == 422 and "uscc" in r.get_json()["errors"]["json"]


def test_R_REG_1_core_validators_match_whole_values(svc):
    """R-REG-1, R-AUTHZ-3: the core refuses the newline spelling of a valid document number, id, token
    and service key, whatever the caller (CLI, integration, flows)."""
    assert accounts.document_valid("resident_id", RID)
    assert not accounts.document_valid("resident_id", RID + "\n")
    assert ids.is_token("biz.query") and not ids.is_token("biz.query\n")
    with pytest.raises(Exception):
        ids.check_subject("p-legal\n")
    with pytest.raises(Exception):
        ids.check_domain(DOM + "\n")
    _, key = clients.create("billing", scopes="check")
    assert clients.authenticate(key).name == "billing"
    with pytest.raises(Exception):
        clients.authenticate(key + "\n")
