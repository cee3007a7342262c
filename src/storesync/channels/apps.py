from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "storesync.channels"
    label = "channels"
    verbose_name = "Sales channels"
