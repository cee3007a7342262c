from django.urls import path

from storesync.web.views import customers, dashboard, invitations, settings, workspaces

app_name = "web"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("customers/", customers.customer_list, name="customers"),
    path("customers/<uuid:customer_id>/", customers.customer_detail, name="customer"),
    path("customers/<uuid:customer_id>/reveal", customers.customer_reveal, name="reveal"),
    path("settings/members/", settings.members, name="members"),
    path("settings/members/<uuid:user_id>", settings.member_change, name="member_change"),
    path("settings/invitations/<uuid:invitation_id>/revoke", settings.invitation_revoke,
         name="invitation_revoke"),
    path("settings/tokens/", settings.api_tokens, name="tokens"),
    path("settings/audit/", settings.audit_log, name="audit"),
    path("invitations/<str:token>/", invitations.accept, name="invitation"),
    path("w/", workspaces.workspace_list, name="workspaces"),
    path("w/<slug:slug>/", workspaces.workspace_select, name="workspace_select"),
]
