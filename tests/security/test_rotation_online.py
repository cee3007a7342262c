"""Rotation while the server keeps serving: concurrent API writes and reads, nothing lost."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from storesync.security import keyring, rotation
from tests.conftest import ApiClient, api_client_for


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_rotation_runs_while_the_api_serves(workspace, monkeypatch):
    monkeypatch.setattr(keyring, "ACTIVE_KEY_TTL_S", 0.2)
    owner: ApiClient = api_client_for(workspace, "owner")
    for i in range(40):
        owner.post("/api/v1/customers", {"first_name": f"Pre{i}", "email": f"pre{i}@example.com"})
    ws = workspace.workspace.id
    old_key = keyring.get().active_key_id(ws)
    errors: list[str] = []
    created: list[str] = []
    stop = threading.Event()

    def serve_traffic() -> None:
        client = ApiClient(owner.headers["Authorization"].split()[1])
        i = 0
        try:
            while not stop.is_set() and i < 400:
                response = client.post("/api/v1/customers",
                                       {"first_name": f"Live{i}", "email": f"live{i}@example.com"})
                if response.status_code != 201:
                    errors.append(response.content.decode())
                else:
                    created.append(response.json()["id"])
                listing = client.get("/api/v1/customers?limit=20")
                if listing.status_code != 200:
                    errors.append(listing.content.decode())
                i += 1
        finally:
            connection.close()

    worker = threading.Thread(target=serve_traffic)
    worker.start()
    try:
        rotation.rotate_workspace(ws, batch_size=10)
    finally:
        stop.set()
        worker.join(timeout=60)
    assert errors == []
    assert created, "traffic ran during the rotation"
    assert old_key not in {key for _, _, key in rotation.key_usage()}
    for cid in created[-5:]:
        assert owner.get(f"/api/v1/customers/{cid}").json()["email"].startswith("live")
    assert len(owner.get("/api/v1/customers?email=pre7@example.com").json()["items"]) == 1
