"""The Channels page: health of every connection, dead letters, and pushing them again."""

from __future__ import annotations

from storesync.channels.connectors.base import AuthFailed
from storesync.channels.dispatcher import drain_connection
from storesync.channels.models import OutboxItem, OutboxState
from storesync.core.tenancy import workspace_scope
from storesync.inventory.services import stock_receive
from tests.channels.conftest import ACTOR
from tests.web.conftest import assert_no_inline_code


def test_dead_letters_are_shown_and_pushed_again_from_the_page(channel, owner_client,
                                                               member_client):
    ws = channel.workspace_id
    stock_receive(workspace_id=ws, variant_id=channel.variants["KURTA-M"].id,
                  location_id=channel.main.id, quantity=2, actor=ACTOR)
    channel.platform.push_errors.append(AuthFailed("token revoked by the shop", status=401))
    drain_connection(workspace_id=ws, connection_id=channel.connection.id)

    page = owner_client.get("/channels/")
    html = page.content.decode()
    assert page.status_code == 200
    assert_no_inline_code(html, "/channels/")
    assert "test shop" in html and "token revoked by the shop" in html and "KURTA-M" in html

    assert member_client("staff").post(f"/channels/{channel.connection.id}/replay").status_code \
        == 403
    replay = owner_client.post(f"/channels/{channel.connection.id}/replay")
    assert replay.status_code == 302
    with workspace_scope(ws):
        assert OutboxItem.objects.get().state == OutboxState.PENDING
    assert owner_client.post("/channels/0190c3c4-0000-7000-8000-000000000000/replay") \
        .status_code == 404
