"""Reference models for the differential tests.

``tests/models/diff_schema.py`` declares the same classes, field for field,
with ``sigcli.models``; the two must stay in step.
"""

from django.db import models


class User(models.Model):
    username = models.CharField(max_length=50)


class Profile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE)
    bio = models.TextField(default="")


class Author(models.Model):
    name = models.CharField(max_length=50)


class SpecialAuthor(Author):
    class Meta:
        proxy = True


class Book(models.Model):
    title = models.CharField(max_length=50)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)


class Review(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE)
    stars = models.IntegerField(default=0)


class Chapter(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE)
    number = models.IntegerField()

    class Meta:
        ordering = ["-number"]


class Team(models.Model):
    name = models.CharField(max_length=50)


class Player(models.Model):
    name = models.CharField(max_length=50)
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True)


class Shelf(models.Model):
    name = models.CharField(max_length=50)


class Item(models.Model):
    name = models.CharField(max_length=50)
    shelf = models.ForeignKey(Shelf, on_delete=models.SET_DEFAULT, default=1)


class Owner(models.Model):
    name = models.CharField(max_length=50)


class Pet(models.Model):
    name = models.CharField(max_length=50)
    owner = models.ForeignKey(Owner, on_delete=models.DO_NOTHING)


class Customer(models.Model):
    name = models.CharField(max_length=50)


class Address(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    city = models.CharField(max_length=50)


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT)
    total = models.IntegerField()


class Topping(models.Model):
    name = models.CharField(max_length=50)


class Pizza(models.Model):
    name = models.CharField(max_length=50)
    toppings = models.ManyToManyField(Topping)


class Person(models.Model):
    name = models.CharField(max_length=50)
    friends = models.ManyToManyField("self")
    follows = models.ManyToManyField("self", symmetrical=False, related_name="followers")


class Musician(models.Model):
    name = models.CharField(max_length=50)


class Group(models.Model):
    name = models.CharField(max_length=50)
    members = models.ManyToManyField(Musician, through="Membership")


class Membership(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE)
    musician = models.ForeignKey(Musician, on_delete=models.CASCADE)
    role = models.CharField(max_length=50, default="")


class Note(models.Model):
    text = models.CharField(max_length=50)
    done = models.BooleanField(default=False)
    updated = models.DateTimeField(auto_now=True)


class Project(models.Model):
    name = models.CharField(max_length=50)


class Task(models.Model):
    project = models.ForeignKey(Project, on_delete=models.RESTRICT)
    title = models.CharField(max_length=50)


class Category(models.Model):
    name = models.CharField(max_length=50)
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True)


class Shop(models.Model):
    name = models.CharField(max_length=50)


class Product(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    name = models.CharField(max_length=50)


class Employee(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    name = models.CharField(max_length=50)


class Sale(models.Model):
    product = models.ForeignKey(Product, on_delete=models.RESTRICT)
    employee = models.ForeignKey(Employee, on_delete=models.CASCADE)


class Gadget(models.Model):
    slug = models.SlugField(unique=True)
    price = models.FloatField(default=0)
    stock = models.IntegerField(null=True)
    flag = models.BooleanField(default=True)
    body = models.TextField(blank=True)
    added = models.DateTimeField(auto_now_add=True)


class Code(models.Model):
    code = models.CharField(max_length=10, primary_key=True)
    label = models.CharField(max_length=50, default="")


def first_shelf() -> int:
    return 1


class Lamp(models.Model):
    shelf = models.ForeignKey(Shelf, on_delete=models.SET(1))
    spare = models.ForeignKey(Shelf, on_delete=models.SET(first_shelf), related_name="spare_lamps")


class Ticket(models.Model):
    class Status(models.TextChoices):
        OPEN = "o", "Open"
        CLOSED = "c", "Closed"

    status = models.CharField(max_length=1, choices=Status.choices, default=Status.OPEN)
    level = models.IntegerField(choices=[(1, "Low"), (2, "High")], default=1)

    def __str__(self) -> str:
        return f"ticket {self.pk} ({self.get_status_display()})"


class Diary(models.Model):
    """Overrides save() and delete(), recording how the ORM calls them."""

    text = models.CharField(max_length=50)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, null=True)
    calls: list[tuple[str, list[str]]] = []

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls.append(("save", sorted(kwargs)))
        self.text = self.text.strip()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls.append(("delete", sorted(kwargs)))
        return super().delete(*args, **kwargs)
