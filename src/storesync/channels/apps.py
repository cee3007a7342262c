from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "storesync.channels"
    label = "channels"
    verbose_name = "Sales channels"

    def ready(self) -> None:
        from storesync.channels import outbox
        from storesync.inventory.signals import stock_changed

        stock_changed.connect(outbox.on_stock_changed, dispatch_uid="channels_outbox")
