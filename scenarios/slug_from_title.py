"""A pre_save receiver fills in an Article's slug from its title.

pre_save runs before the INSERT or UPDATE, so whatever the receiver sets on the
instance is written with it; no second save is needed. A queryset ``update()``
bypasses ``save()``, so the receiver never sees that change.
"""

import re

import sigcli
from sigcli import models, receiver
from sigcli.signals import pre_save


def slugify(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class Article(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(blank=True)

    def __str__(self):
        return self.title


@receiver(pre_save, sender=Article)
def set_slug(sender, instance, **kwargs):
    if not instance.slug:
        instance.slug = slugify(instance.title)
    return instance.slug


@sigcli.step
def create():
    """Creating an article: set_slug runs before the INSERT, which stores the slug."""
    Article.objects.create(title="Signals in Django")


@sigcli.step
def retitle():
    """Changing the title: the slug is already set, so it is kept (links stay valid)."""
    article = Article.objects.get(slug="signals-in-django")
    article.title = "Django signals, explained"
    article.save()


@sigcli.step
def update_bypasses_pre_save():
    """update() writes the rows directly: no pre_save, so no slug for the new title."""
    Article.objects.filter(slug="signals-in-django").update(title="Renamed by update()", slug="")
