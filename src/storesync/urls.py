from django.urls import include, path

from storesync.api.v1 import api
from storesync.web import health, webhooks

handler500 = "storesync.web.errors.server_error"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics_view, name="metrics"),
    path("api/v1/", api.urls),
    path("webhooks/<str:platform>/<str:connection_id>", webhooks.receive, name="webhook"),
    path("accounts/", include("allauth.urls")),
    path("", include("storesync.web.urls")),
]
