"""Several reasons at once: a proxy save, an update() and a plain save."""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save


class User(models.Model):
    username = models.CharField(max_length=50)


class Staff(User):
    class Meta:
        proxy = True


@receiver(post_save, sender=User)
def sync_directory(sender, instance, **kwargs):
    return "synced"


@sigcli.step
def hire():
    """a staff member is hired through the proxy"""
    Staff.objects.create(username="bob")


@sigcli.step
def rename():
    """users are renamed in bulk"""
    User.objects.update(username="x")


@sigcli.step
def sign_up():
    """a user signs up"""
    User.objects.create(username="ann")
