"""Receivers for one model, and one for every model, in connection order.

A receiver with ``sender=Book`` is skipped for every other sender, compared by
identity: not even a proxy of Book reaches it. A receiver without a sender
hears every model, and runs in its connection place, not first or last.
"""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save


class Author(models.Model):
    name = models.CharField(max_length=50)

    def __str__(self):
        return self.name


class Book(models.Model):
    title = models.CharField(max_length=100)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)

    def __str__(self):
        return self.title


class Bestseller(Book):
    class Meta:
        proxy = True


@receiver(post_save, sender=Author)
def author_saved(sender, instance, **kwargs):
    return "author"


@receiver(post_save)
def any_model_saved(sender, instance, **kwargs):
    return sender.__name__


@receiver(post_save, sender=Book)
def book_saved(sender, instance, **kwargs):
    return "book"


@sigcli.step
def save_author():
    """An Author: author_saved and any_model_saved run, book_saved is skipped."""
    Author.objects.create(name="Ursula")


@sigcli.step
def save_book():
    """A Book: the any-sender receiver runs before book_saved, as connected."""
    Book.objects.create(title="Earthsea", author=Author.objects.get(name="Ursula"))


@sigcli.step
def save_proxy():
    """A proxy model is its own sender: book_saved does not hear a Bestseller."""
    Bestseller.objects.create(title="The Dispossessed", author=Author.objects.get(name="Ursula"))
