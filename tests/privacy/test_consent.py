"""The consent ledger: append-only entries, derived state, GPC, unsubscribe links, children."""

from __future__ import annotations

import pytest
from django.core import signing

from storesync.core.errors import NotFound, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.privacy import consent
from storesync.privacy.children import guardian_consent_record, subject_age_set
from storesync.privacy.consent import Decision
from storesync.privacy.consent_models import AppendOnlyError, ConsentEntry
from storesync.privacy.subjects import Subject, subject_parse
from storesync.security.models import AuditEvent
from tests.conftest import ACTOR


def test_current_state_is_the_latest_entry_and_history_is_kept(ws, subject):
    assert not consent.consent_allows(workspace_id=ws, subject=subject, purpose="marketing")
    consent.consent_record(workspace_id=ws, subject=subject, purpose="marketing",
                           state="granted", source="checkout", actor=ACTOR,
                           policy_version="2026-01", evidence={"banner_version": "3"})
    assert consent.consent_allows(workspace_id=ws, subject=subject, purpose="marketing")
    consent.consent_withdraw(workspace_id=ws, subject=subject, purpose="marketing",
                             source="staff", actor=ACTOR)
    assert not consent.consent_allows(workspace_id=ws, subject=subject, purpose="marketing")
    history = consent.consent_history(workspace_id=ws, subject=subject)
    assert [(e.state, e.source) for e in history] == [("withdrawn", "staff"),
                                                      ("granted", "checkout")]
    assert history[1].policy_version == "2026-01"
    assert consent.consent_allows(workspace_id=ws, subject=subject, purpose="necessary")
    assert AuditEvent.objects.filter(action="consent.recorded", subject_id=subject.id).count() == 2


def test_entries_cannot_be_changed_or_deleted(ws, subject):
    entry = consent.consent_record(workspace_id=ws, subject=subject, purpose="analytics",
                                   state="granted", source="api", actor=ACTOR)
    with workspace_scope(ws):
        entry.state = "withdrawn"
        with pytest.raises(AppendOnlyError):
            entry.save()
        with pytest.raises(AppendOnlyError):
            entry.delete()
        assert ConsentEntry.objects.get(id=entry.id).state == "granted"


def test_bad_input_names_the_field_and_stores_nothing(ws, subject):
    with pytest.raises(ValidationError) as exc:
        consent.consent_record_many(workspace_id=ws, subject=subject, source="api", actor=ACTOR,
                                    decisions=[Decision("analytics", "granted"),
                                               Decision("telepathy", "granted")])
    assert exc.value.field == "purpose"
    with pytest.raises(ValidationError) as exc:
        consent.consent_record(workspace_id=ws, subject=subject, purpose="necessary",
                               state="withdrawn", source="api", actor=ACTOR)
    assert exc.value.field == "purpose"
    with pytest.raises(ValidationError) as exc:
        consent.consent_record(workspace_id=ws, subject=subject, purpose="marketing",
                               state="maybe", source="api", actor=ACTOR)
    assert exc.value.field == "state"
    with workspace_scope(ws):
        assert not ConsentEntry.objects.exists()


def test_subjects_are_validated_and_scoped(ws, other_workspace, customer):
    with pytest.raises(NotFound):
        subject_parse(workspace_id=other_workspace.workspace.id, subject_type="customer",
                      subject_id=str(customer.id))
    with pytest.raises(ValidationError) as exc:
        subject_parse(workspace_id=ws, subject_type="visitor", subject_id="<script>")
    assert exc.value.field == "subject_id"
    assert subject_parse(workspace_id=ws, subject_type="visitor",
                         subject_id="v-1234abcd").id == "v-1234abcd"


def test_gpc_is_recorded_once_as_a_sale_share_withdrawal(ws, subject):
    consent.consent_record(workspace_id=ws, subject=subject, purpose="sale_share",
                           state="granted", source="storefront_banner", actor=ACTOR)
    first = consent.consent_record_gpc(workspace_id=ws, subject=subject, actor=ACTOR)
    assert first is not None and first.source == "gpc_signal" and first.evidence["gpc"] is True
    assert consent.consent_record_gpc(workspace_id=ws, subject=subject, actor=ACTOR) is None
    assert not consent.consent_allows(workspace_id=ws, subject=subject, purpose="sale_share")


def test_unsubscribe_token_withdraws_marketing(ws, subject, customer):
    consent.consent_record(workspace_id=ws, subject=subject, purpose="marketing",
                           state="granted", source="checkout", actor=ACTOR)
    headers = consent.unsubscribe_headers(base_url="https://ops.example.com", workspace_id=ws,
                                          customer_id=customer.id)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = headers["List-Unsubscribe"].rsplit("/", 1)[1].rstrip(">")
    _, entry = consent.unsubscribe_apply(token=token, user_agent="Mail/1.0")
    assert (entry.purpose, entry.state, entry.source) == ("marketing", "withdrawn",
                                                          "unsubscribe_link")
    assert "Mail/1.0" not in str(entry.evidence)
    assert not consent.consent_allows(workspace_id=ws, subject=subject, purpose="marketing")


def test_forged_or_expired_unsubscribe_tokens_are_refused(ws, customer, monkeypatch):
    token = consent.unsubscribe_token(workspace_id=ws, customer_id=customer.id)
    with pytest.raises(ValidationError, match="not valid"):
        consent.unsubscribe_verify(token=token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    forged = signing.dumps({"w": str(ws), "c": str(customer.id)}, salt="another-salt")
    with pytest.raises(ValidationError, match="not valid"):
        consent.unsubscribe_verify(token=forged)
    monkeypatch.setattr(consent, "UNSUBSCRIBE_MAX_AGE_S", -1)
    with pytest.raises(ValidationError, match="expired"):
        consent.unsubscribe_verify(token=token)


def test_under_age_subject_cannot_grant_marketing_without_guardian(ws, subject):
    subject_age_set(workspace_id=ws, subject=subject, under_age=True, actor=ACTOR)
    with pytest.raises(ValidationError, match="guardian") as exc:
        consent.consent_record(workspace_id=ws, subject=subject, purpose="marketing",
                               state="granted", source="checkout", actor=ACTOR)
    assert exc.value.field == "purpose"
    with pytest.raises(ValidationError, match=r"9\(3\)"):
        consent.consent_record(workspace_id=ws, subject=subject, purpose="sale_share",
                               state="granted", source="checkout", actor=ACTOR)
    # Withdrawing is always possible, and necessary/analytics are not restricted.
    consent.consent_withdraw(workspace_id=ws, subject=subject, purpose="marketing",
                             source="staff", actor=ACTOR)
    from django.utils import timezone

    guardian_consent_record(workspace_id=ws, subject=subject, guardian_name="Ravi Rao",
                            guardian_contact="ravi@example.com", method="government_id",
                            verified_at=timezone.now(), actor=ACTOR)
    consent.consent_record(workspace_id=ws, subject=subject, purpose="marketing",
                           state="granted", source="checkout", actor=ACTOR)
    assert consent.consent_allows(workspace_id=ws, subject=subject, purpose="marketing")


def test_marking_a_subject_under_age_revokes_existing_marketing(ws, subject):
    consent.consent_record(workspace_id=ws, subject=subject, purpose="marketing",
                           state="granted", source="checkout", actor=ACTOR)
    assert consent.consent_subjects_allowing(workspace_id=ws, purpose="marketing") == {
        subject.id}
    subject_age_set(workspace_id=ws, subject=subject, under_age=True, actor=ACTOR)
    assert not consent.consent_allows(workspace_id=ws, subject=subject, purpose="marketing")
    assert consent.consent_subjects_allowing(workspace_id=ws, purpose="marketing") == set()


def test_settings_are_created_with_the_workspace(ws):
    row = consent.privacy_settings_ensure(workspace_id=ws)
    assert row.minimum_age == 18 and row.public_key.startswith("pk_")
    with pytest.raises(ValidationError) as exc:
        consent.privacy_settings_update(workspace_id=ws, actor=ACTOR,
                                        changes={"storefront_origins": ["ftp://x"]})
    assert exc.value.field == "storefront_origins"
    row = consent.privacy_settings_update(
        workspace_id=ws, actor=ACTOR,
        changes={"storefront_origins": ["https://shop.example.com/"]})
    assert row.storefront_origins == ["https://shop.example.com"]


def test_visitor_subjects_are_separate_per_workspace(ws, other_workspace):
    visitor = Subject("visitor", "visitor-0001")
    consent.consent_record(workspace_id=ws, subject=visitor, purpose="analytics",
                           state="granted", source="storefront_banner", actor=ACTOR)
    assert not consent.consent_allows(workspace_id=other_workspace.workspace.id,
                                      subject=visitor, purpose="analytics")


def test_channel_marketing_consent_and_the_ledger_agree(ws, customer, subject, owner_api):
    """Subscribing by email writes the channel state and a ledger grant in one go; a ledger
    withdrawal (an unsubscribe link, a staff click) unsubscribes every channel."""
    from storesync.customers.selectors import customer_get

    response = owner_api.post(f"/api/v1/customers/{customer.id}/marketing-consent", {
        "channel": "email", "state": "subscribed", "source": "checkout"})
    assert response.status_code == 200, response.content
    assert response.json()["email_marketing_consent"]["state"] == "subscribed"
    assert consent.consent_allows(workspace_id=ws, subject=subject, purpose="marketing")
    entry = consent.consent_history(workspace_id=ws, subject=subject)[0]
    assert (entry.source, entry.evidence["channel"]) == ("checkout", "email")

    consent.consent_withdraw(workspace_id=ws, subject=subject, purpose="marketing",
                             source="unsubscribe_link", actor=ACTOR)
    assert customer_get(workspace_id=ws, customer_id=customer.id).email_marketing_state == (
        "unsubscribed")


def test_a_child_cannot_be_subscribed_to_marketing_on_any_channel(ws, customer, subject,
                                                                    owner_api):
    subject_age_set(workspace_id=ws, subject=subject, under_age=True, source="staff",
                    actor=ACTOR)
    response = owner_api.post(f"/api/v1/customers/{customer.id}/marketing-consent", {
        "channel": "email", "state": "subscribed", "source": "checkout"})
    assert response.status_code == 400 and response.json()["error"]["field"] == "purpose"
    # All or nothing: the channel state did not change either.
    assert owner_api.get(f"/api/v1/customers/{customer.id}").json()[
        "email_marketing_consent"]["state"] == "not_subscribed"


def test_the_audience_is_who_granted_last_whatever_came_before(ws):
    from tests.privacy.conftest import make_customer

    def history(*states: str) -> Subject:
        who = Subject("customer", str(make_customer(ws).id))
        for state in states:
            consent.consent_record(workspace_id=ws, subject=who, purpose="marketing",
                                   state=state, source="storefront_banner", actor=ACTOR)
        return who

    withdrew = history("granted", "withdrawn")
    came_back = history("withdrawn", "granted")
    twice = history("granted", "withdrawn", "granted")
    once = history("granted")
    other = Subject("customer", str(make_customer(ws).id))
    consent.consent_record(workspace_id=ws, subject=other, purpose="analytics",
                           state="granted", source="storefront_banner", actor=ACTOR)
    audience = consent.consent_audience(workspace_id=ws, purpose="marketing")
    assert audience.subject_ids == {came_back.id, twice.id, once.id}
    assert withdrew.id not in audience.subject_ids and other.id not in audience.subject_ids
