from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "storesync.privacy"
    label = "privacy"
    verbose_name = "Privacy engine"

    def ready(self) -> None:
        # Registers the data-map system check and the built-in retention targets.
        from storesync.privacy import datamap, retention, rights_tasks  # noqa: F401
