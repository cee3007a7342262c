"""The staff UI. Every page needs a signed-in member except the invitation page."""

from django.urls import path

from storesync.web.views import (
    audit,
    customers,
    dashboard,
    invitations,
    members,
    privacy_centre,
    privacy_requests,
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
    path("security/continue", security.after_mfa, name="after_mfa"),
    path("invitations/<str:token>/", invitations.accept, name="invitation"),
    path("settings/privacy/requests/", privacy_requests.queue, name="privacy_queue"),
    path("settings/privacy/requests/<uuid:request_id>/", privacy_requests.detail,
         name="privacy_detail"),
    path("privacy/<slug:slug>/", privacy_centre.centre, name="privacy_centre"),
    path("privacy/<slug:slug>/requests/<uuid:request_id>/", privacy_centre.request_status,
         name="privacy_request"),
    path("privacy/<slug:slug>/download/<str:token>", privacy_centre.download,
         name="privacy_download"),
    path("w/", workspaces.workspace_list, name="workspaces"),
    path("w/<slug:slug>/", workspaces.workspace_select, name="workspace_select"),
]
