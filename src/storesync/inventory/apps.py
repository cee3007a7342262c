from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "storesync.inventory"
    label = "inventory"
    verbose_name = "Inventory"
