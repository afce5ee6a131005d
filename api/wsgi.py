"""gunicorn entry point: `gunicorn api.wsgi:app` (what `authz serve` runs).

Importing this module builds the app, so it must be imported in each worker after fork: never run it with
--preload (a database connection and the change-feed thread must not be shared across processes).
Settings come from the environment (DATABASE_URL, AUTHZ_*); logs go to stderr as AUTHZ_LOG_FORMAT says."""
from __future__ import annotations

from authz import logs

from . import create_app

app = create_app()
logs.configure(app.extensions["authz"].settings.log_format)  # JSON lines with the request id (authz.logs)
