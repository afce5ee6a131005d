"""R-AUTHZ-2: the check endpoints' schemas take a fast path (api.schemas.FlatSchema); it must accept,
refuse and answer exactly as the ordinary marshmallow path does, for any input."""
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError

from api import schemas as s


def _ordinary(flat_cls):
    """The same fields on a plain Schema (no fast path)."""
    return Schema.from_dict(dict(flat_cls().fields))()


def _outcome(schema, fn, value):
    try:
        return "ok", fn(schema)(value)
    except ValidationError as e:
        return "error", e.messages


VALID = st.fixed_dictionaries(
    {"subject": st.sampled_from(["p-demo-officer", "p-abc", "p-x", "P-demo", "p-demo-officer\n", ""]),
     "domain": st.sampled_from(["ent:91360100MA35DEMO1A", "person:p-demo-legal", "ent:x", "kind:agency"]),
     "object": st.sampled_from(["biz.declare_pay", "ac.staff:admin", "Biz", "biz.a b"]),
     "action": st.sampled_from(["use", "delete", "", "USE"])},
    optional={"identity_type": st.sampled_from(["tax_officer", "Tax", "x" * 70]),
              "extra": st.integers()})
VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.lists(st.integers(), max_size=2))
ANY = st.one_of(VALID, st.dictionaries(st.sampled_from(["subject", "domain", "object", "action", "identity_type", "x"]),
                                       VALUES), VALUES)


@settings(max_examples=400, deadline=None)
@given(ANY)
def test_R_AUTHZ_2_flat_load_matches_marshmallow(value):
    """R-AUTHZ-2: CheckRequest's fast load returns what marshmallow returns, or the same errors."""
    flat, plain = s.CheckRequest(), _ordinary(s.CheckRequest)
    assert _outcome(flat, lambda sc: sc.load, value) == _outcome(plain, lambda sc: sc.load, value)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["allowed", "subject", "domain", "object", "action", "policy", "other"]),
                       VALUES))
def test_R_AUTHZ_2_flat_dump_matches_marshmallow(value):
    """R-AUTHZ-2: CheckResponse's fast dump gives the same document as marshmallow's."""
    flat, plain = s.CheckResponse(), _ordinary(s.CheckResponse)
    assert _outcome(flat, lambda sc: sc.dump, value) == _outcome(plain, lambda sc: sc.dump, value)


def test_R_AUTHZ_2_batch_items_take_the_same_path():
    """R-AUTHZ-2: a batch with one bad item names that item's field, as before."""
    ok = {"subject": "p-demo-officer", "domain": "ent:91360100MA35DEMO1A", "object": "biz.query", "action": "use"}
    bad = dict(ok, subject="nobody")
    try:
        s.BatchRequest().load({"requests": [ok, bad]})
    except ValidationError as e:
        assert e.messages == {"requests": {1: {"subject": ["String does not match expected pattern."]}}}
    else:
        raise AssertionError("a bad item was accepted")
    assert s.BatchRequest().load({"requests": [ok]}) == {"requests": [ok]}
