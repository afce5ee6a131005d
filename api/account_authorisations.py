"""Enterprise authorisations in the natural-person account centre (issue 4 item 2, 企业授权管理):
pending authorisations (province / nationwide filters), batch confirm behind a face scan, refuse, apply,
withdraw one's own application, authorised enterprises with "end this binding" and data sync, history
with soft clear (R-BIND-6, R-BIND-7, R-BIND-8, R-BIND-11, R-BIND-12, R-BIND-15).

Thin: the Actor comes from the server-side session (`identity_switch.actor_of(current_session())`), the
flows in authz/flows/person_bindings.py and authorisation_confirm.py decide (R-AUTHZ-1).

Confirming is a stored step-up flow (R-BIND-6): POST .../pending/confirm {ids} starts it, POST
.../confirm/{flow}/factors/{taxapp|iitapp} shows a face-scan ticket, POST .../factors/{app}/verify
collects the confirmed scan of this same person and only then confirms the flow's ids. The request never
carries a "verified" flag.

Province filter: `nationwide=true` lists every province; otherwise `province` if given, else the
deployment's `Settings.province` when configured, else nationwide."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from authz.actor import Actor
from authz.flows import authorisation_confirm, person_bindings, staff
from authz.flows.identity_switch import actor_of
from authz.flows.stepup import MAX_ID

from .account_enterprise import EntPage, FunctionView, IdentityLabel, SyncResult
from .schemas import Pattern
from .session import current_session, session_secured, svc

blp = Blueprint("account-authorisations", __name__, url_prefix="/api/v1/account/person/authorisations",
                description="Natural-person account centre: enterprise authorisations — pending, face-scan "
                            "confirm, refuse, apply, withdraw, authorised enterprises, end, history")

ERRORS = "DEFAULT_ERROR"
BINDING_ID = {"in": "path", "name": "binding_id", "required": True,
              "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
              "description": "One of your own bindings"}
ID_RULE = f"<int(min=1,max={MAX_ID}):binding_id>"
FLOW_ID = {"in": "path", "name": "flow", "required": True, "schema": {"type": "string"},
           "description": "The flow id returned when the confirmation started (azf_...)"}
FACTOR = {"in": "path", "name": "factor", "required": True,
          "schema": {"type": "string", "enum": list(authorisation_confirm.FACTORS)},
          "description": "Face scan through the tax app (taxapp) or the IIT app (iitapp)"}


def actor() -> Actor:
    """The session's current identity (401 without a live session)."""
    return actor_of(current_session())


Masked = lambda text: fields.String(allow_none=True, metadata={"description": f"{text} (masked, R-MASK-1)"})  # noqa: E731
IdentityType = lambda **kw: fields.String(validate=Pattern(r"^[a-z][a-z0-9_]{0,31}$"), **kw)  # noqa: E731
SORTS = sorted(person_bindings.PERSON_SORTS) + sorted("-" + k for k in person_bindings.PERSON_SORTS)


class AuthorisationView(IdentityLabel):
    id = fields.Integer()
    version = fields.Integer()
    taxpayer_name = Masked("Taxpayer name")
    uscc = Masked("Unified social credit code")
    province = fields.String(allow_none=True)
    tax_authority = fields.String(allow_none=True)
    sub_identity = fields.Boolean()
    state = fields.String()
    status = fields.String(metadata={"description": "active: enabled / disabled (R-BIND-13); else the state"})
    valid_until = fields.String(allow_none=True)
    long_term = fields.Boolean()
    functions = fields.List(fields.Nested(FunctionView))
    origin = fields.String()
    initiated_by = fields.String()
    refusable = fields.Boolean(allow_none=True)
    created_at = fields.Float(allow_none=True)
    decided_at = fields.Float(allow_none=True)
    actions = fields.List(fields.String())


class AuthorisationPage(EntPage):
    items = fields.List(fields.Nested(AuthorisationView))


class AuthPaging(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=staff.MAX_PAGE))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))


class AuthListQuery(AuthPaging):
    nationwide = fields.Boolean(load_default=False, metadata={"description": "true: every province"})
    province = fields.String(validate=Pattern(r"^[0-9]{2}$"), metadata={
        "description": "Province code; default the deployment's province (Settings.province), else nationwide"})
    uscc = fields.String(validate=Pattern(r"^[0-9A-Z]{15,20}$"))
    taxpayer_name = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "Fuzzy"})
    identity_type = IdentityType()


class AuthPendingQuery(AuthListQuery):
    sort = fields.String(load_default="-created_at", validate=validate.OneOf(SORTS))


class AuthorisedQuery(AuthListQuery):
    sort = fields.String(load_default="-decided_at", validate=validate.OneOf(SORTS))


class AuthHistoryFilter(Schema):
    identity_type = IdentityType()
    taxpayer_name = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "Fuzzy"})
    state = fields.String(validate=validate.OneOf(list(staff.HISTORY_STATES)))


class AuthHistoryQuery(AuthPaging, AuthHistoryFilter):
    sort = fields.String(load_default="-decided_at", validate=validate.OneOf(SORTS))


Ids = lambda **kw: fields.List(fields.Integer(validate=validate.Range(min=1, max=MAX_ID)),  # noqa: E731
                               validate=validate.Length(min=1, max=staff.MAX_BATCH), **kw)


class AuthHistoryClear(AuthHistoryFilter):
    ids = Ids(metadata={"description": "The entries to clear; omitted: every entry matching the filters"})


class AuthCleared(Schema):
    cleared = fields.Integer()


class ConfirmStart(Schema):
    ids = Ids(required=True, metadata={"description": "Pending authorisations awaiting you (batch)"})


class ConfirmFlow(Schema):
    flow = fields.String(metadata={"description": "The flow id (on the answer that starts a flow)"})
    kind = fields.String()
    state = fields.String(metadata={"description": "verify or done"})
    expires_at = fields.Float()
    factors = fields.List(fields.String())
    scan = fields.String(metadata={"description": "Newest face-scan ticket: waiting, confirmed, failed, consumed"})
    bindings = fields.List(fields.Integer(), metadata={"description": "The ids this flow confirms"})


class FaceTicket(Schema):
    factor = fields.String()
    ticket = fields.String(metadata={"description": "Draw as a QR code for the app to scan"})
    expires_at = fields.Float()


class ConfirmDone(Schema):
    state = fields.String()
    items = fields.List(fields.Nested(AuthorisationView))


class Apply(Schema):
    uscc = fields.String(required=True, validate=Pattern(r"^[0-9A-Z]{15,20}$"))
    identity_type = IdentityType(required=True)


# ---- pending (R-BIND-6, R-BIND-8)
@blp.route("/pending")
class Pending(MethodView):
    @session_secured(blp)
    @blp.arguments(AuthPendingQuery, location="query")
    @blp.response(200, AuthorisationPage)
    def get(self, query):
        """Pending authorisations and my own applications; default my province (R-BIND-8)."""
        return person_bindings.list_pending(svc(), actor(), **query)


@blp.route("/pending/confirm")
class ConfirmStartRoute(MethodView):
    @session_secured(blp)
    @blp.arguments(ConfirmStart)
    @blp.response(200, ConfirmFlow)
    def post(self, body):
        """Confirm pending authorisations (batch): starts a flow that needs a face scan (R-BIND-6)."""
        return authorisation_confirm.start(svc(), actor(), body["ids"])


@blp.route("/pending/confirm/<flow>", parameters=[FLOW_ID])
class ConfirmState(MethodView):
    @session_secured(blp)
    @blp.response(200, ConfirmFlow)
    def get(self, flow):
        """The confirmation flow's state (poll it while the face scan is pending)."""
        return {"flow": flow, **authorisation_confirm.load_view(svc(), actor(), flow)}


@blp.route("/pending/confirm/<flow>/factors/<factor>", parameters=[FLOW_ID, FACTOR])
class ConfirmFactor(MethodView):
    @session_secured(blp)
    @blp.response(200, FaceTicket)
    @blp.alt_response(423, response=ERRORS, description="Locked (R-LOGIN-11)")
    def post(self, flow, factor):
        """A face-scan ticket for the tax app or the IIT app."""
        return authorisation_confirm.begin_factor(svc(), actor(), flow, factor)


@blp.route("/pending/confirm/<flow>/factors/<factor>/verify", parameters=[FLOW_ID, FACTOR])
class ConfirmVerify(MethodView):
    @session_secured(blp)
    @blp.response(200, ConfirmDone)
    @blp.alt_response(409, response=ERRORS, description="Scan not confirmed yet (poll again), or wrong step")
    def post(self, flow, factor):
        """Collect my confirmed face scan; the flow's authorisations become active (R-BIND-6)."""
        return authorisation_confirm.verify_factor(svc(), actor(), flow, factor)


@blp.route(f"/pending/{ID_RULE}/refuse", parameters=[BINDING_ID])
class Refuse(MethodView):
    @session_secured(blp)
    @blp.response(200, AuthorisationView)
    @blp.alt_response(409, response=ERRORS, description="Not pending, or a finance officer binding (R-BIND-2)")
    def post(self, binding_id):
        """Refuse a pending authorisation; history "refused" on both sides (R-BIND-6)."""
        return person_bindings.refuse(svc(), actor(), binding_id)


# ---- applications (R-BIND-7)
@blp.route("/applications")
class Applications(MethodView):
    @session_secured(blp)
    @blp.arguments(Apply)
    @blp.response(200, AuthorisationView)
    @blp.alt_response(409, response=ERRORS, description="Already holds or awaits this identity type there")
    def post(self, body):
        """Apply to an enterprise as an identity type; pending until it confirms (R-BIND-7)."""
        return person_bindings.apply(svc(), actor(), **body)


@blp.route(f"/applications/{ID_RULE}/withdraw", parameters=[BINDING_ID])
class Withdraw(MethodView):
    @session_secured(blp)
    @blp.response(200, AuthorisationView)
    def post(self, binding_id):
        """Withdraw my own pending application; history "withdrawn"."""
        return person_bindings.withdraw_application(svc(), actor(), binding_id)


# ---- authorised enterprises (R-BIND-11, R-BIND-13, R-BIND-15)
@blp.route("")
class Authorised(MethodView):
    @session_secured(blp)
    @blp.arguments(AuthorisedQuery, location="query")
    @blp.response(200, AuthorisationPage)
    def get(self, query):
        """Enterprises where I hold an active binding, with status and what I may do (R-BIND-13)."""
        return person_bindings.list_authorised(svc(), actor(), **query)


@blp.route(f"/{ID_RULE}/end", parameters=[BINDING_ID])
class End(MethodView):
    @session_secured(blp)
    @blp.response(200, AuthorisationView)
    def post(self, binding_id):
        """End this binding; never as legal representative (R-BIND-11)."""
        return person_bindings.end_binding(svc(), actor(), binding_id)


@blp.route(f"/{ID_RULE}/sync", parameters=[BINDING_ID])
class Sync(MethodView):
    @session_secured(blp)
    @blp.response(200, SyncResult)
    def post(self, binding_id):
        """Data sync: push my binding to the downstream e-tax systems now (R-BIND-15)."""
        return person_bindings.sync(svc(), actor(), binding_id)


# ---- history (R-BIND-12)
@blp.route("/history")
class History(MethodView):
    @session_secured(blp)
    @blp.arguments(AuthHistoryQuery, location="query")
    @blp.response(200, AuthorisationPage)
    def get(self, query):
        """Deleted, withdrawn, refused and ended authorisations I have not cleared (R-BIND-12)."""
        return person_bindings.list_history(svc(), actor(), **query)


@blp.route("/history/clear")
class HistoryClearRoute(MethodView):
    @session_secured(blp)
    @blp.arguments(AuthHistoryClear)
    @blp.response(200, AuthCleared)
    def post(self, body):
        """Clear records: hide entries from my history; the rows stay (R-BIND-12)."""
        ids = body.pop("ids", None)
        return {"cleared": person_bindings.clear_history(svc(), actor(), ids, **body)}


BLUEPRINTS = (blp,)
