"""The simulator's marketing consent and tag mutations answer as the GraphQL Admin API
documents them: what may be set, what is refused and how, and "the most recent record wins"."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from storesync.channels.sandbox.shopify import state as st
from tests.channels.sandbox.shopify.conftest import Api

EMAIL_UPDATE = """
mutation($input: CustomerEmailMarketingConsentUpdateInput!) {
  customerEmailMarketingConsentUpdate(input: $input) {
    customer { id defaultEmailAddress { marketingState marketingOptInLevel marketingUpdatedAt } }
    userErrors { field message code }
  }
}"""
SMS_UPDATE = """
mutation($input: CustomerSmsMarketingConsentUpdateInput!) {
  customerSmsMarketingConsentUpdate(input: $input) {
    customer { id defaultPhoneNumber { marketingState marketingOptInLevel } }
    userErrors { field message code }
  }
}"""
CUSTOMER = """
query($id: ID!) {
  customer(id: $id) {
    tags
    defaultEmailAddress { emailAddress marketingState marketingOptInLevel }
    defaultPhoneNumber { phoneNumber marketingState }
  }
}"""
TAGS_ADD = """mutation($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } } }"""
TAGS_REMOVE = """mutation($id: ID!, $tags: [String!]!) {
  tagsRemove(id: $id, tags: $tags) { node { id } userErrors { field message } } }"""


@pytest.fixture
def buyer(api: Api) -> str:
    """A buyer who ticked the checkout's email and SMS marketing boxes."""
    api.control("POST", "seed", {"products": 1, "variants_per_product": 1, "stock": 5})
    sku = next(iter(api.server.shop.variants.values())).sku
    api.control("POST", "orders", {"lines": [{"sku": sku, "quantity": 1}],
                                   "email": "ravi@example.com", "buyer_accepts_marketing": True,
                                   "buyer_accepts_sms_marketing": True})
    (customer,) = api.server.shop.customers.values()
    return st.gid("Customer", customer.id)


def _data(response: Any, name: str) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"][name]
    return found


def _email(api: Api, customer: str, **consent: Any) -> dict[str, Any]:
    return _data(api.graphql(EMAIL_UPDATE, input={"customerId": customer,
                                                  "emailMarketingConsent": consent}),
                 "customerEmailMarketingConsentUpdate")


def test_checkout_consent_is_read_and_unsubscribing_takes_effect(api, buyer):
    seen = _data(api.graphql(CUSTOMER, id=buyer), "customer")
    assert seen["defaultEmailAddress"] == {"emailAddress": "ravi@example.com",
                                           "marketingState": "SUBSCRIBED",
                                           "marketingOptInLevel": "SINGLE_OPT_IN"}
    assert seen["defaultPhoneNumber"]["marketingState"] == "SUBSCRIBED"

    done = _email(api, buyer, marketingState="UNSUBSCRIBED")
    assert done["userErrors"] == []
    assert done["customer"]["defaultEmailAddress"]["marketingState"] == "UNSUBSCRIBED"
    sms = _data(api.graphql(SMS_UPDATE, input={"customerId": buyer, "smsMarketingConsent": {
        "marketingState": "UNSUBSCRIBED"}}), "customerSmsMarketingConsentUpdate")
    assert sms["userErrors"] == []
    state = api.control("GET", "state")["customers"]
    assert state == [{"id": buyer, "email_marketing_state": "UNSUBSCRIBED",
                      "sms_marketing_state": "UNSUBSCRIBED", "tags": []}]


@pytest.mark.parametrize("read_only", ["NOT_SUBSCRIBED", "REDACTED", "INVALID"])
def test_read_only_states_are_refused(api, buyer, read_only):
    refused = _email(api, buyer, marketingState=read_only)
    assert refused["customer"] is None
    [error] = refused["userErrors"]
    assert error["code"] == "INCLUSION"
    assert error["field"] == ["input", "emailMarketingConsent", "marketingState"]
    assert api.server.shop.customers[int(buyer.rsplit("/", 1)[1])].email_marketing.state == \
        "SUBSCRIBED"


def test_an_unknown_customer_or_a_missing_phone_is_a_user_error(api, buyer):
    [error] = _email(api, "gid://shopify/Customer/999999",
                     marketingState="UNSUBSCRIBED")["userErrors"]
    assert (error["code"], error["field"]) == ("INVALID", ["input", "customerId"])
    number = int(buyer.rsplit("/", 1)[1])
    with api.server.shop.lock:
        api.server.shop.customers[number].phone = None
    answer = _data(api.graphql(SMS_UPDATE, input={"customerId": buyer, "smsMarketingConsent": {
        "marketingState": "UNSUBSCRIBED"}}), "customerSmsMarketingConsentUpdate")
    assert "phone number" in answer["userErrors"][0]["message"]


def test_an_unknown_enum_value_is_a_query_error(api, buyer):
    response = api.graphql(EMAIL_UPDATE, input={"customerId": buyer, "emailMarketingConsent": {
        "marketingState": "OPTED_OUT"}})
    assert response.status_code == 200 and response.json()["errors"]


def test_the_most_recent_consent_record_wins(api, buyer):
    number = int(buyer.rsplit("/", 1)[1])
    current = api.server.shop.customers[number].email_marketing.updated_at
    older = (current - timedelta(days=30)).isoformat()
    assert _email(api, buyer, marketingState="UNSUBSCRIBED",
                  consentUpdatedAt=older)["userErrors"] == []
    assert api.server.shop.customers[number].email_marketing.state == "SUBSCRIBED"
    future = (st.now() + timedelta(days=1)).isoformat()
    [error] = _email(api, buyer, marketingState="UNSUBSCRIBED",
                     consentUpdatedAt=future)["userErrors"]
    assert error["code"] == "INVALID"


def test_a_refused_consent_update_changes_nothing(api, buyer):
    api.control("POST", "faults", {"privacy_refuse": 1})
    [error] = _email(api, buyer, marketingState="UNSUBSCRIBED")["userErrors"]
    assert error["code"] == "INTERNAL_ERROR"
    assert _email(api, buyer, marketingState="UNSUBSCRIBED")["userErrors"] == []


def test_tags_are_added_and_removed_without_regard_to_case(api, buyer):
    added = _data(api.graphql(TAGS_ADD, id=buyer, tags=["VIP, privacy-restricted", "vip"]),
                  "tagsAdd")
    assert added == {"node": {"id": buyer}, "userErrors": []}
    assert _data(api.graphql(CUSTOMER, id=buyer), "customer")["tags"] == [
        "privacy-restricted", "VIP"]
    _data(api.graphql(TAGS_REMOVE, id=buyer, tags=["PRIVACY-RESTRICTED"]), "tagsRemove")
    assert _data(api.graphql(CUSTOMER, id=buyer), "customer")["tags"] == ["VIP"]
    too_long = _data(api.graphql(TAGS_ADD, id=buyer, tags=["x" * 256]), "tagsAdd")
    assert too_long["node"] is None and too_long["userErrors"][0]["field"] == ["tags"]
    unknown = _data(api.graphql(TAGS_ADD, id="gid://shopify/Customer/1", tags=["a"]), "tagsAdd")
    assert unknown["userErrors"][0]["field"] == ["id"]
