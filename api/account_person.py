"""Natural-person account centre (issue 4 item 2): personal information, password change, phones,
username, deregistration, real-name level, documents and the person's own logs.

Every route asks the enforcer for the session's current identity (`session.require(obj, act)`), builds
the Actor from the server-side session and calls a flow in authz/flows; the flow asks again (the CLI calls
the same flows). Multi-step operations are stored flows: the client keeps the flow id (azf_...), which
works only for the same person in the same session."""
from __future__ import annotations

from flask import after_this_request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from authz.actor import Actor, of_session
from authz.flows import (deregistration, documents, own_logs, password_change, personal_info, phones, realname,
                         stepup)
from authz.sessions import Entry

from .schemas import Pattern
from .session import clear_cookie, client_ip, require, session_secured, svc

blp = Blueprint("account-person", __name__, url_prefix="/api/v1/account/person",
                description="Natural-person account centre: information, password, phones, username, "
                            "deregistration, real-name level, documents, own logs (session cookie or app bearer)")

ERRORS = "DEFAULT_ERROR"
FLOW_ID = {"in": "path", "name": "flow", "required": True, "schema": {"type": "string"},
           "description": "The flow id returned when the flow started (azf_...)"}
PHONE_OP = {"in": "path", "name": "op", "required": True, "schema": {"type": "string", "enum": [o.value for o in phones.Op]},
            "description": "add (a new phone), modify (replace the default), delete (a non-default phone)"}


def _factor_param(offered) -> dict:
    return {"in": "path", "name": "factor", "required": True, "schema": {"type": "string", "enum": list(offered)},
            "description": "sms (code to the default phone) or a face scan through taxapp / iitapp"}


def actor(obj: str, act: str) -> Actor:
    """The session's current identity, if the enforcer lets it do (obj, act) (R-AUTHZ-1), else 403."""
    return of_session(require(obj, act))


# ---- schemas
Code = lambda **kw: fields.String(validate=Pattern(r"^[0-9]{6}$"), **kw)  # noqa: E731
Secret = lambda: fields.String(required=True, validate=validate.Length(min=1, max=128), load_only=True)  # noqa: E731
Masked = lambda text: fields.String(allow_none=True, metadata={"description": f"{text} (masked, R-MASK-1)"})  # noqa: E731


class PersonFlowState(Schema):
    flow = fields.String(metadata={"description": "The flow id (on the answer that starts a flow)"})
    kind = fields.String()
    state = fields.String(metadata={"description": "The flow's state: verify, verify_old, new_phone, "
                                                   "new_password or done"})
    expires_at = fields.Float()
    factors = fields.List(fields.String(), metadata={"description": "Verification methods offered now"})
    sms_phone = Masked("Where an SMS code of the verification step goes: the default phone")
    scan = fields.String(metadata={"description": "Newest face-scan ticket: waiting, confirmed, failed, consumed"})
    op = fields.String()
    phone = Masked("The phone concerned")
    new_phone = Masked("The new phone")
    level = fields.Integer()


class PersonFactorStarted(Schema):
    factor = fields.String()
    phone = Masked("The phone the code went to")
    expires_in = fields.Integer()
    ticket = fields.String(metadata={"description": "Draw as a QR code for the app to scan"})
    expires_at = fields.Float()


class PersonCodeBody(Schema):
    code = Code(metadata={"description": "The SMS code (omit for a face scan)"})


class PersonDone(Schema):
    state = fields.String()
    sessions_ended = fields.Integer(metadata={"description": "How many other sessions ended"})


class OldPasswordChange(Schema):
    old_password = Secret()
    new_password = Secret()
    confirm_password = Secret()


class PersonNewPassword(Schema):
    new_password = Secret()
    confirm_password = Secret()


class DocumentView(Schema):
    id = fields.Integer()
    doc_type = fields.String()
    doc_type_name = fields.String()
    doc_number = Masked("Document number")
    primary = fields.Boolean()
    long_term = fields.Boolean()
    valid_from = fields.String(allow_none=True)
    valid_to = fields.String(allow_none=True)


class PhoneView(Schema):
    id = fields.Integer()
    phone = Masked("Phone number")
    is_default = fields.Boolean()
    added_at = fields.Float()


class Completeness(Schema):
    items = fields.Dict(keys=fields.String(), values=fields.Boolean(),
                        metadata={"description": "phone, email, address: filled in or not"})
    percent = fields.Integer()


class InfoView(Schema):
    person = fields.String()
    name = Masked("Name")
    gender = fields.String(allow_none=True)
    nationality = fields.String(allow_none=True)
    overseas = fields.Boolean()
    username = fields.String(allow_none=True)
    username_next_change = fields.String(allow_none=True, metadata={
        "description": "First day the username may change again (R-USR-1); null: now"})
    email = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    realname_level = fields.Integer()
    documents = fields.List(fields.Nested(DocumentView))
    phones = fields.List(fields.Nested(PhoneView))
    completeness = fields.Nested(Completeness)


class InfoPatch(Schema):
    email = fields.String(validate=validate.Length(max=254), metadata={"description": "Empty clears it"})
    name = fields.String(validate=validate.Length(min=1, max=100))
    address = fields.String(validate=validate.Length(max=300), metadata={"description": "Empty clears it"})


class ValidityBody(Schema):
    document_id = fields.Integer(validate=validate.Range(min=1, max=stepup.MAX_ID),
                                 metadata={"description": "One of your documents; default the primary"})
    long_term = fields.Boolean(required=True, metadata={"description": "true: long-term (start only); "
                                                                       "false: custom (start and end)"})
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(allow_none=True)


class UsernameBody(Schema):
    username = fields.String(required=True, validate=Pattern(r"^[A-Za-z][A-Za-z0-9]{5,19}$"),
                             metadata={"description": "6-20 letters or digits, first a letter (R-USR-1)"})


class UsernameResult(PersonFlowState):
    username = fields.String(allow_none=True)
    username_next_change = fields.String(allow_none=True)


class PhoneList(Schema):
    phones = fields.List(fields.Nested(PhoneView))


class PhoneFlowStart(Schema):
    phone_id = fields.Integer(validate=validate.Range(min=1, max=stepup.MAX_ID),
                              metadata={"description": "delete: the phone to delete"})


class NewPhoneBody(Schema):
    phone = fields.String(required=True, validate=Pattern(r"^1[3-9][0-9]{9}$"))
    human_token = fields.String(validate=validate.Length(max=400),
                                metadata={"description": "A fresh slider token (R-LOGIN-14): one per SMS to a "
                                                         "number not yet proven (issue 10 finding 6); unused when off"})


class NewPhoneCode(Schema):
    code = Code(required=True)


class PhoneDone(PersonFlowState):
    phones = fields.List(fields.Nested(PhoneView), metadata={"description": "When done: the phones now"})


class DeregNotice(Schema):
    notice_zh = fields.String()
    notice_en = fields.String()
    name = Masked("Name")
    sms_phone = Masked("Default phone")
    factors = fields.List(fields.String())


class DeregStart(Schema):
    notice_accepted = fields.Boolean(required=True, metadata={"description": "The notice was read and accepted"})


class LevelDef(Schema):
    level = fields.Integer()
    zh = fields.String()
    en = fields.String()


class RealnameView(Schema):
    level = fields.Integer()
    levels = fields.List(fields.Nested(LevelDef))
    can_upgrade = fields.Boolean()
    factors = fields.List(fields.String())
    message_zh = fields.String()
    message_en = fields.String()


class RealnameDone(Schema):
    state = fields.String()
    level = fields.Integer()
    message_zh = fields.String()
    message_en = fields.String()


class DocTypeView(Schema):
    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()


class DocumentList(Schema):
    documents = fields.List(fields.Nested(DocumentView))
    addable_types = fields.List(fields.Nested(DocTypeView))


class DocumentAdd(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    doc_type = fields.String(required=True, validate=validate.OneOf(list(documents.ONLINE_TYPES)),
                             metadata={"description": "One of the seven types that may be added online"})
    doc_number = fields.String(required=True, validate=validate.Length(min=5, max=40))
    long_term = fields.Boolean(load_default=False)
    valid_from = fields.Date()
    valid_to = fields.Date(allow_none=True)


class DocumentDone(Schema):
    state = fields.String()
    document = fields.Nested(DocumentView)


class Paging(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=own_logs.MAX_PER_PAGE))
    since = fields.Date(metadata={"description": "First day (Asia/Shanghai); default one month before `until`"})
    until = fields.Date(metadata={"description": "Last day (Asia/Shanghai); default today"})


class LoginLogQuery(Paging):
    entry = fields.String(validate=validate.OneOf([e.value for e in Entry]),
                          metadata={"description": "Login type: enterprise, personal, agent, special, nonresident"})
    identity_type = fields.String(validate=Pattern(r"^[a-z][a-z0-9_]{0,31}$"))
    taxpayer_name = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "Fuzzy"})
    uscc = fields.String(validate=Pattern(r"^[0-9A-Z]{15,20}$"))


class AuditLogQuery(Paging):
    action = fields.String(validate=Pattern(r"^[a-z][a-z0-9_.]{0,63}$"),
                           metadata={"description": "An action or an action prefix (person.phone)"})


class LoginLogItem(Schema):
    at = fields.Float()
    entry = fields.String()
    account_type = fields.String()
    step = fields.String()
    factor = fields.String()
    name = Masked("Name")
    identity_type = fields.String(allow_none=True)
    uscc = Masked("USCC")
    taxpayer_name = Masked("Taxpayer name")
    ip = fields.String()
    outcome = fields.String()


class AuditLogItem(Schema):
    at = fields.Float()
    action = fields.String()
    by_me = fields.Boolean(metadata={"description": "false: done to your account by someone else"})
    identity_type = fields.String(allow_none=True)
    domain = Masked("Domain")
    target = Masked("Target")
    outcome = fields.String()
    detail = fields.Dict(allow_none=True)


class LogPage(Schema):
    since = fields.String()
    until = fields.String()
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class LoginLogPage(LogPage):
    items = fields.List(fields.Nested(LoginLogItem))


class AuditLogPage(LogPage):
    items = fields.List(fields.Nested(AuditLogItem))


# ---- shared verification routes of a stored flow: state, begin a factor, verify it
def _summary(text: str):
    def deco(fn):
        fn.__doc__ = text
        return fn
    return deco


def verification_routes(name: str, prefix: str, obj: str, act: str, module, offered, done_schema,
                        what: str, on_done=None) -> None:
    """GET <prefix>/<flow>, POST <prefix>/<flow>/factors/<factor>[/verify] for one flow module."""
    factor = _factor_param(offered)

    @blp.route(f"{prefix}/<flow>", endpoint=f"{name}-flow", parameters=[FLOW_ID])
    class _State(MethodView):
        @session_secured(blp)
        @blp.response(200, PersonFlowState)
        @_summary(f"The {what} flow's state (poll it while a face scan is pending).")
        def get(self, flow):
            return {"flow": flow, **module.load_view(svc(), actor(obj, act), flow)}

    @blp.route(f"{prefix}/<flow>/factors/<factor>", endpoint=f"{name}-factor", parameters=[FLOW_ID, factor])
    class _Factor(MethodView):
        @session_secured(blp)
        @blp.response(200, PersonFactorStarted)
        @blp.alt_response(429, response=ERRORS, description="SMS quota (R-SMS-1)")
        @blp.alt_response(423, response=ERRORS, description="Locked (R-LOGIN-11)")
        @_summary(f"{what.capitalize()}: send the SMS code to the default phone or show a face-scan ticket.")
        def post(self, flow, factor):
            return module.begin_factor(svc(), actor(obj, act), flow, factor)

    @blp.route(f"{prefix}/<flow>/factors/<factor>/verify", endpoint=f"{name}-verify", parameters=[FLOW_ID, factor])
    class _Verify(MethodView):
        @session_secured(blp)
        @blp.arguments(PersonCodeBody)
        @blp.response(200, done_schema)
        @blp.alt_response(409, response=ERRORS, description="Scan not confirmed yet (poll again), or wrong step")
        @blp.alt_response(423, response=ERRORS, description="Locked (R-LOGIN-11)")
        @_summary(f"{what.capitalize()}: check the SMS code or collect the confirmed face scan.")
        def post(self, body, flow, factor):
            out = module.verify_factor(svc(), actor(obj, act), flow, factor, body.get("code"))
            return on_done(out) if on_done else out


# ---- personal information (R-INFO-1, R-INFO-2, R-USR-1)
@blp.route("/info")
class Info(MethodView):
    @session_secured(blp)
    @blp.response(200, InfoView)
    def get(self):
        """Basic information, masked, with documents, phones, real-name level and completeness (R-INFO-1)."""
        return personal_info.view(svc(), actor("ac.person.info", "view"))

    @session_secured(blp)
    @blp.arguments(InfoPatch)
    @blp.response(200, InfoView)
    def patch(self, body):
        """Change email, name or address (R-INFO-2)."""
        return personal_info.update(svc(), actor("ac.person.info", "edit"), **body)


@blp.route("/info/document-validity")
class DocumentValidity(MethodView):
    @session_secured(blp)
    @blp.arguments(ValidityBody)
    @blp.response(200, DocumentView)
    def put(self, body):
        """Document validity: custom (start and end) or long-term (start only) (R-INFO-2)."""
        return personal_info.set_document_validity(svc(), actor("ac.person.info", "edit"), **body)


@blp.route("/info/username")
class Username(MethodView):
    @session_secured(blp)
    @blp.arguments(UsernameBody)
    @blp.response(200, UsernameResult)
    @blp.alt_response(409, response=ERRORS, description="Already changed this calendar year, or taken (R-USR-1)")
    def post(self, body):
        """Set or change the username: done at once in personal business; from enterprise business a flow
        that needs an SMS code or a face scan (R-USR-1)."""
        return personal_info.change_username(svc(), actor("ac.person.info", "edit"), body["username"])


class _UsernameFlows:
    load_view = staticmethod(personal_info.username_flow)
    begin_factor = staticmethod(personal_info.begin_username_factor)
    verify_factor = staticmethod(personal_info.verify_username_factor)


verification_routes("username", "/info/username/flows", "ac.person.info", "edit", _UsernameFlows,
                    personal_info.FACTORS, UsernameResult, "username change")


# ---- password (R-PWD-3)
@blp.route("/password")
class PasswordByOld(MethodView):
    @session_secured(blp)
    @blp.arguments(OldPasswordChange)
    @blp.response(200, PersonDone)
    @blp.alt_response(423, response=ERRORS, description="Locked (R-LOGIN-11)")
    def post(self, body):
        """Change the password with the old password; the person's other sessions end (R-PWD-3)."""
        return password_change.change_with_old_password(svc(), actor("ac.person.password", "change"), **body)


@blp.route("/password/flows")
class PasswordFlowStart(MethodView):
    @session_secured(blp)
    @blp.response(200, PersonFlowState)
    def post(self):
        """Start a password change verified by an SMS code to the default phone or a face scan (R-PWD-3)."""
        return password_change.start(svc(), actor("ac.person.password", "change"))


verification_routes("password", "/password/flows", "ac.person.password", "change", password_change,
                    password_change.FACTORS, PersonFlowState, "password change")


@blp.route("/password/flows/<flow>/password", parameters=[FLOW_ID])
class PasswordFlowSet(MethodView):
    @session_secured(blp)
    @blp.arguments(PersonNewPassword)
    @blp.response(200, PersonDone)
    def post(self, body, flow):
        """After the verification: the new password twice; the person's other sessions end."""
        return password_change.set_password(svc(), actor("ac.person.password", "change"), flow, **body)


# ---- phones (R-PHONE-2..6)
@blp.route("/phones")
class Phones(MethodView):
    @session_secured(blp)
    @blp.response(200, PhoneList)
    def get(self):
        """The person's phones, masked, default first."""
        return phones.list_phones(svc(), actor(phones.FUNCTION, "view"))


@blp.route("/phones/<int:phone_id>/default", parameters=[
    {"in": "path", "name": "phone_id", "required": True,
     "schema": {"type": "integer", "minimum": 1, "maximum": stepup.MAX_ID}}])
class PhoneDefault(MethodView):
    @session_secured(blp)
    @blp.response(200, PhoneList)
    def post(self, phone_id):
        """Make this phone the default; the former default stops being default (R-PHONE-2)."""
        return phones.set_default(svc(), actor(phones.FUNCTION, "edit"), phone_id)


def _phone_actor(op: str) -> Actor:
    return actor(phones.FUNCTION, phones.ACT[phones._op(op)])


@blp.route("/phones/<op>/flows", parameters=[PHONE_OP])
class PhoneFlowStart(MethodView):
    @session_secured(blp)
    @blp.arguments(PhoneFlowStart)
    @blp.response(200, PersonFlowState)
    def post(self, body, op):
        """Start adding a phone, modifying the default, or deleting a non-default phone (R-PHONE-3..5)."""
        return phones.start(svc(), _phone_actor(op), op, body.get("phone_id"))


@blp.route("/phones/<op>/flows/<flow>", parameters=[PHONE_OP, FLOW_ID])
class PhoneFlowState(MethodView):
    @session_secured(blp)
    @blp.response(200, PersonFlowState)
    def get(self, op, flow):
        """The phone flow's state (poll it while a face scan is pending)."""
        return {"flow": flow, **phones.load_view(svc(), _phone_actor(op), op, flow)}


@blp.route("/phones/<op>/flows/<flow>/factors/<factor>", parameters=[PHONE_OP, FLOW_ID, _factor_param(phones.FACTORS)])
class PhoneFlowFactor(MethodView):
    @session_secured(blp)
    @blp.response(200, PersonFactorStarted)
    @blp.alt_response(429, response=ERRORS, description="SMS quota (R-SMS-1)")
    def post(self, op, flow, factor):
        """First step: an SMS code to the default phone, or a face-scan ticket when it is unreachable."""
        return phones.begin_factor(svc(), _phone_actor(op), op, flow, factor)


@blp.route("/phones/<op>/flows/<flow>/factors/<factor>/verify",
           parameters=[PHONE_OP, FLOW_ID, _factor_param(phones.FACTORS)])
class PhoneFlowVerify(MethodView):
    @session_secured(blp)
    @blp.arguments(PersonCodeBody)
    @blp.response(200, PhoneDone)
    @blp.alt_response(409, response=ERRORS, description="Scan not confirmed yet, or wrong step")
    def post(self, body, op, flow, factor):
        """First step verified: add / modify go on to the new number (state new_phone); delete is done."""
        return phones.verify_factor(svc(), _phone_actor(op), op, flow, factor, body.get("code"))


@blp.route("/phones/<op>/flows/<flow>/new-phone", parameters=[PHONE_OP, FLOW_ID])
class PhoneFlowNew(MethodView):
    @session_secured(blp)
    @blp.arguments(NewPhoneBody)
    @blp.response(200, PersonFactorStarted)
    @blp.alt_response(422, response=ERRORS, description="Human check missing or already used (human_check_failed)")
    @blp.alt_response(429, response=ERRORS, description="SMS quota (R-SMS-1), flow or client send cap "
                                                        "(sms_flow_limit, sms_client_limit)")
    def post(self, body, op, flow):
        """Second step of add / modify: the new number; an SMS code goes to it."""
        return phones.send_new_code(svc(), _phone_actor(op), op, flow, body["phone"], client=client_ip(),
                                    human_token=body.get("human_token"))


@blp.route("/phones/<op>/flows/<flow>/new-phone/verify", parameters=[PHONE_OP, FLOW_ID])
class PhoneFlowNewVerify(MethodView):
    @session_secured(blp)
    @blp.arguments(NewPhoneCode)
    @blp.response(200, PhoneDone)
    def post(self, body, op, flow):
        """The new number's code: it becomes yours, taken from anyone else who held it (R-PHONE-6);
        modify makes it the default and removes the old default (R-PHONE-4)."""
        return phones.verify_new(svc(), _phone_actor(op), op, flow, body["code"])


# ---- deregistration (R-INFO-3, R-BIND-17)
def _signed_out(out: dict) -> dict:
    @after_this_request
    def _clear(resp):
        clear_cookie(resp)
        return resp
    return out


@blp.route("/deregistration")
class Deregistration(MethodView):
    @session_secured(blp)
    @blp.response(200, DeregNotice)
    def get(self):
        """The deregistration notice, with the masked name and default phone used for the verification."""
        return deregistration.notice(svc(), actor(deregistration.FUNCTION, deregistration.ACTION))

    @session_secured(blp)
    @blp.arguments(DeregStart)
    @blp.response(200, PersonFlowState)
    def post(self, body):
        """Start deregistering (the notice was read): then an SMS code or a face scan (R-INFO-3)."""
        return deregistration.start(svc(), actor(deregistration.FUNCTION, deregistration.ACTION),
                                    body["notice_accepted"])


verification_routes("deregistration", "/deregistration/flows", deregistration.FUNCTION, deregistration.ACTION,
                    deregistration, deregistration.FACTORS, PersonDone, "deregistration", on_done=_signed_out)


# ---- real-name level (R-RN-1, R-RN-2)
@blp.route("/realname")
class Realname(MethodView):
    @session_secured(blp)
    @blp.response(200, RealnameView)
    def get(self):
        """The real-name level, what the levels mean, and whether an online upgrade is possible (R-RN-1)."""
        return realname.view(svc(), actor(realname.FUNCTION, "view"))


@blp.route("/realname/flows")
class RealnameStart(MethodView):
    @session_secured(blp)
    @blp.response(200, PersonFlowState)
    @blp.alt_response(409, response=ERRORS, description="Already level 4: the manual's message (R-RN-2)")
    def post(self):
        """Start a one-level upgrade by face scan (up to level 4) (R-RN-2)."""
        return realname.start(svc(), actor(realname.FUNCTION, "upgrade"))


verification_routes("realname", "/realname/flows", realname.FUNCTION, "upgrade", realname, realname.FACTORS,
                    RealnameDone, "real-name upgrade")


# ---- documents (R-DOC-1)
@blp.route("/documents")
class Documents(MethodView):
    @session_secured(blp)
    @blp.response(200, DocumentList)
    def get(self):
        """The person's documents (numbers masked) and the types that may be added online."""
        return documents.list_documents(svc(), actor(documents.FUNCTION, "view"))

    @session_secured(blp)
    @blp.arguments(DocumentAdd)
    @blp.response(200, PersonFlowState)
    @blp.alt_response(409, response=ERRORS, description="Held by another person, or already yours")
    def post(self, body):
        """Start adding a document; a face scan through an app confirms it (R-DOC-1)."""
        return documents.start(svc(), actor(documents.FUNCTION, "add"), **body)


verification_routes("documents", "/documents/flows", documents.FUNCTION, "add", documents, documents.FACTORS,
                    DocumentDone, "document addition")


# ---- own logs (R-LOG-1, R-LOG-2)
@blp.route("/logs/login")
class MyLoginLog(MethodView):
    @session_secured(blp)
    @blp.arguments(LoginLogQuery, location="query")
    @blp.response(200, LoginLogPage)
    def get(self, query):
        """My login log, default the last month, with filters (R-LOG-1)."""
        return own_logs.login_logs(svc(), actor("ac.person.logs", "view"), **query)


@blp.route("/logs/audit")
class MyAuditLog(MethodView):
    @session_secured(blp)
    @blp.arguments(AuditLogQuery, location="query")
    @blp.response(200, AuditLogPage)
    def get(self, query):
        """My audit log: what I changed and what was done to my account (R-LOG-2)."""
        return own_logs.audit_logs(svc(), actor("ac.person.audit", "view"), **query)


BLUEPRINTS = (blp,)
