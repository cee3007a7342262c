from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "storesync.security"
    label = "security"
    verbose_name = "Keys, audit log and API tokens"

    def ready(self) -> None:
        from storesync.security import keyring

        keyring.configure_secret_key()
