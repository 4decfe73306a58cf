"""A post_save receiver that saves its own instance sends post_save again.

Each ``save()`` inside the receiver dispatches a new post_save, nested inside
the previous one; without a guard this never ends (Python stops it with
RecursionError). Writing with ``update()`` stores the change without sending
any signal, which breaks the loop.
"""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save


class Page(models.Model):
    title = models.CharField(max_length=100)
    saves = models.IntegerField(default=0)

    def __str__(self):
        return self.title


class Post(models.Model):
    title = models.CharField(max_length=100)
    word_count = models.IntegerField(default=0)

    def __str__(self):
        return self.title


@receiver(post_save, sender=Page)
def count_saves(sender, instance, **kwargs):
    instance.saves += 1
    if instance.saves < 3:
        instance.save()


@receiver(post_save, sender=Post)
def count_words(sender, instance, **kwargs):
    Post.objects.filter(pk=instance.pk).update(word_count=len(instance.title.split()))


@sigcli.step
def save_inside_post_save():
    """Page: each save inside count_saves nests one more post_save (stopped at 3 here)."""
    Page.objects.create(title="home")


@sigcli.step
def update_instead():
    """Post: count_words writes with update(), which sends nothing: one post_save only."""
    Post.objects.create(title="signals without loops")
