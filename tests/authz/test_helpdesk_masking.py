"""What the helpdesk shows of a username and of audit rows (R-MASK-1, issue 13 helpdesk): never the full
value, for any input."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from authz.helpdesk import mask_value
from authz.masking import mask_username

USERNAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=20)


@given(USERNAMES)
def test_R_MASK_1_a_masked_username_never_contains_the_username(name):
    """R-MASK-1: at least one star, never the whole name, the same length."""
    out = mask_username(name)
    assert "*" in out and name not in out and len(out) == len(name)


@given(st.from_regex(r"\A1[3-9][0-9]{9}\Z") | st.from_regex(r"\A[0-9]{17}[0-9X]\Z")
       | st.from_regex(r"\A[0-9A-Z]{15,20}\Z"))
def test_R_MASK_1_phones_ids_and_codes_in_audit_rows_are_masked_at_any_depth(value):
    """R-MASK-1 (issue 13 helpdesk): a phone, resident ID number or USCC-like code is masked wherever it sits
    in an audit row's detail; other values pass unchanged."""
    row = {"a": value, "b": [value, {"c": value}], "n": 5, "uid": "p-legal", "ok": True}
    out = mask_value(row)
    assert value not in repr(out)
    assert out["n"] == 5 and out["uid"] == "p-legal" and out["ok"] is True
