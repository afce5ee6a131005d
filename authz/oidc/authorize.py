"""What the authorization endpoint does with a valid request (issue 12): the decisions, not the HTTP.

`decide` answers, in this order: no live portal session → log in (the web front end's login page);
`prompt=login`, `max_age` exceeded → log in again; `acr_values` naming a real-name level the person
does not hold, or a value we do not know → `unmet_authentication_requirements` (never ignored: a
login cannot raise a real-name level, the person upgrades it in the account centre, R-RN-2); a client not
marked first-party without the person's consent to these scopes (or `prompt=consent`) → consent (the
web front end's consent page, which calls `consent_view` / `grant_consent`). `prompt=none` turns each
interactive answer into its OpenID Connect error (login_required, consent_required).

`logout` is RP-initiated logout: the `id_token_hint` must be an ID token we signed for that client, and
`post_logout_redirect_uri` one the client registered, compared exactly."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .. import audit, sessions
from ..errors import AuthzError
from ..models import LoginSession, OidcConsent
from . import claims, clients, keys


class Next(str, Enum):
    ISSUE = "issue"  # issue the code now
    LOGIN = "login"  # send the browser to the login page
    CONSENT = "consent"  # send the browser to the consent page


@dataclass(frozen=True)
class Decision:
    next: Next
    error: str | None = None  # an OpenID Connect error to redirect to the client with
    description: str = ""


def _scopes(scope: str) -> list[str]:
    return [s for s in (scope or "").split() if s]


def consented(client, person, scope: str) -> bool:
    if client.first_party:
        return True
    row = OidcConsent.get_or_none((OidcConsent.person == person) & (OidcConsent.client == client))
    return row is not None and set(_scopes(scope)) <= set(row.scopes)


def decide(svc, client, session: LoginSession | None, *, scope: str, prompt: str = "",
           max_age: str | None = None, acr_values: str = "") -> Decision:
    prompts = set((prompt or "").split())
    silent = "none" in prompts
    now = svc.clock.time()

    def login(why: str) -> Decision:
        return Decision(Next.LOGIN, "login_required" if silent else None, why)

    if session is None:
        return login("no live portal session")
    if "login" in prompts:
        return login("prompt=login")
    if max_age not in (None, ""):
        try:
            limit = int(max_age)
        except ValueError:
            return Decision(Next.ISSUE, "invalid_request", "max_age must be a number of seconds")
        if limit < 0 or now - session.login_at > limit:
            return login("max_age exceeded")
    if acr_values:
        levels = [claims.acr_level(v) for v in acr_values.split()]
        if any(lv is None for lv in levels):
            return Decision(Next.ISSUE, "unmet_authentication_requirements",
                            f"acr_values: supported values are {' '.join(claims.ACR_VALUES)}")
        if int(session.person.realname_level) < min(levels):
            return Decision(Next.ISSUE, "unmet_authentication_requirements",
                            f"the person's real-name level is {claims.acr(session.person)}")
    if "consent" in prompts or not consented(client, session.person, scope):
        if client.first_party and "consent" not in prompts:
            return Decision(Next.ISSUE)
        return Decision(Next.CONSENT, "consent_required" if silent else None, "consent needed")
    return Decision(Next.ISSUE)


def consent_view(svc, person, client_id: str, scope: str) -> dict:
    """What the consent page shows: the client, each scope asked for and what it gives, and whether
    the person already agreed to all of them."""
    client = clients.require(client_id)
    asked = _scopes(scope)
    if "openid" not in asked or any(s not in client.scopes for s in asked):
        raise AuthzError(clients.E_SCOPE)
    return {"client_id": client.client_id, "name": client.name, "first_party": client.first_party,
            "scopes": [{"scope": s, "claims": claims.SCOPES[s]} for s in asked],
            "granted": consented(client, person, scope)}


def grant_consent(svc, actor_uid: str, person, client_id: str, scope: str) -> dict:
    """Record the person's consent to these scopes for this client (added to what they agreed before)."""
    view = consent_view(svc, person, client_id, scope)
    client = clients.require(client_id)
    row = OidcConsent.get_or_none((OidcConsent.person == person) & (OidcConsent.client == client))
    scopes = sorted(set(_scopes(scope)) | set(row.scopes if row else ()))
    if row:
        OidcConsent.update(scopes=scopes, granted_at=svc.clock.time()).where(OidcConsent.id == row.id).execute()
    else:
        OidcConsent.create(person=person, client=client, scopes=scopes, granted_at=svc.clock.time())
    audit.record(svc, actor=actor_uid, action="oidc.consent", target=f"oidc_client:{client.client_id}",
                 detail={"scopes": scopes})
    return {**view, "granted": True}


def logout(svc, id_token_hint: str | None, post_logout_redirect_uri: str | None,
           cookie_session: LoginSession | None) -> str | None:
    """End the portal session an ID token names (and the browser's own session of the same person);
    returns the registered redirect to send the browser to, or None. Raises validation_failed for a hint
    we did not sign or a redirect the client did not register."""
    hint = keys.verify(svc, id_token_hint or "")
    if hint is None:
        raise AuthzError("validation_failed", errors={"id_token_hint": ["not an ID token of this provider"]})
    client = clients.get(hint.get("aud") if isinstance(hint.get("aud"), str) else None)
    if client is None:
        raise AuthzError("validation_failed", errors={"id_token_hint": ["unknown client"]})
    if post_logout_redirect_uri and post_logout_redirect_uri not in client.post_logout_redirect_uris:
        raise AuthzError("validation_failed", errors={"post_logout_redirect_uri": ["not registered for this client"]})
    row = LoginSession.get_or_none(LoginSession.handle == str(hint.get("sid", "")))
    ended = []
    for s in (row, cookie_session):  # only the hint's own person: a foreign link logs out no one else
        if (s is not None and claims.sub(client, s.person) == hint.get("sub")
                and sessions.end(svc, s, sessions.EndReason.LOGOUT)):
            ended.append(s.handle)
    if ended:
        audit.record(svc, actor=(row or cookie_session).person.uid, action="oidc.logout",
                     target=f"oidc_client:{client.client_id}", detail={"sessions_ended": len(ended)})
    return post_logout_redirect_uri or None
