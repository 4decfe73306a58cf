from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shopapp"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from shopapp.models import Order
        from shopapp.receivers import confirm

        post_save.connect(confirm, sender=Order)
