"""API fixtures: a Flask test client over the same Service the core tests use, and a service key."""
import pytest

from api import create_app
from authz import clients


@pytest.fixture
def app(svc):
    return create_app(service=svc)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def service_key(svc):
    _, key = clients.create("billing-system", scopes="check")
    return key


@pytest.fixture
def policy_key(svc):
    _, key = clients.create("policy-author", scopes="check,policy")
    return key


@pytest.fixture
def auth(service_key):
    return {"Authorization": f"Bearer {service_key}"}
