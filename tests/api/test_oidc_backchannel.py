"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0; issue 12 "back-channel logout: signed logout
tokens to each client that holds a token of that session"). The provider runs in process with the
service's FrozenClock; each relying party is a live HTTP receiver on 127.0.0.1 (tests/oidc_support.py
`LogoutReceiver`) that verifies every logout token against the provider's JWKS as §2.6 asks (signature,
typ logout+jwt, iss, aud, iat, exp, jti, the event, sid or sub, no nonce) and answers 400 to one that
fails. Delivery is `backchannel.run`, what `authz events drain` runs: never the request that ended the
session."""
from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from authz import events, metrics, sessions
from authz.actor import of_session
from authz.flows import password_change
from authz.models import AuditLog, LoginSession, OidcClient, OutboxEvent
from authz.oidc import backchannel
from authz.oidc import clients as oidc_clients
from tests.api.test_oidc import basic, tokens
from tests.binding_support import move
from tests.login_support import PASSWORD, settings  # noqa: F401 - cheap argon2
from tests.oidc_support import (LOGOUT_BACK, RP, LogoutReceiver, person_and_identity, portal_session, register,
                                verify_id_token)

ISS = "http://localhost"


@pytest.fixture
def receivers(svc, client):
    """make(client_id, plan=()) -> a live relying-party logout endpoint holding the provider's JWKS."""
    made = []

    def make(client_id="decl", plan=()):
        rx = LogoutReceiver(jwks=client.get("/oauth/jwks").get_json(), issuer=ISS, client_id=client_id,
                            now=svc.clock.time, plan=plan)
        made.append(rx)
        return rx
    yield make
    for rx in made:
        rx.close()


@pytest.fixture
def world(svc, directory, receivers):
    person, binding, ident = person_and_identity(svc, directory)
    raw, row = portal_session(svc, person, ident)
    rx = receivers("decl")
    _, secret = register(svc, backchannel_logout_uri=rx.uri)
    return {"person": person, "binding": binding, "ident": ident, "raw": raw, "row": row, "secret": secret, "rx": rx}


@pytest.fixture
def browser(app, world):
    c = app.test_client()
    c.set_cookie("authz_session", world["raw"])
    return c


@pytest.fixture
def rp(app):
    return FlaskClient(app)


def id_claims(svc, client, t) -> dict:
    return verify_id_token(t["id_token"], client.get("/oauth/jwks").get_json(), issuer=ISS, client_id="decl",
                           nonce=t["_req"].nonce, access_token=t["access_token"], now=svc.clock.time())


def assert_logged_out(rx, id_token: dict):
    """One logout token arrived, the relying party verified it, and it names the ID token's session."""
    assert rx.rejected == [] and len(rx.verified) == 1, (rx.rejected, rx.received)
    lt = rx.verified[0]
    assert lt["sid"] == id_token["sid"] and lt["sub"] == id_token["sub"] and lt["aud"] == "decl"
    assert lt["iss"] == id_token["iss"] == ISS and "nonce" not in lt


def delivered(svc) -> events.DrainResult:
    return backchannel.run(svc)[1]


def counted(outcome: str) -> float:
    for line in metrics.scrape(lambda: {}).decode().splitlines():
        if line.startswith(f'{backchannel.METRIC}{{outcome="{outcome}"}}'):
            return float(line.split()[-1])
    return 0.0


def test_discovery_advertises_back_channel_logout_with_sid(client):
    """Back-Channel Logout 1.0 §2.1: the provider says it sends logout tokens, and that they carry sid."""
    meta = client.get("/.well-known/openid-configuration").get_json()
    assert meta["backchannel_logout_supported"] is True and meta["backchannel_logout_session_supported"] is True


def test_portal_logout_delivers_a_logout_token_the_relying_party_verifies(svc, client, browser, rp, world):
    """Issue 12 back-channel logout, §2.4-§2.6: logging out of the portal gets the client a signed logout
    token (verified against JWKS; sid is the ID token's); the logout request itself sends nothing, the
    drain does, once."""
    t = tokens(browser, rp, world)
    idt = id_claims(svc, client, t)
    assert browser.post("/api/v1/auth/logout").status_code == 200
    assert world["rx"].received == [], "the request that ended the session did not wait for the relying party"
    assert len(delivered(svc).delivered) == 1
    assert_logged_out(world["rx"], idt)
    assert backchannel.run(svc) == ([], events.DrainResult([], [], [])), "told once"
    assert len(world["rx"].received) == 1


def test_rp_initiated_logout_tells_the_other_clients_of_the_session(svc, client, browser, rp, world, receivers):
    """Issue 12 ("logging out ... logs the person out of every system") with RP-Initiated Logout 1.0:
    one client's logout ends the portal session; every client holding a token of it gets a logout token."""
    rx2 = receivers("invoice")
    _, secret2 = register(svc, "invoice", backchannel_logout_uri=rx2.uri)
    t = tokens(browser, rp, world)
    req2 = RP(client_id="invoice")
    r = browser.get(req2.url())
    assert rp.post("/oauth/token", data=req2.token_form(req2.code_from(r.headers["Location"])),
                   headers=basic(secret2, "invoice")).status_code == 200
    r = browser.get(f"/oauth/logout?id_token_hint={t['id_token']}&post_logout_redirect_uri={LOGOUT_BACK}")
    assert r.status_code == 302
    assert len(delivered(svc).delivered) == 2
    assert_logged_out(world["rx"], id_claims(svc, client, t))
    assert rx2.rejected == [] and [(c["sid"], c["aud"]) for c in rx2.verified] == [(world["row"].handle, "invoice")]


def test_staff_deletion_is_delivered_without_the_person_asking_anything(svc, client, browser, rp, world):
    """Issue 12 back-channel logout with R-BIND (staff deletion ends the identity): the sweep asks the one
    grant rule (grants.subject), which finds the revoked identity, ends the session and tells the client."""
    t = tokens(browser, rp, world)
    idt = id_claims(svc, client, t)
    move(svc, world["binding"], "deleted")
    assert len(delivered(svc).delivered) == 1
    assert_logged_out(world["rx"], idt)
    assert LoginSession.get_by_id(world["row"].id).end_reason == sessions.EndReason.IDENTITY_REVOKED.value


def test_password_change_is_delivered_though_the_changing_session_survives(svc, client, browser, rp, world):
    """Issue 12 back-channel logout with R-PWD-3: the password change keeps the session it was made in, but
    every grant made under the old password has ended, so its client gets a logout token for that sid."""
    t = tokens(browser, rp, world)
    idt = id_claims(svc, client, t)
    me = of_session(LoginSession.get_by_id(world["row"].id))
    assert password_change.change_with_old_password(svc, me, PASSWORD, "Xin#2026pw", "Xin#2026pw")["state"] == "done"
    assert len(delivered(svc).delivered) == 1
    assert_logged_out(world["rx"], idt)
    sessions.resolve(svc, world["raw"])  # the portal session itself is still live


def test_password_change_elsewhere_ends_this_session_and_is_delivered(svc, client, browser, rp, world, directory):
    """Issue 12 back-channel logout with R-PWD-3 ("every other session of the person ends")."""
    t = tokens(browser, rp, world)
    idt = id_claims(svc, client, t)
    _, other = sessions.create(svc, world["person"], sessions.Identity(sessions.Entry.PERSONAL,
                                                                        f"person:{world['person'].uid}", "self"))
    password_change.change_with_old_password(svc, of_session(other), PASSWORD, "Xin#2026pw", "Xin#2026pw")
    assert LoginSession.get_by_id(world["row"].id).end_reason == "password_changed"
    assert len(delivered(svc).delivered) == 1
    assert_logged_out(world["rx"], idt)


def test_session_ended_from_my_sessions_is_delivered(svc, app, client, browser, rp, world):
    """Issue 12 back-channel logout with R-LOGIN-13: the person ends the session from another device."""
    t = tokens(browser, rp, world)
    idt = id_claims(svc, client, t)
    raw2, _ = sessions.create(svc, world["person"], sessions.Identity(sessions.Entry.PERSONAL,
                                                                       f"person:{world['person'].uid}", "self"))
    phone = app.test_client()
    phone.set_cookie("authz_session", raw2)
    assert phone.delete(f"/api/v1/account/sessions/{world['row'].handle}").status_code == 200
    assert len(delivered(svc).delivered) == 1
    assert_logged_out(world["rx"], idt)


def test_idle_expiry_is_found_by_the_sweep_and_delivered(svc, client, browser, rp, world):
    """Issue 12 back-channel logout with R-LOGIN-13 (idle timeout): nobody needs to touch the session; the
    sweep's question finds it idle, ends it and tells the client. Before that, nothing is sent."""
    t = tokens(browser, rp, world)
    idt = id_claims(svc, client, t)
    svc.clock.advance(minutes=29)
    assert delivered(svc).delivered == [] and world["rx"].received == []
    svc.clock.advance(minutes=2)
    assert len(delivered(svc).delivered) == 1
    assert_logged_out(world["rx"], idt)
    assert LoginSession.get_by_id(world["row"].id).end_reason == "idle"


def test_identity_switch_tells_the_client_its_sid_ended(svc, client, browser, rp, world):
    """Issue 12 ("switch identity in the portal -> the relying party learns it"): the switch gives the
    session a new id, so the old sid the client knows is logged out."""
    t = tokens(browser, rp, world)
    idt = id_claims(svc, client, t)
    personal = sessions.Identity(sessions.Entry.PERSONAL, f"person:{world['person'].uid}", "self")
    sessions.rotate(svc, LoginSession.get_by_id(world["row"].id), personal)
    assert len(delivered(svc).delivered) == 1
    assert_logged_out(world["rx"], idt)


def test_a_client_without_a_token_of_the_session_gets_nothing(svc, directory, client, browser, rp, world, receivers):
    """Issue 12 back-channel logout: only clients that hold a token of the ended session are told; a client
    whose token belongs to another (live) session of the same person, or whose own token was revoked
    (RFC 7009, its own logout), gets nothing."""
    rx2 = receivers("invoice")
    _, secret2 = register(svc, "invoice", backchannel_logout_uri=rx2.uri)
    raw2, _ = portal_session(svc, world["person"], world["ident"])
    other = client.application.test_client()
    other.set_cookie("authz_session", raw2)
    req2 = RP(client_id="invoice")
    rp.post("/oauth/token", data=req2.token_form(req2.code_from(other.get(req2.url()).headers["Location"])),
            headers=basic(secret2, "invoice"))
    rx3 = receivers("refunds")
    _, secret3 = register(svc, "refunds", backchannel_logout_uri=rx3.uri)
    req3 = RP(client_id="refunds")
    t3 = rp.post("/oauth/token", data=req3.token_form(req3.code_from(browser.get(req3.url()).headers["Location"])),
                 headers=basic(secret3, "refunds")).get_json()
    revoked = rp.post("/oauth/revoke", data={"token": t3["refresh_token"]}, headers=basic(secret3, "refunds"))
    assert revoked.status_code == 200
    t = tokens(browser, rp, world)
    sessions.end(svc, LoginSession.get_by_id(world["row"].id), sessions.EndReason.LOGOUT)
    assert len(delivered(svc).delivered) == 1
    assert_logged_out(world["rx"], id_claims(svc, client, t))
    assert rx2.received == [] and rx3.received == []


def test_a_failing_receiver_is_retried_with_backoff_then_given_up_audited_and_counted(svc, client, browser, rp,
                                                                                      world, monkeypatch):
    """Issue 12 back-channel logout ("must not be lost"): a relying party that answers 503 keeps its logout
    token pending with the outbox's backoff (moving the service clock, no sleep); the next attempt is a new,
    valid token (new jti, fresh iat). One that never answers is given up after MAX_ATTEMPTS, audited and
    counted; requeue revives it."""
    rx = world["rx"]
    rx.plan = [503]
    t = tokens(browser, rp, world)
    idt = id_claims(svc, client, t)
    sessions.end(svc, LoginSession.get_by_id(world["row"].id), sessions.EndReason.LOGOUT)
    before = counted("retrying")
    first = delivered(svc)
    assert first.retrying and not first.delivered and counted("retrying") == before + 1
    ev = OutboxEvent.get(OutboxEvent.kind == backchannel.KIND)
    assert (ev.status, ev.attempts, ev.last_error) == ("pending", 1, "HTTP 503")
    assert delivered(svc).as_dict() == {"delivered": [], "retrying": [], "dead": []}, "not due yet"
    svc.clock.advance(events.BACKOFF_BASE_S)
    assert len(delivered(svc).delivered) == 1
    assert_logged_out(rx, idt)
    assert len(rx.received) == 2 and rx.received[0] != rx.received[1]

    # a second grant of a second session, to a receiver that stays down
    raw2, _ = portal_session(svc, world["person"], world["ident"])
    b2 = client.application.test_client()
    b2.set_cookie("authz_session", raw2)
    t2 = tokens(b2, rp, world)
    rx.plan = [500, 500]
    monkeypatch.setattr(events, "MAX_ATTEMPTS", 2)
    sessions.end(svc, sessions.resolve(svc, raw2), sessions.EndReason.LOGOUT)
    dead_before = counted("dead")
    assert delivered(svc).retrying
    svc.clock.advance(events.BACKOFF_BASE_S)
    out = delivered(svc)
    assert len(out.dead) == 1 and counted("dead") == dead_before + 1
    row = AuditLog.get(AuditLog.action == "oidc.backchannel_logout")
    assert row.outcome == "failed" and row.target == "oidc_client:decl" and row.detail["last_error"] == "HTTP 500"
    assert events.requeue(svc, out.dead) == 1
    assert len(delivered(svc).delivered) == 1
    assert rx.verified[-1]["sid"] == id_claims(svc, client, t2)["sid"] != idt["sid"]


def test_a_receiver_answering_a_redirect_or_400_is_a_failure_not_delivered(svc, client, browser, rp, world):
    """Back-Channel Logout 1.0 §2.8: only 200 (or 204) is success; a redirect is never followed."""
    world["rx"].plan = [302, 400]
    tokens(browser, rp, world)
    sessions.end(svc, LoginSession.get_by_id(world["row"].id), sessions.EndReason.LOGOUT)
    assert delivered(svc).retrying
    svc.clock.advance(events.BACKOFF_BASE_S)
    assert delivered(svc).retrying
    assert OutboxEvent.get(OutboxEvent.kind == backchannel.KIND).last_error == "HTTP 400"


def test_a_logout_token_is_not_an_id_token_hint(svc, client, browser, rp, world):
    """Back-Channel Logout 1.0 §2.4 (explicit typing keeps logout tokens apart from ID tokens): a logout
    token presented as id_token_hint is refused like any token that is not our ID token."""
    tokens(browser, rp, world)
    sessions.end(svc, LoginSession.get_by_id(world["row"].id), sessions.EndReason.LOGOUT)
    delivered(svc)
    (logout_token,) = world["rx"].received
    assert browser.get(f"/oauth/logout?id_token_hint={logout_token}").status_code == 422


def test_clients_without_a_logout_uri_and_removed_uris_get_nothing(svc, client, browser, rp, world):
    """Issue 12 back-channel logout: a client registered without a logout URI is never swept; removing the
    URI (authz oidc client update --no-backchannel-logout) stops delivery of what is still queued."""
    tokens(browser, rp, world)
    sessions.end(svc, LoginSession.get_by_id(world["row"].id), sessions.EndReason.LOGOUT)
    assert len(backchannel.sweep(svc)) == 1
    oidc_clients.update(svc, "decl", backchannel_logout_uri=None)
    assert OidcClient.get(OidcClient.client_id == "decl").backchannel_logout_uri is None
    backchannel.drain(svc)
    assert world["rx"].received == []
    assert backchannel.sweep(svc) == []


def test_a_logout_uri_is_checked_like_a_redirect_uri(svc):
    """RFC 9700 §4.1 applied to the logout URI an operator registers: https (loopback http for development),
    no fragment."""
    from authz.errors import AuthzError
    for bad in ("http://rp.example.cn/logout", "https://rp.example.cn/logout#x", "javascript:alert(1)"):
        with pytest.raises(AuthzError):
            register(svc, "bad", backchannel_logout_uri=bad)
    row, _ = register(svc, "good", backchannel_logout_uri="https://rp.example.cn/logout")
    assert row.backchannel_logout_uri == "https://rp.example.cn/logout"


def test_events_drain_command_sweeps_and_delivers_logout_tokens(svc, client, browser, rp, world):
    """Issue 12 back-channel logout: `authz events drain` (the one delivery worker, docs/operations.md) runs the
    sweep and the delivery in its own process' service, with the enforcer it needs to judge identities."""
    from click.testing import CliRunner
    from authz.cli import Env, main
    t = tokens(browser, rp, world)
    idt = id_claims(svc, client, t)
    move(svc, world["binding"], "deleted")  # noticed by nobody yet: the command's sweep must find it
    out = CliRunner().invoke(main, ["events", "drain"], obj=Env(settings=svc.settings, clock=svc.clock))
    assert out.exit_code == 0, out.output
    assert "back-channel logout: queued 1, delivered 1, retrying 0, dead 0" in out.output
    assert_logged_out(world["rx"], idt)


def test_cli_registers_updates_and_removes_a_logout_uri_audited(tmp_path):
    """Issue 12 back-channel logout: `authz oidc client create --backchannel-logout-uri` and `update`
    (`--backchannel-logout-uri`, `--no-backchannel-logout`), each audited; a bad URI is refused."""
    from click.testing import CliRunner
    from authz.cli import Env, main
    from authz.config import Settings
    from authz.service import Service
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'bc.db'}")
    Service(settings).start(follow=False).close()
    run = lambda *args: CliRunner().invoke(main, list(args), obj=Env(settings=settings))  # noqa: E731
    out = run("oidc", "client", "create", "decl", "--redirect-uri", "https://decl.example.cn/cb",
              "--backchannel-logout-uri", "https://decl.example.cn/bcl")
    assert out.exit_code == 0, out.output
    out = run("oidc", "client", "update", "decl", "--backchannel-logout-uri", "http://decl.example.cn/bcl")
    assert out.exit_code != 0 and "https" in out.output
    out = run("oidc", "client", "update", "decl", "--backchannel-logout-uri", "https://decl.example.cn/v2/bcl")
    assert out.exit_code == 0 and "https://decl.example.cn/v2/bcl" in out.output, out.output
    assert "back-channel logout: https://decl.example.cn/v2/bcl" in run("oidc", "client", "list").output
    out = run("oidc", "client", "update", "decl", "--no-backchannel-logout")
    assert out.exit_code == 0 and "back-channel logout none" in out.output, out.output
    assert run("oidc", "client", "update", "decl").exit_code == 2
    svc = Service(settings)
    with svc.db.connection_context():
        assert OidcClient.get(OidcClient.client_id == "decl").backchannel_logout_uri is None
        details = [r.detail for r in AuditLog.select().where(AuditLog.action.startswith("oidc.client."))
                   .order_by(AuditLog.id)]
    svc.close()
    assert details[0]["backchannel_logout_uri"] == "https://decl.example.cn/bcl"
    assert details[1:] == [{"backchannel_logout_uri": "https://decl.example.cn/v2/bcl"},
                           {"backchannel_logout_uri": None}]


def test_the_cheap_sweep_tells_ended_sessions_and_leaves_the_question_to_the_full_one(svc, app, client, browser, rp,
                                                                                   world):
    """Issue 12 back-channel logout: the every-round sweep (`full=False`) tells a session already marked
    ended without asking anything; a staff deletion nobody has met yet waits for the full sweep."""
    t = tokens(browser, rp, world)
    idt = id_claims(svc, client, t)
    raw2, row2 = portal_session(svc, world["person"], sessions.Identity(sessions.Entry.PERSONAL,
                                                                        f"person:{world['person'].uid}", "self"))
    b2 = app.test_client()
    b2.set_cookie("authz_session", raw2)
    t2 = tokens(b2, rp, world)
    move(svc, world["binding"], "deleted")
    sessions.end(svc, row2, sessions.EndReason.LOGOUT)
    assert len(backchannel.run(svc, full=False)[1].delivered) == 1
    assert [c["sid"] for c in world["rx"].verified] == [id_claims(svc, client, t2)["sid"]]
    assert LoginSession.get_by_id(world["row"].id).ended_at is None, "the cheap sweep asked nothing"
    assert len(backchannel.run(svc, full=True)[1].delivered) == 1
    assert world["rx"].verified[-1]["sid"] == idt["sid"] and world["rx"].rejected == []
