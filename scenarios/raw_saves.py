"""``raw=True`` marks saves made while loading fixtures.

Loading a fixture saves each object with ``save_base(raw=True)``: the data is
written exactly as it is in the file. A receiver that creates related rows
must check ``raw``, or it duplicates rows that the fixture itself contains.
"""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save


class User(models.Model):
    username = models.CharField(max_length=50)

    def __str__(self):
        return self.username


class Profile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE)
    bio = models.TextField(blank=True)


@receiver(post_save, sender=User)
def create_profile(sender, instance, created, raw, **kwargs):
    if created and not raw:
        Profile.objects.create(user=instance)


@sigcli.step
def normal_save():
    """A normal signup: raw=False, so the receiver creates the profile."""
    User.objects.create(username="ann")


@sigcli.step
def load_fixture():
    """A fixture with a user and their profile: raw=True, so the receiver does nothing."""
    for obj in (
        User(id=10, username="fixture"),
        Profile(id=10, user_id=10, bio="from the fixture"),
    ):
        obj.save_base(raw=True)
