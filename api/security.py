"""Caller authentication: services present `Authorization: Bearer <key>` (R-AUTHZ-3)."""
from __future__ import annotations

from flask import g, request

from authz import clients
from authz.errors import AuthzError

SERVICE_SCHEME = {"type": "http", "scheme": "bearer", "description": "A service key from `authz client create`"}
SERVICE_SECURED = {"security": [{"serviceKey": []}]}


def service_secured(blp):
    """Decorate a route of a blueprint guarded by `authenticate_service`: declares the service key and
    documents the 401 (no or bad key) and 403 (the key lacks the blueprint's scope) it answers."""
    def wrap(fn):
        fn = blp.alt_response(403, response="DEFAULT_ERROR", description="The key lacks this API's scope")(fn)
        fn = blp.alt_response(401, response="DEFAULT_ERROR", description="Missing or invalid service key")(fn)
        return blp.doc(**SERVICE_SECURED)(fn)
    return wrap


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authenticate_service(scope: str = "check"):
    """A before_request hook: the caller must be an active service client holding `scope`
    (checked before the body is parsed, so anonymous callers learn nothing about validation)."""
    if scope not in clients.SCOPES:  # `authz client create --scope` offers exactly clients.SCOPES
        raise ValueError(f"unknown scope {scope!r}: add it to authz.clients.SCOPES")
    def hook():
        client = clients.authenticate(bearer_token())
        if not client.has(scope):
            raise AuthzError("forbidden")
        g.client = client
    return hook
