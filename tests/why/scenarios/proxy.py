"""sender_mismatch: a proxy model sends its own class, not the model it proxies."""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save


class User(models.Model):
    username = models.CharField(max_length=50)


class Staff(User):
    class Meta:
        proxy = True


@receiver(post_save, sender=User)
def audit_user(sender, instance, **kwargs):
    return "audited"


@sigcli.step
def hire():
    """a staff member is saved through the proxy"""
    Staff.objects.create(username="bob")
