"""Caller authentication: services present `Authorization: Bearer <key>` (R-AUTHZ-3)."""
from __future__ import annotations

from flask import g, request

from authz import clients
from authz.errors import AuthzError

SERVICE_SCHEME = {"type": "http", "scheme": "bearer", "description": "A service key from `authz client create`"}


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authenticate_service(scope: str = "check"):
    """A before_request hook: the caller must be an active service client holding `scope`
    (checked before the body is parsed, so anonymous callers learn nothing about validation)."""
    def hook():
        client = clients.authenticate(bearer_token())
        if not client.has(scope):
            raise AuthzError("forbidden")
        g.client = client
    return hook
