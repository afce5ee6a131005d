"""Enterprise account centre (issue 4 item 1): enterprise information with masking and an audited reveal,
staff management (add, pending, withdraw, applications, manage, delete, history, assist code, data sync),
my own permissions, agency views and the enterprise's logs.

Thin: every route parses, builds the Actor from the server-side session
(`identity_switch.actor_of(current_session())`: never a domain or identity type from the request), calls
one flow in authz/flows and returns its answer. The flows ask the enforcer (R-AUTHZ-1) and scope every
query to the session's enterprise, so another enterprise's binding id is 404 like a missing one.

Log ranges (`since` / `until`) are calendar dates (YYYY-MM-DD, Asia/Shanghai): `since` from the start of
that day, `until` to the end of that day; default the last month up to now."""
from __future__ import annotations


from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from authz.actor import Actor
from authz.clock import end_of_day_epoch, start_of_day_epoch
from authz.flows import agency_views, enterprise_info, enterprise_logs, staff
from authz.flows.identity_switch import actor_of
from authz.flows.stepup import MAX_ID

from .schemas import Pattern
from .session import current_session, session_secured, svc

blp = Blueprint("account-enterprise", __name__, url_prefix="/api/v1/account/enterprise",
                description="Enterprise account centre: enterprise information, staff and permissions, "
                            "my agency / clients / agent staff, enterprise logs (session cookie or app bearer)")

ERRORS = "DEFAULT_ERROR"
BINDING_ID = {"in": "path", "name": "binding_id", "required": True,
              "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
              "description": "A binding (staff entry) of the session's enterprise"}
ID_RULE = f"<int(min=1,max={MAX_ID}):binding_id>"


def actor() -> Actor:
    """The session's current identity (401 without a live session)."""
    return actor_of(current_session())


# ---- schemas
IdentityType = lambda **kw: fields.String(validate=Pattern(r"^[a-z][a-z0-9_]{0,31}$"), **kw)  # noqa: E731
Masked = lambda text: fields.String(allow_none=True, metadata={"description": f"{text} (masked, R-MASK-1)"})  # noqa: E731


def _sorts(keys) -> list[str]:
    return sorted(keys) + sorted("-" + k for k in keys)


def FunctionList(**kw):  # noqa: N802
    return fields.List(fields.String(validate=Pattern(r"^[a-z][a-z0-9_.:]{0,63}$")),
                       validate=validate.Length(min=1, max=200), **kw)


class FunctionView(Schema):
    function = fields.String()
    name = fields.String()
    name_en = fields.String()
    group = fields.String()


class IdentityLabel(Schema):
    identity_type = fields.String()
    identity_type_name = fields.String()
    identity_type_name_en = fields.String()


class StaffView(IdentityLabel):
    id = fields.Integer()
    version = fields.Integer()
    name = Masked("Name")
    doc_type = fields.String()
    doc_number = Masked("Document number")
    sub_identity = fields.Boolean()
    state = fields.String(metadata={"description": "pending, active, deleted, withdrawn, refused, ended"})
    status = fields.String(metadata={"description": "active: enabled / disabled (R-BIND-13); else the state"})
    valid_until = fields.String(allow_none=True)
    long_term = fields.Boolean()
    functions = fields.List(fields.Nested(FunctionView))
    origin = fields.String()
    initiated_by = fields.String()
    assist_code = fields.Boolean()
    created_at = fields.Float(allow_none=True)
    decided_at = fields.Float(allow_none=True)
    actions = fields.List(fields.String(), metadata={"description": "What the session's identity may do to it"})


class EntPage(Schema):
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


class StaffPage(EntPage):
    items = fields.List(fields.Nested(StaffView))


class EntPaging(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=staff.MAX_PAGE))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))


class StaffQuery(EntPaging):
    identity_type = IdentityType()
    name = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "Fuzzy"})
    status = fields.String(validate=validate.OneOf(["enabled", "disabled"]))
    sort = fields.String(load_default="created_at", validate=validate.OneOf(_sorts(staff.SORT_FIELDS)))


class EntPendingQuery(EntPaging):
    identity_type = IdentityType()
    name = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "Fuzzy"})
    initiated_by = fields.String(validate=validate.OneOf(["enterprise", "person", "integration", "hall"]))
    sort = fields.String(load_default="-created_at", validate=validate.OneOf(_sorts(staff.SORT_FIELDS)))


class EntHistoryFilter(Schema):
    identity_type = IdentityType()
    name = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "Fuzzy"})
    state = fields.String(validate=validate.OneOf(list(staff.HISTORY_STATES)))


class EntHistoryQuery(EntPaging, EntHistoryFilter):
    sort = fields.String(load_default="-decided_at", validate=validate.OneOf(_sorts(staff.SORT_FIELDS)))


class EntHistoryClear(EntHistoryFilter):
    ids = fields.List(fields.Integer(validate=validate.Range(min=1, max=MAX_ID)),
                      validate=validate.Length(min=1, max=staff.MAX_BATCH),
                      metadata={"description": "The entries to clear; omitted: every entry matching the filters"})


class EntCleared(Schema):
    cleared = fields.Integer()


class StaffAdd(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    doc_type = fields.String(required=True, validate=Pattern(r"^[a-z][a-z0-9_]{0,31}$"))
    doc_number = fields.String(required=True, validate=validate.Length(min=5, max=40))
    identity_type = IdentityType(required=True)
    functions = FunctionList(allow_none=True, metadata={"description": "Subset of the type's ceiling; "
                                                                         "omitted or null: the whole ceiling"})
    valid_until = fields.Date(allow_none=True, metadata={"description": "Validity end; null: long-term"})
    risk_confirmed = fields.Boolean(required=True, metadata={"description": "The tax-risk notice was confirmed"})


class DocTypeOption(Schema):
    code = fields.String()
    name = fields.String()
    name_en = fields.String()


class IdentityTypeOption(IdentityLabel):
    actions = fields.List(fields.String(), metadata={"description": "What the session may do to staff of this "
                                                                     "type (add, manage, delete, withdraw, view)"})
    functions = fields.List(fields.Nested(FunctionView), metadata={"description": "The type's function ceiling "
                                                                                  "here: the add form's default"})


class StaffOptions(Schema):
    identity_types = fields.List(fields.Nested(IdentityTypeOption))
    doc_types = fields.List(fields.Nested(DocTypeOption))


class StaffManage(Schema):
    functions = FunctionList(allow_none=True, metadata={"description": "New function set; null: the ceiling"})
    valid_until = fields.Date(allow_none=True, metadata={"description": "New validity end; null: long-term"})
    version = fields.Integer(validate=validate.Range(min=0, max=MAX_ID),
                             metadata={"description": "The version read (optimistic concurrency)"})


class ApplicationConfirm(Schema):
    functions = FunctionList(allow_none=True, metadata={"description": "Omitted or null: the whole ceiling"})
    valid_until = fields.Date(allow_none=True, metadata={"description": "Null: long-term"})


class AssistView(IdentityLabel):
    id = fields.Integer()
    version = fields.Integer()
    name = Masked("Name")
    doc_type = fields.String()
    doc_number = Masked("Document number")
    enabled = fields.Boolean()
    functions = fields.List(fields.Nested(FunctionView))
    choices = fields.List(fields.Nested(FunctionView))


class AssistSet(Schema):
    enabled = fields.Boolean(required=True)
    functions = fields.List(fields.String(validate=Pattern(r"^[a-z][a-z0-9_.:]{0,63}$")),
                            allow_none=True, validate=validate.Length(max=200),
                            metadata={"description": "⊆ the member's function set; omitted: all when switching on"})
    version = fields.Integer(validate=validate.Range(min=0, max=MAX_ID))


class SyncResult(Schema):
    id = fields.Integer()
    event_id = fields.Raw()
    queued_at = fields.Float()
    reused = fields.Boolean()


class Grant(IdentityLabel):
    source = fields.String()
    live = fields.Boolean()
    valid_until = fields.String(allow_none=True)
    long_term = fields.Boolean()
    functions = fields.List(fields.Nested(FunctionView))


class MyPermissions(IdentityLabel):
    grants = fields.List(fields.Nested(Grant))


class CurrentIdentity(IdentityLabel):
    current = fields.Boolean()


class Personnel(IdentityLabel):
    name = Masked("Name")
    doc_type = fields.String()
    doc_number = Masked("Document number")
    phone = Masked("Phone")


class BasicInfo(Schema):
    uscc = Masked("Unified social credit code")
    name = Masked("Taxpayer name")
    legal_rep_name = Masked("Legal representative")
    kind = fields.String()
    realname_status = fields.String(allow_none=True)
    tax_authority = fields.String(allow_none=True)
    province = fields.String(allow_none=True)
    my_realname_level = fields.Integer(allow_none=True)
    current_identity = fields.Nested(CurrentIdentity)
    other_identities = fields.List(fields.Nested(CurrentIdentity))
    main_personnel = fields.List(fields.Nested(Personnel))
    scope = fields.String(metadata={"description": "basic or full"})


class FullInfo(BasicInfo):
    tax_info = fields.Dict(metadata={"description": "Basic tax information (non-resident code masked)"})
    investors = fields.List(fields.Dict())
    not_provided = fields.List(fields.String(), metadata={"description": "Fields no source provides yet"})


class Revealed(Schema):
    name = fields.String(metadata={"description": "The full taxpayer name (the reveal is audited)"})


class AgencyQuery(EntPaging):
    status = fields.String(validate=validate.OneOf(list(agency_views.STATUSES)))


class AgentView(IdentityLabel):
    name = Masked("Name")
    doc_type = fields.String()
    doc_number = Masked("Document number")
    permissions = fields.List(fields.Nested(FunctionView))


class AgreementView(Schema):
    agreement_number = fields.String()
    agency_name = Masked("Agency name")
    agency_uscc = Masked("Agency USCC")
    client_name = Masked("Client name")
    client_uscc = Masked("Client USCC")
    service_start = fields.String(allow_none=True)
    service_end = fields.String(allow_none=True)
    status = fields.String()
    permissions = fields.List(fields.Nested(FunctionView))
    agents = fields.List(fields.Nested(AgentView))


class AgreementPage(EntPage):
    items = fields.List(fields.Nested(AgreementView))


class AgentClient(Schema):
    agreement_number = fields.String()
    client_name = Masked("Client name")
    client_uscc = Masked("Client USCC")
    service_start = fields.String(allow_none=True)
    service_end = fields.String(allow_none=True)
    status = fields.String()
    permissions = fields.List(fields.Nested(FunctionView))


class AgentStaffView(IdentityLabel):
    name = Masked("Name")
    doc_type = fields.String()
    doc_number = Masked("Document number")
    clients = fields.List(fields.Nested(AgentClient))


class AgentStaffPage(EntPage):
    items = fields.List(fields.Nested(AgentStaffView))


class EntLogQuery(Schema):
    since = fields.Date(metadata={"description": "First day (Asia/Shanghai); default one month back"})
    until = fields.Date(metadata={"description": "Last day (Asia/Shanghai), inclusive; default now"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=enterprise_logs.MAX_PER_PAGE))


class EntLoginLogQuery(EntLogQuery):
    entry = fields.String(validate=validate.OneOf(list(enterprise_logs.ENTRIES)))
    name = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "Fuzzy"})
    identity_type = IdentityType()


class EntAuditLogQuery(EntLogQuery):
    action = fields.String(validate=Pattern(r"^[a-z][a-z0-9_.]{0,63}$"),
                           metadata={"description": "An action or an action prefix (staff, ent.reveal)"})


class EntLogPage(Schema):
    total = fields.Integer()
    identity_types = fields.List(fields.Nested(IdentityLabel),
                                 metadata={"description": "Every identity type with its names (the filter's choices)"})
    since = fields.Float(metadata={"description": "Epoch seconds"})
    until = fields.Float(metadata={"description": "Epoch seconds"})


class EntLoginLogItem(Schema):
    at = fields.Float()
    entry = fields.String()
    step = fields.String(allow_none=True)
    factor = fields.String(allow_none=True)
    account_type = fields.String(allow_none=True)
    name = Masked("Name")
    identity_type = fields.String(allow_none=True)
    identity_type_name = fields.String(allow_none=True)
    identity_type_name_en = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)


class EntAuditLogItem(Schema):
    at = fields.Float()
    actor = Masked("Who (name)")
    identity_type = fields.String(allow_none=True)
    identity_type_name = fields.String(allow_none=True)
    identity_type_name_en = fields.String(allow_none=True)
    action = fields.String()
    target = fields.String(allow_none=True, metadata={"description": "An object id (binding:<id>, enterprise:<id>)"})
    outcome = fields.String(allow_none=True)


class EntLoginLogPage(EntLogPage):
    items = fields.List(fields.Nested(EntLoginLogItem))


class EntAuditLogPage(EntLogPage):
    items = fields.List(fields.Nested(EntAuditLogItem))


def log_range(query: dict) -> dict:
    """Calendar days (Asia/Shanghai) to the flows' epoch-second bounds, `until` inclusive."""
    out = dict(query)
    if out.get("since") is not None:
        out["since"] = start_of_day_epoch(out["since"])
    if out.get("until") is not None:
        out["until"] = end_of_day_epoch(out["until"]) - 0.001
    return out


# ---- enterprise information (R-ENT-1, R-ENT-2, R-MASK-1)
@blp.route("/info")
class Info(MethodView):
    @session_secured(blp)
    @blp.response(200, BasicInfo)
    def get(self):
        """Basic information and main personnel, masked; my identities here (R-ENT-1)."""
        return enterprise_info.basic_info(svc(), actor())


@blp.route("/info/full")
class InfoFull(MethodView):
    @session_secured(blp)
    @blp.response(200, FullInfo)
    def get(self):
        """Full information: basic, main personnel, tax information, investors (R-ENT-2)."""
        return enterprise_info.full_info(svc(), actor())


@blp.route("/info/reveal")
class InfoReveal(MethodView):
    @session_secured(blp)
    @blp.response(200, Revealed)
    def post(self):
        """Show the full taxpayer name on explicit request; written to the audit log (R-MASK-1)."""
        return enterprise_info.reveal_name(svc(), actor())


# ---- staff (R-BIND-4, R-BIND-9, R-BIND-10, R-BIND-13)
@blp.route("/staff")
class Staff(MethodView):
    @session_secured(blp)
    @blp.arguments(StaffQuery, location="query")
    @blp.response(200, StaffPage)
    def get(self, query):
        """Active staff of every identity type with status, validity end and function set (R-BIND-13)."""
        return staff.list_staff(svc(), actor(), **query)

    @session_secured(blp)
    @blp.arguments(StaffAdd)
    @blp.response(200, StaffView)
    @blp.alt_response(409, response=ERRORS, description="Already holds or awaits this identity type here")
    def post(self, body):
        """Add a staff member with a function set and validity end; pending until they confirm (R-BIND-4)."""
        return staff.add_staff(svc(), actor(), **body)


@blp.route("/staff/options")
class StaffOptionsRoute(MethodView):
    @session_secured(blp)
    @blp.response(200, StaffOptions)
    def get(self):
        """Identity types I may act on here, with their function ceilings; document types (R-BIND-4)."""
        return staff.staff_options(svc(), actor())


@blp.route(f"/staff/{ID_RULE}", parameters=[BINDING_ID])
class StaffOne(MethodView):
    @session_secured(blp)
    @blp.response(200, StaffView)
    def get(self, binding_id):
        """One staff member: masked person, identity type, function set, validity end."""
        return staff.get_staff(svc(), actor(), binding_id)

    @session_secured(blp)
    @blp.arguments(StaffManage)
    @blp.response(200, StaffView)
    @blp.alt_response(409, response=ERRORS, description="Changed meanwhile (version), or not active")
    def patch(self, body, binding_id):
        """Change the function set and/or validity end; the identity type never changes (R-BIND-9)."""
        return staff.manage_staff(svc(), actor(), binding_id, **body)

    @session_secured(blp)
    @blp.response(200, StaffView)
    def delete(self, binding_id):
        """Delete a staff member: their access here ends at once (R-BIND-10)."""
        return staff.delete_staff(svc(), actor(), binding_id)


@blp.route(f"/staff/{ID_RULE}/assist-code", parameters=[BINDING_ID])
class StaffAssist(MethodView):
    @session_secured(blp)
    @blp.response(200, AssistView)
    def get(self, binding_id):
        """A staff member's assist-code settings and the functions it may carry (R-BIND-16)."""
        return staff.assist_code(svc(), actor(), binding_id)

    @session_secured(blp)
    @blp.arguments(AssistSet)
    @blp.response(200, AssistView)
    def put(self, body, binding_id):
        """Switch the assist code on or off and choose its functions (R-BIND-16)."""
        return staff.set_assist_code(svc(), actor(), binding_id, **body)


@blp.route(f"/staff/{ID_RULE}/sync", parameters=[BINDING_ID])
class StaffSync(MethodView):
    @session_secured(blp)
    @blp.response(200, SyncResult)
    def post(self, binding_id):
        """Data sync: push this staff binding to the downstream e-tax systems now (R-BIND-15)."""
        return staff.sync_staff(svc(), actor(), binding_id)


# ---- pending and applications (R-BIND-5, R-BIND-7)
@blp.route("/pending")
class Pending(MethodView):
    @session_secured(blp)
    @blp.arguments(EntPendingQuery, location="query")
    @blp.response(200, StaffPage)
    def get(self, query):
        """Pending bindings with their permission view and what I may do to each (R-BIND-5)."""
        return staff.list_pending(svc(), actor(), **query)


@blp.route(f"/pending/{ID_RULE}/withdraw", parameters=[BINDING_ID])
class PendingWithdraw(MethodView):
    @session_secured(blp)
    @blp.response(200, StaffView)
    @blp.alt_response(409, response=ERRORS, description="Not pending, or added at a hall (R-BIND-3)")
    def post(self, binding_id):
        """Withdraw an add the enterprise made; it moves to history as withdrawn (R-BIND-5)."""
        return staff.withdraw_staff(svc(), actor(), binding_id)


@blp.route(f"/applications/{ID_RULE}/confirm", parameters=[BINDING_ID])
class ApplicationConfirmRoute(MethodView):
    @session_secured(blp)
    @blp.arguments(ApplicationConfirm)
    @blp.response(200, StaffView)
    def post(self, body, binding_id):
        """Confirm a person's application with a function set and validity end (R-BIND-7)."""
        return staff.confirm_application(svc(), actor(), binding_id, **body)


@blp.route(f"/applications/{ID_RULE}/refuse", parameters=[BINDING_ID])
class ApplicationRefuse(MethodView):
    @session_secured(blp)
    @blp.response(200, StaffView)
    def post(self, binding_id):
        """Refuse a person's application; history "refused" on both sides (R-BIND-7)."""
        return staff.refuse_application(svc(), actor(), binding_id)


# ---- history (R-BIND-12)
@blp.route("/history")
class History(MethodView):
    @session_secured(blp)
    @blp.arguments(EntHistoryQuery, location="query")
    @blp.response(200, StaffPage)
    def get(self, query):
        """Deleted, withdrawn, refused and ended staff, filtered; cleared entries are not listed (R-BIND-12)."""
        return staff.list_history(svc(), actor(), **query)


@blp.route("/history/clear")
class HistoryClearRoute(MethodView):
    @session_secured(blp)
    @blp.arguments(EntHistoryClear)
    @blp.response(200, EntCleared)
    def post(self, body):
        """Clear records: hide entries from the list; the rows stay (R-BIND-12)."""
        ids = body.pop("ids", None)
        return {"cleared": staff.clear_history(svc(), actor(), ids, **body)}


# ---- my own permissions (R-BIND-14)
@blp.route("/my-permissions")
class MyPermissionsRoute(MethodView):
    @session_secured(blp)
    @blp.response(200, MyPermissions)
    def get(self):
        """What my current identity holds here: function set, validity end, source (R-BIND-14)."""
        return staff.my_permissions(svc(), actor())


# ---- agency (R-AGT-3, R-AGT-4)
@blp.route("/agency")
class MyAgency(MethodView):
    @session_secured(blp)
    @blp.arguments(AgencyQuery, location="query")
    @blp.response(200, AgreementPage)
    def get(self, query):
        """My agency: agencies serving this enterprise, agreements and their agents (R-AGT-3)."""
        return agency_views.my_agency(svc(), actor(), **query)


@blp.route("/agency/clients")
class AgencyClients(MethodView):
    @session_secured(blp)
    @blp.arguments(AgencyQuery, location="query")
    @blp.response(200, AgreementPage)
    def get(self, query):
        """An agency's clients and agreements (R-AGT-4)."""
        return agency_views.clients(svc(), actor(), **query)


@blp.route("/agency/agents")
class AgencyAgents(MethodView):
    @session_secured(blp)
    @blp.arguments(EntPaging, location="query")
    @blp.response(200, AgentStaffPage)
    def get(self, query):
        """An agency's agent staff, each with the clients they serve (R-AGT-4)."""
        return agency_views.agent_staff(svc(), actor(), **query)


# ---- logs (R-LOG-1, R-LOG-2)
@blp.route("/logs/login")
class LoginLogs(MethodView):
    @session_secured(blp)
    @blp.arguments(EntLoginLogQuery, location="query")
    @blp.response(200, EntLoginLogPage)
    def get(self, query):
        """Logins into this enterprise's account, default the last month (R-LOG-1)."""
        return enterprise_logs.login_logs(svc(), actor(), **log_range(query))


@blp.route("/logs/audit")
class AuditLogs(MethodView):
    @session_secured(blp)
    @blp.arguments(EntAuditLogQuery, location="query")
    @blp.response(200, EntAuditLogPage)
    def get(self, query):
        """Account-centre changes and reveals in this enterprise, newest first (R-LOG-2)."""
        return enterprise_logs.audit_log(svc(), actor(), **log_range(query))


BLUEPRINTS = (blp,)
