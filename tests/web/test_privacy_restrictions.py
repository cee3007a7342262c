"""The staff consent page says which request refuses a purpose, and stops saying it once the
request is lifted from the request's page."""

from __future__ import annotations

from storesync.core.tenancy import workspace_scope
from storesync.privacy import consent
from storesync.privacy.governance_models import Processor
from storesync.privacy.processors import share_payload
from storesync.privacy.subjects import Subject
from tests.conftest import ACTOR
from tests.privacy.rights.conftest import (
    after_commit_now,  # noqa: F401  (fixture)
    submitted_and_verified,
)


def test_consent_page_names_the_restriction_until_lifted(
        workspace, owner_client, customer, after_commit_now):  # noqa: F811  (the code is mailed on commit)
    ws = workspace.workspace.id
    consent.consent_record(workspace_id=ws, subject=Subject("customer", str(customer.id)),
                           purpose="marketing", state="granted", source="checkout",
                           actor=ACTOR)
    url = f"/customers/{customer.id}/consent"
    page = owner_client.get(url).content.decode()
    assert "restricted by request" not in page
    assert "no decision recorded" in page  # analytics: never asked, and the page says so
    request = submitted_and_verified(workspace.workspace.slug, "restriction",
                                     email="zenobia.quill@example.com")
    page = owner_client.get(url).content.decode()
    assert f"restricted by request {request.id}: no marketing until it is lifted" in page
    lifted = owner_client.post(f"/settings/privacy/requests/{request.id}/",
                               {"action": "lift"})
    assert lifted.status_code == 302
    page = owner_client.get(url).content.decode()
    assert "restricted by request" not in page


def test_the_request_page_lists_the_recipients_told_of_the_restriction_and_its_lift(
        workspace, owner_client, customer, after_commit_now):  # noqa: F811
    ws = workspace.workspace.id
    with workspace_scope(ws):
        courier = Processor.objects.get(kind="courier", builtin=True)
    share_payload(processor=courier, record=customer, actor=ACTOR)
    request = submitted_and_verified(workspace.workspace.slug, "restriction",
                                     email="zenobia.quill@example.com")
    url = f"/settings/privacy/requests/{request.id}/"
    page = owner_client.get(url).content.decode()
    assert "What the recipient did" in page and f"processor {courier.name}" in page
    assert "<td>restriction</td><td>waiting</td>" in page  # no privacy contact on file
    assert 'value="lift"' in page  # the courier has not confirmed; lifting need not wait
    lifted = owner_client.post(url, {"action": "lift"}, follow=True).content.decode()
    assert "told in the background" in lifted
    assert "<td>restriction_lift</td><td>waiting</td>" in lifted
    assert 'value="lift"' not in lifted
