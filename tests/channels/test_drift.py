"""A quantity changed behind storesync's back on the channel is found and corrected."""

from __future__ import annotations

from storesync.channels import dispatcher
from storesync.channels.drift import drift_check
from storesync.channels.models import OutboxItem, OutboxState
from storesync.core.tenancy import workspace_scope
from storesync.inventory.services import stock_receive
from tests.channels.conftest import ACTOR, CHANNEL_LOCATION, reload


def test_an_edit_in_the_channels_admin_is_found_and_overwritten(channel):
    ws, cid = channel.workspace_id, channel.connection.id
    for sku, quantity in (("KURTA-M", 6), ("KURTA-L", 2)):
        stock_receive(workspace_id=ws, variant_id=channel.variants[sku].id,
                      location_id=channel.main.id, quantity=quantity, actor=ACTOR)
    dispatcher.drain_connection(workspace_id=ws, connection_id=cid)
    # Someone types 40 into the channel's admin for KURTA-M.
    channel.platform.levels[("item-2", CHANNEL_LOCATION)] = 40

    report = drift_check(workspace_id=ws, connection_id=cid)

    assert (report.checked, report.drifted) == (2, 1)
    assert reload(channel, "KURTA-M").last_channel_quantity == 40  # the next push's expected
    with workspace_scope(ws):
        pending = list(OutboxItem.objects.filter(state=OutboxState.PENDING))
    assert [row.listing_id for row in pending] == [channel.listings["KURTA-M"].id]
    dispatcher.drain_connection(workspace_id=ws, connection_id=cid)
    assert channel.platform.levels[("item-2", CHANNEL_LOCATION)] == 6
    assert drift_check(workspace_id=ws, connection_id=cid).drifted == 0
