"""Sign-up, rename and delete: the save and delete pipelines side by side.

``create_profile`` listens to ``post_save`` from ``User`` only, so the
Profile's own post_save shows it skipped; ``audit`` listens to every
``pre_save``. Deleting the user cascades to the profile: the collector loads
the profile (a receiver listens to its deletion), every ``pre_delete`` comes
before any DELETE, and each ``post_delete`` follows its own DELETE.
"""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save, pre_delete, pre_save


class User(models.Model):
    username = models.CharField(max_length=50)

    def __str__(self):
        return self.username


class Profile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE)
    bio = models.TextField(blank=True)


@receiver(post_save, sender=User)
def create_profile(sender, instance, created, **kwargs):
    if created:
        Profile.objects.create(user=instance)


@receiver(pre_save)
def audit(sender, instance, **kwargs):
    pass


@receiver(pre_delete, sender=Profile)
def goodbye(sender, instance, **kwargs):
    pass


@sigcli.step
def sign_up():
    """a user signs up"""
    User.objects.create(username="ann")


@sigcli.step
def rename():
    """rename with update_fields"""
    user = User.objects.get(username="ann")
    user.username = "anna"
    user.save(update_fields=["username"])


@sigcli.step
def delete():
    """delete the user"""
    User.objects.get(username="anna").delete()
