"""Tax digital certificates: certificate login as a signed challenge (R-LOGIN-9) and the account centre's
certificate list and password change (R-CERT-1)."""
from __future__ import annotations


import pytest

from authz.errors import AuthzError
from authz.flows import cert_login, certificates
from authz.models import AuditLog
from authz.ports import ports_of
from tests.cert_support import CERT_PASSWORD, SUBJECT, new_key, pem, sign, validity
from tests.login_support import *  # noqa: F401,F403  (cheap argon2 settings, world)
from tests.login_support import AGENCY, PASSWORD, USCC
from tests.person_support import err, expected, in_enterprise


def file_cert(svc, serial: str, key, kind: str = "sm", uscc: str = USCC, status: str = "active", **span):
    start, end = validity(svc, **span)
    return certificates.file(svc, by="service:ca", serial=serial, uscc=uscc, kind=kind, subject=SUBJECT,
                             public_key=pem(key), valid_from=start, valid_to=end, password=CERT_PASSWORD,
                             status=status)


def begin(svc, serial="CERT001", account="13800000002", cert_password=CERT_PASSWORD, password=PASSWORD):
    return cert_login.start(svc, serial=serial, certificate_password=cert_password, account=account,
                            password=password)


@pytest.mark.parametrize("kind", ["sm", "rsa"])
def test_R_LOGIN_9_certificate_login_signs_the_challenge_and_opens_a_session(svc, world, kind):
    """R-LOGIN-9: account + personal password + certificate password, then the signed challenge; a person
    with one identity enters at once as that identity (the tax officer)."""
    key = new_key(kind)
    file_cert(svc, "CERT001", key, kind)
    step = begin(svc)
    assert step.view["state"] == "challenge" and len(__import__("base64").b64decode(step.view["challenge"])) == 32
    done = cert_login.verify(svc, step.view["flow"], sign(key, step.view["challenge"]))
    assert done.view["state"] == "done" and done.session.startswith("azs_")
    assert (done.session_row.role, done.session_row.domain, done.session_row.entry) == (
        "tax_officer", f"ent:{USCC}", "enterprise")
    row = AuditLog.select().where(AuditLog.action == "login").order_by(AuditLog.id.desc()).first()
    assert row.detail["factor"] == "certificate"


def test_R_LOGIN_9_person_with_several_identities_chooses(svc, world):
    """R-LOGIN-9: after the signature the person chooses among their live identities in the enterprise."""
    key = new_key("sm")
    file_cert(svc, "CERT001", key)
    step = begin(svc, account="13800000001")
    fid = step.view["flow"]
    chosen = cert_login.verify(svc, fid, sign(key, step.view["challenge"]))
    assert chosen.view["state"] == "choose" and chosen.session is None
    assert {c["identity_type"] for c in chosen.view["choices"]} == {"legal_rep", "finance_officer"}
    pick = next(c["id"] for c in chosen.view["choices"] if c["identity_type"] == "finance_officer")
    done = cert_login.choose(svc, fid, pick)
    assert done.session_row.role == "finance_officer"
    assert err(cert_login.choose, svc, fid, pick).code == "flow_state"


def test_R_LOGIN_9_wrong_signature_refused(svc, world):
    """R-LOGIN-9: a signature by another key, or garbage, does not verify."""
    file_cert(svc, "CERT001", new_key("sm"))
    step = begin(svc)
    assert err(cert_login.verify, svc, step.view["flow"], sign(new_key("sm"), step.view["challenge"])).code == \
        "certificate_signature_invalid"
    assert err(cert_login.verify, svc, step.view["flow"], "not base64!").code == "certificate_signature_invalid"


def test_R_LOGIN_9_challenge_of_one_flow_does_not_verify_in_another(svc, world):
    """R-LOGIN-9: the challenge is bound to its flow: flow A's signed challenge is refused in flow B."""
    key = new_key("sm")
    file_cert(svc, "CERT001", key)
    a, b = begin(svc), begin(svc)
    assert a.view["challenge"] != b.view["challenge"]
    assert err(cert_login.verify, svc, b.view["flow"], sign(key, a.view["challenge"])).code == \
        "certificate_signature_invalid"
    assert cert_login.verify(svc, b.view["flow"], sign(key, b.view["challenge"])).view["state"] == "done"


def test_R_LOGIN_9_replayed_verify_refused(svc, world):
    """R-LOGIN-9: a verified flow has moved on; sending the same signature again opens nothing."""
    key = new_key("sm")
    file_cert(svc, "CERT001", key)
    step = begin(svc)
    sig = sign(key, step.view["challenge"])
    cert_login.verify(svc, step.view["flow"], sig)
    assert err(cert_login.verify, svc, step.view["flow"], sig).code == "flow_state"


def test_R_LOGIN_9_wrong_certificate_password_counts_toward_the_lockout(svc, world):
    """R-LOGIN-9 / R-LOGIN-11: five wrong certificate passwords lock the method `certificate`; even the
    right one is then refused. The personal password is counted separately."""
    file_cert(svc, "CERT001", new_key("sm"))
    limit = svc.settings.lockout_failures
    for _ in range(limit - 1):
        assert err(begin, svc, cert_password="Wrong@2026x").code == "certificate_invalid"
    assert err(begin, svc, cert_password="Wrong@2026x").code == "account_locked"
    assert err(begin, svc).code == "account_locked"
    counters = ports_of(svc).counters
    assert counters.locked_until("p-officer", "certificate", svc.clock.time())
    assert not counters.locked_until("p-officer", "password", svc.clock.time())


def test_R_LOGIN_11_certificate_login_reserves_before_it_verifies(svc, world):
    """R-LOGIN-11 (issue 10 finding 4) on certificate login: with the limit of `certificate` checks in
    flight elsewhere, start and verify are refused 429 attempts_in_progress before any verify; with the
    `password` slots taken, start is refused too; a refused start releases what it had reserved."""
    key = new_key("sm")
    file_cert(svc, "CERT001", key)
    step = begin(svc)  # a flow to verify later, made while the slots were free
    counters, hasher, now = ports_of(svc).counters, ports_of(svc).hasher, svc.clock.time()
    limit = svc.settings.lockout_failures
    for method in ("certificate", "password"):
        for _ in range(limit):
            assert counters.reserve("p-officer", method, now) is None  # other workers' checks in flight
        before = hasher.verifications
        assert err(begin, svc).code == "attempts_in_progress"
        assert hasher.verifications - before == 1  # only the dummy verify: the same cost, nothing evaluated
        if method == "certificate":
            assert err(cert_login.verify, svc, step.view["flow"], sign(key, step.view["challenge"])).code == \
                "attempts_in_progress"
        for _ in range(limit):
            counters.release("p-officer", method)
    done = cert_login.verify(svc, step.view["flow"], sign(key, step.view["challenge"]))
    assert done.view["state"] == "done"


def test_R_LOGIN_11_five_bad_signatures_lock_the_certificate_method(svc, world):
    """R-LOGIN-11 / R-LOGIN-9: bad signatures count toward `certificate` under the reservation; the fifth
    locks (423), and then a correct start is refused before its verify."""
    file_cert(svc, "CERT001", new_key("sm"))
    limit = svc.settings.lockout_failures
    codes = [err(cert_login.verify, svc, begin(svc).view["flow"], "AAAA").code for _ in range(limit)]
    assert codes == ["certificate_signature_invalid"] * (limit - 1) + ["account_locked"]
    assert err(begin, svc).code == "account_locked"


def test_R_LOGIN_12_unknown_account_on_certificate_login_locks_like_a_known_one(svc, world):
    """R-LOGIN-12 decision / R-LOGIN-11: with generic errors an unknown account through certificate login
    goes through the same password step as password login: counted under a subject derived from the
    account string, so the fifth answer is 423 for it as for a real account; without them it is
    login_failed, uncounted."""
    file_cert(svc, "CERT001", new_key("sm"))
    limit = svc.settings.lockout_failures
    assert {err(begin, svc, account="13899999999").code for _ in range(limit + 1)} == {"login_failed"}
    svc.settings = svc.settings.with_(generic_login_errors=True)
    for account in ("13899999998", "13800000002"):
        codes = [err(begin, svc, account=account, password="Wrong@2026x").code for _ in range(limit)]
        assert codes == ["login_failed"] * (limit - 1) + ["account_locked"], (account, codes)


def test_R_LOGIN_9_unknown_serial_costs_a_hash_and_counts(svc, world):
    """R-LOGIN-9: an unknown serial answers like a wrong certificate password (one argon2 verify each)."""
    hasher = ports_of(svc).hasher
    before = hasher.verifications
    assert err(begin, svc, serial="NOSUCH").code == "certificate_invalid"
    assert hasher.verifications - before == 2  # the personal password and the (dummy) certificate password


def test_R_LOGIN_9_wrong_personal_password_refused(svc, world):
    """R-LOGIN-9: the personal password is still required and counted as a password failure."""
    file_cert(svc, "CERT001", new_key("sm"))
    assert err(begin, svc, password="Wrong@2026x").code == "password_wrong"


@pytest.mark.parametrize("status,span,code", [
    ("revoked", {}, "certificate_revoked"),
    ("active", {"days_before": 400, "days_after": -1}, "certificate_expired"),
    ("active", {"days_before": -2, "days_after": 30}, "certificate_expired"),
])
def test_R_LOGIN_9_revoked_or_expired_certificate_refused(svc, world, status, span, code):
    """R-LOGIN-9: a revoked certificate, or one outside its validity, is refused with a stable code."""
    file_cert(svc, "CERT001", new_key("sm"), status=status, **span)
    assert err(begin, svc).code == code


def test_R_LOGIN_9_certificate_revoked_between_steps_refused(svc, world):
    """R-LOGIN-9: a revocation filed while the challenge is out is honoured at verify."""
    key = new_key("sm")
    file_cert(svc, "CERT001", key)
    step = begin(svc)
    file_cert(svc, "CERT001", key, status="revoked")
    assert err(cert_login.verify, svc, step.view["flow"], sign(key, step.view["challenge"])).code == \
        "certificate_revoked"


def test_R_LOGIN_9_filing_checks_key_kind_and_owner(svc, world):
    """R-LOGIN-9: an sm certificate needs a P-256 key; a serial never moves to another enterprise."""
    assert err(file_cert, svc, "CERT001", new_key("rsa"), "sm").code == "certificate_key_invalid"
    key = new_key("sm")
    assert file_cert(svc, "CERT001", key)["changed"] is True
    assert file_cert(svc, "CERT001", key)["changed"] is False
    assert err(file_cert, svc, "CERT001", key, uscc=AGENCY).code == "certificate_other_enterprise"


# ---- R-CERT-1
def test_R_CERT_1_list_is_masked_and_scoped_to_the_enterprise(svc, world):
    """R-CERT-1: the enterprise's SM and non-SM certificates, subject masked; another's are not listed."""
    file_cert(svc, "CERT001", new_key("sm"))
    file_cert(svc, "CERT002", new_key("rsa"), "rsa")
    file_cert(svc, "CERT009", new_key("sm"), uscc=AGENCY)
    actor = in_enterprise(svc, world["officer"], USCC, "tax_officer")
    rows = certificates.list_certificates(svc, actor)
    assert [(r["serial"], r["kind"]) for r in rows] == [("CERT001", "sm"), ("CERT002", "rsa")]
    for r in rows:
        assert SUBJECT not in str(r) and "*" in r["subject"] and r["state"] == "valid"
        assert "password" not in str(r).lower() and "PUBLIC KEY" not in str(r)


def test_R_CERT_1_change_password_with_policy_and_audit(svc, world):
    """R-CERT-1: old password checked, policy applied, audited without the password; the new one logs in."""
    key = new_key("sm")
    file_cert(svc, "CERT001", key)
    actor = in_enterprise(svc, world["officer"], USCC, "tax_officer")
    assert err(certificates.change_password, svc, actor, "CERT001", "Wrong@2026x", "New@2026cert").code == \
        "certificate_password_wrong"
    weak = err(certificates.change_password, svc, actor, "CERT001", CERT_PASSWORD, "short")
    assert weak.code.startswith("password_")
    assert certificates.change_password(svc, actor, "CERT001", CERT_PASSWORD, "New@2026cert")["changed"] is True
    row = AuditLog.select().where((AuditLog.action == "certificate.change_password")
                                  & (AuditLog.outcome == "ok")).get()
    assert row.target == "cert:CERT001" and row.actor == "p-officer"
    dump = " ".join(str((a.detail, a.target)) for a in AuditLog.select())
    assert "New@2026cert" not in dump and CERT_PASSWORD not in dump
    assert err(begin, svc).code == "certificate_invalid"
    assert begin(svc, cert_password="New@2026cert").view["state"] == "challenge"


def test_R_CERT_1_forbidden_where_the_rules_say_so(svc, world, directory):
    """R-CERT-1: who may view and change is read from the enforcer (e.g. the invoice officer)."""
    file_cert(svc, "CERT001", new_key("sm"))
    directory.bind(world["plain"], world["ent"], "invoice_officer", state="active", origin="enterprise")
    actor = in_enterprise(svc, world["plain"], USCC, "invoice_officer")
    if expected(svc, "enterprise", "invoice_officer", "ac.cert", "view"):
        assert certificates.list_certificates(svc, actor)
    else:
        assert err(certificates.list_certificates, svc, actor).code == "forbidden"
    if expected(svc, "enterprise", "invoice_officer", "ac.cert", "change_password"):
        certificates.change_password(svc, actor, "CERT001", CERT_PASSWORD, "New@2026cert")
    else:
        assert err(certificates.change_password, svc, actor, "CERT001", CERT_PASSWORD, "New@2026cert").code == \
            "forbidden"
    assert not expected(svc, "enterprise", "invoice_officer", "ac.cert", "view")  # the rule file as of today


def test_R_CERT_1_another_enterprises_serial_is_not_found(svc, world):
    """R-CERT-1: a serial of another enterprise answers like a missing one."""
    file_cert(svc, "CERT009", new_key("sm"), uscc=AGENCY)
    actor = in_enterprise(svc, world["officer"], USCC, "tax_officer")
    assert err(certificates.change_password, svc, actor, "CERT009", CERT_PASSWORD, "New@2026cert").code == \
        "not_found"
    assert err(certificates.change_password, svc, actor, "NOSUCH", CERT_PASSWORD, "New@2026cert").code == "not_found"


def test_R_CERT_1_migration_step_5_adds_the_certificate_table(svc, world):
    """R-CERT-1: a database at step 4 upgrades to the certificate table with its rows intact."""
    from authz import migrations
    from authz.models import Person
    svc.db.execute_sql("DROP TABLE tax_certificate")
    migrations.models.SchemaVersion.delete().where(migrations.models.SchemaVersion.version >= 5).execute()
    assert migrations.upgrade(svc.db) == [s[0] for s in migrations.STEPS if s[0] >= 5]  # 5 and any later step
    assert svc.db.table_exists("tax_certificate") and Person.get(Person.uid == "p-officer")
    file_cert(svc, "CERT001", new_key("sm"))


def test_R_LOGIN_11_certificate_password_change_reserves_before_it_verifies(svc, world):
    """R-LOGIN-11 (issue 10 finding 4) on R-CERT-1: with the limit of certificate checks in flight, the old
    certificate password is not even evaluated (429 attempts_in_progress)."""
    file_cert(svc, "CERT001", new_key("sm"))
    actor = in_enterprise(svc, world["officer"], USCC, "tax_officer")
    counters, hasher, now = ports_of(svc).counters, ports_of(svc).hasher, svc.clock.time()
    for _ in range(svc.settings.lockout_failures):
        assert counters.reserve(actor.uid, "certificate", now) is None
    before = hasher.verifications
    assert err(certificates.change_password, svc, actor, "CERT001", "Wrong@2026x", "New@2026cert").code == \
        "attempts_in_progress"
    assert hasher.verifications == before
