"""Journeys in a real browser against `authz serve --demo` (issue 11): personal login with the SMS code read
from the development outbox page, enterprise login choosing an identity, switching identity in the header
(R-SW-1, R-SW-3), an error shown next to its field in Chinese and in English, and a cross-site request
refused (docs/login.md "Browsers"). Every page is also screenshotted at 375 and 1440 px."""
from __future__ import annotations

import http.server
import re
import threading

import pytest

from authz import demo

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'").expect

from .conftest import copy_to_docs, shot  # noqa: E402

PASSWORD = demo.DEMO_PASSWORD


def field_error(page, name: str):
    return page.locator(f".el-form-item:has([name={name}]) .el-form-item__error")


def start_login(page, tab: str, account: str, password: str = PASSWORD, uscc: str | None = None):
    page.goto("/login")
    page.get_by_role("tab", name=tab).click()
    if uscc:
        page.locator("input[name=uscc]").fill(uscc)
    page.locator("input[name=account]").fill(account)
    page.locator("input[name=password]").fill(password)
    page.locator("[data-test=login-submit]").click()


def code_from_outbox(context, phone: str) -> str:
    """The newest code to `phone`, read as a person would: on the development outbox page."""
    out = context.new_page()
    out.goto("/dev/sms-outbox")
    out.locator("input[name=phone]").fill(phone)
    out.locator("[data-test=outbox-refresh]").click()
    row = out.locator("[data-test=outbox] li.message").first
    row.wait_for()
    text = row.inner_text()
    shot(out, "dev-outbox")
    out.close()
    return re.search(r"验证码(\d{6})", text).group(1)


def sms_step(page, context, phone: str):
    page.locator("[data-test=sms-send]").click()
    page.locator("[data-test=sms-sent]").wait_for()
    assert "138****" + phone[-4:] in page.locator("[data-test=sms-sent]").inner_text()
    assert page.locator("[data-test=sms-sends-left]").inner_text() == "本次登录还可获取 2 次验证码"
    assert re.search(r"\d+秒后重新获取", page.locator("[data-test=sms-send]").inner_text())
    shot(page, "login-sms")
    page.locator("input[name=code]").fill(code_from_outbox(context, phone))
    page.locator("[data-test=sms-verify]").click()


def test_personal_login_with_the_code_from_the_dev_outbox_page(page, context):
    """R-LOGIN-5 (personal entry) + R-LOGIN-2 (SMS second factor): a deep link without a session goes to
    the login page; password, code read on the outbox page, then back where the person was: the personal
    information page, masked (R-INFO-1, R-MASK-1)."""
    page.goto("/account/person/info")
    page.wait_for_url("**/login?redirect=/account/person/info")
    assert page.get_by_role("tab").count() == 5
    shot(page, "login")
    page.get_by_role("tab", name="自然人业务").click()
    page.locator("input[name=account]").fill("13800000001")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")  # Enter submits
    page.get_by_role("heading", name="身份验证").wait_for()
    sms_step(page, context, "13800000001")
    page.wait_for_url("**/account/person/info")
    assert page.locator("[data-test=person-name]").inner_text() == "**例"
    menu = page.locator("[data-test=menu]")
    assert menu.get_by_text("个人信息").first.is_visible()
    assert menu.locator("[data-test^='menu-ac.staff']").count() == 0  # no enterprise staff module here
    page.get_by_role("link", name="我的信息").click()
    page.wait_for_url("**/account")
    assert "本人（自然人业务）" in page.locator("[data-test=current-identity]").inner_text()
    shot(page, "account-personal")
    page.locator("[data-test='menu-ac.person.info']").click()
    page.wait_for_url("**/account/person/info")
    assert page.locator("[data-test=person-phone]").first.inner_text() == "138****0001"
    shot(page, "person-info")
    page.reload()  # history mode: the server answers the SPA for the deep link, the session is the cookie
    page.locator("[data-test=person-name]").wait_for()
    copy_to_docs(["login", "login-sms:375", "dev-outbox:375", "account-personal:1440", "person-info:375"])


def test_enterprise_login_choosing_an_identity_then_switching_in_the_header(page, context):
    """R-LOGIN-3: a person with two identities in the enterprise (admin and invoice officer) chooses one;
    R-SW-1: the header's switcher moves to the other without logging in again; R-SW-3: then to personal."""
    start_login(page, "企业业务", "13800000005", uscc=demo.USCC_MAIN)
    page.locator("[data-test=sms-send]").click()
    page.locator("[data-test=sms-sent]").wait_for()
    page.locator("input[name=code]").fill(code_from_outbox(context, "13800000005"))
    page.locator("[data-test=sms-verify]").click()
    choices = page.locator("[data-test=choices]")
    choices.wait_for()
    labels = choices.locator("[data-test=choice-identity]").all_inner_texts()
    assert sorted(labels) == ["开票员", "管理员"]
    assert "江西******公司" in choices.inner_text() and "9136**********MO1A" in choices.inner_text()
    shot(page, "login-choose")
    page.locator("li.choice", has_text="管理员").get_by_role("button").click()
    page.wait_for_url("**/account")
    assert "管理员" in page.locator("[data-test=current-identity]").inner_text()
    assert page.locator("[data-test='menu-ac.staff']").is_visible()  # the admin sees existing staff
    shot(page, "account-enterprise")
    page.locator("[data-test=language]").click()  # the menu is asked again, in English
    expect(page.locator("[data-test=menu]")).to_contain_text("Staff and permissions")
    expect(page.locator("[data-test=menu]")).to_contain_text("Existing staff")
    expect(page.locator("[data-test=current-identity]")).to_contain_text("Administrator")
    shot(page, "account-enterprise-en")
    page.locator("[data-test=language]").click()
    expect(page.locator("[data-test=menu]")).to_contain_text("人员权限管理")

    page.locator("[data-test=switcher]").click()
    menu = page.locator("[data-test=switch-menu]")
    menu.wait_for()
    shot(page, "switcher")
    menu.locator("li", has_text="开票员").click()
    page.locator("[data-test=switch-status]").filter(has_text="已切换为").wait_for()
    expect(page.locator("[data-test=current-identity]")).to_contain_text("开票员")
    assert page.locator("[data-test='menu-ac.staff']").count() == 0  # the enforcer's answer for an invoice officer
    page.locator("[data-test=switcher]").click()
    page.locator("[data-test=switch-menu] li", has_text="本人").click()
    expect(page.locator("[data-test=current-identity]")).to_contain_text("本人")
    assert page.locator("[data-test='menu-ac.person.info']").is_visible()
    copy_to_docs(["login-choose:1440", "account-enterprise:1440", "switcher:375"])


@pytest.mark.parametrize("tab, account, field, value, chosen", [
    ("代理业务", "13800000007", "uscc", demo.USCC_AGENCY, "MO2B"),  # the client, by its masked USCC
    ("特定主体", "13800000012", "uscc", demo.USCC_MAIN, "长沙市岳麓区办公楼建设项目"),
    ("非居民企业", "13800000011", "nonresident_code", demo.NONRESIDENT_CODE, None),
])
def test_the_other_entries_log_in_as_the_readme_says(page, context, tab, account, field, value, chosen):
    """R-LOGIN-4 (special subject: a project), R-LOGIN-6 (non-resident), agent business (a client, R-SW-5):
    each entry of the README's table logs in through the page; a special subject then sees no
    account-centre area, only the switcher (R-SW-4)."""
    page.goto("/login")
    page.get_by_role("tab", name=tab).click()
    page.locator(f"input[name={field}]").fill(value)
    page.locator("input[name=account]").fill(account)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("[data-test=login-submit]").click()
    page.locator("[data-test=sms-send]").click()
    page.locator("[data-test=sms-sent]").wait_for()
    page.locator("input[name=code]").fill(code_from_outbox(context, account))
    page.locator("[data-test=sms-verify]").click()
    if chosen:
        page.locator("li.choice", has_text=chosen).get_by_role("button").click()
    page.wait_for_url("**/account")
    if tab == "特定主体":
        expect(page.locator("[data-test=no-areas]")).to_be_visible()
        assert page.locator("[data-test=menu] a[data-test^=menu-]").count() == 0
        shot(page, "account-special")
    else:
        assert page.locator("[data-test=menu] a[data-test^=menu-]").count() > 0


def test_first_login_signs_the_agreement_and_replaces_the_initial_password(page, context, served):
    """R-LOGIN-10 and R-PWD-2 (seed 003 §企业业务登录 第五步): a stock person's first login asks for the user
    agreement, then for a new password before anything else; the password rule's message is shown next to
    the new-password field (R-PWD-1); then the person is in."""
    import sqlite3
    with sqlite3.connect(served.db_file) as db:  # make p-demo-agent2 a stock person at first login
        db.execute("UPDATE person SET must_change_password = 1, agreement_signed_at = NULL WHERE uid = ?",
                   (demo.AGENT2,))
    start_login(page, "自然人业务", "13800000008")
    page.locator("[data-test=sms-send]").click()
    page.locator("[data-test=sms-sent]").wait_for()
    page.locator("input[name=code]").fill(code_from_outbox(context, "13800000008"))
    page.locator("[data-test=sms-verify]").click()
    page.get_by_role("heading", name="签订用户协议").wait_for()
    shot(page, "login-agreement")
    page.get_by_role("button", name="同意并继续").click()
    page.get_by_role("heading", name="修改初始密码").wait_for()
    page.locator("input[name=new_password]").fill("short")
    page.locator("input[name=confirm_password]").fill("short")
    page.locator("input[name=confirm_password]").press("Enter")
    expect(field_error(page, "new_password")).to_contain_text("密码长度须为8-16位")
    shot(page, "login-change-password")
    page.locator("input[name=new_password]").fill("Fresh#2026pwd")
    page.locator("input[name=confirm_password]").fill("Fresh#2026pwd")
    page.get_by_role("button", name="确定").click()
    page.wait_for_url("**/account")
    expect(page.locator("[data-test=current-identity]")).to_contain_text("本人")
    copy_to_docs(["login-change-password:375"])


def scan_on_the_simulator_page(context, ticket: str, person: str) -> None:
    """Play the tax app scanning `ticket` as `person`, on the development app simulator page."""
    sim = context.new_page()
    sim.goto("/dev/app-simulator")
    sim.locator("input[name=ticket]").fill(ticket)
    sim.locator("input[name=person]").fill(person)
    sim.locator("[data-test=scan]").click()
    sim.locator("[data-test=scan-result]").wait_for()
    shot(sim, "dev-app-simulator")
    sim.close()


def test_app_scan_second_factor_with_the_simulator_page(page, context):
    """R-LOGIN-2 (second factor by the tax app's face scan, seed 003 §企业业务登录 第三步): the page shows the
    ticket; the simulator page plays the app; the login goes on (one identity: straight in)."""
    start_login(page, "企业业务", "13800000001", uscc=demo.USCC_MAIN)
    page.get_by_text("税务APP扫码").click()
    page.get_by_role("button", name="显示二维码").click()
    ticket = page.locator("[data-test=ticket]").inner_text().strip()
    scan_on_the_simulator_page(context, ticket, demo.LEGAL)
    page.get_by_role("button", name="已扫码确认").click()
    page.wait_for_url("**/account")
    expect(page.locator("[data-test=current-identity]")).to_contain_text("法定代表人")


def test_pending_only_person_confirms_with_a_face_scan_at_login(page, context):
    """R-LOGIN-3 / R-BIND-6 (seed 003 §企业业务登录 第四步: only a pending identity, confirm it): the page
    lists the pending authorisation, the face scan on the simulator page confirms it, and the person enters
    as the tax officer."""
    start_login(page, "企业业务", "13800000006", uscc=demo.USCC_MAIN)
    page.locator("[data-test=sms-send]").click()
    page.locator("[data-test=sms-sent]").wait_for()
    page.locator("input[name=code]").fill(code_from_outbox(context, "13800000006"))
    page.locator("[data-test=sms-verify]").click()
    page.get_by_role("heading", name="确认授权").wait_for()
    shot(page, "login-confirm-pending")
    page.get_by_role("button", name="人脸识别确认").click()
    ticket = page.locator(".ticket").inner_text().strip()
    scan_on_the_simulator_page(context, ticket, demo.PENDING)
    page.get_by_role("button", name="已完成人脸识别").click()
    page.wait_for_url("**/account")
    expect(page.locator("[data-test=current-identity]")).to_contain_text("办税员")


def test_an_ended_agreement_sends_the_agent_to_the_login_page_saying_so(page, context, served):
    """R-AGT-2 / R-SW-5: the agent works for a client; the agency filing ends that agreement (integration
    API, as the source would); the page's next action returns to the login page saying the identity was
    revoked, with the way back."""
    import json
    import subprocess
    import sys
    import urllib.request

    from tests.system.serving import ROOT, service_env
    start_login(page, "代理业务", "13800000007", uscc=demo.USCC_AGENCY)
    page.locator("[data-test=sms-send]").click()
    page.locator("[data-test=sms-sent]").wait_for()
    page.locator("input[name=code]").fill(code_from_outbox(context, "13800000007"))
    page.locator("[data-test=sms-verify]").click()
    page.locator("li.choice", has_text="MO5E").get_by_role("button").click()  # the second client
    page.wait_for_url("**/account")
    out = subprocess.run([sys.executable, "-m", "authz.cli", "client", "create", "agency-filing", "--scope",
                          "integration"], cwd=ROOT, env=service_env(f"sqlite:///{served.db_file}"),
                         capture_output=True, text=True, check=True)
    key = out.stdout.strip().splitlines()[-1]
    req = urllib.request.Request(f"{served.base}/api/v1/integration/agreements/DEMO-AGR-2026-0003", method="PATCH",
                                 data=json.dumps({"status": "ended"}).encode(),
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    assert urllib.request.urlopen(req, timeout=10).status == 200
    page.locator("[data-test=menu] a[data-test^=menu-]").first.click()
    page.wait_for_url(re.compile(r".*/login\?redirect=.*&reason=identity_revoked$"))
    expect(page.locator("[data-test=session-lost]")).to_contain_text("您当前的身份已失效或已被撤销")
    shot(page, "login-identity-revoked")


def test_errors_next_to_the_field_in_chinese_and_in_english(page):
    """R-LOGIN-12: the service's hint is shown next to the field it concerns, in Chinese, and in English
    once English is chosen (Accept-Language follows the choice); the client's own checks likewise."""
    start_login(page, "自然人业务", "13800000010", password="Wrong#2026x")
    err = field_error(page, "password")
    err.wait_for()
    assert err.inner_text().startswith("密码错误")
    shot(page, "login-error-zh")
    page.locator("[data-test=language]").click()
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("tab", name="Personal").click()
    page.locator("input[name=account]").fill("13800000010")
    page.locator("input[name=password]").fill("Wrong#2026x")
    page.locator("[data-test=login-submit]").click()
    expect(field_error(page, "password")).to_have_text(re.compile(r"^Wrong password"))
    assert not re.search(r"[\u4e00-\u9fff]", field_error(page, "password").inner_text())
    shot(page, "login-error-en")
    page.locator("input[name=account]").fill("")
    page.locator("[data-test=login-submit]").click()
    expect(field_error(page, "account")).to_have_text("Please enter Account")
    page.locator("[data-test=language]").click()  # back to Chinese for the other tests' storage
    copy_to_docs(["login-error-zh:375", "login-error-en:375"])


def test_lockout_is_shown_with_the_time_it_ends(page):
    """R-LOGIN-11: the fifth wrong password in a day locks the method; the page shows the service's message
    and the end of the lock (next midnight, Asia/Shanghai)."""
    with page.expect_response("**/api/v1/auth/login"):
        start_login(page, "自然人业务", "13800000009", password="Wrong#2026x")
    for _ in range(4):
        with page.expect_response("**/api/v1/auth/login") as answer:
            page.locator("[data-test=login-submit]").click()
    assert answer.value.status == 423
    alert = page.locator("[data-test=form-error]")
    expect(alert).to_contain_text("账号已锁定至")
    expect(alert).to_contain_text(re.compile(r"解锁时间：\d{4}/\d{1,2}/\d{1,2} 00:00:00"))
    shot(page, "login-locked")
    copy_to_docs(["login-locked:375"])


class _Attacker(http.server.BaseHTTPRequestHandler):
    target = ""

    def do_GET(self):  # noqa: N802
        body = (f'<!doctype html><form id=f method=post action="{self.target}/api/v1/auth/logout">'
                f'<input name=x value=1></form><script>document.getElementById("f").submit()</script>').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_cross_site_form_post_is_refused_and_the_session_survives(page, context, served):
    """docs/login.md "Browsers": a page of another origin makes the logged-in browser post to the API (the
    cookies go along: same site, other port); the service refuses it (403 csrf_failed, the Origin is not
    ours) and the person is still logged in. Then the session is lost: the next action goes to the login
    page with the way back (R-LOGIN-13)."""
    start_login(page, "自然人业务", "13800000013")
    page.locator("[data-test=sms-send]").click()
    page.locator("[data-test=sms-sent]").wait_for()
    page.locator("input[name=code]").fill(code_from_outbox(context, "13800000013"))
    page.locator("[data-test=sms-verify]").click()
    page.wait_for_url("**/account")

    _Attacker.target = served.base
    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Attacker)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        other = context.new_page()
        with other.expect_response(lambda r: r.url.endswith("/api/v1/auth/logout")) as answer:
            other.goto(f"http://127.0.0.1:{evil.server_address[1]}/")
        assert answer.value.status == 403
        assert answer.value.json()["code"] == "csrf_failed"
        other.close()
    finally:
        evil.shutdown()
    page.reload()
    page.wait_for_url("**/account")
    assert "本人" in page.locator("[data-test=current-identity]").inner_text()

    # the session goes away (here: the cookie): the next action returns to the login page, remembering where
    context.clear_cookies()
    page.locator("[data-test='menu-ac.person.info']").click()
    page.wait_for_url("**/login?redirect=/account/person/info&reason=session_required")
    expect(page.locator("[data-test=session-lost]")).to_contain_text("请先登录")
