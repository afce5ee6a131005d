"""The OpenID Connect provider (issue 12), on the portal's own sessions. No Flask here: the API
(api/oidc.py) wraps these parts in Authlib's Flask AuthorizationServer.

* `keys`: signing keys in the database (ES256 by default, RS256 available), rotation, JWKS.
* `clients`: relying parties (confidential with a hashed secret, public with PKCE), exact redirect URIs.
* `claims`: scopes, the claims each gives (ID token and userinfo), `sub` (public or pairwise), acr, amr.
* `grants`: Authlib's authorization-code grant (+ PKCE S256, + OpenID Connect), refresh grant,
  introspection (RFC 7662), revocation (RFC 7009), bearer validation; and `subject`, the ONE place that
  decides whether a code or token still speaks for a live portal session.
"""
