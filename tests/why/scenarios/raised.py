"""raised: a pre_save receiver that expects `created`, which only post_save sends."""

import sigcli
from sigcli import models, receiver
from sigcli.signals import pre_save


class User(models.Model):
    username = models.CharField(max_length=50)


@receiver(pre_save, sender=User)
def welcome(sender, instance, created, **kwargs):
    return "welcome"


@sigcli.step
def sign_up():
    """a user signs up"""
    User.objects.create(username="ann")
