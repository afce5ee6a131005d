"""Policy administration for the CLI (`authz policy reload|diff`): service-authenticated, scope `policy`."""
from __future__ import annotations

from flask import current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint

from authz import audit, policystore
from authz import policy as pol
from authz.errors import AuthzError
from authz.models import PolicyState

from . import schemas as s
from .security import authenticate_service

blp = Blueprint("policy", __name__, url_prefix="/api/v1/policy", description="Rule file in force (scope: policy)")
blp.before_request(authenticate_service("policy"))
SECURED = {"security": [{"serviceKey": []}]}


def if_match() -> str | None:
    """The digest an If-Match header names (quotes and a weak prefix dropped), or None without one."""
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    return raw.strip().removeprefix("W/").strip('"')


@blp.route("")
class Policy(MethodView):
    @blp.doc(**SECURED)
    @blp.response(200, s.PolicyView)
    @blp.alt_response(401, response="DEFAULT_ERROR", description="Missing or invalid service key")
    def get(self):
        """The rule file in force: digest, counts and source."""
        row = PolicyState.get_by_id(1)
        idx = current_app.extensions["authz"].enforcer.index
        return ({"digest": row.digest, "loaded_at": row.loaded_at, "loaded_by": row.loaded_by,
                 "rules": len(idx.rules), "functions": len(idx.functions), "source": row.source},
                {"ETag": f'"{row.digest}"'})

    @blp.doc(**SECURED)
    @blp.arguments(s.PolicyReloadRequest)
    @blp.response(200, s.PolicyReloadResponse)
    @blp.alt_response(422, schema=s.Error, description="The rule file has errors (a field with a line break, "
                      "NUL or lone surrogate included: bad_character); the last good policy stays")
    @blp.alt_response(409, schema=s.Error, description="policy_mass_removal: the file removes more than half of the "
                      "lines in force and `force` is not set; errors has the diff counts; the policy stays")
    @blp.alt_response(412, schema=s.Error, description="policy_changed: If-Match names a digest that is no longer "
                      "in force (another author reloaded meanwhile); errors has in_force and expected")
    @blp.alt_response(401, response="DEFAULT_ERROR", description="Missing or invalid service key")
    @blp.doc(parameters=[{"in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
                          "description": "The ETag of the GET the author diffed against: reload only if it is "
                                         "still in force"}])
    def put(self, body):
        """Validate a rule file and put it in force in every worker and instance (R-AUTHZ-4). A file that
        removes more than half of the lines in force (an empty one: all) is refused unless `force` is true;
        a dry run is refused the same way, so it tells whether the real reload would be."""
        svc = current_app.extensions["authz"]
        try:
            model_errors = pol.check_model(svc.settings.model_path)  # a model the enforcer ignores (issue 10)
            if model_errors:
                raise pol.PolicyInvalid(model_errors)
            new = pol.parse(body["source"])
        except pol.PolicyInvalid as exc:
            raise AuthzError("policy_invalid", errors=[{"line": e.line, "code": e.code, "message": e.message}
                                                       for e in exc.errors])
        d = pol.guard_removal(svc.enforcer.index, new, force=body["force"])
        expect = if_match()
        if body.get("dry_run"):
            in_force = PolicyState.get_by_id(1).digest
            if expect is not None and expect != in_force:  # the real reload would be refused: say so now
                raise AuthzError("policy_changed", errors={"in_force": in_force, "expected": expect})
            return {"digest": new.digest, "applied": False, "added": d.added, "removed": d.removed}
        index, _ = policystore.install(svc.settings.model_path, body["source"], by=f"service:{g.client.name}",
                                       expect=expect)
        svc.enforcer.reload(index)
        audit.record(svc, actor=f"service:{g.client.name}", action="policy.reload", target=index.digest,
                     detail={"added": len(d.added), "removed": len(d.removed), "forced": body["force"]})
        return {"digest": index.digest, "applied": True, "added": d.added, "removed": d.removed}
