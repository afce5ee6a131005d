"""The error catalogue (issue 13): every error code an answer can carry, from the one table
`authz.errors.MESSAGES`; each error answer's `type` points here. Public: it holds no data of anyone."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from authz.errors import AuthzError, catalogue

blp = Blueprint("errors", __name__, url_prefix="/api/v1/errors",
                description="The error catalogue: every code, its HTTP status and its Chinese and English text")


class ErrorEntry(Schema):
    code = fields.String(metadata={"description": "Stable machine code"})
    status = fields.Integer(metadata={"description": "HTTP status it answers with"})
    message_zh = fields.String(metadata={"description": "Chinese text ({…} placeholders as written)"})
    message_en = fields.String(metadata={"description": "English text"})
    raised_in = fields.String(metadata={"description": "The module whose rule the code reports"})


class ErrorList(Schema):
    items = fields.List(fields.Nested(ErrorEntry))


@blp.route("")
class Errors(MethodView):
    @blp.response(200, ErrorList)
    def get(self):
        """Every error code (docs/errors.md is the same list)."""
        return {"items": catalogue()}


@blp.route("/<code>", parameters=[{"in": "path", "name": "code", "required": True, "schema": {"type": "string"}}])
class ErrorOne(MethodView):
    @blp.response(200, ErrorEntry)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such code")
    def get(self, code: str):
        """One error code's entry (the `type` of an error answer)."""
        entry = next((e for e in catalogue() if e["code"] == code), None)
        if entry is None:
            raise AuthzError("not_found")
        return entry
