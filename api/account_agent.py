"""The agent's account centre (R-AGT-5): the current client's basic information and the agent's own
permissions in it. Switching between clients and to personal is /api/v1/account/switch."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from authz.flows import agent_centre
from authz.flows.identity_switch import actor_of

from .account_enterprise import BasicInfo
from .session import current_session, session_secured, svc

blp = Blueprint("account-agent", __name__, url_prefix="/api/v1/account/agent",
                description="Agent account centre: the client's basic information and my permissions (代理业务)")


class AgentFunction(Schema):
    object = fields.String()
    label_zh = fields.String()
    label_en = fields.String()


class AgentAgreement(Schema):
    agreement = fields.String()
    agency = fields.String(metadata={"description": "Masked agency name"})
    agency_uscc = fields.String(metadata={"description": "Masked"})
    start = fields.String()
    end = fields.String()
    status = fields.String()
    functions = fields.List(fields.Nested(AgentFunction))


class AgentPermissions(Schema):
    identity_type = fields.String()
    identity_type_name = fields.String()
    identity_type_name_en = fields.String()
    agreements = fields.List(fields.Nested(AgentAgreement))


@blp.route("/client")
class Client(MethodView):
    @session_secured(blp)
    @blp.response(200, BasicInfo)
    def get(self):
        """The current client's basic information (masked)."""
        return agent_centre.client_info(svc(), actor_of(current_session()))


@blp.route("/permissions")
class Permissions(MethodView):
    @session_secured(blp)
    @blp.response(200, AgentPermissions)
    def get(self):
        """My permissions in the current client: what the live agreement grants."""
        return agent_centre.my_permissions(svc(), actor_of(current_session()))
