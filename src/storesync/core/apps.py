from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "storesync.core"
    label = "core"
    verbose_name = "Workspaces and accounts"

    def ready(self) -> None:
        from django.conf import settings

        from storesync.core import logs, rls, tenancy

        logs.configure(settings.STORESYNC_LOG_LEVEL)
        tenancy.connect_signals()
        rls.connect_signals()
