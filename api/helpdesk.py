"""Helpdesk operator API (issue 13): the tax bureau's hall staff and support desk find a person (masked),
see and lift a lockout, list and end sessions, see an enterprise's bindings and search the audit and login
logs (scope `helpdesk`); bulk export of those logs is a scope of its own (`helpdesk_export`).

Every call needs the key and then `X-Operator-Id` (the person at the desk), checked before the request is
parsed; the route parses, calls one function of authz/helpdesk.py (which audits it) and returns."""
from __future__ import annotations

import datetime as dt

from flask import Response, g, request, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from authz import helpdesk as hd
from authz.accounts import DOC_TYPES
from authz.clock import SHANGHAI
from authz.counters import METHODS
from authz.ids import PERSON_UID_RE, USCC_RE

from .schemas import Pattern
from .security import authenticate_service, service_secured
from .session import svc

blp = Blueprint("helpdesk", __name__, url_prefix="/api/v1/helpdesk",
                description="Helpdesk: find a person (masked), lockout and unlock, sessions, an enterprise's "
                            "bindings, audit and login log search (scope `helpdesk`; every call needs "
                            "X-Operator-Id and is audited)")
export_blp = Blueprint("helpdesk-export", __name__, url_prefix="/api/v1/helpdesk/export",
                       description="Helpdesk bulk export of the audit and login logs, streamed as CSV or JSON lines "
                                   "(scope `helpdesk_export`; X-Operator-Id; audited)")


def _operator():
    """After the key: the operator id the caller must name (400 operator_required), for the audit row."""
    g.operator = hd.Operator.of(g.client.name, request.headers.get("X-Operator-Id"))


for _bp, _scope in ((blp, "helpdesk"), (export_blp, "helpdesk_export")):
    _bp.before_request(authenticate_service(_scope))
    _bp.before_request(_operator)

OPERATOR = {"in": "header", "name": "X-Operator-Id", "required": True,
            "description": "The operator at the desk (staff id), written to the audit row of the call",
            "schema": {"type": "string", "pattern": hd.OPERATOR_RE.pattern, "maxLength": 64,
                       "example": "hall-0571-007"}}
UID = {"in": "path", "name": "uid", "required": True,
       "schema": {"type": "string", "pattern": PERSON_UID_RE.pattern, "example": "p-demo-legal"}}
USCC = {"in": "path", "name": "uscc", "required": True,
        "schema": {"type": "string", "pattern": USCC_RE.pattern, "example": "91360100MA35DEMO1A"}}
HANDLE = {"in": "path", "name": "handle", "required": True,
          "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{4,24}$"}}


def operation(bp: Blueprint, operation_id: str, *errors: tuple[int, str]):
    """An operation of a helpdesk blueprint: its operationId, the key (401/403), the operator (400) and
    the other statuses it answers."""
    def wrap(fn):
        for status, description in errors:
            fn = bp.alt_response(status, response="DEFAULT_ERROR", description=description)(fn)
        fn = bp.alt_response(400, response="DEFAULT_ERROR",
                             description="X-Operator-Id missing or malformed (operator_required)")(fn)
        fn = service_secured(bp)(fn)
        return bp.doc(operationId=operation_id)(fn)
    return wrap


NOT_FOUND = (404, "No such person or enterprise (not_found); the look-up is audited")
INVALID = (422, "A filter or field outside its allow-list or alphabet (validation_failed, log_range_invalid)")
COUNTERS = (503, "The counter store (Redis) is unreachable (counters_unavailable); nothing was changed")
Time = lambda desc: fields.String(metadata={"description": desc, "format": "date-time"})  # noqa: E731


# ---- schemas
class HdFindQuery(Schema):
    by = fields.String(required=True, validate=validate.OneOf(list(hd.LOOKUPS)),
                       metadata={"description": "What `value` is: an exact document number, phone or username"})
    value = fields.String(required=True, validate=Pattern(hd.LOOKUP_RE.pattern),
                          metadata={"description": "Exact, never fuzzy (in the body: never in a URL or access "
                                                   "log); audited masked", "example": "13800000001"})
    doc_type = fields.String(validate=validate.OneOf(sorted(DOC_TYPES)),
                             metadata={"description": "With by=document: only this document type (ignored otherwise)"})


class HdDocumentView(Schema):
    doc_type = fields.String()
    number_masked = fields.String(metadata={"description": "Masked (R-MASK-1)"})
    primary = fields.Boolean()


class HdPhoneView(Schema):
    number_masked = fields.String(metadata={"description": "Masked (R-MASK-1)"})
    default = fields.Boolean()


class HdPersonView(Schema):
    person = fields.String(metadata={"description": "Person id (p-…): names the person in the other calls"})
    name_masked = fields.String()
    status = fields.String(metadata={"description": "active | deregistered"})
    registered = fields.Boolean()
    realname_level = fields.Integer()
    must_change_password = fields.Boolean()
    agreement_signed = fields.Boolean()
    username_masked = fields.String()
    email_masked = fields.String()
    documents = fields.List(fields.Nested(HdDocumentView))
    phones = fields.List(fields.Nested(HdPhoneView))
    created_at = Time("RFC 3339")


class HdPersonList(Schema):
    total = fields.Integer()
    items = fields.List(fields.Nested(HdPersonView))


class HdMethodState(Schema):
    method = fields.String(metadata={"description": " | ".join(METHODS)})
    failures = fields.Integer(metadata={"description": "Consecutive failures in today's window (Asia/Shanghai)"})
    limit = fields.Integer(metadata={"description": "Failures that lock the method (R-LOGIN-11)"})
    locked = fields.Boolean()
    locked_until = fields.String(allow_none=True, metadata={"description": "RFC 3339", "format": "date-time"})


class HdLockoutView(Schema):
    person = fields.String()
    methods = fields.List(fields.Nested(HdMethodState))
    unlocked = fields.List(fields.String(), metadata={"description": "Methods that were locked and are not now"})


class HdReason(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200),
                           metadata={"description": "Why: a ticket number, the person's request (audited)"})


class HdUnlockRequest(HdReason):
    methods = fields.List(fields.String(validate=validate.OneOf(list(METHODS))),
                          validate=validate.Length(min=1, max=len(METHODS)),
                          metadata={"description": "Methods to unlock; omitted: every method"})


class HdSessionView(Schema):
    handle = fields.String(metadata={"description": "Public name of the session (never its id)"})
    client = fields.String()
    entry = fields.String()
    domain_masked = fields.String(metadata={"description": "ent:<masked USCC> or person:<id>"})
    identity_type = fields.String()
    login_at = Time("RFC 3339")
    last_seen_at = Time("RFC 3339")
    ip = fields.String()
    user_agent = fields.String()


class HdSessionList(Schema):
    person = fields.String()
    total = fields.Integer()
    items = fields.List(fields.Nested(HdSessionView))


class HdEnded(Schema):
    person = fields.String()
    ended = fields.Integer(metadata={"description": "How many sessions ended"})


class HdEnterpriseView(Schema):
    uscc_masked = fields.String()
    name_masked = fields.String()
    kind = fields.String()
    province = fields.String()
    tax_authority = fields.String()
    realname_status = fields.String()
    created_at = Time("RFC 3339")


class HdPaging(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=hd.MAX_LIMIT))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=hd.MAX_OFFSET),
                            metadata={"description": f"At most {hd.MAX_OFFSET}; export for more"})


class HdBindingQuery(HdPaging):
    view = fields.String(load_default="all", validate=validate.OneOf(list(hd.BINDING_VIEWS)),
                         metadata={"description": "live (pending, active), history (deleted, withdrawn, refused, "
                                                  "ended: R-BIND-12) or all"})
    state = fields.String(validate=validate.OneOf(list(hd.LIVE_STATES + hd.HISTORY_STATES)))
    identity_type = fields.String(validate=Pattern(hd.TOKEN_RE.pattern))


class HdBindingView(Schema):
    binding_id = fields.Integer()
    person = fields.String()
    name_masked = fields.String()
    doc_type = fields.String(allow_none=True)
    doc_number_masked = fields.String(allow_none=True)
    identity_type = fields.String()
    state = fields.String()
    enabled = fields.Boolean()
    origin = fields.String()
    initiated_by = fields.String()
    functions = fields.List(fields.String(), allow_none=True, metadata={"description": "null: the type's ceiling"})
    valid_until = fields.String(allow_none=True, metadata={"description": "Inclusive last day; null: long-term"})
    created_at = Time("RFC 3339")
    decided_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    updated_at = Time("RFC 3339")


class HdPage(Schema):
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


class HdBindingPage(HdPage):
    items = fields.List(fields.Nested(HdBindingView))


class HdLogFilters(Schema):
    since = fields.AwareDateTime(format="iso", default_timezone=SHANGHAI,
                                 metadata={"description": "RFC 3339 (no offset: Asia/Shanghai); default one month back"})
    until = fields.AwareDateTime(format="iso", default_timezone=SHANGHAI,
                                 metadata={"description": "RFC 3339, inclusive; default now"})
    person = fields.String(validate=Pattern(PERSON_UID_RE.pattern),
                           metadata={"description": "Rows by, about or in the personal domain of this person"})
    enterprise = fields.String(validate=Pattern(USCC_RE.pattern),
                               metadata={"description": "USCC: rows in this enterprise or about it"})
    outcome = fields.String(validate=Pattern(hd.TOKEN_RE.pattern), metadata={"description": "ok or an error code"})


class HdAuditFilters(HdLogFilters):
    action = fields.String(validate=Pattern(hd.ACTION_RE.pattern),
                           metadata={"description": "An action, or a prefix of dotted actions (staff, helpdesk.lockout)"})


class HdLoginFilters(HdLogFilters):
    entry = fields.String(validate=validate.OneOf(list(hd.LOGIN_ENTRIES)))
    step = fields.String(validate=validate.OneOf(list(hd.LOGIN_STEPS)))


class HdAuditQuery(HdAuditFilters, HdPaging):
    pass


class HdLoginQuery(HdLoginFilters, HdPaging):
    pass


class HdFormat(Schema):
    format = fields.String(load_default="csv", validate=validate.OneOf(list(hd.FORMATS)),
                           metadata={"description": "csv (a header line first) or jsonl (one JSON object a line)"})


class HdAuditExportQuery(HdAuditFilters, HdFormat):
    pass


class HdLoginExportQuery(HdLoginFilters, HdFormat):
    pass


class HdAuditRow(Schema):
    id = fields.Integer()
    at = Time("RFC 3339")
    actor = fields.String(metadata={"description": "Person id, service:<key name>, cli, …"})
    actor_name_masked = fields.String(allow_none=True)
    identity = fields.String()
    domain_masked = fields.String()
    action = fields.String()
    target = fields.String()
    outcome = fields.String()
    request_id = fields.String()
    detail = fields.Raw(allow_none=True, metadata={"description": "As the writer recorded it (never a secret)"})


class HdLoginRow(Schema):
    id = fields.Integer()
    at = Time("RFC 3339")
    entry = fields.String()
    account_type = fields.String()
    step = fields.String()
    factor = fields.String()
    person = fields.String(allow_none=True)
    name_masked = fields.String()
    identity = fields.String()
    uscc_masked = fields.String()
    ip = fields.String()
    outcome = fields.String()


class HdLogPage(HdPage):
    since = Time("RFC 3339")
    until = Time("RFC 3339")


class HdAuditPage(HdLogPage):
    items = fields.List(fields.Nested(HdAuditRow))


class HdLoginPage(HdLogPage):
    items = fields.List(fields.Nested(HdLoginRow))


def _filters(kind: str, query: dict) -> hd.LogFilter:
    q = {k: v for k, v in query.items() if k not in ("limit", "offset", "format")}
    for k in ("since", "until"):
        if isinstance(q.get(k), dt.datetime):
            q[k] = q[k].timestamp()
    return hd.log_filter(svc(), kind, **q)


# ---- people
@blp.route("/persons/search", parameters=[OPERATOR])
class Persons(MethodView):
    @operation(blp, "helpdeskFindPersons", INVALID)
    @blp.arguments(HdFindQuery)
    @blp.response(200, HdPersonList)
    def post(self, body):
        """Find a person by an exact document number, phone or username; masked (R-MASK-1)."""
        return hd.find_persons(svc(), g.operator, **body)


@blp.route("/persons/<uid>", parameters=[UID, OPERATOR])
class PersonOne(MethodView):
    @operation(blp, "helpdeskGetPerson", NOT_FOUND, INVALID)
    @blp.response(200, HdPersonView)
    def get(self, uid):
        """One person, masked (R-MASK-1)."""
        return hd.get_person(svc(), g.operator, uid)


@blp.route("/persons/<uid>/lockout", parameters=[UID, OPERATOR])
class Lockout(MethodView):
    @operation(blp, "helpdeskGetLockout", NOT_FOUND, INVALID, COUNTERS)
    @blp.response(200, HdLockoutView)
    def get(self, uid):
        """Failures and lock of each authentication method (R-LOGIN-11)."""
        return hd.lockout(svc(), g.operator, uid)


@blp.route("/persons/<uid>/lockout/unlock", parameters=[UID, OPERATOR])
class Unlock(MethodView):
    @operation(blp, "helpdeskUnlock", NOT_FOUND, INVALID, COUNTERS)
    @blp.arguments(HdUnlockRequest)
    @blp.response(200, HdLockoutView)
    def post(self, body, uid):
        """Unlock some or every method, as a password reset does (R-LOGIN-11, R-PWD-4); audited."""
        return hd.unlock(svc(), g.operator, uid, methods=body.get("methods"), reason=body["reason"])


@blp.route("/persons/<uid>/sessions", parameters=[UID, OPERATOR])
class PersonSessions(MethodView):
    @operation(blp, "helpdeskListSessions", NOT_FOUND, INVALID)
    @blp.response(200, HdSessionList)
    def get(self, uid):
        """The person's open sessions, newest first (handles, never ids) (R-LOGIN-13)."""
        return hd.list_sessions(svc(), g.operator, uid)


@blp.route("/persons/<uid>/sessions/end", parameters=[UID, OPERATOR])
class EndAllSessions(MethodView):
    @operation(blp, "helpdeskEndAllSessions", NOT_FOUND, INVALID)
    @blp.arguments(HdReason)
    @blp.response(200, HdEnded)
    def post(self, body, uid):
        """End every open session of the person on the server (R-LOGIN-13); audited."""
        return hd.end_all_sessions(svc(), g.operator, uid, reason=body["reason"])


@blp.route("/persons/<uid>/sessions/<handle>/end", parameters=[UID, HANDLE, OPERATOR])
class EndSession(MethodView):
    @operation(blp, "helpdeskEndSession", (404, "No such person, or no open session of theirs with this handle"),
               INVALID)
    @blp.arguments(HdReason)
    @blp.response(200, HdEnded)
    def post(self, body, uid, handle):
        """End one open session of the person by its handle (R-LOGIN-13); audited."""
        return hd.end_session(svc(), g.operator, uid, handle, reason=body["reason"])


# ---- enterprises
@blp.route("/enterprises/<uscc>", parameters=[USCC, OPERATOR])
class EnterpriseOne(MethodView):
    @operation(blp, "helpdeskGetEnterprise", NOT_FOUND, INVALID)
    @blp.response(200, HdEnterpriseView)
    def get(self, uscc):
        """One enterprise, masked (R-MASK-1)."""
        return hd.get_enterprise(svc(), g.operator, uscc)


@blp.route("/enterprises/<uscc>/bindings", parameters=[USCC, OPERATOR])
class EnterpriseBindings(MethodView):
    @operation(blp, "helpdeskListBindings", NOT_FOUND, INVALID)
    @blp.arguments(HdBindingQuery, location="query", unknown=RAISE)
    @blp.response(200, HdBindingPage)
    def get(self, query, uscc):
        """The enterprise's bindings and their history (R-BIND-12), newest first, masked."""
        return hd.enterprise_bindings(svc(), g.operator, uscc, **query)


# ---- logs
@blp.route("/audit", parameters=[OPERATOR])
class AuditSearch(MethodView):
    @operation(blp, "helpdeskSearchAudit", INVALID)
    @blp.arguments(HdAuditQuery, location="query", unknown=RAISE)
    @blp.response(200, HdAuditPage)
    def get(self, query):
        """Search the audit log (R-LOG-2) by person, enterprise, action, outcome and time; paged."""
        return hd.search(svc(), g.operator, "audit", _filters("audit", query), limit=query["limit"],
                         offset=query["offset"])


@blp.route("/logins", parameters=[OPERATOR])
class LoginSearch(MethodView):
    @operation(blp, "helpdeskSearchLogins", INVALID)
    @blp.arguments(HdLoginQuery, location="query", unknown=RAISE)
    @blp.response(200, HdLoginPage)
    def get(self, query):
        """Search the login log (R-LOG-1) by person, enterprise, entry, step, outcome and time; paged."""
        return hd.search(svc(), g.operator, "logins", _filters("logins", query), limit=query["limit"],
                         offset=query["offset"])


MIMETYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
STREAMED = {"responses": {"200": {
    "description": "Every matching row, newest first, streamed (CSV: a header line first; jsonl: one object a "
                   "line; the columns of the search's items)",
    "content": {"text/csv": {"schema": {"type": "string"}}, "application/x-ndjson": {"schema": {"type": "string"}}}}}}


def _stream(kind: str, query: dict) -> Response:
    fmt = query["format"]
    lines = hd.export(svc(), g.operator, kind, _filters(kind, query), fmt)  # audited before the first row
    stamp = dt.datetime.fromtimestamp(svc().clock.time(), tz=SHANGHAI).strftime("%Y%m%dT%H%M%S")
    return Response(stream_with_context(lines), mimetype=MIMETYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="helpdesk-{kind}-{stamp}.{fmt}"'})


@export_blp.route("/audit", parameters=[OPERATOR])
class AuditExport(MethodView):
    @operation(export_blp, "helpdeskExportAudit", INVALID)
    @export_blp.arguments(HdAuditExportQuery, location="query", unknown=RAISE)
    @export_blp.doc(**STREAMED)
    def get(self, query):
        """Export the audit log (R-LOG-2) as CSV or JSON lines, streamed; the same filters as the search."""
        return _stream("audit", query)


@export_blp.route("/logins", parameters=[OPERATOR])
class LoginExport(MethodView):
    @operation(export_blp, "helpdeskExportLogins", INVALID)
    @export_blp.arguments(HdLoginExportQuery, location="query", unknown=RAISE)
    @export_blp.doc(**STREAMED)
    def get(self, query):
        """Export the login log (R-LOG-1) as CSV or JSON lines, streamed; the same filters as the search."""
        return _stream("logins", query)


BLUEPRINTS = (blp, export_blp)
