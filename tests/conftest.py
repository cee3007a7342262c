"""Shared fixtures: a test master key, immediate jobs, workspaces, members and API clients."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from storesync.catalog.services import ProductInput, VariantInput, product_create
from storesync.core.services import CreatedWorkspace, workspace_create
from storesync.core.tenancy import system_scope, workspace_scope
from storesync.inventory.services import location_create
from storesync.security import keyring
from storesync.security.audit import Actor
from storesync.security.tokens import token_create


@pytest.fixture(scope="session", autouse=True)
def _test_environment() -> Iterator[None]:
    """A fresh master key for the run (never the developer's), and jobs run inline."""
    original = settings.CONFIG
    settings.CONFIG = dataclasses.replace(original, master_key=keyring.generate_master_key())
    keyring.reset()
    settings.HUEY.immediate = True
    # Rotation waits out other processes' active-key cache; there are none in tests.
    saved_ttl, keyring.ACTIVE_KEY_TTL_S = keyring.ACTIVE_KEY_TTL_S, 0.05
    yield
    keyring.ACTIVE_KEY_TTL_S = saved_ttl
    settings.CONFIG = original
    keyring.reset()


@pytest.fixture(autouse=True)
def _own_cache_keys() -> None:
    """A shared Redis keeps throttling counters after a test: give every test its own keys."""
    from django.core.cache import cache

    cache.key_prefix = f"storesync-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(autouse=True)
def _fresh_keyring_cache() -> Iterator[None]:
    # Data keys are per database; a rolled-back test must not leave cached ids behind.
    keyring.reset()
    yield
    keyring.reset()


@pytest.fixture
def system() -> Iterator[None]:
    with system_scope():
        yield


@pytest.fixture
def workspace(db: Any) -> CreatedWorkspace:
    return workspace_create(slug="acme", name="Acme Traders", owner_email="owner@acme.example")


@pytest.fixture
def other_workspace(db: Any) -> CreatedWorkspace:
    return workspace_create(slug="globex", name="Globex", owner_email="owner@globex.example")


class ApiClient:
    """A Django test client that speaks JSON with a bearer token."""

    def __init__(self, token: str) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def _send(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        data = json.dumps(body) if body is not None and not isinstance(body, str | bytes) else body
        return getattr(self.client, method)(
            path, data=data, content_type="application/json", headers={**self.headers, **headers}
        )

    def get(self, path: str, **headers: str) -> Any:
        return self.client.get(path, headers={**self.headers, **headers})

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self._send("post", path, body, **headers)

    def patch(self, path: str, body: Any = None, **headers: str) -> Any:
        return self._send("patch", path, body, **headers)

    def put(self, path: str, body: Any = None, **headers: str) -> Any:
        return self._send("put", path, body, **headers)

    def delete(self, path: str, **headers: str) -> Any:
        return self.client.delete(path, headers={**self.headers, **headers})


def api_client_for(created: CreatedWorkspace, role: str) -> ApiClient:
    issued = token_create(
        workspace_id=created.workspace.id,
        name=f"{role} test",
        role=role,
        actor=Actor.system("test"),
    )
    return ApiClient(issued.plaintext)


@pytest.fixture
def owner_api(workspace: CreatedWorkspace) -> ApiClient:
    return api_client_for(workspace, "owner")


@pytest.fixture
def viewer_api(workspace: CreatedWorkspace) -> ApiClient:
    return api_client_for(workspace, "viewer")


@pytest.fixture
def other_api(other_workspace: CreatedWorkspace) -> ApiClient:
    return api_client_for(other_workspace, "owner")


ACTOR = Actor.system("test")


@pytest.fixture
def stock(workspace):
    """A workspace with one product (two variants) and two locations."""
    ws = workspace.workspace.id
    product = product_create(workspace_id=ws, actor=ACTOR, data=ProductInput(
        title="Cotton Kurta", options=["Size"], variants=[
            VariantInput(sku="KURTA-M", price_minor=89900, options=["M"], hsn_code="6206",
                         tax_rate_bp=500),
            VariantInput(sku="KURTA-L", price_minor=89900, options=["L"], hsn_code="6206",
                         tax_rate_bp=500),
        ]))
    with workspace_scope(ws):
        variants = {v.sku: v for v in product.variants.all()}
    main = location_create(workspace_id=ws, name="Pune warehouse", actor=ACTOR)
    store = location_create(workspace_id=ws, name="Mumbai store", kind="store", actor=ACTOR)
    return ws, variants, main, store


CUSTOMER = {
    "first_name": "Asha",
    "last_name": "Rao",
    "email": "Asha.Rao@Example.com",
    "phone": "98765 43210",
    "address": {
        "line1": "12 MG Road",
        "city": "Pune",
        "postcode": "411001",
        "province_code": "MH",
        "country_code": "IN",
        "name": "Asha Rao",
    },
}
