from __future__ import annotations

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.test import Client

from storesync.customers.services import AddressInput, CustomerInput, customer_create
from storesync.web.auth import MFAAdapter
from tests.conftest import ACTOR


def enrol_totp(user) -> pyotp.TOTP:
    """What the activation page does, for tests that are not about enrolment."""
    secret = pyotp.random_base32()
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP,
                                 data={"secret": MFAAdapter().encrypt(secret)})
    return pyotp.TOTP(secret)


@pytest.fixture
def owner_client(workspace) -> Client:
    enrol_totp(workspace.owner)
    client = Client()
    client.force_login(workspace.owner)
    return client


@pytest.fixture
def customer(workspace):
    return customer_create(workspace_id=workspace.workspace.id, actor=ACTOR, data=CustomerInput(
        first_name="Zenobia", last_name="Quill", email="zenobia.quill@example.com",
        phone="+919812345671", address=AddressInput(line1="7 Quill Lane", city="Quillpur",
                                                    postcode="560001", country_code="IN")))
