"""Request and response schemas (marshmallow). Validators are ones apispec documents (Length, Regexp,
OneOf), so the OpenAPI document says exactly what the server accepts."""
from __future__ import annotations

import json

from flask import request as flask_request
from marshmallow import Schema, ValidationError, fields, missing, validate
from webargs.flaskparser import FlaskParser

from authz.ids import DOMAIN_RE, PERSON_UID_RE, TOKEN_RE

_PLAIN = {fields.String: str, fields.Boolean: bool, fields.Integer: int}


class Pattern(validate.Regexp):
    """`validate.Regexp` that must match the whole value. Python's `$` also matches before a trailing
    newline, so `^p-[a-z0-9-]+$` let "p-demo\n" through; the OpenAPI document shows the same pattern, whose
    `$` (ECMA-262, no multiline flag) already means the very end."""

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class FlatSchema(Schema):
    """A schema of plain String/Boolean/Integer fields that loads and dumps the common case without
    marshmallow's per-field machinery: the check endpoints' schemas, where that machinery costs more than
    the decisions (docs/PERFORMANCE.md). The fast path only accepts what the full path would return
    unchanged (declared keys, exact types, every field validator passing); anything else — an error,
    an unknown key, a default to fill in — takes the ordinary marshmallow path, so answers and error
    messages are exactly the same either way."""

    def _plan(self):
        plan = self.__dict__.get("_flat_plan", False)
        if plan is False:
            plan = None
            plain = all(type(f) in _PLAIN and f.data_key is None and f.attribute is None
                        and f.load_default is missing and f.dump_default is missing
                        and not f.pre_load and not f.post_load and not f.allow_none
                        for f in self.fields.values())
            if plain and not any(self._hooks.values()):
                plan = ({n: (_PLAIN[type(f)], tuple(f.validators)) for n, f in self.fields.items()},
                        frozenset(n for n, f in self.fields.items() if f.required))
            self.__dict__["_flat_plan"] = plan
        return plan

    def load(self, data, *, many=None, partial=None, unknown=None):
        plan = None if (many or self.many or partial) else self._plan()
        if plan is not None and type(data) is dict and plan[1] <= data.keys() and self._fits(plan[0], data):
            return dict(data)
        return super().load(data, many=many, partial=partial, unknown=unknown)

    @staticmethod
    def _fits(spec, data) -> bool:
        for k, v in data.items():
            want = spec.get(k)
            if want is None or type(v) is not want[0]:
                return False
            try:
                if any(val(v) is False for val in want[1]):
                    return False
            except ValidationError:
                return False
        return True

    def dump(self, obj, *, many=None):
        plan = None if (many or self.many) else self._plan()
        if plan is not None and type(obj) is dict:
            spec = plan[0]
            out = {}
            for k, v in obj.items():
                want = spec.get(k)
                if want is None:
                    continue
                if type(v) is not want[0]:
                    break
                out[k] = v
            else:
                return out
        return super().dump(obj, many=many)

class FlatJsonParser(FlaskParser):
    """webargs' Flask parser, with FlatSchema's fast path for a JSON body: the body decoded the way webargs
    decodes it (UTF-8, then json), then `FlatSchema.load`'s fast path. Anything that path would not return
    unchanged (invalid JSON, a non-JSON content type, a non-object body, a validation error, an unknown
    key, a parser-level validator) takes webargs' own path, so answers and error messages are exactly
    those of the full parser; what is saved is webargs' per-request machinery (about a fifth of a check's
    cost beyond Flask, docs/PERFORMANCE.md). Set as a blueprint's ARGUMENTS_PARSER before its routes."""

    def parse(self, argmap, req=None, *, location=None, validate=None, **kwargs):
        if location == "json" and validate is None and isinstance(argmap, FlatSchema):
            plan = argmap._plan() if not argmap.many else None
            if plan is not None:
                r = req if req is not None else flask_request
                if r.is_json:
                    try:
                        data = json.loads(r.get_data(cache=True).decode("utf-8"))
                    except ValueError:  # (UnicodeDecodeError too) the full path answers it
                        data = None
                    if type(data) is dict and plan[1] <= data.keys() and argmap._fits(plan[0], data):
                        return data
        return super().parse(argmap, req, location=location, validate=validate, **kwargs)


Subject = lambda **kw: fields.String(required=True, validate=Pattern(PERSON_UID_RE.pattern),
                                     metadata={"description": "Person id (p-...)", "example": "p-demo-legal"}, **kw)
Domain = lambda **kw: fields.String(required=True, validate=Pattern(DOMAIN_RE.pattern),
                                    metadata={"description": "ent:<USCC> or person:<person id>",
                                              "example": "ent:91360100MA35DEMO1A"}, **kw)
Token = lambda desc, ex, **kw: fields.String(required=True, validate=Pattern(TOKEN_RE.pattern),
                                             metadata={"description": desc, "example": ex}, **kw)


class Error(Schema):
    """Every error response: {code, status, message, errors, type}."""

    code = fields.String(required=True, metadata={"description": "Stable machine code"})
    status = fields.Integer(required=True)
    message = fields.String(required=True, metadata={"description": "Chinese, or English on Accept-Language: en"})
    errors = fields.Raw(metadata={"description": "Field errors, when any"})
    type = fields.String(metadata={"description": "The code's catalogue entry: /api/v1/errors/<code> (docs/errors.md)"})


class CheckRequest(FlatSchema):
    subject = Subject()
    domain = Domain()
    object = Token("Function (ac.* or biz.*)", "biz.invoice_use")
    action = Token("Action on the function", "use")
    identity_type = fields.String(validate=Pattern(TOKEN_RE.pattern),
                                  metadata={"description": "Decide only as this identity type (optional)"})


class CheckResponse(FlatSchema):
    allowed = fields.Boolean(required=True)
    subject = fields.String()
    domain = fields.String()
    object = fields.String()
    action = fields.String()
    policy = fields.String(metadata={"description": "Digest of the rule file that decided"})


class BatchRequest(Schema):
    requests = fields.List(fields.Nested(CheckRequest), required=True, validate=validate.Length(min=1, max=200))


class BatchResponse(Schema):
    results = fields.List(fields.Nested(CheckResponse), required=True)
    policy = fields.String()


class FunctionsQuery(Schema):
    subject = Subject()
    domain = Domain()
    identity_type = fields.String(validate=Pattern(TOKEN_RE.pattern))


class FunctionItem(Schema):
    object = fields.String(required=True)
    actions = fields.List(fields.String(), required=True)
    group = fields.String(metadata={"description": "Menu group"})
    label = fields.String(metadata={"description": "Menu label in the requested language"})
    label_zh = fields.String()
    label_en = fields.String()


class FunctionsResponse(Schema):
    subject = fields.String()
    domain = fields.String()
    identity_types = fields.List(fields.String())
    functions = fields.List(fields.Nested(FunctionItem))


class GrantView(Schema):
    identity_type = fields.String()
    source = fields.String()
    live = fields.Boolean()
    functions = fields.List(fields.String(), allow_none=True)
    since = fields.Float(allow_none=True)
    until = fields.Float(allow_none=True)


class ExplainResponse(Schema):
    allowed = fields.Boolean(required=True)
    reason = fields.String(required=True, metadata={"description": "allowed, unknown_function, unknown_domain, "
                                                                   "no_identity, identity_not_live, not_in_function_set, no_rule"})
    detail = fields.String()
    rule = fields.Dict(allow_none=True, metadata={"description": "The rule file line that allowed it"})
    grants = fields.List(fields.Nested(GrantView))


class PolicyView(Schema):
    digest = fields.String()
    loaded_at = fields.Float()
    loaded_by = fields.String()
    rules = fields.Integer()
    functions = fields.Integer()
    source = fields.String()


class PolicyReloadRequest(Schema):
    source = fields.String(required=True, validate=validate.Length(min=1, max=2_000_000),
                           metadata={"description": "The full text of the rule file"})
    dry_run = fields.Boolean(load_default=False)
    force = fields.Boolean(load_default=False, metadata={
        "description": "Apply a file that removes more than half of the p/p2/g2 lines in force (an empty file "
                       "removes all of them); without it such a file is refused with 409 policy_mass_removal"})


class LintErrorView(Schema):
    line = fields.Integer()
    code = fields.String()
    message = fields.String()


class PolicyReloadResponse(Schema):
    digest = fields.String()
    applied = fields.Boolean()
    added = fields.List(fields.List(fields.String()))
    removed = fields.List(fields.List(fields.String()))
