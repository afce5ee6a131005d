"""Journeys of the login portal's QR login and self-service pages in a real browser against `authz serve --demo`
(issue 11): QR login completed on the development app simulator page (R-LOGIN-7), with its expiry and refresh
and the business the app was logged in to; registration → first login (R-REG-1); forgot password (R-PWD-4);
phone recovery (R-PHONE-7). The persons these journeys change are registered here, in the browser, so the
demo persons the other journeys use keep their passwords and phones. Screenshots at 375 and 1440 px."""
from __future__ import annotations

import re
import sqlite3

import pytest

from authz import demo
from authz.accounts import id_check_char

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'").expect

from .conftest import copy_to_docs, shot  # noqa: E402
from .test_journeys import code_from_outbox, field_error, start_login  # noqa: E402

NEW_PASSWORD = "Reg#2026pass"


def rid(prefix17: str) -> str:
    return prefix17 + id_check_char(prefix17)


def open_simulator(page, context, link: str = "[data-test=open-simulator]"):
    """The page's development link opens the app simulator with the ticket filled in."""
    with context.expect_page() as opened:
        page.locator(link).click()
    sim = opened.value
    sim.locator("[data-test=scan]").wait_for()
    return sim


def scan(sim, person: str | None = None, app: str = "taxapp", uscc: str | None = None,
         identity_type: str | None = None) -> None:
    if person:
        sim.locator("input[name=person]").fill(person)
    if app == "iitapp":
        sim.get_by_text("个人所得税APP扫码", exact=True).click()
    if uscc:
        sim.locator("[data-test=business-enterprise]").click()
        sim.locator("input[name=uscc]").fill(uscc)
        sim.locator("input[name=identity_type]").fill(identity_type or "")
    sim.locator("[data-test=scan]").click()


def qr_ticket(page) -> str:
    img = page.locator("[data-test=qr-panel] [data-test=qr-code]")
    img.wait_for()
    assert img.get_attribute("src").startswith("data:image/svg+xml")  # drawn, not only printed
    return img.get_attribute("data-value")


def register(page, context, name: str, doc17: str, phone: str, username: str | None = None) -> str:
    """Register a new person through the wizard (seed 003 §用户注册 第三步..第九步), face scan on the simulator
    page; returns the document number."""
    doc = rid(doc17)
    page.goto("/login")
    page.locator("[data-test=link-register]").click()
    page.wait_for_url("**/register")
    page.locator("[data-test=agreement]").click()
    page.locator("[data-test=next]").click()
    page.locator("input[name=name]").fill(name)
    page.locator("input[name=doc_number]").fill(doc)
    page.locator("input[name=doc_number]").press("Enter")
    page.locator("input[name=password]").fill(NEW_PASSWORD)
    page.locator("input[name=confirm_password]").fill(NEW_PASSWORD)
    page.locator("input[name=phone]").fill(phone)
    page.locator("[data-test=sms-send]").click()
    page.locator("[data-test=sms-sent]").wait_for()
    page.locator("input[name=code]").fill(code_from_outbox(context, phone))
    if username:
        page.locator("input[name=username]").fill(username)
    page.locator("input[name=code]").press("Enter")
    page.locator("[data-test=show-face]").click()
    sim = open_simulator(page, context)
    scan(sim)  # no person id: the registrant's own face, as `authz dev scan TICKET` shows it
    expect(sim.locator("[data-test=scan-result]")).to_contain_text("confirmed")
    sim.close()
    page.locator("[data-test=face-done]").click()
    expect(page.locator("[data-test=register-done]")).to_contain_text("注册完成")
    return doc


def test_R_LOGIN_7_qr_login_expires_refreshes_and_completes_on_the_simulator(page, context, served):
    """R-LOGIN-7 (seed 003 §扫码登录): the login page draws the QR ticket and polls it; when the ticket's life
    is over the page says so and a refresh shows a new ticket (the old one no longer scans); the tax app,
    logged in to personal business, scans the new one on the simulator page; the page logs in to personal
    business."""
    page.goto("/login")
    page.locator("[data-test=mode-qr]").click()
    first = qr_ticket(page)
    expect(page.locator("[data-test=qr-countdown]")).to_contain_text(re.compile(r"二维码 \d+ 秒后过期"))
    shot(page, "login-qr")
    with sqlite3.connect(served.db_file) as db:  # the ticket's life ends (qr_ticket_seconds) without waiting
        db.execute("UPDATE scan_ticket SET expires_at = 0 WHERE ticket = ?", (first,))
    expect(page.locator("[data-test=qr-expired]")).to_contain_text("二维码已过期")
    shot(page, "login-qr-expired")
    page.locator("[data-test=qr-refresh]").focus()
    page.keyboard.press("Enter")  # keyboard only
    expect(page.locator("[data-test=qr-expired]")).to_have_count(0)
    second = qr_ticket(page)
    assert second != first

    sim = open_simulator(page, context)
    assert sim.locator("input[name=ticket]").input_value() == second
    sim.locator("input[name=ticket]").fill(first)  # the expired ticket does not scan any more
    scan(sim, demo.LEGAL)
    expect(field_error(sim, "ticket")).to_contain_text(re.compile("过期|失效"))
    sim.locator("input[name=ticket]").fill(second)
    scan(sim, demo.LEGAL)
    expect(sim.locator("[data-test=scan-result]")).to_contain_text("confirmed")
    shot(sim, "dev-app-simulator-qr")
    sim.close()
    page.wait_for_url("**/account")
    expect(page.locator("[data-test=current-identity]")).to_contain_text("本人")
    assert context.request.get("/api/v1/account/session").json()["entry"] == "personal"
    copy_to_docs(["login-qr:375", "login-qr-expired:375"])


def test_R_LOGIN_7_a_tax_app_in_enterprise_business_logs_the_page_in_to_enterprise_business(page, context):
    """R-LOGIN-7 (seed 003 §江西税务APP扫码登录 说明): the tax app logged in to enterprise business as the legal
    representative scans: the page enters enterprise business as the legal representative. The IIT app is
    personal only: told to scan in enterprise business it is refused next to the app choice."""
    page.goto("/login")
    page.locator("[data-test=mode-qr]").click()
    qr_ticket(page)
    sim = open_simulator(page, context)
    scan(sim, demo.LEGAL, app="iitapp", uscc=demo.USCC_MAIN, identity_type="legal_rep")
    expect(field_error(sim, "app")).to_contain_text("个人所得税")
    sim.get_by_text("税务APP扫码", exact=True).click()
    scan(sim, uscc=demo.USCC_MAIN, identity_type="legal_rep")
    expect(sim.locator("[data-test=scan-result]")).to_contain_text("confirmed")
    shot(sim, "dev-app-simulator-enterprise")
    sim.close()
    page.wait_for_url("**/account")
    expect(page.locator("[data-test=current-identity]")).to_contain_text("法定代表人")
    s = context.request.get("/api/v1/account/session").json()
    assert s["entry"] == "enterprise" and s["domain"] == f"ent:{demo.USCC_MAIN}"


def test_R_REG_1_registration_then_the_first_login_with_the_username(page, context):
    """R-REG-1 (seed 003 §用户注册 第三步..第九步): agreement, identity (gender derived), basic information with
    the SMS code, an optional username, the face scan on the simulator page; done at real-name level 4
    (R-REG-5). An error answers next to its field (R-PWD-1: the passwords differ). Then the first login, with
    the username (R-USR-1) and the SMS code, goes straight into the account centre: the person chose the
    password and accepted the agreement when registering, so no forced change (R-PWD-2 is for stock persons,
    whose journey is test_first_login_signs_the_agreement_and_replaces_the_initial_password)."""
    doc = rid("36010219990909123")
    page.goto("/register")
    page.locator("[data-test=next]").click()
    expect(page.locator(".el-form-item__error")).to_contain_text("请先阅读并勾选用户协议")
    shot(page, "register-agreement")
    page.locator("[data-test=agreement]").click()
    page.locator("[data-test=next]").click()
    page.locator("input[name=name]").fill("注册示例")
    page.locator("input[name=doc_number]").fill(doc[:-1] + ("0" if doc[-1] != "0" else "1"))  # a wrong check digit
    page.locator("input[name=doc_number]").press("Enter")
    expect(field_error(page, "doc_number")).not_to_be_empty()
    shot(page, "register-identity")
    page.locator("input[name=doc_number]").fill(doc)
    page.locator("input[name=doc_number]").press("Enter")
    expect(page.locator("[data-test=derived]")).to_contain_text("男")
    page.reload()  # the flow id is kept for the tab: a reload resumes the step the service says
    expect(page.locator("[data-test=derived]")).to_contain_text("男")
    page.locator("input[name=password]").fill(NEW_PASSWORD)
    page.locator("input[name=confirm_password]").fill(NEW_PASSWORD + "x")
    page.locator("input[name=phone]").fill("13700000031")
    page.locator("[data-test=sms-send]").click()
    page.locator("[data-test=sms-sent]").wait_for()
    page.locator("input[name=code]").fill(code_from_outbox(context, "13700000031"))
    page.locator("input[name=username]").fill("zhuce2026")
    page.locator("input[name=code]").press("Enter")
    expect(field_error(page, "confirm_password")).to_contain_text("不一致")
    shot(page, "register-basic")
    page.locator("input[name=confirm_password]").fill(NEW_PASSWORD)
    page.locator("input[name=code]").press("Enter")
    page.get_by_role("heading", name="人脸识别验证").wait_for()
    page.locator("[data-test=show-face]").click()
    expect(page.locator("[data-test=qr-code]")).to_be_visible()
    shot(page, "register-face")
    sim = open_simulator(page, context)
    scan(sim)
    expect(sim.locator("[data-test=scan-result]")).to_contain_text("confirmed")
    sim.close()
    page.locator("[data-test=face-done]").click()
    expect(page.locator("[data-test=register-done]")).to_contain_text("实名等级为4级")
    shot(page, "register-done")

    page.locator("[data-test=to-login]").click()
    page.wait_for_url("**/login")
    start_login(page, "自然人业务", "zhuce2026", password=NEW_PASSWORD)
    page.locator("[data-test=sms-send]").click()
    page.locator("[data-test=sms-sent]").wait_for()
    page.locator("input[name=code]").fill(code_from_outbox(context, "13700000031"))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url("**/account")  # no agreement, no forced password change
    expect(page.locator("[data-test=current-identity]")).to_contain_text("本人")
    assert context.request.get("/api/v1/account/person/info").json()["realname_level"] == 4
    copy_to_docs(["register-basic:375", "register-face:1440"])


def test_R_PWD_4_forgot_password_by_sms_lifts_the_lockout(page, context):
    """R-PWD-4 (seed 003 §忘记密码 第三步..第七步, seed 002 FAQ 账号被锁后): a locked person resets by
    document number and an SMS code to one of their phones (a phone not theirs is refused next to the phone
    field), sets a new password (the rule's message next to the field, R-PWD-1) and logs in with it at once."""
    doc = register(page, context, "找回示例", "36010219980808224", "13700000032")
    with page.expect_response("**/api/v1/auth/login"):
        start_login(page, "自然人业务", doc, password="Wrong#2026pw")
    for _ in range(4):
        with page.expect_response("**/api/v1/auth/login") as answer:
            page.locator("input[name=password]").press("Enter")
    assert answer.value.status == 423
    expect(page.locator("[data-test=form-error]")).to_contain_text("账号已锁定至")

    page.goto("/login")
    page.locator("[data-test=link-forgot]").click()
    page.wait_for_url("**/forgot-password")
    page.locator("input[name=doc_number]").fill(doc)
    page.locator("input[name=doc_number]").press("Enter")
    page.locator("input[name=phone]").fill("13800000001")
    page.locator("[data-test=sms-send]").click()
    expect(field_error(page, "phone")).not_to_be_empty()
    page.locator("input[name=phone]").fill("13700000032")
    page.locator("[data-test=sms-send]").click()
    page.locator("[data-test=sms-sent]").wait_for()
    shot(page, "forgot-password-sms")
    page.locator("input[name=code]").fill(code_from_outbox(context, "13700000032"))
    page.locator("input[name=code]").press("Enter")
    page.locator("input[name=new_password]").fill("short")
    page.locator("input[name=confirm_password]").fill("short")
    page.locator("input[name=confirm_password]").press("Enter")
    expect(field_error(page, "new_password")).to_contain_text("密码长度须为8-16位")
    shot(page, "forgot-password-new")
    page.locator("input[name=new_password]").fill("Reset#2026pw")
    page.locator("input[name=confirm_password]").fill("Reset#2026pw")
    page.locator("input[name=confirm_password]").press("Enter")
    expect(page.locator("[data-test=reset-done]")).to_contain_text("密码修改完成")
    shot(page, "forgot-password-done")

    page.locator("[data-test=to-login]").click()
    start_login(page, "自然人业务", doc, password="Reset#2026pw")
    page.locator("[data-test=sms-send]").click()  # the lockout is lifted: on to the second factor
    page.locator("[data-test=sms-sent]").wait_for()
    page.locator("input[name=code]").fill(code_from_outbox(context, "13700000032"))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url("**/account")
    copy_to_docs(["forgot-password-sms:375"])


def test_R_PWD_4_R_PHONE_7_forgot_password_by_face_scan_then_recover_the_phone(page, context):
    """Seed 002 FAQ 3 (手机号码为空，同时忘记密码): reset the password with the tax app's face scan (R-PWD-4,
    seed 003 §忘记密码 第五步), then recover the phone with the document, that password and the new phone's
    SMS code (R-PHONE-7, seed 003 §找回手机号码); the new phone then logs in."""
    doc = register(page, context, "换号示例", "36010219970707335", "13700000033")
    page.goto("/forgot-password")
    page.locator("input[name=doc_number]").fill(doc)
    page.locator("[data-test=next]").click()
    page.locator("[data-test=method-scan]").click()
    page.locator("[data-test=show-face]").click()
    shot(page, "forgot-password-scan")
    sim = open_simulator(page, context)
    scan(sim)
    expect(sim.locator("[data-test=scan-result]")).to_contain_text("confirmed")
    sim.close()
    page.locator("[data-test=face-done]").click()
    page.locator("input[name=new_password]").fill("Face#2026pw")
    page.locator("input[name=confirm_password]").fill("Face#2026pw")
    page.locator("input[name=confirm_password]").press("Enter")
    expect(page.locator("[data-test=reset-done]")).to_be_visible()

    page.goto("/login")
    page.locator("[data-test=link-phone-recovery]").click()
    page.wait_for_url("**/phone-recovery")
    page.locator("input[name=doc_number]").fill(doc)
    page.locator("input[name=password]").fill("Wrong#2026pw")
    page.locator("input[name=new_phone]").fill("13700000034")
    page.locator("[data-test=sms-send]").click()
    expect(field_error(page, "password")).not_to_be_empty()
    shot(page, "phone-recovery-error")
    copy_to_docs(["phone-recovery-error:375"])
    page.locator("input[name=password]").fill("Face#2026pw")
    page.locator("[data-test=sms-send]").click()
    page.locator("[data-test=sms-sent]").wait_for()
    page.locator("input[name=code]").fill(code_from_outbox(context, "13700000034"))
    page.locator("input[name=code]").press("Enter")
    expect(page.locator("[data-test=recovery-done]")).to_contain_text("已成功找回手机号码")
    shot(page, "phone-recovery-done")

    start_login(page, "自然人业务", "13700000034", password="Face#2026pw")
    page.locator("[data-test=sms-send]").click()
    page.locator("[data-test=sms-sent]").wait_for()
    page.locator("input[name=code]").fill(code_from_outbox(context, "13700000034"))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url("**/account")


def test_R_REG_2_the_wizard_in_english_names_the_document_types_and_refuses_an_offline_only_one(page):
    """R-REG-2 (seed 003 §用户注册 说明): the document types come from the service in the chosen language; the
    four offline-only types say so, and registering with one not collected at a hall is refused next to the
    document type, in English."""
    page.goto("/register")
    page.locator("[data-test=language]").click()
    page.get_by_role("heading", name="Register as a natural person").wait_for()
    page.locator("[data-test=agreement]").click()
    page.locator("[data-test=next]").click()
    page.locator("input[name=name]").fill("Test Person")
    page.locator("[data-test=doc-type]").click()
    expect(page.get_by_role("option", name="Resident identity card")).to_be_visible()
    page.get_by_role("option", name="Foreign passport (collect your real-name data at a tax hall first)").click()
    page.locator("input[name=doc_number]").fill("P99887766")
    page.locator("input[name=doc_number]").press("Enter")
    expect(field_error(page, "doc_type")).to_contain_text("real-name collection at a tax hall first")
    shot(page, "register-identity-en")
