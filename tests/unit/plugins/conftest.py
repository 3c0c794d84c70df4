"""Fixtures of the API modules' tests: a fake Harbor (fake_harbor.py) and its connection options."""

import pytest

from ansible_collections.harbor.deploy.plugins.module_utils import _harbor_api
from fake_harbor import ADMIN, FakeHarbor


@pytest.fixture
def harbor():
    fake = FakeHarbor()
    yield fake
    fake.stop()


@pytest.fixture
def api(harbor):
    """The modules' connection options for the fake Harbor, as admin."""
    return {"api_url": harbor.url, "api_username": ADMIN[0], "api_password": ADMIN[1], "timeout": 5}


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    """The API client's retries wait a millisecond, not seconds."""
    monkeypatch.setattr(_harbor_api, "BACKOFF", 0.001)
