"""Login on every entry (R-LOGIN-1..6, R-LOGIN-10..12, R-LOGIN-14, R-PWD-2) as flows over stored rows."""
from __future__ import annotations

import datetime as dt

import pytest

from authz import sessions
from authz.clock import SHANGHAI
from authz.errors import AuthzError
from authz.factors.app_scan import confirm_face as confirm
from authz.flows import base, login
from authz.models import Binding, CrossRegionProject, Enterprise, LoginLog, LoginSession, Phone, ScanTicket
from authz.ports import ports_of
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import AGENCY, CLIENT, PASSWORD, USCC, last_code, make_person, rid


def sms_login(svc, flow_id, phone):
    login.begin_factor(svc, flow_id, "sms")
    return login.complete_factor(svc, flow_id, "sms", last_code(phone))


def err(fn, *a, **kw) -> AuthzError:
    with pytest.raises(AuthzError) as e:
        fn(*a, **kw)
    return e.value


# ---- natural person (R-LOGIN-1, R-LOGIN-2)
@pytest.mark.parametrize("account", ["13800000004", rid("36010220000404004"), "zhaoliu01"])
def test_R_LOGIN_1_personal_login_by_id_number_phone_or_username(svc, world, account):
    """R-LOGIN-1: ID number, phone or username + password, then SMS: a personal session in person:<uid>."""
    world["plain"].username = "zhaoliu01"
    world["plain"].save()
    st = login.start(svc, entry="personal", account=account, password=PASSWORD)
    assert st.view["state"] == "second_factor" and st.session is None
    done = sms_login(svc, st.view["flow"], "13800000004")
    row = sessions.resolve(svc, done.session)
    assert (row.entry, row.domain, row.role) == ("personal", "person:p-plain", "self")
    assert row.enterprise_allowed is False  # R-SW-3


def test_R_LOGIN_2_sms_goes_to_the_typed_phone_else_to_the_default(svc, world, directory):
    """R-LOGIN-2: a phone typed as the account receives the code; an ID number or username sends it to
    the default phone. Any of the person's phones logs in (R-PHONE-1)."""
    Phone.create(person=world["plain"], number="13900000009", is_default=False, created_at=svc.clock.time())
    st = login.start(svc, entry="personal", account="13900000009", password=PASSWORD)
    assert login.begin_factor(svc, st.view["flow"], "sms")["phone"] == "139****0009"
    st = login.start(svc, entry="personal", account=rid("36010220000404004"), password=PASSWORD)
    assert login.begin_factor(svc, st.view["flow"], "sms")["phone"] == "138****0004"


def test_R_LOGIN_12_messages_of_the_manuals(svc, world):
    """R-LOGIN-12: unknown phone, unregistered user, wrong password and empty phone have their own text."""
    e = err(login.start, svc, entry="personal", account="13711112222", password=PASSWORD)
    assert e.code == "phone_not_found" and e.message() == "手机号码不存在，您可以尝试使用证件号码登录"
    e = err(login.start, svc, entry="personal", account=rid("11010119990101001"), password=PASSWORD)
    assert e.code == "not_registered" and e.message() == "该用户未注册，请在自然人业务入口进行用户注册"
    assert err(login.start, svc, entry="personal", account="13800000004", password="Wrong@2026x").code == "password_wrong"
    Phone.delete().where(Phone.person == world["plain"]).execute()
    st = login.start(svc, entry="personal", account=rid("36010220000404004"), password=PASSWORD)
    e = err(login.begin_factor, svc, st.view["flow"], "sms")
    assert e.code == "phone_empty" and e.message().startswith("您的手机号为空，请您通过扫码验证方式登录系统")
    assert st.view["sms_phone"] is None


def test_R_LOGIN_12_generic_setting_gives_one_answer(svc, world):
    """R-LOGIN-12 decision: with generic_login_errors the three failures are one code and one text."""
    svc.settings = svc.settings.with_(generic_login_errors=True)
    codes = {err(login.start, svc, entry="personal", account=a, password="Wrong@2026x").code
             for a in ("13711112222", rid("11010119990101001"), "13800000004")}
    assert codes == {"login_failed"}


def test_R_LOGIN_12_unknown_account_costs_one_argon2_verify_like_a_wrong_password(svc, world, directory):
    """R-LOGIN-12 / R-PWD-5: no timing oracle. Every path does exactly one argon2 verification: unknown
    account, wrong password, right password, stock person on the initial password, and a locked account."""
    hasher = ports_of(svc).hasher
    make_person(svc, directory, "存量", rid("36010219700707007"), uid="p-stock", stock=True, phones=["13800000007"])

    def cost(**kw):
        before = hasher.verifications
        try:
            login.start(svc, **kw)
        except AuthzError:
            pass
        return hasher.verifications - before

    assert cost(entry="personal", account="13711112222", password="Wrong@2026x") == 1
    assert cost(entry="personal", account="nosuchuser1", password="Wrong@2026x") == 1
    assert cost(entry="personal", account="13800000004", password="Wrong@2026x") == 1
    assert cost(entry="personal", account="13800000004", password=PASSWORD) == 1
    assert cost(entry="personal", account="13800000007", password=rid("36010219700707007")[-6:]) == 1
    for _ in range(4):
        cost(entry="personal", account="13800000004", password="Wrong@2026x")
    assert cost(entry="personal", account="13800000004", password=PASSWORD) == 1  # locked now


# ---- lockout (R-LOGIN-11)
def fail_password(svc, account="13800000004", n=1):
    out = None
    for _ in range(n):
        out = err(login.start, svc, entry="personal", account=account, password="Wrong@2026x")
    return out


def test_R_LOGIN_11_five_password_failures_lock_until_next_midnight(svc, world, clock):
    """R-LOGIN-11: the 5th consecutive failure in a day locks the account until next Shanghai midnight;
    the right password is refused meanwhile; at midnight it works again."""
    assert fail_password(svc, n=4).code == "password_wrong"
    e = fail_password(svc)
    assert e.code == "account_locked" and e.status == 423 and "2026-03-03 00:00" in e.message()
    assert err(login.start, svc, entry="personal", account="13800000004", password=PASSWORD).code == "account_locked"
    clock.set(dt.datetime(2026, 3, 2, 23, 59, 59, tzinfo=SHANGHAI))
    assert err(login.start, svc, entry="personal", account="13800000004", password=PASSWORD).code == "account_locked"
    clock.set(dt.datetime(2026, 3, 3, 0, 0, 0, tzinfo=SHANGHAI))
    assert login.start(svc, entry="personal", account="13800000004", password=PASSWORD).view["state"] == "second_factor"


def test_R_LOGIN_11_failures_are_counted_per_day_and_reset_by_success(svc, world, clock):
    """R-LOGIN-11: four failures yesterday and one today do not lock; a success resets the count."""
    fail_password(svc, n=4)
    clock.advance(hours=14)  # 2026-03-03 00:00
    assert fail_password(svc).code == "password_wrong"
    fail_password(svc, n=3)  # 4 today
    login.start(svc, entry="personal", account="13800000004", password=PASSWORD)  # success resets
    assert fail_password(svc, n=4).code == "password_wrong"


def test_R_LOGIN_11_methods_count_separately(svc, world):
    """R-LOGIN-11 decision: password and SMS-code failures count separately; five wrong codes lock the
    SMS method only (the password still works, the SMS factor is refused)."""
    fail_password(svc, n=4)
    st = login.start(svc, entry="personal", account="13800000004", password=PASSWORD)
    fid = st.view["flow"]
    login.begin_factor(svc, fid, "sms")
    code = last_code("13800000004")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for i in range(4):
        assert err(login.complete_factor, svc, fid, "sms", wrong).code == "code_invalid"
    assert err(login.complete_factor, svc, fid, "sms", wrong).code == "account_locked"
    assert err(login.complete_factor, svc, fid, "sms", code).code == "account_locked"
    assert err(login.begin_factor, svc, fid, "sms").code == "account_locked"
    st = login.start(svc, entry="personal", account="13800000004", password=PASSWORD)  # password unaffected
    # the face scan is another method and still works
    t = login.begin_factor(svc, st.view["flow"], "taxapp")
    confirm(svc, t["ticket"], app="taxapp", person_uid="p-plain")
    assert login.complete_factor(svc, st.view["flow"], "taxapp").session


def test_R_LOGIN_11_withholding_variant_locks_for_120_minutes(svc, world, clock):
    """R-LOGIN-11 decision: lockout_mode=minutes locks for lockout_minutes (120) instead of until midnight."""
    svc.settings = svc.settings.with_(lockout_mode="minutes")
    svc.ports = None  # rebuilt from the new settings
    fail_password(svc, n=5)
    clock.advance(minutes=119)
    assert err(login.start, svc, entry="personal", account="13800000004", password=PASSWORD).code == "account_locked"
    clock.advance(minutes=1)
    assert login.start(svc, entry="personal", account="13800000004", password=PASSWORD).view["state"] == "second_factor"


# ---- second factors by app scan (R-LOGIN-8)
def test_R_LOGIN_8_tax_app_face_scan_needs_no_app_login_iit_app_does(svc, world):
    """R-LOGIN-8: a tax-app face scan works without an app login; the IIT app needs one first."""
    st = login.start(svc, entry="personal", account="13800000004", password=PASSWORD)
    fid = st.view["flow"]
    t = login.begin_factor(svc, fid, "iitapp")
    assert err(confirm, svc, t["ticket"], app="iitapp", person_uid="p-plain").code == "app_login_required"
    assert err(login.complete_factor, svc, fid, "iitapp").code == "scan_pending"
    confirm(svc, t["ticket"], app="iitapp", person_uid="p-plain", app_login=True)
    assert login.complete_factor(svc, fid, "iitapp").session
    st = login.start(svc, entry="personal", account="13800000004", password=PASSWORD)
    t = login.begin_factor(svc, st.view["flow"], "taxapp")
    assert err(confirm, svc, t["ticket"], app="iitapp", person_uid="p-plain", app_login=True).code == "app_mismatch"
    confirm(svc, t["ticket"], app="taxapp")
    assert login.complete_factor(svc, st.view["flow"], "taxapp").session


def test_R_LOGIN_11_face_mismatch_counts_toward_the_face_lockout(svc, world):
    """R-LOGIN-11: a face that does not match is a failure of the face method."""
    for i in range(5):
        st = login.start(svc, entry="personal", account="13800000004", password=PASSWORD)
        t = login.begin_factor(svc, st.view["flow"], "taxapp")
        confirm(svc, t["ticket"], app="taxapp", person_uid="p-legal")  # someone else's face
        e = err(login.complete_factor, svc, st.view["flow"], "taxapp")
        assert e.code == ("face_mismatch" if i < 4 else "account_locked")
    st = login.start(svc, entry="personal", account="13800000004", password=PASSWORD)
    assert err(login.begin_factor, svc, st.view["flow"], "taxapp").code == "account_locked"


# ---- enterprise identity resolution (R-LOGIN-3)
def test_R_LOGIN_3_one_identity_enters_directly(svc, world):
    """R-LOGIN-3: one identity in the enterprise -> in, as that identity."""
    st = login.start(svc, entry="enterprise", account="13800000002", password=PASSWORD, uscc=USCC)
    done = sms_login(svc, st.view["flow"], "13800000002")
    assert done.view["state"] == "done"
    row = sessions.resolve(svc, done.session)
    assert (row.domain, row.role, row.entry) == (f"ent:{USCC}", "tax_officer", "enterprise")


def test_R_LOGIN_3_several_identities_choose_one(svc, world):
    """R-LOGIN-3: several identities -> choose; an identity not offered is refused."""
    st = login.start(svc, entry="enterprise", account="zhangsan01", password=PASSWORD, uscc=USCC)
    step = sms_login(svc, st.view["flow"], "13800000001")
    assert step.view["state"] == "choose" and step.session is None
    assert {c["identity_type"] for c in step.view["choices"]} == {"legal_rep", "finance_officer"}
    assert err(login.choose, svc, st.view["flow"], "b999").code == "choice_invalid"
    fo = next(c for c in step.view["choices"] if c["identity_type"] == "finance_officer")
    done = login.choose(svc, st.view["flow"], fo["id"])
    assert sessions.resolve(svc, done.session).role == "finance_officer"


def test_R_LOGIN_3_pending_only_cannot_act_before_confirming(svc, world):
    """R-LOGIN-3: only a pending identity -> confirm first. Before confirming there is no session and the
    enforcer grants nothing; choosing without confirming is refused; after confirming the binding is active."""
    dom = f"ent:{USCC}"
    st = login.start(svc, entry="enterprise", account="13800000003", password=PASSWORD, uscc=USCC)
    fid = st.view["flow"]
    step = sms_login(svc, fid, "13800000003")
    assert step.view["state"] == "confirm_pending" and step.session is None
    assert [p["identity_type"] for p in step.view["pending"]] == ["tax_officer"]
    assert LoginSession.select().where(LoginSession.person == world["pending"]).count() == 0
    assert not svc.enforcer.can("p-pending", dom, "biz.declare_pay", "use")
    assert err(login.choose, svc, fid, step.view["pending"][0]["id"]).code == "flow_state"
    t = login.confirm_pending(svc, fid, step.view["pending"][0]["id"], "taxapp")
    assert err(login.verify_confirm, svc, fid).code == "scan_pending"  # R-BIND-6: nothing before the face
    assert Binding.get(Binding.person == world["pending"]).state == "pending"
    confirm(svc, t["ticket"], app="taxapp", person_uid="p-pending")
    done = login.verify_confirm(svc, fid)
    row = sessions.resolve(svc, done.session)
    assert row.role == "tax_officer" and svc.enforcer.can("p-pending", dom, "biz.declare_pay", "use")
    assert Binding.get_by_id(row.binding_id).state == "active"


def test_R_LOGIN_3_no_relation(svc, world):
    """R-LOGIN-3: no identity in the enterprise -> 未查询到您与该企业的关联关系 (also for an unknown USCC)."""
    for uscc in (USCC, "91360100MA35NOSUCH"):
        st = login.start(svc, entry="enterprise", account="13800000004", password=PASSWORD, uscc=uscc)
        login.begin_factor(svc, st.view["flow"], "sms")
        e = err(login.complete_factor, svc, st.view["flow"], "sms", last_code("13800000004"))
        assert e.code == "no_relation" and e.message() == "未查询到您与该企业的关联关系"


# ---- agent, special subject, non-resident (R-LOGIN-4..6)
def test_R_LOGIN_5_agent_sees_only_clients_with_an_active_agreement_naming_them(svc, world, directory):
    """R-LOGIN-5: the list holds clients whose active agreement covers today and names the agent; an
    expired or ended agreement lists nothing; entering gives a tax_agent session in the client."""
    other = directory.upsert_enterprise("91360100MA35OTHER1", "过期客户", "ordinary")
    today = svc.clock.today()
    directory.file_agreement("AG-OLD", world["agency"], other, [world["agent"]], today - dt.timedelta(days=60),
                             today - dt.timedelta(days=1), ["biz.query"])
    st = login.start(svc, entry="agent", account="13800000005", password=PASSWORD, uscc=AGENCY)
    step = sms_login(svc, st.view["flow"], "13800000005")
    assert step.view["state"] == "choose"
    assert [c["id"] for c in step.view["choices"]] == ["AG-001"]
    done = login.choose(svc, st.view["flow"], "AG-001")
    row = sessions.resolve(svc, done.session)
    assert (row.entry, row.domain, row.role, row.agreement) == ("agent", f"ent:{CLIENT}", "tax_agent", "AG-001")
    # the agreement ends: the session is refused at once, and a new login lists nothing
    client = Enterprise.get(Enterprise.uscc == CLIENT)
    directory.file_agreement("AG-001", world["agency"], client, [world["agent"]], today - dt.timedelta(days=30),
                             today + dt.timedelta(days=30), ["biz.query"], status="ended")
    assert err(sessions.resolve, svc, done.session).code == "identity_revoked"
    st = login.start(svc, entry="agent", account="13800000005", password=PASSWORD, uscc=AGENCY)
    assert sms_login(svc, st.view["flow"], "13800000005").view["choices"] == []


def test_R_LOGIN_4_special_subject_projects_by_identity(svc, world, directory):
    """R-LOGIN-4: legal rep / finance officer / main tax officer see all projects of the type; a
    sub-identity tax officer only those naming them as handler; query by the last 4 digits."""
    ent = world["ent"]
    sub = make_person(svc, directory, "孙八", rid("36010219880808008"), uid="p-sub", phones=["13800000008"])
    directory.bind(sub, ent, "tax_officer", state="active", origin="core_tax", sub_identity=True)
    now = svc.clock.time()
    for no, handler in (("BY360100202600011234", sub), ("BY360100202600025678", None), ("BY360100202600031234", None)):
        CrossRegionProject.create(management_no=no, kind="inspection", enterprise=ent, name="项目" + no[-4:],
                                  region="南昌", handler=handler, created_at=now)
    CrossRegionProject.create(management_no="SY360100202600049999", kind="tax_source", enterprise=ent,
                              created_at=now)
    st = login.start(svc, entry="special", account="13800000001", password=PASSWORD, uscc=USCC,
                     special_type="inspection")
    step = sms_login(svc, st.view["flow"], "13800000001")
    assert [c["id"] for c in step.view["choices"]] == ["BY360100202600011234", "BY360100202600025678",
                                                       "BY360100202600031234"]
    assert [c["id"] for c in login.load_view(svc, st.view["flow"], "1234")["choices"]] == [
        "BY360100202600011234", "BY360100202600031234"]
    row = sessions.resolve(svc, login.choose(svc, st.view["flow"], "BY360100202600025678").session)
    assert (row.entry, row.role, row.project) == ("special", "legal_rep", "BY360100202600025678")
    st = login.start(svc, entry="special", account="13800000008", password=PASSWORD, uscc=USCC,
                     special_type="inspection")
    step = sms_login(svc, st.view["flow"], "13800000008")
    assert [c["id"] for c in step.view["choices"]] == ["BY360100202600011234"]
    assert err(login.choose, svc, st.view["flow"], "BY360100202600025678").code == "choice_invalid"


def test_R_LOGIN_6_nonresident_login_by_code_with_email_phone_or_username(svc, world, directory):
    """R-LOGIN-6: non-resident enterprise identity code + email, phone or username; not an ID number."""
    ent = directory.upsert_enterprise("91360100MA35NONRES", "境外非居民公司", "nonresident",
                                      nonresident_code="FJM20260001000001")
    p = make_person(svc, directory, "John Smith", "E12345678", uid="p-overseas", phones=["13800000009"],
                    username="johnsmith1", doc_type="foreign_passport")
    p.email = "john@example.com"
    p.save()
    directory.bind(p, ent, "tax_officer", state="active", origin="core_tax")
    for account in ("john@example.com", "13800000009", "johnsmith1"):
        st = login.start(svc, entry="nonresident", account=account, password=PASSWORD,
                         nonresident_code="FJM20260001000001")
        row = sessions.resolve(svc, sms_login(svc, st.view["flow"], "13800000009").session)
        assert (row.entry, row.domain, row.role) == ("nonresident", "ent:91360100MA35NONRES", "tax_officer")
    assert err(login.start, svc, entry="nonresident", account="E12345678", password=PASSWORD,
               nonresident_code="FJM20260001000001").code == "not_registered"


# ---- stock persons (R-PWD-2, R-LOGIN-10)
def test_R_PWD_2_R_LOGIN_10_stock_person_signs_and_changes_password_before_anything(svc, world, directory):
    """R-PWD-2, R-LOGIN-10: a stock person logs in with the last 6 characters of the document number, then
    must sign the agreement and change the password before entering; the initial password then dies."""
    doc = rid("36010219700707007")
    p = make_person(svc, directory, "存量", doc, uid="p-stock", stock=True, phones=["13800000007"])
    directory.bind(p, world["ent"], "tax_officer", state="active", origin="core_tax")
    st = login.start(svc, entry="enterprise", account=doc, password=doc[-6:], uscc=USCC)
    fid = st.view["flow"]
    step = sms_login(svc, fid, "13800000007")
    assert step.view["state"] == "sign_agreement" and step.session is None
    assert err(login.change_password, svc, fid, "Xin@2026ab", "Xin@2026ab").code == "flow_state"
    assert err(login.choose, svc, fid, "b1").code == "flow_state"
    assert login.sign_agreement(svc, fid).view["state"] == "change_password"
    assert err(login.change_password, svc, fid, "short", "short").code == "password_length"
    assert err(login.change_password, svc, fid, "Xin@2026ab", "Xin@2026ac").code == "password_mismatch"
    done = login.change_password(svc, fid, "Xin@2026ab", "Xin@2026ab")
    assert sessions.resolve(svc, done.session).role == "tax_officer"
    assert err(login.start, svc, entry="enterprise", account=doc, password=doc[-6:], uscc=USCC).code == "password_wrong"
    assert login.start(svc, entry="enterprise", account=doc, password="Xin@2026ab", uscc=USCC).view["flow"]


# ---- human check (R-LOGIN-14)
def test_R_LOGIN_14_human_check_precedes_the_password(svc, world):
    """R-LOGIN-14: with the hmac adapter a login without a valid slider token is refused before the
    account is even looked at (no hint, no argon2 work)."""
    from authz.ports.human import HmacToken
    svc.settings = svc.settings.with_(human_check="hmac", human_check_secret="slider-secret")
    svc.ports = None
    before = ports_of(svc).hasher.verifications
    for token in (None, "1.2.3", HmacToken("other").sign(int(svc.clock.time()), "n1")):
        assert err(login.start, svc, entry="personal", account="13711112222", password="x",
                   human_token=token).code == "human_check_failed"
    assert ports_of(svc).hasher.verifications == before
    token = HmacToken("slider-secret").sign(int(svc.clock.time()), "n2")
    assert login.start(svc, entry="personal", account="13800000004", password=PASSWORD, human_token=token).view["flow"]
    # a solved check buys one login attempt: replaying its token is refused like none (issue 10 finding 6)
    assert err(login.start, svc, entry="personal", account="13800000004", password=PASSWORD,
               human_token=token).code == "human_check_failed"


# ---- the flow as a stored state machine
def test_login_flow_steps_cannot_be_skipped_replayed_or_used_after_expiry(svc, world, clock):
    """Issue 3 item 5: a step is refused outside its state, a finished flow cannot be replayed, an expired
    flow is dead, an unknown id is unknown, and the flow row never holds the id itself."""
    st = login.start(svc, entry="enterprise", account="zhangsan01", password=PASSWORD, uscc=USCC)
    fid = st.view["flow"]
    assert err(login.choose, svc, fid, "b1").code == "flow_state"
    assert err(login.sign_agreement, svc, fid).code == "flow_state"
    sms_login(svc, fid, "13800000001")
    login.choose(svc, fid, "b1")
    assert err(login.choose, svc, fid, "b1").code == "flow_state"
    assert err(login.load_view, svc, "azf_nope").code == "flow_not_found"
    from authz.models import Flow
    assert not Flow.select().where(Flow.id_hash == fid).exists()
    st = login.start(svc, entry="personal", account="13800000004", password=PASSWORD)
    clock.advance(minutes=svc.settings.flow_ttl_minutes)
    assert err(login.begin_factor, svc, st.view["flow"], "sms").code == "flow_expired"


def test_login_flow_transition_refuses_unknown_and_skipped_states(svc, world):
    """Issue 3 item 5: the one transition function rejects a state outside the machine and a jump."""
    st = login.start(svc, entry="personal", account="13800000004", password=PASSWORD)
    flow = base.load(svc, login.MACHINE, st.view["flow"])
    with pytest.raises(AuthzError):
        base.transition(svc, login.MACHINE, flow, base.FlowKind.LOGIN)  # not a LoginState
    flow.state = "nonsense"
    with pytest.raises(AuthzError):
        base.transition(svc, login.MACHINE, flow, login.LoginState.DONE)


def test_R_LOG_1_every_attempt_is_logged_without_secrets(svc, world):
    """R-LOG-1 data: failures and successes are logged with entry, account type, step, factor, identity,
    enterprise and outcome; no password, code or session id appears anywhere in the rows."""
    fail_password(svc)
    st = login.start(svc, entry="enterprise", account="13800000002", password=PASSWORD, uscc=USCC)
    login.begin_factor(svc, st.view["flow"], "sms")
    code = last_code("13800000002")
    done = login.complete_factor(svc, st.view["flow"], "sms", code)
    rows = list(LoginLog.select().order_by(LoginLog.id))
    assert [(r.step, r.outcome) for r in rows] == [("password", "password_wrong"), ("password", "ok"),
                                                    ("factor", "ok"), ("identity", "ok")]
    last = rows[-1]
    assert (last.entry, last.account_type, last.factor, last.identity, last.uscc) == (
        "enterprise", "phone", "sms", "tax_officer", USCC)
    dump = repr([r.__data__ for r in rows])
    for secret in (PASSWORD, "Wrong@2026x", code, done.session, st.view["flow"]):
        assert secret not in dump
