"""Operations endpoints: liveness, readiness, Prometheus metrics, offline API documentation."""
from __future__ import annotations

import os

from flask import Blueprint, Response, current_app, jsonify, send_from_directory
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

bp = Blueprint("ops", __name__)

REQUESTS = Counter("authz_http_requests_total", "HTTP requests", ["endpoint", "method", "status"])
LATENCY = Histogram("authz_http_request_seconds", "HTTP request latency", ["endpoint"],
                    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
DECISIONS = Counter("authz_decisions_total", "Check decisions", ["allowed"])

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
    """Prometheus metrics of this worker."""
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


@bp.get("/docs")
@bp.get("/docs/")
def docs():
    """API documentation (Swagger UI served from the installed bundle: works without internet)."""
    return Response(DOCS_PAGE, mimetype="text/html")


@bp.get("/docs/static/<path:name>")
def docs_static(name):
    import swagger_ui_bundle
    return send_from_directory(os.path.abspath(swagger_ui_bundle.swagger_ui_path), name, max_age=3600)
