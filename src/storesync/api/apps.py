from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "storesync.api"
    label = "storesync_api"
    verbose_name = "REST API"
