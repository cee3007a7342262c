"""Tags, versioned updates, marketing consent and order history of a customer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.customers import selectors, services
from storesync.inventory import services as inventory
from storesync.orders import selectors as order_selectors
from storesync.orders.services import AddressInput, LineInput, OrderInput, order_create
from storesync.security.models import AuditEvent
from tests.conftest import ACTOR


@pytest.fixture
def customer(workspace):
    return services.customer_create(
        workspace_id=workspace.workspace.id, actor=ACTOR,
        data=services.CustomerInput(first_name="Asha", email="asha@example.com"))


def test_tags_and_stale_versions(workspace, customer):
    ws = workspace.workspace.id
    updated = services.customer_update(workspace_id=ws, customer_id=customer.id, actor=ACTOR,
                                       changes={"tags": ["vip", " vip", "wholesale"]},
                                       expected_version=customer.version)
    assert updated.tags == ["vip", "wholesale"] and updated.version == customer.version + 1
    with pytest.raises(Conflict) as caught:
        services.customer_update(workspace_id=ws, customer_id=customer.id, actor=ACTOR,
                                 changes={"tags": []}, expected_version=customer.version)
    assert caught.value.field == "version"
    with pytest.raises(ValidationError) as caught:
        services.customer_update(workspace_id=ws, customer_id=customer.id, actor=ACTOR,
                                 changes={"tags": ["x" * 41]})
    assert caught.value.field == "tags"
    event = AuditEvent.objects.filter(action="customer.updated").latest("seq")
    assert event.fields == ["tags"] and "vip" not in str(event.detail)


def test_email_consent_is_recorded_with_time_source_and_audit(workspace, customer):
    ws = workspace.workspace.id
    when = timezone.now() - timedelta(days=2)
    saved = services.customer_set_marketing_consent(
        workspace_id=ws, customer_id=customer.id, channel="email", actor=ACTOR,
        consent=services.ConsentInput(state="subscribed", source="checkout",
                                      opt_in_level="confirmed_opt_in", consented_at=when))
    assert (saved.email_marketing_state, saved.email_marketing_opt_in_level,
            saved.email_marketing_consent_at, saved.email_marketing_source) == (
        "subscribed", "confirmed_opt_in", when, "checkout")
    assert saved.sms_marketing_state == "not_subscribed"
    event = AuditEvent.objects.filter(action="customer.updated").latest("seq")
    assert event.fields == ["email_marketing_consent"]
    assert event.detail["state"] == "subscribed" and event.detail["source"] == "checkout"
    later = services.customer_set_marketing_consent(
        workspace_id=ws, customer_id=customer.id, channel="email", actor=ACTOR,
        consent=services.ConsentInput(state="unsubscribed", source="unsubscribe_link"))
    assert later.email_marketing_state == "unsubscribed"
    assert later.email_marketing_opt_in_level == ""
    assert later.email_marketing_consent_at > when


@pytest.mark.parametrize(("channel", "consent", "field"), [
    ("fax", services.ConsentInput(state="subscribed", source="x"), "channel"),
    ("email", services.ConsentInput(state="yes", source="x"), "email_marketing_consent.state"),
    ("email", services.ConsentInput(state="subscribed", source=" "),
     "email_marketing_consent.source"),
    ("email", services.ConsentInput(state="subscribed", source="x", opt_in_level="double"),
     "email_marketing_consent.opt_in_level"),
    ("sms", services.ConsentInput(state="subscribed", source="pos"),
     "sms_marketing_consent.state"),  # no phone on file
    ("email", services.ConsentInput(state="subscribed", source="x",
                                    consented_at=timezone.now() + timedelta(days=1)),
     "email_marketing_consent.consented_at"),
])
def test_bad_consent_names_the_field(workspace, customer, channel, consent, field):
    with pytest.raises(ValidationError) as caught:
        services.customer_set_marketing_consent(workspace_id=workspace.workspace.id,
                                                customer_id=customer.id, channel=channel,
                                                consent=consent, actor=ACTOR)
    assert caught.value.field == field
    assert selectors.customer_get(workspace_id=workspace.workspace.id,
                                  customer_id=customer.id).email_marketing_state == \
        "not_subscribed"


def test_consent_of_another_workspace_is_not_found(workspace, customer, other_workspace):
    with pytest.raises(NotFound):
        services.customer_set_marketing_consent(
            workspace_id=other_workspace.workspace.id, customer_id=customer.id,
            channel="email", actor=ACTOR,
            consent=services.ConsentInput(state="unsubscribed", source="x"))


def test_order_history_is_the_customers_orders_newest_first(stock, customer):
    ws, variants, main, _ = stock
    inventory.stock_receive(workspace_id=ws, variant_id=variants["KURTA-M"].id,
                            location_id=main.id, quantity=10, actor=ACTOR)
    address = AddressInput(name="Asha", line1="1 MG Road", city="Pune", postcode="411001",
                           province_code="MH")
    mine = [order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
        lines=[LineInput(sku="KURTA-M", quantity=1)], shipping_address=address,
        customer_id=customer.id)) for _ in range(3)]
    order_create(workspace_id=ws, actor=ACTOR, data=OrderInput(
        lines=[LineInput(sku="KURTA-M", quantity=1)], shipping_address=address))
    first = order_selectors.order_list(workspace_id=ws, customer_id=customer.id, limit=2)
    rest = order_selectors.order_list(workspace_id=ws, customer_id=customer.id, limit=2,
                                      cursor=first.next_cursor)
    assert [o.number for o in first.items + rest.items] == [o.number for o in reversed(mine)]
    assert rest.next_cursor is None


def test_list_filters_by_tag_and_consent_state(workspace, customer):
    ws = workspace.workspace.id
    other = services.customer_create(workspace_id=ws, actor=ACTOR, data=services.CustomerInput(
        first_name="Ravi", tags=["Wholesale"]))
    services.customer_update(workspace_id=ws, customer_id=customer.id, actor=ACTOR,
                             changes={"tags": ["vip"]})
    services.customer_set_marketing_consent(
        workspace_id=ws, customer_id=customer.id, channel="email", actor=ACTOR,
        consent=services.ConsentInput(state="subscribed", source="checkout"))
    assert [c.id for c in selectors.customer_list(workspace_id=ws, tag="WHOLESALE").items] == [
        other.id]
    subscribed = selectors.customer_list(workspace_id=ws, email_marketing_state="subscribed")
    assert [c.id for c in subscribed.items] == [customer.id]
    never = selectors.customer_list(workspace_id=ws, email_marketing_state="not_subscribed",
                                    tag="wholesale")
    assert [c.id for c in never.items] == [other.id]
    with pytest.raises(ValidationError) as caught:
        selectors.customer_list(workspace_id=ws, sms_marketing_state="opted_in")
    assert caught.value.field == "sms_marketing_state"
