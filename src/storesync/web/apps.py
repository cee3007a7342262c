from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "storesync.web"
    label = "web"
    verbose_name = "Web UI"
