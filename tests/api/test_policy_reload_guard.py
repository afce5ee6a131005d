"""R-AUTHZ-4 (issue 10 finding 9): `PUT /api/v1/policy` refuses a rule file that would silently turn every
decision into deny (empty, or removing most of the rules in force) unless forced, and a field holding a
line break; after every refusal the rule file in force is unchanged."""
import pytest

DOM = "ent:91360100MA35ABCD1X"


@pytest.fixture
def world(directory):
    ent = directory.upsert_enterprise("91360100MA35ABCD1X", "示例科技有限公司", "ordinary")
    legal = directory.create_person("张三", "resident_id", "360102199001011234", uid="p-legal")
    directory.bind(legal, ent, "legal_rep", state="active", origin="registration")
    return ent


@pytest.fixture
def h(policy_key):
    return {"Authorization": f"Bearer {policy_key}"}


def _in_force(client, h):
    return client.get("/api/v1/policy", headers=h).get_json()


def _unchanged(client, h, svc, before):
    after = _in_force(client, h)
    assert after["digest"] == before["digest"] and after["source"] == before["source"]
    assert svc.enforcer.index.digest == before["digest"]
    assert svc.enforcer.can("p-legal", DOM, "biz.query", "use"), "the rule in force still decides"


def _most_removed(src: str) -> str:
    """The shipped file with all but its first five `p` lines gone (well-formed, lints clean)."""
    kept, out = 0, []
    for line in src.splitlines():
        if line.startswith("p,"):
            kept += 1
            if kept > 5:
                continue
        out.append(line)
    return "\n".join(out) + "\n"


def test_R_AUTHZ_4_empty_rule_file_is_refused(client, world, h, svc):
    """R-AUTHZ-4 (issue 10 finding 9): an empty rule file (blank, or only comments) would make every decision
    deny: refused with 409 policy_mass_removal showing the diff counts, for a dry run too; nothing changes."""
    before = _in_force(client, h)
    assert svc.enforcer.can("p-legal", DOM, "biz.query", "use")
    for source in ("\n", "# nothing left\n", "   \n\n"):
        for extra in ({}, {"dry_run": True}):
            r = client.put("/api/v1/policy", json={"source": source, **extra}, headers=h)
            assert r.status_code == 409, (source, r.get_json())
            body = r.get_json()
            assert body["code"] == "policy_mass_removal" and body["status"] == 409
            assert body["errors"]["lines_removed"] == body["errors"]["lines_in_force"] > 0
            assert body["errors"]["rules_removed"] == before["rules"] and body["errors"]["lines_added"] == 0
            assert "现行规则不变" in body["message"]
            _unchanged(client, h, svc, before)
    r = client.put("/api/v1/policy", json={"source": "\n"}, headers={**h, "Accept-Language": "en"})
    assert r.get_json()["message"].startswith("The new rule file removes")
    r = client.put("/api/v1/policy", json={"source": ""}, headers=h)
    assert r.status_code == 422
    _unchanged(client, h, svc, before)


def test_R_AUTHZ_4_file_removing_most_rules_is_refused_then_accepted_with_force(client, world, h, svc):
    """R-AUTHZ-4 (issue 10 finding 9): a file removing more than half of the lines in force is refused (409,
    counts in errors, nothing changes); the same file with `force: true` is put in force; a small change
    needs no force."""
    before = _in_force(client, h)
    narrowed = _most_removed(before["source"])
    r = client.put("/api/v1/policy", json={"source": narrowed}, headers=h)
    assert r.status_code == 409 and r.get_json()["code"] == "policy_mass_removal"
    counts = r.get_json()["errors"]
    assert counts["rules_removed"] == before["rules"] - 5 and counts["rules_added"] == 0
    assert counts["lines_removed"] * 2 > counts["lines_in_force"]
    _unchanged(client, h, svc, before)

    r = client.put("/api/v1/policy", json={"source": narrowed, "force": True}, headers=h)
    assert r.status_code == 200 and r.get_json()["applied"] is True
    assert len(r.get_json()["removed"]) == before["rules"] - 5
    assert _in_force(client, h)["rules"] == 5
    assert not svc.enforcer.can("p-legal", DOM, "biz.query", "use")

    # putting everything back adds, removes nothing: no force needed
    r = client.put("/api/v1/policy", json={"source": before["source"]}, headers=h)
    assert r.status_code == 200 and r.get_json()["removed"] == []
    assert svc.enforcer.can("p-legal", DOM, "biz.query", "use")


@pytest.mark.parametrize("bad", [
    'p, "legal_rep\nx", *, biz.query, use',
    'p, legal_rep, *, "biz.query\n", use',
    'role, tax_helper, "办税\r助手", Tax helper',
    'fn, biz.extra, use, 其他, "附加\n功能", Extra',
])
def test_R_AUTHZ_4_a_field_with_a_line_break_is_refused(client, world, h, svc, bad):
    """R-AUTHZ-4 (issue 10 finding 9): a quoted field holding a line feed or carriage return (even one csv's
    strip would hide) is refused with 422 policy_invalid and a bad_character lint error; nothing changes."""
    before = _in_force(client, h)
    for extra in ({}, {"force": True}):
        r = client.put("/api/v1/policy", json={"source": before["source"] + bad + "\n", **extra}, headers=h)
        assert r.status_code == 422, r.get_json()
        assert r.get_json()["code"] == "policy_invalid"
        assert [e["code"] for e in r.get_json()["errors"]] == ["bad_character"]
        _unchanged(client, h, svc, before)


def test_R_AUTHZ_4_a_lone_surrogate_is_refused(client, world, h, svc):
    """R-AUTHZ-4 (issue 10 finding 9): a lone surrogate (cannot be stored as UTF-8), in a field or a comment,
    is refused with 422 and the rule in force is unchanged."""
    before = _in_force(client, h)
    for bad in ('role, tax_helper, "\\ud800", Tax helper', "# note \\udfff"):
        raw = '{"source": "%s"}' % (before["source"].replace("\\", "\\\\").replace('"', '\\"')
                                    .replace("\n", "\\n") + bad.replace('"', '\\"') + "\\n")
        r = client.put("/api/v1/policy", data=raw, content_type="application/json", headers=h)
        assert r.status_code == 422, r.get_json()
        # the request guard (api/errors.refuse_bad_input) refuses it before the parser sees it
        assert r.get_json()["code"] == "validation_failed" and "surrogate" in str(r.get_json()["errors"])
        _unchanged(client, h, svc, before)


def test_issue_10_R_AUTHZ_4_reload_over_a_model_the_enforcer_ignores_is_refused(client, world, h, svc, tmp_path):
    """issue 10, R-AUTHZ-4: when the service's model.conf was edited in a way the enforcer does not honour
    (here: matcher m no longer compares actions), PUT /api/v1/policy, dry run included, answers 422
    policy_invalid with a model_not_honoured error, and the rule file in force stays."""
    from pathlib import Path
    before = _in_force(client, h)
    edited = tmp_path / "model.conf"
    edited.write_text(Path(svc.settings.model_path).read_text().replace("r.act == p.act", "true", 1))
    import dataclasses
    svc.settings = dataclasses.replace(svc.settings, model_path=str(edited))
    for body in ({"source": before["source"], "dry_run": True}, {"source": before["source"]}):
        r = client.put("/api/v1/policy", json=body, headers=h)
        assert r.status_code == 422 and r.get_json()["code"] == "policy_invalid"
        assert [e["code"] for e in r.get_json()["errors"]] == ["model_not_honoured"]
    _unchanged(client, h, svc, before)


def _one_rule_less(src: str) -> str:
    lines = src.splitlines()
    drop = next(i for i, line in enumerate(lines) if line.startswith("p, invoice_officer"))
    return "\n".join(lines[:drop] + lines[drop + 1:]) + "\n"


def test_R_AUTHZ_4_two_authors_cannot_overwrite_each_other(client, world, h, svc):
    """R-AUTHZ-4 + issue 13 (ETag / If-Match on the rule file): GET answers the digest as ETag; a PUT with
    If-Match reloads only while that digest is in force. Author A and author B both diffed against the
    same policy; A reloads first; B's reload (and B's dry run) answers 412 policy_changed naming what is in
    force, and A's file stays."""
    r = client.get("/api/v1/policy", headers=h)
    etag, source = r.headers["ETag"], r.get_json()["source"]
    assert etag == f'"{r.get_json()["digest"]}"'
    file_a = _one_rule_less(source)
    file_b = source.rstrip("\n") + "\np, invoice_officer, kind:enterprise, biz.certificate, use\n"
    a = client.put("/api/v1/policy", json={"source": file_a}, headers={**h, "If-Match": etag})
    assert a.status_code == 200, a.get_json()
    for body in ({"source": file_b}, {"source": file_b, "dry_run": True}):
        b = client.put("/api/v1/policy", json=body, headers={**h, "If-Match": etag})
        assert b.status_code == 412 and b.get_json()["code"] == "policy_changed"
        assert b.get_json()["errors"] == {"in_force": a.get_json()["digest"], "expected": etag.strip('"')}
    assert _in_force(client, h)["source"] == file_a and svc.enforcer.index.digest == a.get_json()["digest"]
    # B diffs again against what is in force now, and reloads with the new ETag
    fresh = client.get("/api/v1/policy", headers=h).headers["ETag"]
    b = client.put("/api/v1/policy", json={"source": file_b}, headers={**h, "If-Match": fresh})
    assert b.status_code == 200


def test_R_AUTHZ_4_if_match_is_checked_inside_the_install_transaction(svc, world):
    """The check and the write are one transaction (policystore.install): of two installs expecting the same
    digest, run back to back below the API, only the first lands."""
    from authz import policystore
    from authz.errors import AuthzError
    before = policystore.load_current()
    src = (svc.db.execute_sql("SELECT source FROM policy_state WHERE id = 1").fetchone()[0])
    policystore.install(svc.settings.model_path, _one_rule_less(src), by="a", expect=before.digest)
    with pytest.raises(AuthzError) as e:
        policystore.install(svc.settings.model_path, src + "\n# b\n", by="b", expect=before.digest)
    assert e.value.code == "policy_changed" and e.value.status == 412
