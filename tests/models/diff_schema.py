"""The differential tests' models, declared once for both worlds.

``declare(django.db.models, "tests.djangoapp.models")`` gives Django's
(``tests/djangoapp/models.py`` does this, and Django finds a model's app from
the module it names), ``declare(sigcli.models)`` the same classes in the
current sigcli registry.
"""

from typing import Any


def declare(models: Any, module: str = __name__) -> dict[str, type]:
    """Declare the models with ``models`` (either world's module) and return them by name."""

    class User(models.Model):
        __module__ = module
        username = models.CharField(max_length=50)

    class Profile(models.Model):
        __module__ = module
        user = models.OneToOneField(User, on_delete=models.CASCADE)
        bio = models.TextField(default="")

    class Author(models.Model):
        __module__ = module
        name = models.CharField(max_length=50)

    class SpecialAuthor(Author):
        __module__ = module

        class Meta:
            proxy = True

    class Book(models.Model):
        __module__ = module
        title = models.CharField(max_length=50)
        author = models.ForeignKey(Author, on_delete=models.CASCADE)

    class Review(models.Model):
        __module__ = module
        book = models.ForeignKey(Book, on_delete=models.CASCADE)
        stars = models.IntegerField(default=0)

    class Chapter(models.Model):
        __module__ = module
        book = models.ForeignKey(Book, on_delete=models.CASCADE)
        number = models.IntegerField()

        class Meta:
            ordering = ["-number"]

    class Team(models.Model):
        __module__ = module
        name = models.CharField(max_length=50)

    class Player(models.Model):
        __module__ = module
        name = models.CharField(max_length=50)
        team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True)

    class Shelf(models.Model):
        __module__ = module
        name = models.CharField(max_length=50)

    class Item(models.Model):
        __module__ = module
        name = models.CharField(max_length=50)
        shelf = models.ForeignKey(Shelf, on_delete=models.SET_DEFAULT, default=1)

    class Owner(models.Model):
        __module__ = module
        name = models.CharField(max_length=50)

    class Pet(models.Model):
        __module__ = module
        name = models.CharField(max_length=50)
        owner = models.ForeignKey(Owner, on_delete=models.DO_NOTHING)

    class Customer(models.Model):
        __module__ = module
        name = models.CharField(max_length=50)

    class Address(models.Model):
        __module__ = module
        customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
        city = models.CharField(max_length=50)

    class Order(models.Model):
        __module__ = module
        customer = models.ForeignKey(Customer, on_delete=models.PROTECT)
        total = models.IntegerField()

    class Topping(models.Model):
        __module__ = module
        name = models.CharField(max_length=50)

    class Pizza(models.Model):
        __module__ = module
        name = models.CharField(max_length=50)
        toppings = models.ManyToManyField(Topping)

    class Person(models.Model):
        __module__ = module
        name = models.CharField(max_length=50)
        friends = models.ManyToManyField("self")
        follows = models.ManyToManyField("self", symmetrical=False, related_name="followers")

    class Musician(models.Model):
        __module__ = module
        name = models.CharField(max_length=50)

    class Group(models.Model):
        __module__ = module
        name = models.CharField(max_length=50)
        members = models.ManyToManyField(Musician, through="Membership")

    class Membership(models.Model):
        __module__ = module
        group = models.ForeignKey(Group, on_delete=models.CASCADE)
        musician = models.ForeignKey(Musician, on_delete=models.CASCADE)
        role = models.CharField(max_length=50, default="")

    class Note(models.Model):
        __module__ = module
        text = models.CharField(max_length=50)
        done = models.BooleanField(default=False)
        updated = models.DateTimeField(auto_now=True)

    class Project(models.Model):
        __module__ = module
        name = models.CharField(max_length=50)

    class Task(models.Model):
        __module__ = module
        project = models.ForeignKey(Project, on_delete=models.RESTRICT)
        title = models.CharField(max_length=50)

    class Category(models.Model):
        __module__ = module
        name = models.CharField(max_length=50)
        parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True)

    class Shop(models.Model):
        __module__ = module
        name = models.CharField(max_length=50)

    class Product(models.Model):
        __module__ = module
        shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
        name = models.CharField(max_length=50)

    class Employee(models.Model):
        __module__ = module
        shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
        name = models.CharField(max_length=50)

    class Sale(models.Model):
        __module__ = module
        product = models.ForeignKey(Product, on_delete=models.RESTRICT)
        employee = models.ForeignKey(Employee, on_delete=models.CASCADE)

    class Gadget(models.Model):
        __module__ = module
        slug = models.SlugField(unique=True)
        price = models.FloatField(default=0)
        stock = models.IntegerField(null=True)
        flag = models.BooleanField(default=True)
        body = models.TextField(blank=True)
        added = models.DateTimeField(auto_now_add=True)

    class Code(models.Model):
        __module__ = module
        code = models.CharField(max_length=10, primary_key=True)
        label = models.CharField(max_length=50, default="")

    def first_shelf() -> int:
        return 1

    class Lamp(models.Model):
        __module__ = module
        shelf = models.ForeignKey(Shelf, on_delete=models.SET(1))
        spare = models.ForeignKey(
            Shelf, on_delete=models.SET(first_shelf), related_name="spare_lamps"
        )

    class Ticket(models.Model):
        __module__ = module

        class Status(models.TextChoices):
            OPEN = "o", "Open"
            CLOSED = "c", "Closed"

        status = models.CharField(max_length=1, choices=Status.choices, default=Status.OPEN)
        level = models.IntegerField(choices=[(1, "Low"), (2, "High")], default=1)

        def __str__(self) -> str:
            return f"ticket {self.pk} ({self.get_status_display()})"

    class Diary(models.Model):
        """Overrides save() and delete(), recording how the ORM calls them."""

        __module__ = module

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

    class Place(models.Model):
        __module__ = module
        name = models.CharField(max_length=50)
        address = models.CharField(max_length=80, default="")

    class Restaurant(Place):
        """Multi-table inheritance: its own table, linked to Place's by ``place_ptr``."""

        __module__ = module
        serves_pizza = models.BooleanField(default=False)

    class Pizzeria(Restaurant):
        __module__ = module
        oven = models.CharField(max_length=20, default="wood")

    class Waiter(models.Model):
        __module__ = module
        restaurant = models.ForeignKey(Restaurant, on_delete=models.CASCADE)
        name = models.CharField(max_length=50)

    class Visit(models.Model):
        __module__ = module
        place = models.ForeignKey(Place, on_delete=models.CASCADE)
        day = models.IntegerField(default=1)

    class LiveManager(models.Manager):
        def get_queryset(self):  # type: ignore[no-untyped-def]
            return super().get_queryset().filter(deleted=False)

    class Folder(models.Model):
        __module__ = module
        name = models.CharField(max_length=50)

    class Doc(models.Model):
        """Its default manager hides deleted rows; related managers and prefetching use it."""

        __module__ = module
        folder = models.ForeignKey(Folder, on_delete=models.CASCADE)
        title = models.CharField(max_length=50)
        deleted = models.BooleanField(default=False)
        objects = LiveManager()
        everything = models.Manager()

    class Shelved(models.Model):
        """An abstract base whose related names are filled in per concrete model."""

        __module__ = module
        shelf = models.ForeignKey(
            Shelf,
            on_delete=models.CASCADE,
            related_name="%(class)s_items",
            related_query_name="%(app_label)s_%(class)s",
        )

        class Meta:
            abstract = True

    class Poster(Shelved):
        __module__ = module
        title = models.CharField(max_length=50)

    class Mug(Shelved):
        __module__ = module
        color = models.CharField(max_length=20)

    class ChoreQuerySet(models.QuerySet):
        def finished(self):  # type: ignore[no-untyped-def]
            return self.filter(done=True)

    class Chore(models.Model):
        __module__ = module
        title = models.CharField(max_length=50)
        done = models.BooleanField(default=False)
        objects = ChoreQuerySet.as_manager()

    return {
        "User": User,
        "Profile": Profile,
        "Author": Author,
        "SpecialAuthor": SpecialAuthor,
        "Book": Book,
        "Review": Review,
        "Chapter": Chapter,
        "Team": Team,
        "Player": Player,
        "Shelf": Shelf,
        "Item": Item,
        "Owner": Owner,
        "Pet": Pet,
        "Customer": Customer,
        "Address": Address,
        "Order": Order,
        "Topping": Topping,
        "Pizza": Pizza,
        "Person": Person,
        "Musician": Musician,
        "Group": Group,
        "Membership": Membership,
        "Note": Note,
        "Project": Project,
        "Task": Task,
        "Category": Category,
        "Shop": Shop,
        "Product": Product,
        "Employee": Employee,
        "Sale": Sale,
        "Gadget": Gadget,
        "Code": Code,
        "Lamp": Lamp,
        "Ticket": Ticket,
        "Diary": Diary,
        "Place": Place,
        "Restaurant": Restaurant,
        "Pizzeria": Pizzeria,
        "Waiter": Waiter,
        "Visit": Visit,
        "Folder": Folder,
        "Doc": Doc,
        "Poster": Poster,
        "Mug": Mug,
        "Chore": Chore,
    }
