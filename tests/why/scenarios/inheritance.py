"""sender_mismatch: a child model with a table of its own sends as itself, not as its parent."""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save


class Place(models.Model):
    name = models.CharField(max_length=50)


class Restaurant(Place):
    serves_pizza = models.BooleanField(default=False)


@receiver(post_save, sender=Place)
def index_place(sender, instance, **kwargs):
    return "indexed"


@sigcli.step
def open_restaurant():
    """a restaurant opens"""
    Restaurant.objects.create(name="Luigi's")
