from __future__ import annotations

import pytest
from django.db import connection as db

from storesync.channels.models import Connection
from storesync.channels.services import connection_create, connection_credentials
from storesync.core.errors import ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.security import rotation
from storesync.security.audit import Actor

ACTOR = Actor.system("test")
TOKEN = "shpat_0123456789abcdef0123456789abcdef"


def _connect(ws_id):
    return connection_create(
        workspace_id=ws_id,
        platform="shopify",
        name="main shop",
        credentials={"shop": "acme.myshopify.com", "access_token": TOKEN},
        webhook_secret="whsec-0123456789abcdef",
        actor=ACTOR,
    )


def test_channel_secrets_are_encrypted_at_rest_and_rotate(workspace):
    ws = workspace.workspace.id
    created = _connect(ws)
    with workspace_scope(ws), db.cursor() as cursor:
        cursor.execute("SELECT credentials, webhook_secret FROM channels_connection")
        raw = b"".join(bytes(v) for v in cursor.fetchone())
    assert TOKEN.encode() not in raw and b"whsec" not in raw
    before = {k for label, _, k in rotation.key_usage() if label == "channels.connection"}
    rotation.rotate_workspace(ws)
    after = {k for label, _, k in rotation.key_usage() if label == "channels.connection"}
    assert before.isdisjoint(after)
    with workspace_scope(ws):
        loaded = Connection.objects.get(id=created.id)
    assert connection_credentials(loaded)["access_token"] == TOKEN
    assert loaded.webhook_secret == "whsec-0123456789abcdef"


def test_bad_connection_input_names_the_field(workspace):
    with pytest.raises(ValidationError) as err:
        connection_create(
            workspace_id=workspace.workspace.id,
            platform="myspace",
            name="x",
            credentials={},
            webhook_secret="0123456789abcdef",
            actor=ACTOR,
        )
    assert err.value.field == "platform"
    with pytest.raises(ValidationError) as err:
        connection_create(
            workspace_id=workspace.workspace.id,
            platform="shopify",
            name="x",
            credentials={},
            webhook_secret="short",
            actor=ACTOR,
        )
    assert err.value.field == "webhook_secret"
