from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_save


def _workspace_created(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """Every new workspace gets its privacy settings and the built-in share profiles."""
    if not created or kwargs.get("raw"):
        return
    from storesync.privacy.consent import privacy_settings_ensure
    from storesync.privacy.processors import processors_seed

    privacy_settings_ensure(workspace_id=instance.id)
    processors_seed(workspace_id=instance.id)


class PrivacyConfig(AppConfig):
    name = "storesync.privacy"
    label = "privacy"
    verbose_name = "Privacy engine"

    def ready(self) -> None:
        post_save.connect(_workspace_created, sender="core.Workspace",
                          dispatch_uid="storesync_privacy_workspace_created")
        # Registers the data-map system check and the built-in retention targets.
        from storesync.privacy import datamap, retention, rights_tasks, wiring  # noqa: F401

        wiring.install()
