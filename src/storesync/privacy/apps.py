from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "storesync.privacy"
    label = "privacy"
    verbose_name = "Privacy engine"
