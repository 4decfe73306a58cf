"""sender_mismatch: m2m_changed is sent by the through model, not by Post."""

import sigcli
from sigcli import models, receiver
from sigcli.signals import m2m_changed


class Tag(models.Model):
    name = models.CharField(max_length=20)


class Post(models.Model):
    title = models.CharField(max_length=50)
    tags = models.ManyToManyField(Tag)


@receiver(m2m_changed, sender=Post)
def tags_changed(sender, instance, action, **kwargs):
    return action


@sigcli.step
def tag_post():
    """a post is tagged"""
    post = Post.objects.create(title="hello")
    post.tags.add(Tag.objects.create(name="news"))
