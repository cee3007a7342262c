"""The staff UI. Every page needs a signed-in member except the invitation page."""

from django.urls import path

from storesync.web.views import (
    audit,
    customers,
    dashboard,
    invitations,
    members,
    privacy,
    privacy_public,
    security,
    tokens,
    workspaces,
)

app_name = "web"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("customers/", customers.customer_list, name="customers"),
    path("customers/<uuid:customer_id>/", customers.customer_detail, name="customer"),
    path("customers/<uuid:customer_id>/reveal", customers.customer_reveal, name="reveal"),
    path("settings/members/", members.members, name="members"),
    path("settings/members/<uuid:user_id>", members.member_change, name="member_change"),
    path("settings/invitations/<uuid:invitation_id>/revoke", members.invitation_revoke,
         name="invitation_revoke"),
    path("settings/tokens/", tokens.api_tokens, name="tokens"),
    path("settings/tokens/<uuid:token_id>/revoke", tokens.token_revoke, name="token_revoke"),
    path("settings/audit/", audit.audit_log, name="audit"),
    path("settings/privacy/", privacy.privacy_settings, name="privacy"),
    path("settings/privacy/policies/<uuid:policy_id>/acknowledge", privacy.policy_acknowledge,
         name="policy_acknowledge"),
    path("settings/privacy/processors/", privacy.processors_page, name="processors"),
    path("settings/privacy/processors/<uuid:processor_id>/toggle", privacy.processor_toggle,
         name="processor_toggle"),
    path("settings/privacy/breaches/", privacy.breaches_page, name="breaches"),
    path("settings/privacy/breaches/<uuid:breach_id>/", privacy.breach_detail, name="breach"),
    path("customers/<uuid:customer_id>/consent", privacy.customer_consent,
         name="customer_consent"),
    path("customers/<uuid:customer_id>/guardian-consent", privacy.guardian_consent,
         name="guardian_consent"),
    path("privacy/unsubscribe/<str:token>", privacy_public.unsubscribe, name="unsubscribe"),
    path("privacy/<slug:slug>/consent", privacy_public.storefront_consent,
         name="storefront_consent"),
    path("privacy/<slug:slug>/policy", privacy_public.policy_page, name="public_policy"),
    path("security/continue", security.after_mfa, name="after_mfa"),
    path("invitations/<str:token>/", invitations.accept, name="invitation"),
    path("w/", workspaces.workspace_list, name="workspaces"),
    path("w/<slug:slug>/", workspaces.workspace_select, name="workspace_select"),
]
