"""ran: create_profile is connected for User and a User is created."""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save


class User(models.Model):
    username = models.CharField(max_length=50)


@receiver(post_save, sender=User)
def create_profile(sender, instance, created, **kwargs):
    return "profile"


@sigcli.step
def sign_up():
    """a user signs up"""
    User.objects.create(username="ann")
