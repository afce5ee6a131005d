"""Operations endpoints: liveness, readiness, Prometheus metrics, offline API documentation."""
from __future__ import annotations

import os

from flask import Blueprint, Response, current_app, jsonify, send_from_directory
from prometheus_client import CONTENT_TYPE_LATEST

from authz import metrics as m

bp = Blueprint("ops", __name__)


DOCS_PAGE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>税务身份与授权服务 API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/docs/static/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui", deepLinking: true});</script>
</body></html>"""


@bp.get("/healthz")
def healthz():
    """Liveness: the process answers."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """Readiness: database reachable, schema current, policy loaded."""
    facts = current_app.extensions["authz"].ready()
    ok = all(facts.values())
    return jsonify({"status": "ready" if ok else "not_ready", **facts}), (200 if ok else 503)


@bp.get("/metrics")
def metrics():
    """Prometheus metrics, summed over every worker of this instance (authz.metrics)."""
    from authz import events
    return Response(m.scrape(events.depth), mimetype=CONTENT_TYPE_LATEST)


@bp.get("/docs")
@bp.get("/docs/")
def docs():
    """API documentation (Swagger UI served from the installed bundle: works without internet)."""
    return Response(DOCS_PAGE, mimetype="text/html")


@bp.get("/docs/static/<path:name>")
def docs_static(name):
    import swagger_ui_bundle
    return send_from_directory(os.path.abspath(swagger_ui_bundle.swagger_ui_path), name, max_age=3600)
