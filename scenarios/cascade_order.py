"""The order of a cascade delete across three models: Author <- Book <- Review.

Every pre_delete comes first, leaf models first and lowest pk first; then each
model's rows are deleted, followed by its post_delete signals, highest pk
first. Every signal carries the same ``origin``: the object or queryset whose
``delete()`` was called.
"""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_delete, pre_delete


class Author(models.Model):
    name = models.CharField(max_length=50)

    def __str__(self):
        return self.name


class Book(models.Model):
    title = models.CharField(max_length=100)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)

    def __str__(self):
        return self.title


class Review(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE)
    stars = models.IntegerField()

    def __str__(self):
        return f"{self.stars} stars"


@receiver([pre_delete, post_delete])
def log_delete(sender, instance, origin, signal, **kwargs):
    return f"{sender.__name__} {instance.pk}"


@sigcli.step
def set_up():
    """One author with two books, each with two reviews; a second author with one book."""
    le_guin = Author.objects.create(name="Le Guin")
    for title in ("Earthsea", "Lathe of Heaven"):
        book = Book.objects.create(title=title, author=le_guin)
        Review.objects.create(book=book, stars=5)
        Review.objects.create(book=book, stars=3)
    herbert = Author.objects.create(name="Herbert")
    Review.objects.create(book=Book.objects.create(title="Dune", author=herbert), stars=4)


@sigcli.step
def delete_author():
    """author.delete(): pre_delete Review x4, Book x2, Author; then post_delete per model."""
    Author.objects.get(name="Le Guin").delete()


@sigcli.step
def delete_queryset():
    """A queryset delete: the queryset itself is the origin of every signal."""
    Book.objects.all().delete()
