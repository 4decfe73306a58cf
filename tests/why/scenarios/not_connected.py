"""not_connected: send_welcome is defined but never connected."""

import sigcli
from sigcli import models


class User(models.Model):
    username = models.CharField(max_length=50)


def send_welcome(sender, instance, created, **kwargs):
    return "welcome"


@sigcli.step
def sign_up():
    """a user signs up"""
    User.objects.create(username="ann")
