"""``save(update_fields=...)`` reaches the receivers as a frozenset.

A receiver can use it to skip work when only unrelated fields changed: here
the search index ignores saves that only touched the view counter. A plain
``save()`` passes ``update_fields=None``; an empty list saves nothing and
sends nothing.
"""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save


class Article(models.Model):
    title = models.CharField(max_length=200)
    views = models.IntegerField(default=0)

    def __str__(self):
        return self.title


@receiver(post_save, sender=Article)
def reindex(sender, instance, update_fields, **kwargs):
    if update_fields is not None and update_fields <= {"views"}:
        return "skipped: only views changed"
    return f"indexed {instance}"


@sigcli.step
def full_save():
    """A plain save: update_fields=None, so the article is indexed."""
    Article.objects.create(title="Signals")


@sigcli.step
def counter_only():
    """save(update_fields=['views']): a frozenset({'views'}), so indexing is skipped."""
    article = Article.objects.get(title="Signals")
    article.views += 1
    article.save(update_fields=["views"])


@sigcli.step
def title_and_counter():
    """update_fields=['title', 'views']: the title changed, so it is indexed again."""
    article = Article.objects.get(title="Signals")
    article.title = "Signals, again"
    article.views += 1
    article.save(update_fields=["title", "views"])


@sigcli.step
def empty_update_fields():
    """save(update_fields=[]): no query and no signal at all."""
    Article.objects.get(title="Signals, again").save(update_fields=[])
