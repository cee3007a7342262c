from django.apps import AppConfig


class CliConfig(AppConfig):
    name = "storesync.cli"
    label = "cli"
    verbose_name = "Command line"
