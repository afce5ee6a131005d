"""Deleting authorization codes and tokens that can never be used again (issue 12, `authz oidc cleanup`).

A row is kept as long as any rule still needs it, so deleting never changes an answer:

* A token row is **done** when it is revoked, or when its portal session ended, or both its access and
  refresh lives ended, more than `older_than` ago, and its back-channel logout is settled (queued, or its
  client takes none): nothing can make such a token stand again. The sweep
  (`backchannel.sweep`) runs first, so an ended grant's logout is queued before its tokens go.
* Tokens go a whole **family** at a time (every token descending from one code), and only when every row of
  it is done: a rotated-away refresh token of a live family stays, because presenting it again must still
  revoke the family (RFC 9700 §4.14.2 reuse detection).
* A code goes once it expired more than `older_than` ago and no token descends from it: while its family
  lives, a replay of the code must still revoke the family (RFC 9700 §4.5).
"""
from __future__ import annotations

from dataclasses import dataclass

import peewee as pw

from ..db import database
from ..models import AuthorizationCode, LoginSession, OidcClient, OidcToken
from . import backchannel

DEFAULT_OLDER_THAN_S = 24 * 3600


@dataclass(frozen=True)
class Purged:
    logouts_queued: int
    tokens: int
    codes: int

    def as_dict(self) -> dict:
        return {"logouts_queued": self.logouts_queued, "tokens": self.tokens, "codes": self.codes}


def purge(svc, older_than: float = DEFAULT_OLDER_THAN_S) -> Purged:
    """Delete the codes and tokens no rule needs any more (module docstring); returns how many."""
    queued = len(backchannel.sweep(svc))
    cutoff = svc.clock.time() - max(0.0, older_than)
    no_logout = OidcClient.select(OidcClient.id).where(OidcClient.backchannel_logout_uri.is_null()
                                                       | OidcClient.deleted_at.is_null(False))
    settled = OidcToken.logout_queued_at.is_null(False) | OidcToken.client.in_(no_logout)
    ended = LoginSession.select(LoginSession.id).where(LoginSession.ended_at <= cutoff)
    expired = ((OidcToken.access_expires_at <= cutoff)
               & (pw.fn.COALESCE(OidcToken.refresh_expires_at, OidcToken.access_expires_at) <= cutoff))
    done = (OidcToken.revoked_at <= cutoff) | ((expired | OidcToken.session.in_(ended)) & settled)
    finished = (OidcToken.select(OidcToken.family).group_by(OidcToken.family)
                .having(pw.fn.SUM(pw.Case(None, ((done, 0),), 1)) == 0))
    with database.atomic():
        families = [f for (f,) in finished.tuples()]
        tokens = 0
        for i in range(0, len(families), 500):
            tokens += OidcToken.delete().where(OidcToken.family.in_(families[i:i + 500])).execute()
        codes = (AuthorizationCode.delete()
                 .where((AuthorizationCode.expires_at <= cutoff)
                        & ~pw.fn.EXISTS(OidcToken.select(OidcToken.id)
                                        .where(OidcToken.family == AuthorizationCode.id))).execute())
    return Purged(queued, tokens, codes)
