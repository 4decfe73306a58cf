"""sender_mismatch: the receiver listens to a first User class; a second one of the same name saves."""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save


class User(models.Model):
    username = models.CharField(max_length=50)


FirstUser = User


class User(models.Model):  # noqa: F811
    username = models.CharField(max_length=50)

    class Meta:
        db_table = "app_user2"


@receiver(post_save, sender=FirstUser)
def greet(sender, instance, **kwargs):
    return "hi"


@sigcli.step
def sign_up():
    """a user signs up"""
    User.objects.create(username="ann")
