"""A second, independent relying-party library against the live provider (issue 12): pyoidc (`oic`,
the OpenID Foundation certified RP library), which discovers the provider, checks that the issuer it was
given is the one the metadata names, loads the JWKS, and verifies the ID token itself (ES256 signature,
iss, aud, nonce for the state it sent, at_hash) when it parses the token response. Its userinfo call is a
POST (OpenID Connect Core 5.3.1); the token goes in the Authorization header (RFC 6750 §2.1; a token in a
form body, §2.2, is not accepted)."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
import requests

from oic import rndstr
from oic.oic import Client
from oic.oic.message import AccessTokenResponse, AuthorizationResponse, RegistrationResponse
from oic.utils.authn.client import CLIENT_AUTHN_METHOD

from authz.clock import FrozenClock
from tests.login_support import settings  # noqa: F401 - cheap argon2
from tests.oidc_support import REDIRECT, person_and_identity, portal_session, register
from tests.system.serving import Instance, service_env

pytestmark = pytest.mark.slow


@pytest.fixture
def clock():
    return FrozenClock(time.time())


def test_pyoidc_code_pkce_with_id_token_verified_by_the_library(svc, directory, db_url, tmp_path):
    """OpenID Connect Core 3.1 / RFC 7636 with an independent client: discovery, code + PKCE S256,
    ID token verified by pyoidc (signature against JWKS, iss, aud, nonce, at_hash), userinfo."""
    person, _, ident = person_and_identity(svc, directory)
    raw, _ = portal_session(svc, person, ident)
    _, secret = register(svc)
    inst = Instance(service_env(db_url), tmp_path / "serve.log")
    try:
        rp = Client(client_authn_method=CLIENT_AUTHN_METHOD)
        rp.provider_config(inst.base)  # refuses a metadata issuer other than the one asked for
        rp.store_registration_info(RegistrationResponse(client_id="decl", client_secret=secret,
                                                        redirect_uris=[REDIRECT]))
        state, nonce = rndstr(24), rndstr(24)
        pkce, verifier = rp.add_code_challenge()
        assert pkce["code_challenge_method"] == "S256"
        request = rp.construct_AuthorizationRequest(request_args={
            "client_id": "decl", "response_type": "code", "scope": ["openid", "identity"], "state": state,
            "nonce": nonce, "redirect_uri": REDIRECT, **pkce})
        browser = requests.Session()
        browser.cookies.set("authz_session", raw, domain="127.0.0.1", path="/")
        loc = browser.get(request.request(rp.authorization_endpoint), allow_redirects=False, timeout=10).headers["Location"]
        assert loc.startswith(REDIRECT + "?")
        answer = rp.parse_response(AuthorizationResponse, info=urlsplit(loc).query, sformat="urlencoded")
        assert answer["state"] == state and answer["iss"] == inst.base
        token = rp.do_access_token_request(state=state, request_args={"code": answer["code"], "redirect_uri": REDIRECT,
                                                                      "code_verifier": verifier},
                                           authn_method="client_secret_basic")
        assert isinstance(token, AccessTokenResponse) and "error" not in token, token
        id_token = token["id_token"]  # parsed and verified by pyoidc
        assert id_token["nonce"] == nonce and id_token["sub"] == "p-sso" and id_token["aud"] == ["decl"]
        assert id_token.jws_header["alg"] == "ES256"
        info = rp.do_user_info_request(state=state, method="POST", behavior="use_authorization_header")
        assert info["sub"] == "p-sso" and info["identity"]["identity_type"] == "tax_officer"
    finally:
        inst.stop()
