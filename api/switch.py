"""Identity switching (R-SW-1..6): list what the session may switch to, and switch (new session id)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from authz.flows import identity_switch

from .labels import labelled
from .schemas import Pattern
from .session import current_session, issue_session, session_secured, svc

blp = Blueprint("identity-switch", __name__, url_prefix="/api/v1/account/switch",
                description="Identity switching without logging out (身份切换)")


class Option(Schema):
    id = fields.String(required=True, metadata={"description": "Target id to post back"})
    entry = fields.String()
    identity_type = fields.String()
    domain = fields.String()
    enterprise = fields.String()
    name = fields.String()
    region = fields.String()
    kind = fields.String()
    until = fields.String()
    acting = fields.String()
    sub_identity = fields.Boolean()
    identity_label = fields.String(metadata={"description": "The identity type's name (rule file catalogue)"})
    enterprise_masked = fields.String(metadata={"description": "Taxpayer name, masked (R-MASK-1)"})
    uscc_masked = fields.String(metadata={"description": "USCC, masked"})


class Current(Schema):
    id = fields.String()
    entry = fields.String()
    domain = fields.String()
    identity_type = fields.String()
    project = fields.String(allow_none=True)
    agreement = fields.String(allow_none=True)
    identity_label = fields.String(metadata={"description": "The identity type's name (rule file catalogue)"})
    enterprise_masked = fields.String(metadata={"description": "Taxpayer name, masked (R-MASK-1)"})
    uscc_masked = fields.String(metadata={"description": "USCC, masked"})


class Options(Schema):
    current = fields.Nested(Current)
    identities = fields.List(fields.Nested(Option), metadata={"description": "R-SW-1: in this enterprise"})
    enterprises = fields.List(fields.Nested(Option), metadata={"description": "R-SW-2: other enterprises"})
    projects = fields.List(fields.Nested(Option), metadata={"description": "R-SW-4: cross-region"})
    clients = fields.List(fields.Nested(Option), metadata={"description": "R-SW-5: agent clients"})
    personal = fields.Nested(Option, allow_none=True, metadata={"description": "R-SW-3: personal business"})


class SwitchRequest(Schema):
    target = fields.String(required=True, validate=Pattern(r"^(self|b[0-9]{1,12}|a:[A-Za-z0-9_\-]{1,64}"
                                                                    r"|p:[A-Za-z0-9_\-]{1,40})$"))


class SwitchResult(Schema):
    identity = fields.Dict(metadata={"description": "The new current identity"})
    session = fields.String(metadata={"description": "The new session id (apps only; browsers get the cookie)"})


@blp.route("")
class Switch(MethodView):
    @session_secured(blp)
    @blp.response(200, Options)
    def get(self):
        """What this session may switch to now."""
        return labelled(identity_switch.options(svc(), current_session()))

    @session_secured(blp)
    @blp.arguments(SwitchRequest)
    @blp.response(200, SwitchResult)
    def post(self, body):
        """Switch identity: the old session id ends, a new one carries the new identity."""
        raw, row = identity_switch.switch(svc(), current_session(), body["target"])
        return labelled(issue_session({}, raw, row))
