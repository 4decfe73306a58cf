"""Three ways to connect a receiver, and how to undo one.

``@receiver(signal, sender=...)`` listens to one sender, ``@receiver(signal)``
to every sender, and ``signal.connect(func, sender=...)`` does the same without
a decorator. ``disconnect`` needs the same sender that ``connect`` was given.
"""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save, pre_save


class Author(models.Model):
    name = models.CharField(max_length=50)

    def __str__(self):
        return self.name


class Book(models.Model):
    title = models.CharField(max_length=100)

    def __str__(self):
        return self.title


@receiver(post_save, sender=Book)
def book_saved(sender, instance, **kwargs):
    return f"book {instance}"


@receiver(post_save)
def anything_saved(sender, instance, **kwargs):
    return f"{sender.__name__} {instance}"


@receiver([pre_save, post_save], sender=Author)
def author_changing(sender, instance, signal, **kwargs):
    return "before the write" if signal is pre_save else "after the write"


def log_author(sender, instance, created, **kwargs):
    return "created" if created else "updated"


post_save.connect(log_author, sender=Author)


@sigcli.step
def save_book():
    """A Book save: book_saved (sender=Book) and anything_saved (any sender) run."""
    Book.objects.create(title="Dune")


@sigcli.step
def save_author():
    """An Author save: the list-connected receiver runs for both signals, then log_author."""
    Author.objects.create(name="Frank")


@sigcli.step
def disconnect():
    """disconnect() with the wrong sender removes nothing; with the right one it works."""
    assert post_save.disconnect(log_author) is False
    assert post_save.disconnect(log_author, sender=Author) is True
    Author.objects.create(name="Brian")
