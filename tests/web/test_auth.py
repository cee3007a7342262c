"""Signing in (allauth, in our layout), TOTP enrolment, and the MFA gate before personal data."""

from __future__ import annotations

import re

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.test import Client

from storesync.web.mfa import has_totp
from tests.web.conftest import assert_no_inline_code, enrol_totp

STAFF_PAGES = ["/", "/customers/", "/settings/members/", "/settings/tokens/", "/settings/audit/",
               "/w/", "/w/acme/", "/security/continue",
               "/customers/00000000-0000-7000-8000-000000000000/"]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_anonymous_posts_are_sent_to_sign_in_too(workspace, customer):
    response = Client().post(f"/customers/{customer.id}/reveal", {"purpose": "customer_support"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_public_endpoints_stay_public(db):
    client = Client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/invitations/not-a-real-token/").status_code == 404  # not a redirect


def test_sign_in_page_uses_our_layout_without_sign_up_or_inline_code(db):
    response = Client().get("/accounts/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/storesync/app.css" in html and 'class="card narrow allauth"' in html
    assert "/accounts/signup/" not in html  # no open sign-up
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert_no_inline_code(html, "login")


def test_sign_up_is_closed(db):
    response = Client().post("/accounts/signup/", {"email": "new@example.com",
                                                   "password1": "a-long-pass-phrase-9",
                                                   "password2": "a-long-pass-phrase-9"})
    assert "new@example.com" not in str(response.content)
    from storesync.core.models import User
    assert not User.objects.filter(email="new@example.com").exists()


def test_real_sign_in_asks_for_the_second_factor(workspace):
    totp = enrol_totp(workspace.owner)
    client = Client()
    step1 = client.post("/accounts/login/", {"login": workspace.owner.email,
                                             "password": workspace.password})
    assert step1.status_code == 302 and "/2fa/authenticate" in step1["Location"]
    assert client.get("/customers/").status_code == 302  # not signed in yet
    page = client.get("/accounts/2fa/authenticate/")
    assert_no_inline_code(page.content.decode(), "2fa authenticate")
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200
    step2 = client.post("/accounts/2fa/authenticate/", {"code": totp.now()})
    assert step2.status_code == 302
    assert client.get("/customers/").status_code == 200


def test_wrong_password_is_refused(workspace):
    client = Client()
    response = client.post("/accounts/login/", {"login": workspace.owner.email,
                                                "password": "not-the-password"})
    assert response.status_code == 200
    assert client.get("/").status_code == 302


def _reauthenticated(workspace) -> Client:
    client = Client()
    client.force_login(workspace.owner)
    # Enrolling is a sensitive change: allauth asks for the password again first.
    gate = client.get("/accounts/2fa/totp/activate/")
    assert gate.status_code == 302 and "/accounts/reauthenticate/" in gate["Location"]
    client.post("/accounts/reauthenticate/", {"password": workspace.password})
    return client


def test_totp_enrolment_page_shows_the_qr_code_and_the_secret(workspace):
    client = _reauthenticated(workspace)
    response = client.get("/accounts/2fa/totp/activate/")
    html = response.content.decode()
    assert re.search(r'<img class="qr" src="data:image/svg\+xml;base64,', html)
    assert "img-src 'self' data:" in response["Content-Security-Policy"]
    assert re.search(r'id="authenticator_secret" type="text" value="[A-Z2-7]{16,}"', html)
    assert_no_inline_code(html, "totp activate")


def test_totp_enrolment_then_recovery_codes(workspace):
    client = _reauthenticated(workspace)
    page = client.get("/accounts/2fa/totp/activate/").content.decode()
    secret = re.search(r'id="authenticator_secret" type="text" value="([A-Z2-7]{16,})"', page)
    wrong = client.post("/accounts/2fa/totp/activate/", {"code": "000000"})
    assert wrong.status_code == 200 and not has_totp(workspace.owner)
    done = client.post("/accounts/2fa/totp/activate/",
                       {"code": pyotp.TOTP(secret.group(1)).now()})
    assert done.status_code == 302 and done["Location"] == "/accounts/2fa/recovery-codes/"
    assert has_totp(workspace.owner)
    stored = Authenticator.objects.get(user=workspace.owner, type="totp").data["secret"]
    assert stored.startswith("enc1:") and secret.group(1) not in stored
    codes = client.get(done["Location"])
    html = codes.content.decode()
    assert len(re.search(r'<pre class="codes" id="recovery_codes">([^<]*)</pre>', html)
               .group(1).split()) == 10
    assert "/security/continue" in html
    assert_no_inline_code(html, "recovery codes")
    download = client.get("/accounts/2fa/recovery-codes/download/")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]


def test_mfa_gate_sends_an_owner_without_totp_to_enrolment(workspace, customer):
    client = Client()
    client.force_login(workspace.owner)
    for path in ("/customers/", f"/customers/{customer.id}/", "/settings/members/",
                 "/settings/audit/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == "/accounts/2fa/totp/activate/", path
    followed = client.get("/customers/", follow=True)
    assert "two-factor authentication first" in followed.content.decode()
    reveal = client.post(f"/customers/{customer.id}/reveal", {"purpose": "customer_support"})
    assert reveal["Location"] == "/accounts/2fa/totp/activate/"
    assert client.get("/").status_code == 200  # pages without personal data stay open
    assert client.get("/settings/tokens/").status_code == 200


def test_after_enrolment_the_member_continues_where_the_gate_stopped_them(workspace, customer):
    client = Client()
    client.force_login(workspace.owner)
    client.get(f"/customers/{customer.id}/")
    enrol_totp(workspace.owner)
    back = client.get("/security/continue")
    assert back["Location"] == f"/customers/{customer.id}/"
    assert client.get(back["Location"]).status_code == 200
    assert client.get("/security/continue")["Location"] == "/"  # used once


def test_roles_without_personal_data_are_not_asked_to_enrol(member_client):
    viewer = member_client("viewer", totp=False)
    assert viewer.get("/customers/").status_code == 200


def test_staff_role_must_enrol_too(member_client, customer):
    staff = member_client("staff", totp=False)
    assert staff.get(f"/customers/{customer.id}/")["Location"] == "/accounts/2fa/totp/activate/"


def test_signed_in_person_without_a_workspace_gets_a_clear_403(db):
    from storesync.core.models import User

    loner = User.objects.create_user("loner@example.com", "a-long-pass-phrase-9")
    client = Client()
    client.force_login(loner)
    response = client.get("/")
    assert response.status_code == 403
    assert "not a member of any workspace" in response.content.decode()


def test_full_flow_sign_in_enrol_continue_and_sign_in_again(workspace, customer):
    """No shortcuts: password sign-in, the gate, allauth's re-authentication and enrolment."""
    client = Client()
    signed_in = client.post("/accounts/login/", {"login": workspace.owner.email,
                                                 "password": workspace.password})
    assert signed_in["Location"] == "/"
    gate = client.get("/customers/")
    assert gate["Location"] == "/accounts/2fa/totp/activate/"
    reauth = client.get(gate["Location"])
    assert reauth["Location"].startswith("/accounts/reauthenticate/")
    back = client.post(reauth["Location"], {"password": workspace.password})
    assert back["Location"] == "/accounts/2fa/totp/activate/"
    page = client.get(back["Location"]).content.decode()
    totp = pyotp.TOTP(re.search(r'id="authenticator_secret" type="text" value="([A-Z2-7]+)"',
                                page).group(1))
    done = client.post("/accounts/2fa/totp/activate/", {"code": totp.now()})
    assert done["Location"] == "/accounts/2fa/recovery-codes/"
    codes = re.search(r'id="recovery_codes">([^<]*)<', client.get(done["Location"])
                      .content.decode()).group(1).split()
    onward = client.get("/security/continue")
    assert onward["Location"] == "/customers/"
    assert client.get("/customers/").status_code == 200

    client.post("/accounts/logout/")
    again = Client()
    step1 = again.post("/accounts/login/", {"login": workspace.owner.email,
                                            "password": workspace.password})
    assert "/2fa/authenticate" in step1["Location"]
    step2 = again.post("/accounts/2fa/authenticate/", {"code": codes[0]})  # a recovery code
    assert step2.status_code == 302
    assert again.get("/customers/").status_code == 200
