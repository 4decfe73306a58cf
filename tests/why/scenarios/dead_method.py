"""dead_reference: a bound method connected weakly dies with its object."""

import sigcli
from sigcli import models
from sigcli.signals import post_save


class User(models.Model):
    username = models.CharField(max_length=50)


class Mailer:
    def on_save(self, sender, instance, **kwargs):
        return "mail"


def listen():
    post_save.connect(Mailer().on_save, sender=User)


@sigcli.step
def sign_up():
    """a user signs up after the mailer was connected"""
    listen()
    User.objects.create(username="ann")
