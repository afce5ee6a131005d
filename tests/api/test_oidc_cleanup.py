"""`authz oidc cleanup` (issue 12): codes and tokens that can never be used again are deleted; what a live
grant, code-replay detection (RFC 9700 §4.5) and refresh-reuse detection (RFC 9700 §4.14.2) still need is
kept, and a back-channel logout still owed is queued before its tokens go."""
from __future__ import annotations

from authz import sessions
from authz.models import AuditLog, AuthorizationCode, LoginSession, OidcToken, OutboxEvent
from authz.oidc import backchannel, cleanup
from authz.oidc import clients as oidc_clients
from tests.api.test_oidc import (basic, browser, code_for, exchange, introspect, refresh, rp, tokens,  # noqa: F401
                                 world)
from tests.login_support import settings  # noqa: F401 - cheap argon2
from tests.oidc_support import RP


def test_a_live_grant_and_its_rotated_refresh_tokens_are_kept_so_reuse_is_still_caught(svc, browser, rp, world):
    """Issue 12 cleanup with RFC 9700 §4.14.2: a grant in use stays whole, its rotated-away refresh token
    included, so presenting that one after the cleanup still revokes the family."""
    t = tokens(browser, rp, world)
    new = refresh(rp, world, t["refresh_token"]).get_json()
    svc.clock.advance(svc.settings.oidc_access_token_seconds + 60)
    sessions.resolve(svc, world["raw"])  # the person is active: the session lives
    assert cleanup.purge(svc, older_than=0) == cleanup.Purged(0, 0, 0)
    assert OidcToken.select().count() == 2 and AuthorizationCode.select().count() == 1
    assert refresh(rp, world, t["refresh_token"]).status_code == 400  # reuse of the rotated one
    assert introspect(rp, world, new["access_token"]) == {"active": False}, "the family was revoked"


def test_ended_and_expired_grants_and_stale_codes_go_unexchanged_fresh_ones_stay(svc, browser, rp, world):
    """Issue 12 cleanup: a grant whose session ended goes with its code; a code never exchanged goes once
    expired; a code not yet expired stays; nothing younger than --older-than-hours goes."""
    tokens(browser, rp, world)
    code_for(browser, RP())  # a code the client never exchanged
    sessions.end(svc, LoginSession.get_by_id(world["row"].id), sessions.EndReason.LOGOUT)
    svc.clock.advance(svc.settings.oidc_code_seconds + 1)
    assert cleanup.purge(svc) == cleanup.Purged(0, 0, 0), "younger than a day: kept for inspection"
    raw2, _ = sessions.create(svc, world["person"], world["ident"])
    b2 = browser.application.test_client()
    b2.set_cookie("authz_session", raw2)
    code_for(b2, RP())  # fresh, not yet expired
    assert cleanup.purge(svc, older_than=0) == cleanup.Purged(0, 1, 2)
    assert OidcToken.select().count() == 0 and AuthorizationCode.select().count() == 1


def test_a_back_channel_logout_owed_is_queued_before_the_tokens_go(svc, browser, rp, world):
    """Issue 12 cleanup with back-channel logout: deleting the tokens of an ended grant would lose the
    relying party's logout, so the cleanup sweeps first; the logout token is then in the outbox."""
    oidc_clients.update(svc, "decl", backchannel_logout_uri="https://decl.example.cn/bcl")
    tokens(browser, rp, world)
    sessions.end(svc, LoginSession.get_by_id(world["row"].id), sessions.EndReason.LOGOUT)
    svc.clock.advance(svc.settings.oidc_code_seconds)
    out = cleanup.purge(svc, older_than=0)
    assert out == cleanup.Purged(1, 1, 1)
    ev = OutboxEvent.get(OutboxEvent.kind == backchannel.KIND)
    assert ev.status == "pending" and ev.payload["sid"] == world["row"].handle


def test_revoked_tokens_go_and_a_replayed_code_of_a_live_family_is_still_caught(svc, browser, rp, world):
    """Issue 12 cleanup with RFC 7009 and RFC 9700 §4.5: a revoked grant goes; the code of a live grant
    stays, so replaying it later still revokes what it issued."""
    t = tokens(browser, rp, world)
    rp.post("/oauth/revoke", data={"token": t["refresh_token"]}, headers=basic(world["secret"]))
    req = RP()
    code = code_for(browser, req)
    live = exchange(rp, world, req, code).get_json()
    svc.clock.advance(120)
    assert cleanup.purge(svc, older_than=0) == cleanup.Purged(0, 1, 1)
    assert exchange(rp, world, req, code).status_code == 400
    assert introspect(rp, world, live["access_token"]) == {"active": False}


def test_cleanup_command_reports_and_is_audited(svc, browser, rp, world):
    """Issue 12: `authz oidc cleanup` prints what it deleted and writes an audit row."""
    from click.testing import CliRunner
    from authz.cli import Env, main
    tokens(browser, rp, world)
    sessions.end(svc, LoginSession.get_by_id(world["row"].id), sessions.EndReason.LOGOUT)
    svc.clock.advance(svc.settings.oidc_code_seconds)
    out = CliRunner().invoke(main, ["oidc", "cleanup", "--older-than-hours", "0"],
                             obj=Env(settings=svc.settings, clock=svc.clock))
    assert out.exit_code == 0, out.output
    assert "deleted 1 token(s) and 1 code(s); queued 0 back-channel logout(s)" in out.output
    assert AuditLog.get(AuditLog.action == "oidc.cleanup").detail == {"logouts_queued": 0, "tokens": 1, "codes": 1}
