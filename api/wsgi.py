"""gunicorn entry point: `gunicorn api.wsgi:app` (what `authz serve` runs).

Importing this module builds the app, so it must be imported in each worker after fork: never run it with
--preload (a database connection and the change-feed thread must not be shared across processes).
Settings come from the environment (DATABASE_URL, AUTHZ_*)."""
from __future__ import annotations

from . import create_app

app = create_app()
