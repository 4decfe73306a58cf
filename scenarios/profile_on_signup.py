"""A post_save receiver gives every new User a Profile.

The receiver checks ``created``, so saving an existing user again leaves the
profile alone. The Profile's own save runs inside the receiver: its signals
are nested under the User's post_save.
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
def create_profile(sender, instance, created, **kwargs):
    if created:
        Profile.objects.create(user=instance)


@sigcli.step
def sign_up():
    """A new user signs up: post_save has created=True, so a Profile is made."""
    User.objects.create(username="ann")


@sigcli.step
def rename():
    """Saving the user again: created=False, so no second profile."""
    user = User.objects.get(username="ann")
    user.username = "anna"
    user.save()
