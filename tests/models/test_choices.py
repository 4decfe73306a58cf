"""TextChoices / IntegerChoices and get_FOO_display, as Django models use them."""

from sigcli import models


def test_choices_enums_save_as_plain_values_and_display_their_labels():
    registry = models.Registry()
    with models.use_registry(registry):

        class Order(models.Model):
            class Status(models.TextChoices):
                NEW = "new", "New order"
                SHIPPED = "shipped", "Shipped"

            class Priority(models.IntegerChoices):
                LOW = 1, "Low"
                HIGH = 2

            status = models.CharField(max_length=10, choices=Status, default=Status.NEW)
            priority = models.IntegerField(choices=Priority.choices, default=Priority.LOW)

        registry.migrate()
        order = Order.objects.create()
        assert Order.Status.choices == [("new", "New order"), ("shipped", "Shipped")]
        assert Order.Priority.choices == [(1, "Low"), (2, "High")]
        assert order.get_status_display() == "New order"
        order.status = Order.Status.SHIPPED
        order.save()
        loaded = Order.objects.get(status="shipped")
        assert loaded.status == Order.Status.SHIPPED and type(loaded.status) is str
        assert loaded.get_priority_display() == "Low"
        loaded.priority = 7
        assert loaded.get_priority_display() == "7"
        assert (
            repr(Order.Status.NEW).endswith(".Order.Status.NEW") and str(Order.Status.NEW) == "new"
        )
