"""The relying parties' back-channel logout endpoints (OpenID Connect Back-Channel Logout 1.0 §2.5), the
port `authz.oidc.backchannel` delivers signed logout tokens through.

`HttpLogoutPoster` POSTs `logout_token=<JWT>` as `application/x-www-form-urlencoded` to the URI an
operator registered for the client (`authz oidc client create|update --backchannel-logout-uri`). A 200
or 204 is delivered (the spec's two success answers); anything else, a redirect (never followed: it
would turn the POST into a body-less GET), a timeout or a refused connection raises DeliveryError, and
the outbox retries it. There is no separate development adapter: the destination is whatever the
operator registered, so a development relying party on 127.0.0.1 receives the real request, and tests
run a real receiver."""
from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request
from typing import Protocol

from .events import DeliveryError, _NoRedirect, _retry_after


class LogoutPoster(Protocol):
    def post(self, uri: str, logout_token: str) -> None:
        """Deliver one logout token to one relying party or raise DeliveryError."""


class HttpLogoutPoster:
    """Production adapter: the form POST of §2.5; 200 or 204 means delivered."""
    name = "http"

    def __init__(self, timeout: float = 5.0):
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect)

    def post(self, uri: str, logout_token: str) -> None:
        body = urllib.parse.urlencode({"logout_token": logout_token}).encode()
        req = urllib.request.Request(uri, data=body, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded", "User-Agent": "taxauthz-backchannel-logout/1"})
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                status = resp.status
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"HTTP {exc.code}", _retry_after(exc.headers.get("Retry-After"))) from None
        except (OSError, ValueError, http.client.HTTPException) as exc:  # refused, reset, timeout, DNS
            raise DeliveryError(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from None
        if status not in (200, 204):
            raise DeliveryError(f"HTTP {status}")
