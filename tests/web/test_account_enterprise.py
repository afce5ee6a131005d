"""The enterprise account centre in a real browser (issue 11; seed 001 §企业信息管理 and §人员权限管理, seed 003
§企业账户中心): the staff journey from the legal representative's add to the deleted tax officer's next
action, and the masked enterprise information with the audited reveal. Screenshots at 375 and 1440 px."""
from __future__ import annotations

import re
import sqlite3

import pytest

from authz import demo

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'").expect

from .conftest import copy_to_docs, shot  # noqa: E402
from .test_journeys import code_from_outbox, field_error, scan_on_the_simulator_page, start_login  # noqa: E402

# the person the legal representative adds: 冯示例, legal representative of the client enterprise, no
# identity in the main enterprise yet (so the enterprise login finds only the pending authorisation)
NEW_NAME = "冯示例"
NEW_PHONE = "13800000010"
NEW_DOC = demo.resident_id("36010219781010010")


def log_in_enterprise(page, context, phone: str) -> None:
    start_login(page, "企业业务", phone, uscc=demo.USCC_MAIN)
    page.locator("[data-test=sms-send]").click()
    page.locator("[data-test=sms-sent]").wait_for()
    page.locator("input[name=code]").fill(code_from_outbox(context, phone))
    page.locator("[data-test=sms-verify]").click()


def audit_count(served, action: str) -> int:
    with sqlite3.connect(served.db_file) as db:
        return db.execute("SELECT COUNT(*) FROM audit_log WHERE action = ?", (action,)).fetchone()[0]


def test_R_BIND_4_6_10_add_confirm_switch_delete_then_the_next_action_says_revoked(page, context, browser, served):
    """R-BIND-4 (the legal rep adds a tax officer with a narrowed function set and a validity end; an
    unregistered name is refused next to the field; the risk notice precedes submission; result pending),
    R-BIND-5 (listed as pending, withdrawable), R-BIND-6 / R-LOGIN-3 (the person logs in to the enterprise,
    finds only the pending authorisation and confirms it with the face scan on the app simulator, entering as
    tax officer), R-BIND-14 (the tax officer's menu has no staff module), R-BIND-9 (the legal rep narrows
    the set again; the officer's "my permissions" shows it at once, with the validity end), R-SW-2 (switches to the other
    enterprise and back without logging in again), R-BIND-10 (the legal rep deletes them: history
    "deleted"), and the tax officer's open page's next action returns to the login page saying the identity
    was revoked."""
    # --- the legal representative adds the person
    log_in_enterprise(page, context, "13800000001")
    page.wait_for_url("**/account")
    expect(page.locator("[data-test=current-identity]")).to_contain_text("法定代表人")
    menu = page.locator("[data-test=menu]")
    assert menu.locator("a", has_text="办税员").count() == 0  # target-dependent rules are not menu pages
    page.locator("[data-test='menu-ac.staff']").click()
    page.wait_for_url("**/account/enterprise/staff")
    table = page.locator("[data-test=staff-table]")
    expect(table).to_contain_text("**例")  # names masked (R-MASK-1)
    assert "张示例" not in table.inner_text()
    shot(page, "ent-staff")
    page.locator("[data-test=staff-add]").click()
    page.wait_for_url("**/account/enterprise/staff/add")
    form = page.locator("[data-test=staff-add-form]")
    form.locator("[data-test=staff-identity-type]").get_by_text("办税员", exact=True).click()
    boxes = form.locator("[data-test=staff-functions] .el-checkbox-group .el-checkbox")
    total = boxes.count()
    assert total > 3 and form.locator("[data-test=staff-functions] .el-checkbox-group .el-checkbox.is-checked").count() == total
    form.locator("[data-test='fn-biz.invoice_use']").click()  # narrowed: no invoices
    form.locator("[data-test=staff-validity]").get_by_text("自定义").click()
    page.locator("input[name=valid_until]").fill("2099-12-31")
    page.locator("input[name=valid_until]").press("Enter")
    page.locator("input[name=name]").fill("冯不存在")  # not this document's holder
    page.locator("input[name=doc_number]").fill(NEW_DOC)
    page.locator("[data-test=staff-add-review]").click()
    page.locator("[data-test=staff-add-submit]").click()
    expect(field_error(page, "doc_number")).to_have_text("该办税人员尚未注册")
    shot(page, "ent-staff-add-error")
    page.locator("input[name=name]").fill(NEW_NAME)
    page.locator("[data-test=staff-add-review]").click()
    review = page.locator("[data-test=staff-review]")
    expect(page.locator("[data-test=staff-risk]")).to_contain_text("涉税风险提示")
    expect(review).to_contain_text("2099-12-31")
    assert "发票使用" not in review.inner_text()
    shot(page, "ent-staff-add-review")
    page.locator("[data-test=staff-add-submit]").click()
    expect(page.locator("[data-test=staff-added]")).to_contain_text("待办税人员确认授权")
    page.locator("[data-test=staff-added-pending]").click()
    page.wait_for_url("**/account/enterprise/staff/pending")
    expect(page.locator("[data-test=pending-table]")).to_contain_text("企业添加")
    assert NEW_NAME not in page.locator("[data-test=pending-table]").inner_text()  # masked (R-MASK-1)
    assert page.locator("[data-test=pending-withdraw]").count() >= 1  # the enterprise's own adds: withdrawable
    shot(page, "ent-staff-pending")

    # --- the person logs in to the enterprise, confirms with the face scan and enters as tax officer
    ctx2 = browser.new_context(base_url=served.base, viewport={"width": 1440, "height": 900}, locale="zh-CN",
                               timezone_id="Asia/Shanghai")
    ctx2.set_default_timeout(15000)
    officer = ctx2.new_page()
    try:
        log_in_enterprise(officer, ctx2, NEW_PHONE)
        officer.get_by_role("heading", name="确认授权").wait_for()
        officer.get_by_role("button", name="人脸识别确认").click()
        ticket = officer.locator(".ticket").inner_text().strip()
        scan_on_the_simulator_page(ctx2, ticket, demo.CLIENT_LEGAL)
        officer.get_by_role("button", name="已完成人脸识别").click()
        officer.wait_for_url("**/account")
        expect(officer.locator("[data-test=current-identity]")).to_contain_text("办税员")
        assert officer.locator("[data-test='menu-ac.staff']").count() == 0  # R-BIND-14
        officer.locator("[data-test='menu-ac.ent.info.basic']").click()
        officer.wait_for_url("**/account/enterprise/info")
        expect(officer.locator("[data-test=ent-identities] .current")).to_have_text("办税员")
        assert officer.locator("[data-test=ent-tax-info]").count() == 0  # R-ENT-2: basic info only

        # the enterprise's staff list now shows the tax officer, enabled, with the narrowed set
        page.locator("[data-test='menu-ac.staff']").click()
        officer_row = page.locator("[data-test=staff-table] .el-table__body tr", has_text="2099-12-31")
        expect(officer_row).to_contain_text("已启用")
        assert "发票使用" not in officer_row.inner_text()

        # R-BIND-9: the legal rep narrows the set again (the identity type is not editable); the officer's
        # own permission detail follows at once (R-BIND-14)
        officer_row.locator("[data-test=staff-manage]").click()
        dialog = page.locator("[data-test=staff-manage-dialog]")
        expect(dialog).to_contain_text("身份类型不可修改")
        dialog.locator("[data-test='fn-biz.query']").click()
        shot(page, "ent-staff-manage")
        dialog.locator("[data-test=staff-manage-save]").click()
        expect(page.locator("[data-test=staff-notice]")).to_contain_text("修改办税人员成功")
        expect(officer_row).not_to_contain_text("我要查询")
        officer.locator("[data-test='menu-ac.self.permissions']").click()
        officer.wait_for_url("**/account/enterprise/my-permissions")
        expect(officer.locator("[data-test=perm-grant]")).to_contain_text("2099-12-31")
        granted = officer.locator("[data-test=perm-functions]").inner_text()
        assert "税费申报及缴纳" in granted and "发票使用" not in granted and "我要查询" not in granted
        shot(officer, "ent-my-permissions")

        # R-SW-2: to the other enterprise (where the person is legal rep) and back, no new login
        officer.locator("[data-test=switcher]").click()
        officer.locator("[data-test=switch-menu] li", has_text="MO2B").click()
        expect(officer.locator("[data-test=current-identity]")).to_contain_text("法定代表人")
        officer.locator("[data-test=switcher]").click()
        officer.locator("[data-test=switch-menu] li", has_text="MO1A").click()
        expect(officer.locator("[data-test=current-identity]")).to_contain_text("办税员")
        shot(officer, "ent-officer-account")

        # --- the legal representative deletes the tax officer (R-BIND-10)
        officer_row.locator("[data-test=staff-delete]").click()
        expect(page.locator("[data-test=staff-delete-dialog]")).to_contain_text("确定要删除关联关系吗？")
        shot(page, "ent-staff-delete")
        page.locator("[data-test=staff-delete-confirm]").click()
        expect(page.locator("[data-test=staff-notice]")).to_contain_text("已删除")
        expect(page.locator("[data-test=staff-table]")).not_to_contain_text("2099-12-31")
        page.locator("[data-test='menu-ac.staff.history']").click()
        page.wait_for_url("**/account/enterprise/staff/history")
        expect(page.locator("[data-test=history-table] .el-table__body tr").first).to_contain_text("已删除")
        shot(page, "ent-staff-history")

        # --- the tax officer's open page: the next action says the identity was revoked
        officer.locator("[data-test='menu-ac.ent.info.basic']").click()
        officer.wait_for_url(re.compile(r".*/login\?redirect=.*&reason=identity_revoked$"))
        expect(officer.locator("[data-test=session-lost]")).to_contain_text("您当前的身份已失效或已被撤销")
        shot(officer, "ent-officer-revoked")
    finally:
        ctx2.close()
    copy_to_docs(["ent-staff:1440", "ent-staff-add-review:1440", "ent-staff-pending:1440"])


def test_R_MASK_1_enterprise_information_masked_and_the_reveal_is_audited(page, context, served):
    """R-MASK-1 / R-ENT-1 / R-ENT-2 / R-LOG-2: the finance officer sees the enterprise information masked (USCC,
    taxpayer name, legal representative, main personnel), the basic tax information (R-ENT-2), the real-name
    status with its help; the eye icon shows the full taxpayer name, and each reveal is one audit row
    (ent.reveal); hiding it masks it again. In English too."""
    log_in_enterprise(page, context, "13800000002")
    page.wait_for_url("**/account")
    page.locator("[data-test='menu-ac.ent.info.basic']").click()
    page.wait_for_url("**/account/enterprise/info")
    name = page.locator("[data-test=ent-name]")
    expect(name).to_have_text("江西******公司")
    expect(page.locator("[data-test=ent-uscc]")).to_have_text("9136**********MO1A")
    info = page.locator("[data-test=ent-info]")
    assert "张示例" not in info.inner_text() and demo.USCC_MAIN not in page.content()
    assert "江西示例科技有限公司" not in page.content()
    personnel = page.locator("[data-test=ent-personnel]").inner_text()
    assert "**例" in personnel
    assert "13800000001" not in personnel and "138****0001" in personnel
    expect(page.locator("[data-test=ent-tax-info]")).to_contain_text("国家税务总局南昌市东湖区税务局")
    expect(page.locator("[data-test=ent-realname]")).to_have_text("已实名核验")
    page.locator("[data-test=ent-realname-help]").click()
    expect(page.locator("[data-test=ent-realname-popover]")).to_contain_text("实名等级")
    shot(page, "ent-info")
    page.keyboard.press("Escape")

    before = audit_count(served, "ent.reveal")
    page.locator("[data-test=ent-reveal]").click()
    expect(name).to_have_text("江西示例科技有限公司")
    assert audit_count(served, "ent.reveal") == before + 1
    shot(page, "ent-info-revealed")
    page.locator("[data-test=ent-reveal]").click()  # hide: masked again, nothing asked
    expect(name).to_have_text("江西******公司")
    assert audit_count(served, "ent.reveal") == before + 1
    page.locator("[data-test=ent-reveal]").click()  # each reveal is asked, and audited, again
    expect(name).to_have_text("江西示例科技有限公司")
    assert audit_count(served, "ent.reveal") == before + 2
    page.locator("[data-test=language]").click()  # the page in English: labels and identity names
    expect(page.locator("[data-test=ent-info]")).to_contain_text("Unified social credit code")
    expect(page.locator("[data-test=ent-identities] .current")).to_have_text("Finance officer")
    expect(page.locator("[data-test=ent-realname]")).to_have_text("Real name verified")
    shot(page, "ent-info-en")
    page.locator("[data-test=language]").click()  # back to Chinese for the other tests' storage
    expect(page.locator("[data-test=ent-realname]")).to_have_text("已实名核验")
    copy_to_docs(["ent-info:375", "ent-info-revealed:1440"])


def test_R_LOG_1_R_LOG_2_enterprise_logs_filtered_with_the_reveal_in_the_audit_log(page, context):
    """R-LOG-1: the legal rep's login log of the enterprise, by default the last month, filtered by identity
    type (choices named by the service) and login type; R-LOG-2: a reveal of the taxpayer name appears in
    the enterprise's audit log with who did it, masked (R-MASK-1)."""
    log_in_enterprise(page, context, "13800000001")
    page.wait_for_url("**/account")
    page.locator("[data-test='menu-ac.ent.info.basic']").click()
    page.locator("[data-test=ent-reveal]").click()
    expect(page.locator("[data-test=ent-name]")).to_have_text("江西示例科技有限公司")

    page.locator("[data-test='menu-ac.logs.enterprise']").click()
    page.wait_for_url("**/account/enterprise/logs/login")
    rows = page.locator("[data-test=login-log-table] .el-table__body tr")
    rows.first.wait_for()
    expect(page.locator("[data-test=log-range-shown]")).to_contain_text("共")
    page.locator("[data-test=log-type]").click()
    page.locator(".el-select-dropdown__item:visible", has_text="法定代表人").click()
    page.locator("[data-test=log-search]").click()
    expect(rows.first).to_contain_text("法定代表人")
    for text in rows.all_inner_texts():
        assert "法定代表人" in text and "张示例" not in text
    shot(page, "ent-login-logs")
    page.locator("[data-test=log-entry]").click()
    page.locator(".el-select-dropdown__item:visible", has_text="代理业务").click()
    page.locator("[data-test=log-search]").click()
    expect(page.locator("[data-test=login-log-table]")).to_contain_text("暂无数据")

    page.locator("[data-test='menu-ac.audit.enterprise']").click()
    page.wait_for_url("**/account/enterprise/logs/audit")
    page.locator("input[name=log_action]").fill("ent.reveal")
    page.locator("[data-test=log-search]").click()
    audit = page.locator("[data-test=audit-log-table] .el-table__body tr").first
    expect(audit).to_contain_text("ent.reveal")
    expect(audit).to_contain_text("**例")
    expect(audit).to_contain_text("法定代表人")
    shot(page, "ent-audit-log")


def test_R_BIND_5_12_7_withdraw_clear_then_confirm_a_persons_application(page, context, browser, served):
    """R-BIND-5: the legal rep adds a person as invoice officer (whole ceiling, long-term) and withdraws the add
    before they confirm; R-BIND-12: the history lists it as withdrawn, filtered by state, and "clear records"
    hides it from the list; R-BIND-7: the same person applies to the enterprise as tax officer (from their
    personal session, over the REST API: the personal pages are not built yet), the legal rep's pending list
    shows the application with confirm and refuse, and confirming makes them existing staff."""
    log_in_enterprise(page, context, "13800000001")
    page.wait_for_url("**/account")
    page.goto("/account/enterprise/staff/add")
    form = page.locator("[data-test=staff-add-form]")
    form.locator("[data-test=staff-identity-type]").get_by_text("开票员", exact=True).click()
    page.locator("input[name=name]").fill("何示例")
    page.locator("input[name=doc_number]").fill(demo.resident_id("36010219770213013"))
    page.locator("[data-test=staff-add-review]").click()
    expect(page.locator("[data-test=staff-review]")).to_contain_text("长期")
    page.locator("[data-test=staff-add-submit]").click()
    page.locator("[data-test=staff-added-pending]").click()
    row = page.locator("[data-test=pending-table] .el-table__body tr", has_text="开票员")
    row.locator("[data-test=pending-view]").click()
    expect(page.locator("[data-test=pending-permissions]")).to_contain_text("发票使用")
    page.keyboard.press("Escape")
    row.locator("[data-test=pending-withdraw]").click()
    expect(page.locator("[data-test=staff-notice]")).to_contain_text("已撤回")
    expect(page.locator("[data-test=pending-table]")).not_to_contain_text("开票员")

    page.locator("[data-test='menu-ac.staff.history']").click()
    page.wait_for_url("**/account/enterprise/staff/history")
    page.locator("[data-test=filter-status]").click()
    page.locator(".el-select-dropdown__item:visible", has_text="已撤回").click()
    page.locator("[data-test=staff-search]").click()
    withdrawn = page.locator("[data-test=history-table] .el-table__body tr", has_text="开票员")
    expect(withdrawn).to_contain_text("已撤回")
    assert "何示例" not in page.locator("[data-test=history-table]").inner_text()  # masked (R-MASK-1)
    before = page.locator("[data-test=history-table] .el-table__body tr").count()
    withdrawn.locator(".el-checkbox").click()
    page.locator("[data-test=history-clear]").click()
    expect(page.locator("[data-test=staff-notice]")).to_contain_text("已清除 1 条记录")
    expect(page.locator("[data-test=history-table] .el-table__body tr")).to_have_count(before - 1)
    shot(page, "ent-staff-history-cleared")

    # R-BIND-7: the person applies from their personal session
    ctx2 = browser.new_context(base_url=served.base, locale="zh-CN", timezone_id="Asia/Shanghai")
    ctx2.set_default_timeout(15000)
    try:
        person = ctx2.new_page()
        start_login(person, "自然人业务", "13800000013")
        person.locator("[data-test=sms-send]").click()
        person.locator("[data-test=sms-sent]").wait_for()
        person.locator("input[name=code]").fill(code_from_outbox(ctx2, "13800000013"))
        person.locator("[data-test=sms-verify]").click()
        person.wait_for_url("**/account")
        token = ctx2.request.get("/api/v1/auth/csrf").json()["token"]
        r = ctx2.request.post("/api/v1/account/person/authorisations/applications",
                              data={"uscc": demo.USCC_MAIN, "identity_type": "tax_officer"},
                              headers={"X-CSRF-Token": token, "Origin": served.base})
        assert r.status == 200, r.text()
    finally:
        ctx2.close()
    page.locator("[data-test='menu-ac.staff.pending']").click()
    page.wait_for_url("**/account/enterprise/staff/pending")
    application = page.locator("[data-test=pending-table] .el-table__body tr", has_text="个人申请")
    expect(application.locator("[data-test=pending-refuse]")).to_be_visible()
    assert application.locator("[data-test=pending-withdraw]").count() == 0  # not the enterprise's to withdraw
    shot(page, "ent-staff-application")
    application.locator("[data-test=pending-confirm]").click()
    expect(page.locator("[data-test=staff-notice]")).to_contain_text("已确认该人员的授权申请")
    expect(page.locator("[data-test=pending-table]")).not_to_contain_text("个人申请")
    page.locator("[data-test='menu-ac.staff']").click()
    page.wait_for_url("**/account/enterprise/staff")
    expect(page.locator("[data-test=staff-table]")).to_contain_text("法定代表人")
    before = page.locator("[data-test=staff-table] .el-table__body tr").count()
    page.locator("input[name=filter_name]").fill("何")  # fuzzy name filter (R-BIND-12's sibling on this list)
    page.locator("[data-test=staff-search]").click()
    expect(page.locator("[data-test=staff-table] .el-table__body tr")).to_have_count(1)
    expect(page.locator("[data-test=staff-table]")).to_contain_text("办税员")
    assert before > 1
