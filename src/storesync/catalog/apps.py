from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "storesync.catalog"
    label = "catalog"
    verbose_name = "Catalog"
