"""The demo data set behind `authz serve --demo`: enterprises of every kind, persons in every identity type,
an agency with agreements (the agent serves two clients), cross-region projects of the main enterprise.
Seeding is idempotent (a second run changes nothing and fails on nothing).

Every fact is a module constant so the README, the CLI's printed instructions and the tests name the same
uids and codes. Dates are relative to the service clock's today (Asia/Shanghai), so "the active agreement
covers today" stays true whenever the demo is seeded. Every registered demo person logs in with
DEMO_PASSWORD (set when they have none, with the agreement signed).
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Callable

from . import clients
from .bindings import Who
from .db import database
from .credentials import Hasher
from .directory import Directory
from .flows.integration import file_project
from .ids import enterprise_domain
from .models import Agreement, Binding, CrossRegionProject, Enterprise, Person
from .vocab import Party

# ---- enterprises (USCCs are 18 upper-case letters/digits; the 360100 region code is Nanchang, Jiangxi)
PROVINCE = "36"
TAX_AUTHORITY = "国家税务总局南昌市东湖区税务局"
USCC_MAIN = "91360100MA35DEMO1A"  # ordinary enterprise: every enterprise identity type lives here
USCC_CLIENT = "91360100MA35DEMO2B"  # ordinary enterprise, a client of the agency
USCC_AGENCY = "91360100MA35DEMO3C"  # tax-service agency (涉税专业服务机构)
USCC_NONRESIDENT = "91360100MA35DEMO4D"  # non-resident enterprise
NONRESIDENT_CODE = "FJM360100DEMO0004"  # its non-resident enterprise identity code
USCC_CLIENT2 = "91360100MA35DEMO5E"  # ordinary enterprise, the agency's second client (R-SW-5)

ENTERPRISES = (
    # (uscc, name, kind, nonresident_code)
    (USCC_MAIN, "江西示例科技有限公司", "ordinary", None),
    (USCC_CLIENT, "江西示例商贸有限公司", "ordinary", None),
    (USCC_AGENCY, "江西示例税务师事务所有限公司", "agency", None),
    (USCC_NONRESIDENT, "示例海外投资有限公司（非居民企业）", "nonresident", NONRESIDENT_CODE),
    (USCC_CLIENT2, "江西示例建材有限公司", "ordinary", None),
)
DOM_MAIN = enterprise_domain(USCC_MAIN)
DOM_CLIENT = enterprise_domain(USCC_CLIENT)
DOM_AGENCY = enterprise_domain(USCC_AGENCY)
DOM_NONRESIDENT = enterprise_domain(USCC_NONRESIDENT)
DOM_CLIENT2 = enterprise_domain(USCC_CLIENT2)

# ---- persons: every one has a resident ID (valid check digit) and one phone, real-name level 4
LEGAL = "p-demo-legal"  # legal rep of the main enterprise (origin registration)
FINANCE = "p-demo-finance"  # finance officer of the main enterprise (origin tax_report)
OFFICER = "p-demo-officer"  # tax officer with a narrowed function set and a validity end
INVOICE = "p-demo-invoice"  # invoice officer
ADMIN = "p-demo-admin"  # admin AND invoice officer in the main enterprise (two identities, one enterprise)
PENDING = "p-demo-pending"  # tax officer added by the enterprise, not yet confirmed
HANDLER = "p-demo-handler"  # sub-identity tax officer, handler named on some cross-region projects (R-LOGIN-4)
AGENT = "p-demo-agent"  # tax agent staff of the agency, named in both active agreements and the expired one
AGENT2 = "p-demo-agent2"  # another agent of the agency, named in an agreement that was ended
AGENCY_LEGAL = "p-demo-agency-legal"  # legal rep of the agency
CLIENT_LEGAL = "p-demo-client-legal"  # legal rep of the client enterprise
NONRESIDENT_LEGAL = "p-demo-nonresident"  # legal rep of the non-resident enterprise
CLIENT2_LEGAL = "p-demo-client2-legal"  # legal rep of the second client enterprise

PERSONS = (
    # (uid, name, resident ID without its check digit, phone)
    (LEGAL, "张示例", "36010219800101001", "13800000001"),
    (FINANCE, "李示例", "36010219820202002", "13800000002"),
    (OFFICER, "王示例", "36010219850303003", "13800000003"),
    (INVOICE, "赵示例", "36010219880404004", "13800000004"),
    (ADMIN, "钱示例", "36010219900505005", "13800000005"),
    (PENDING, "孙示例", "36010219920606006", "13800000006"),
    (AGENT, "周示例", "36010219870707007", "13800000007"),
    (AGENT2, "吴示例", "36010219890808008", "13800000008"),
    (AGENCY_LEGAL, "郑示例", "36010219750909009", "13800000009"),
    (CLIENT_LEGAL, "冯示例", "36010219781010010", "13800000010"),
    (NONRESIDENT_LEGAL, "陈示例", "36010219701111011", "13800000011"),
    (HANDLER, "黄示例", "36010219930112012", "13800000012"),
    (CLIENT2_LEGAL, "何示例", "36010219770213013", "13800000013"),
)
DOC_TYPE = "resident_id"
REALNAME_LEVEL = 4

OFFICER_FUNCTIONS = ["biz.declare_pay", "biz.info_report", "biz.query"]
INVOICE_FUNCTIONS = ["biz.invoice_use", "biz.query"]
AGENT_STAFF_FUNCTIONS = ["biz.query"]  # the agent's own binding in the agency is narrow
PENDING_FUNCTIONS = ["biz.declare_pay", "biz.query"]
HANDLER_FUNCTIONS = ["biz.declare_pay", "biz.query"]
SUB_IDENTITY_HOLDERS = (HANDLER,)  # their tax-officer binding is a sub identity (子身份)

# ---- bindings: (uid, uscc, identity type, state, origin, function set or None for the whole ceiling,
#      validity end in days from today or None for long-term)
BINDINGS = (
    (LEGAL, USCC_MAIN, "legal_rep", "active", "registration", None, None),
    (FINANCE, USCC_MAIN, "finance_officer", "active", "tax_report", None, None),
    (OFFICER, USCC_MAIN, "tax_officer", "active", "enterprise", OFFICER_FUNCTIONS, 365),
    (INVOICE, USCC_MAIN, "invoice_officer", "active", "enterprise", INVOICE_FUNCTIONS, None),
    (ADMIN, USCC_MAIN, "admin", "active", "enterprise", None, None),
    (ADMIN, USCC_MAIN, "invoice_officer", "active", "enterprise", ["biz.invoice_use"], None),
    (PENDING, USCC_MAIN, "tax_officer", "pending", "enterprise", PENDING_FUNCTIONS, None),
    (AGENCY_LEGAL, USCC_AGENCY, "legal_rep", "active", "registration", None, None),
    (AGENT, USCC_AGENCY, "tax_agent", "active", "core_tax", AGENT_STAFF_FUNCTIONS, None),
    (AGENT2, USCC_AGENCY, "tax_agent", "active", "core_tax", AGENT_STAFF_FUNCTIONS, None),
    (CLIENT_LEGAL, USCC_CLIENT, "legal_rep", "active", "registration", None, None),
    (NONRESIDENT_LEGAL, USCC_NONRESIDENT, "legal_rep", "active", "registration", None, None),
    (HANDLER, USCC_MAIN, "tax_officer", "active", "core_tax", HANDLER_FUNCTIONS, None),
    (CLIENT2_LEGAL, USCC_CLIENT2, "legal_rep", "active", "registration", None, None),
)

# ---- agency agreements: (number, client, agents, start / end in days from today, status, permissions)
AGREEMENT_ACTIVE = "DEMO-AGR-2026-0001"  # covers today, names p-demo-agent
AGREEMENT_SECOND = "DEMO-AGR-2026-0003"  # covers today, names p-demo-agent: a second client to switch to (R-SW-5)
AGREEMENT_EXPIRED = "DEMO-AGR-2024-0001"  # ended by date last year (到期自动终止), names p-demo-agent
AGREEMENT_ENDED = "DEMO-AGR-2025-0002"  # ended early by the agency, names p-demo-agent2
AGENT_PERMISSIONS = ["biz.declare_pay", "biz.invoice_use", "biz.query"]
AGENT_PERMISSIONS_SECOND = ["biz.declare_pay", "biz.query"]  # no invoices: a switch visibly changes the answer
AGREEMENTS = (
    (AGREEMENT_ACTIVE, USCC_CLIENT, (AGENT,), -30, 335, "active", AGENT_PERMISSIONS),
    (AGREEMENT_SECOND, USCC_CLIENT2, (AGENT,), -10, 355, "active", AGENT_PERMISSIONS_SECOND),
    (AGREEMENT_EXPIRED, USCC_MAIN, (AGENT,), -730, -366, "active", ["biz.declare_pay", "biz.query"]),
    (AGREEMENT_ENDED, USCC_CLIENT, (AGENT2,), -200, 165, "ended", ["biz.declare_pay"]),
)

# ---- cross-region projects of the main enterprise (R-LOGIN-4, R-SW-4), as the core tax system files them:
#      (management number, kind, name, region, handler or None, status). The legal rep, the finance officer
#      and the main tax officer see every active one of a kind; the sub-identity officer p-demo-handler only
#      those naming them; the ended one is listed to nobody.
PROJECT_INSPECTION_HANDLED = "BY360100202600010001"
PROJECT_INSPECTION_OTHER = "BY360100202600020002"
PROJECT_TAX_SOURCE = "SY360100202600030003"
PROJECT_ENDED = "BY360100202500040004"
PROJECTS = (
    (PROJECT_INSPECTION_HANDLED, "inspection", "长沙市岳麓区办公楼建设项目", "湖南省长沙市岳麓区", HANDLER, "active"),
    (PROJECT_INSPECTION_OTHER, "inspection", "赣州市章贡区厂房改造项目", "江西省赣州市章贡区", None, "active"),
    (PROJECT_TAX_SOURCE, "tax_source", "九江市柴桑区分支机构税源登记", "江西省九江市柴桑区", HANDLER, "active"),
    (PROJECT_ENDED, "inspection", "上饶市信州区道路工程项目（已结束）", "江西省上饶市信州区", HANDLER, "ended"),
)
PROJECT_SOURCE = "service:demo"  # the audit actor of the demo's project filings

# ---- the service client and the example checks printed by `authz serve --demo`
CLIENT_NAME = "demo"
CLIENT_SCOPES = "check,policy"
ALLOWED_CHECK = {"subject": OFFICER, "domain": DOM_MAIN, "object": "biz.declare_pay", "action": "use"}
# denied: the tax officer's identity type allows invoices, but their function set does not include it
DENIED_CHECK = {"subject": OFFICER, "domain": DOM_MAIN, "object": "biz.invoice_use", "action": "use"}

Progress = Callable[[str], None]


def resident_id(first17: str) -> str:
    """A resident ID number with its GB 11643 check character."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(first17, weights))
    return first17 + "10X98765432"[total % 11]


# The demo's bindings are created as a source would file them (bindings.create: audit row, event).
DEMO_SOURCE = Who(Party.SOURCE, "system:demo")
DEMO_PASSWORD = "Demo#2026tax"  # every demo person's login password (passes R-PWD-1, not a common password)


def seed(service, progress: Progress = print) -> dict:
    """Create or refresh the demo data set in the service's database; returns counts of what was created.
    The service must be started (function sets are checked against the policy in force) and the caller
    holds the connection; everything is written in one transaction."""
    directory = Directory(service)
    today = service.clock.today()
    created = {"enterprises": 0, "persons": 0, "bindings": 0, "agreements": 0, "projects": 0}
    with database.atomic():
        ents = {}
        for uscc, name, kind, nr_code in ENTERPRISES:
            is_new = Enterprise.get_or_none(Enterprise.uscc == uscc) is None
            ents[uscc] = directory.upsert_enterprise(uscc, name, kind, province=PROVINCE,
                                                     tax_authority=TAX_AUTHORITY, nonresident_code=nr_code)
            created["enterprises"] += is_new
            progress(f"  enterprise {uscc} {name} ({kind}){'' if is_new else ' — exists'}")

        people = {}
        hasher = Hasher(service.settings)
        for uid, name, id17, phone in PERSONS:
            p = Person.get_or_none(Person.uid == uid)
            label = f"  person {uid} {name} phone {phone} {DOC_TYPE} {resident_id(id17)}"
            if p is None:
                p = directory.create_person(name, DOC_TYPE, resident_id(id17), uid=uid,
                                            realname_level=REALNAME_LEVEL, phones=[phone], registered=True)
                created["persons"] += 1
                progress(label)
            else:
                progress(label + " — exists")
            if p.password_hash is None:  # registered persons log in with DEMO_PASSWORD, agreement signed
                p.password_hash = hasher.hash(DEMO_PASSWORD)
                p.agreement_signed_at = service.clock.time()
                p.must_change_password = False
                p.save()
            people[uid] = p

        for uid, uscc, role, state, origin, functions, days in BINDINGS:
            ent = ents[uscc]
            exists = Binding.select().where((Binding.person == people[uid]) & (Binding.enterprise == ent)
                                            & (Binding.role == role)
                                            & Binding.state.in_(("pending", "active"))).exists()
            label = f"  binding {uid} → {role} in {uscc} ({state})"
            if exists:
                progress(label + " — exists")
                continue
            until = today + dt.timedelta(days=days) if days is not None else None
            directory.bind(people[uid], ent, role, state=state, origin=origin, functions=functions,
                           valid_until=until, sub_identity=role == "tax_officer" and uid in SUB_IDENTITY_HOLDERS,
                           by=DEMO_SOURCE)
            created["bindings"] += 1
            progress(label)

        for number, client, agents, start, end, status, permissions in AGREEMENTS:
            is_new = Agreement.get_or_none(Agreement.number == number) is None
            directory.file_agreement(number, ents[USCC_AGENCY], ents[client], [people[a] for a in agents],
                                     today + dt.timedelta(days=start), today + dt.timedelta(days=end),
                                     permissions, status=status)
            created["agreements"] += is_new
            progress(f"  agreement {number}: {USCC_AGENCY} for {client}, agents {', '.join(agents)}, "
                     f"{today + dt.timedelta(days=start)} – {today + dt.timedelta(days=end)}, {status}"
                     f"{'' if is_new else ' — refreshed'}")

        # through the integration port's own flow, so the demo rows pass the same checks as filed ones
        for number, kind, name, region, handler, status in PROJECTS:
            is_new = CrossRegionProject.get_or_none(CrossRegionProject.management_no == number) is None
            handler_ref = None
            if handler is not None:
                h = people[handler]
                handler_ref = {"doc_type": DOC_TYPE, "doc_number": resident_id(_id17(handler)), "name": h.name}
            out = file_project(service, PROJECT_SOURCE, management_no=number, uscc=USCC_MAIN, kind=kind, name=name,
                               region=region, handler=handler_ref, status=status)
            created["projects"] += is_new
            who = f"handler {handler} (sub identity)" if handler else "no handler (main identities only)"
            progress(f"  project {number} {kind} {name}, {region}, of {USCC_MAIN}, {who}, {status}"
                     f"{'' if is_new else (' — refreshed' if out['changed'] else ' — exists')}")
    return created


def _id17(uid: str) -> str:
    return next(id17 for u, _, id17, _ in PERSONS if u == uid)


def ensure_client(name: str = CLIENT_NAME, scopes: str = CLIENT_SCOPES) -> str:
    """Create the demo service client, or rotate its key if it exists; returns the new key (shown once)."""
    with database.atomic():
        clients.delete(name)
        _, key = clients.create(name, scopes=scopes)
    return key


def curl(base_url: str, key: str, path: str, body: dict | None = None) -> str:
    """A copy-paste curl command line for one API call."""
    auth = f"-H 'Authorization: Bearer {key}'"
    if body is None:
        return f"curl -s {auth} '{base_url}{path}'"
    data = json.dumps(body, ensure_ascii=False)
    return (f"curl -s -X POST {base_url}{path} {auth} -H 'Content-Type: application/json' "
            f"-d '{data}'")


def people_lines() -> list[str]:
    """One line per demo person: uid, name, phone, full document number (with its check digit), identities."""
    held: dict[str, list[str]] = {}
    for uid, uscc, role, state, *_ in BINDINGS:
        sub = " (sub identity)" if role == "tax_officer" and uid in SUB_IDENTITY_HOLDERS else ""
        held.setdefault(uid, []).append(f"{role}{sub} in {uscc}" + ("" if state == "active" else f" ({state})"))
    lines = []
    for uid, name, id17, phone in PERSONS:
        lines.append(f"  {uid:<22} {name}  phone {phone}  {DOC_TYPE} {resident_id(id17)}  "
                     + "; ".join(held.get(uid, [])))
    return lines


def instructions(base_url: str, key: str) -> list[str]:
    """The lines `authz serve --demo` prints: the key, an allowed and a denied check, a menu, an explain."""
    menu = f"/api/v1/functions?subject={OFFICER}&domain={DOM_MAIN}"
    return [
        "",
        f"PORTAL — open {base_url}/ in a browser: log in on any entry as a person below; the SMS code is on "
        f"{base_url}/dev/sms-outbox (development adapters only). Guide: docs/web.md",
        "",
        "Demo data is ready. Service key for client 'demo' (scopes check,policy; shown once):",
        f"  {key}",
        "",
        f"ALLOWED — tax officer {OFFICER} may declare and pay taxes in {DOM_MAIN} (in their function set):",
        "  " + curl(base_url, key, "/api/v1/check", ALLOWED_CHECK),
        "",
        "DENIED — the same officer may not use invoices there (tax officers may, but not in this function set):",
        "  " + curl(base_url, key, "/api/v1/check", DENIED_CHECK),
        "",
        f"MENU — the functions {OFFICER} may use in {DOM_MAIN}, with Chinese labels:",
        "  " + curl(base_url, key, menu),
        "",
        "EXPLAIN — why the denied check is denied (send the allowed body to see the rule file line):",
        "  " + curl(base_url, key, "/api/v1/explain", DENIED_CHECK),
        "",
        f"LOGIN — every demo person logs in with the password {DEMO_PASSWORD} (account: phone, e.g. "
        f"13800000001, or ID number); SMS codes appear in `authz dev outbox`. Walkthrough: docs/login.md",
        "",
        "PEOPLE — log in with the phone or the document number; forgot password asks for the document type "
        f"({DOC_TYPE}) and number:",
        *people_lines(),
        f"  enterprises: {USCC_MAIN} (ordinary), {USCC_CLIENT} and {USCC_CLIENT2} (clients of the agency), "
        f"{USCC_AGENCY} (agency), {USCC_NONRESIDENT} (non-resident)",
        "",
        f"SPECIAL SUBJECT (R-LOGIN-4) — entry special, uscc {USCC_MAIN}, special_type inspection or tax_source: "
        f"{LEGAL} (13800000001) lists every project of the type, the sub-identity officer {HANDLER} "
        f"(13800000012) only those naming them as handler:",
        *(f"  {no} {kind} {name} — handler {handler or 'none'}, {status}"
          for no, kind, name, _, handler, status in PROJECTS),
        "",
        f"AGENT (R-LOGIN-5, R-SW-5) — entry agent, uscc {USCC_AGENCY}, {AGENT} (13800000007): clients "
        f"{USCC_CLIENT} ({AGREEMENT_ACTIVE}) and {USCC_CLIENT2} ({AGREEMENT_SECOND}); switch between them at "
        "/api/v1/account/switch. Walkthrough: docs/login.md",
        f"API documentation: {base_url}/docs   (OpenAPI: {base_url}/openapi.json)",
        "",
    ]
