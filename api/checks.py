"""Check endpoints for other services (R-AUTHZ-2, R-AUTHZ-3)."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from authz import checks

from . import schemas as s
from .errors import language
from .security import authenticate_service

blp = Blueprint("checks", __name__, url_prefix="/api/v1", description="Authorization checks (service-authenticated)")
blp.ARGUMENTS_PARSER = s.FlatJsonParser()  # the decision endpoints' bodies: FlatSchema's fast path
blp.before_request(authenticate_service("check"))
SECURED = {"security": [{"serviceKey": []}]}


def _svc():
    return current_app.extensions["authz"]


@blp.route("/check")
class Check(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(s.CheckRequest())
    @blp.response(200, s.CheckResponse())
    @blp.alt_response(401, response="DEFAULT_ERROR", description="Missing or invalid service key")
    def post(self, body):
        """May this subject do this action on this object in this domain?"""
        return checks.check(_svc().enforcer, body)


@blp.route("/check/batch")
class CheckBatch(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(s.BatchRequest())
    @blp.response(200, s.BatchResponse())
    @blp.alt_response(401, response="DEFAULT_ERROR", description="Missing or invalid service key")
    def post(self, body):
        """Several checks in one call (answers in request order)."""
        return checks.batch(_svc().enforcer, body["requests"])


@blp.route("/functions")
class Functions(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(s.FunctionsQuery(), location="query")
    @blp.response(200, s.FunctionsResponse())
    @blp.alt_response(401, response="DEFAULT_ERROR", description="Missing or invalid service key")
    def get(self, query):
        """Functions this subject may use in this domain, with menu labels."""
        return checks.functions(_svc().enforcer, query, language())


@blp.route("/explain")
class Explain(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(s.CheckRequest())
    @blp.response(200, s.ExplainResponse())
    @blp.alt_response(401, response="DEFAULT_ERROR", description="Missing or invalid service key")
    def post(self, body):
        """Explain a decision: the rule that allowed it, or why none did."""
        return checks.explain(_svc().enforcer, body)
