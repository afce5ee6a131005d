"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0, issue 12): when the grant behind a client's
tokens stops standing, the client gets a signed logout token POSTed to its registered
`backchannel_logout_uri`, so logging out of the portal (or being removed from an enterprise) logs the
person out of every tax system.

Where an end is noticed. A portal session ends in many places (logout, RP-initiated logout, identity
switch, idle and absolute timeouts and a revoked identity found by `sessions.check`, password reset,
deregistration, "my sessions"), and a grant also dies while its session lives on (a password change:
the token's password stamp). Hooking each of them would miss the next one added, so nothing here is
called by them: `sweep` asks THE one decision, `grants.subject` (the rules of `sessions.check` plus the
password stamp), of every group of tokens (session, client, password stamp) whose logout has not been
queued, and queues one logout token for each group that no longer stands. Asking it is also what finds
an idle, absolute or revoked-identity end nobody had noticed yet (`sessions.check` records it), so a
relying party hears of a staff deletion without the person making another request.

Not lost, not blocking. The end is committed by whoever ended the session (its `ended_at`, or the new
password hash), so a later sweep finds it whatever became of the request that ended it. The outbox row
(`authz.events.publish`) and the tokens' `logout_queued_at` are written in one transaction, behind a
conditional UPDATE, so two sweeps racing queue it once. Delivery is `authz.events.drain` with this
module's publisher: retries with exponential backoff, dead after `events.MAX_ATTEMPTS` (audited as
`oidc.backchannel_logout` failed, counted in `authz_oidc_backchannel_deliveries_total`), `authz events
requeue` revives it. `authz events drain` runs the sweep and both deliveries; no request waits for it.

Which clients: those holding a token (not revoked) of that session and registered with a logout URI; a
client with no token of the session gets nothing. The token: `typ` logout+jwt, iss (the issuer its ID
token carried), aud (client id), iat, exp, jti (new per attempt), sub (pairwise where registered), sid
(the ID token's `sid`), events {"http://schemas.openid.net/event/backchannel-logout": {}}, never a nonce.

Cost: a full sweep asks `subject` once per live portal session holding a token of a back-channel client
(a session row, the person, a grant-cache lookup). So the worker runs two kinds: every round a cheap one
over sessions already marked ended (logout, RP-initiated logout, switch, password reset or a change made
elsewhere, deregistration, "my sessions": the common ends, told within a drain interval), and a full one
every `--full-sweep-seconds` (30 s) for the ends only the question finds (timeouts, a revoked identity, a
password changed in the token's own session).
"""
from __future__ import annotations

import logging

import peewee as pw

from .. import audit, events
from ..db import database
from ..models import LoginSession, OidcClient, OidcToken, OutboxEvent, Person
from ..ports.logout import HttpLogoutPoster, LogoutPoster
from . import claims, clients, grants, keys

log = logging.getLogger("authz.oidc.backchannel")

KIND = events.LOGOUT_KIND
EVENT = "http://schemas.openid.net/event/backchannel-logout"
TYP = "logout+jwt"
TOKEN_SECONDS = 120  # a logout token's exp (Back-Channel Logout 1.0 §2.4: short)
METRIC = "authz_oidc_backchannel_deliveries_total"


def _pending_groups(ended_only: bool) -> list[tuple]:
    """(session id, client id, person id, password stamp, issuer) of every group of tokens of a back-channel
    client whose logout has not been queued and that nobody revoked (only those of ended sessions if asked)."""
    q = (OidcToken.select(OidcToken.session, OidcToken.client, OidcToken.person, OidcToken.password_stamp,
                          pw.fn.MAX(OidcToken.issuer))
         .join(OidcClient, on=(OidcToken.client == OidcClient.id))
         .where(OidcToken.logout_queued_at.is_null() & OidcToken.revoked_at.is_null()
                & OidcClient.deleted_at.is_null() & OidcClient.backchannel_logout_uri.is_null(False)))
    if ended_only:
        q = (q.switch(OidcToken).join(LoginSession, on=(OidcToken.session == LoginSession.id))
             .where(LoginSession.ended_at.is_null(False)))
    return list(q.group_by(OidcToken.session, OidcToken.client, OidcToken.person, OidcToken.password_stamp)
                .tuples())


def sweep(svc, *, ended_only: bool = False) -> list[str]:
    """Queue a logout token for every grant that no longer stands and has not been told (`ended_only`: only
    those of sessions already marked ended, no question asked); returns the outbox event ids queued."""
    queued, standing = [], {}
    for session_id, client_id, person_id, stamp, issuer in _pending_groups(ended_only):
        key = (session_id, person_id, stamp)
        if key not in standing:
            standing[key] = grants.subject(svc, session_id, person_id, stamp) is not None
        if not standing[key]:
            ev = _queue(svc, session_id, client_id, person_id, stamp, issuer)
            if ev is not None:
                queued.append(ev.event_id)
    return queued


def _queue(svc, session_id: int, client_id: int, person_id: int, stamp: str, issuer: str) -> OutboxEvent | None:
    session, client = LoginSession.get_by_id(session_id), OidcClient.get_by_id(client_id)
    person = Person.get_by_id(person_id)
    iss = issuer or svc.settings.oidc_issuer.rstrip("/")
    reason = session.end_reason or ("password_changed" if grants.password_stamp(person) != stamp else "grant_ended")
    with database.atomic():
        won = (OidcToken.update(logout_queued_at=svc.clock.time())
               .where((OidcToken.session == session_id) & (OidcToken.client == client_id)
                      & (OidcToken.password_stamp == stamp) & OidcToken.logout_queued_at.is_null()
                      & OidcToken.revoked_at.is_null()).execute())
        if not won:
            return None  # another sweep queued it
        if not iss:  # a token from before issuers were recorded, on a development portal: nothing verifiable
            log.warning("no issuer for the logout token of client %s: set AUTHZ_OIDC_ISSUER", client.client_id)
            return None
        return events.publish(svc, KIND, {"client_id": client.client_id, "iss": iss, "sub": claims.sub(client, person),
                                          "sid": session.handle, "reason": reason},
                              subject=f"oidc_client:{client.client_id}")


def logout_token(svc, envelope: dict, now: float) -> str:
    """The signed logout token of one outbox event (signed at each attempt by the key that signs now)."""
    d = envelope["data"]
    iat = int(now)
    return keys.sign(svc, {"iss": d["iss"], "aud": d["client_id"], "iat": iat, "exp": iat + TOKEN_SECONDS,
                           "jti": f"{envelope['id']}.{envelope['attempt']}", "sub": d["sub"], "sid": d["sid"],
                           "events": {EVENT: {}}}, typ=TYP)


class Publisher:
    """The events port's interface over a LogoutPoster: one outbox event, one POST to its client."""
    name = "backchannel"

    def __init__(self, svc, poster: LogoutPoster | None = None):
        self.svc, self.poster = svc, poster or HttpLogoutPoster()

    def deliver(self, envelope: dict, now: float) -> None:
        client = clients.get(envelope["data"]["client_id"])
        if client is None or not client.backchannel_logout_uri:
            log.info("logout event %s: client %s was deleted or takes no logout tokens any more", envelope["id"],
                     envelope["data"]["client_id"])
            return
        self.poster.post(client.backchannel_logout_uri, logout_token(self.svc, envelope, now))


def drain(svc, limit: int = 100, poster: LogoutPoster | None = None) -> events.DrainResult:
    """Deliver due logout tokens; each one given up on is audited."""
    out = events.drain(svc, limit, Publisher(svc, poster), kinds=(KIND,), metric=METRIC)
    for ev in OutboxEvent.select().where(OutboxEvent.event_id.in_(out.dead or [""])):
        audit.record(svc, actor="oidc:backchannel", action="oidc.backchannel_logout", target=ev.subject,
                     outcome="failed", detail={"event_id": ev.event_id, "attempts": ev.attempts,
                                               "last_error": ev.last_error})
    return out


def run(svc, limit: int = 100, poster: LogoutPoster | None = None, *,
        full: bool = True) -> tuple[list[str], events.DrainResult]:
    """One round: sweep for ended grants (all, or with full=False only sessions already marked ended), then
    deliver what is due (the `authz events drain` loop)."""
    return sweep(svc, ended_only=not full), drain(svc, limit, poster)
