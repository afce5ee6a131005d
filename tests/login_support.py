"""Fixtures and helpers shared by the login and identity tests (issue 3). Import with
`from tests.login_support import *` so the fixtures below replace the suite's `settings` with a cheap
argon2 cost (the production cost is a setting; equal-cost properties are counted, not timed)."""
from __future__ import annotations

import re

import pytest

from authz.accounts import id_check_char
from authz.config import Settings
from authz.models import Person, SmsOutbox
from authz.ports import ports_of

ROOT_POLICIES = __import__("pathlib").Path(__file__).resolve().parent.parent / "policies"
PASSWORD = "Shui@2026ok"
USCC = "91360100MA35LOGIN1"
AGENCY = "91360100MA35AGENCY"
CLIENT = "91360100MA35CLIENT"


def rid(prefix17: str) -> str:
    """A resident ID number with a correct check character."""
    return prefix17 + id_check_char(prefix17)


@pytest.fixture
def settings(db_url) -> Settings:
    return Settings(database_url=db_url, model_path=str(ROOT_POLICIES / "model.conf"),
                    rules_path=str(ROOT_POLICIES / "rules.csv"), change_poll_ms=20, cookie_secure=False,
                    argon2_time_cost=1, argon2_memory_kib=1024)


def make_person(svc, directory, name: str, doc: str, *, uid: str | None = None, phones=(), password: str | None = PASSWORD,
                username: str | None = None, stock: bool = False, signed: bool = True, doc_type: str = "resident_id") -> Person:
    """A registered person with a password (or a stock person on the initial password)."""
    fields = {"registered": True, "username": username}
    if stock:
        fields.update(must_change_password=True, agreement_signed_at=None)
    else:
        fields.update(password_hash=ports_of(svc).hasher.hash(password),
                      agreement_signed_at=svc.clock.time() if signed else None)
    return directory.create_person(name, doc_type, doc, uid=uid, phones=phones, realname_level=4, **fields)


def last_code(phone: str) -> str:
    """The newest code the development SMS outbox holds for the phone."""
    msg = SmsOutbox.select().where(SmsOutbox.phone == phone).order_by(SmsOutbox.id.desc()).first()
    assert msg is not None, f"no SMS for {phone}"
    return re.search(r"验证码(\d{6})", msg.text).group(1)


@pytest.fixture
def world(svc, directory):
    """An enterprise with a legal rep (two identities), a tax officer, a pending-only person, an agency
    with a client and an agent, and a plain natural person."""
    ent = directory.upsert_enterprise(USCC, "登录测试科技有限公司", "ordinary")
    agency = directory.upsert_enterprise(AGENCY, "测试税务师事务所", "agency")
    client = directory.upsert_enterprise(CLIENT, "委托客户有限公司", "ordinary")
    legal = make_person(svc, directory, "张三", rid("36010219800101001"), uid="p-legal", phones=["13800000001"],
                        username="zhangsan01")
    officer = make_person(svc, directory, "李四", rid("36010219900202002"), uid="p-officer", phones=["13800000002"])
    pending = make_person(svc, directory, "王五", rid("36010219950303003"), uid="p-pending", phones=["13800000003"])
    plain = make_person(svc, directory, "赵六", rid("36010220000404004"), uid="p-plain", phones=["13800000004"])
    agent = make_person(svc, directory, "钱七", rid("36010219850505005"), uid="p-agent", phones=["13800000005"])
    directory.bind(legal, ent, "legal_rep", state="active", origin="registration")
    directory.bind(legal, ent, "finance_officer", state="active", origin="tax_report")
    directory.bind(officer, ent, "tax_officer", state="active", origin="hall")
    directory.bind(pending, ent, "tax_officer", state="pending", origin="enterprise")
    import datetime as dt
    today = svc.clock.today()
    directory.file_agreement("AG-001", agency, client, [agent], today - dt.timedelta(days=30),
                             today + dt.timedelta(days=30), ["biz.declare_pay", "biz.query"])
    return {"ent": ent, "agency": agency, "client": client, "legal": legal, "officer": officer, "pending": pending,
            "plain": plain, "agent": agent}


def login_session(client, entry: str, account: str, phone: str, *, uscc: str | None = None,
                  choose: str | None = None, password: str = PASSWORD, kind: str = "app", **extra) -> str | None:
    """Log in through the REST API (password -> SMS code -> choice if asked). As an app (`kind`) it returns
    the session id (azs_...); as a browser the session lands in `client`'s cookie and None is returned.
    `choose` picks by identity type, or by the listed id (project / agreement)."""
    body = {"entry": entry, "account": account, "password": password, "client": kind, **extra}
    if uscc:
        body["uscc"] = uscc
    r = client.post("/api/v1/auth/login", json=body)
    assert r.status_code == 200, r.get_json()
    fid = r.get_json()["flow"]
    assert client.post(f"/api/v1/auth/login/{fid}/factors/sms").status_code == 200
    r = client.post(f"/api/v1/auth/login/{fid}/factors/sms/verify", json={"code": last_code(phone)})
    data = r.get_json()
    assert r.status_code == 200, data
    if data["state"] == "choose":
        pick = next(c["id"] for c in data["choices"] if choose in (c.get("identity_type"), c["id"]))
        data = client.post(f"/api/v1/auth/login/{fid}/choose", json={"choice": pick}).get_json()
    assert data["state"] == "done", data
    return data.get("session")
