"""Querysets: lookups, ordering, slicing, errors, reprs."""

import pytest

from sigcli import models


@pytest.fixture
def library():
    registry = models.Registry()
    with models.use_registry(registry):

        class Author(models.Model):
            name = models.CharField(max_length=20)

            def __str__(self):
                return self.name

        class Book(models.Model):
            title = models.CharField(max_length=20)
            pages = models.IntegerField(default=0)
            author = models.ForeignKey(Author, on_delete=models.CASCADE, null=True)

        registry.migrate()
        ann = Author.objects.create(name="Ann")
        bob = Author.objects.create(name="bob")
        Book.objects.create(title="Alpha", pages=10, author=ann)
        Book.objects.create(title="beta_1", pages=20, author=bob)
        Book.objects.create(title="Gamma", pages=30)
        yield Author, Book
    registry.close()


def titles(queryset):
    return [book.title for book in queryset]


def test_lookups(library):
    Author, Book = library
    assert titles(Book.objects.filter(pages__gt=10)) == ["beta_1", "Gamma"]
    assert titles(Book.objects.filter(pages__gte=10, pages__lt=30)) == ["Alpha", "beta_1"]
    assert titles(Book.objects.filter(pages__lte=10)) == ["Alpha"]
    assert titles(Book.objects.filter(title__iexact="alpha")) == ["Alpha"]
    assert titles(Book.objects.filter(title__contains="a_")) == ["beta_1"]
    assert titles(Book.objects.filter(title__icontains="MM")) == ["Gamma"]
    assert titles(Book.objects.filter(title__startswith="g")) == ["Gamma"]
    assert titles(Book.objects.filter(pk__in=[1, 3])) == ["Alpha", "Gamma"]
    assert titles(Book.objects.filter(author__isnull=True)) == ["Gamma"]
    assert titles(Book.objects.filter(author__name="bob")) == ["beta_1"]
    assert titles(Book.objects.filter(author=Author.objects.get(name="Ann"))) == ["Alpha"]
    assert titles(Book.objects.filter(author_id=2)) == ["beta_1"]
    assert titles(Book.objects.filter(author__in=Author.objects.filter(name="Ann"))) == ["Alpha"]
    assert titles(Book.objects.exclude(author__name="Ann")) == ["beta_1", "Gamma"]
    assert titles(Book.objects.exclude(author=1)) == ["beta_1", "Gamma"]
    assert [a.name for a in Author.objects.filter(book__pages=20)] == ["bob"]
    assert titles(Book.objects.filter(pk__in=[])) == []


def test_ordering_first_last_slicing_and_values(library):
    Author, Book = library
    assert titles(Book.objects.order_by("-pages")) == ["Gamma", "beta_1", "Alpha"]
    assert Book.objects.order_by("-pk").first().title == "Gamma"
    assert Book.objects.first().title == "Alpha" and Book.objects.last().title == "Gamma"
    assert Book.objects.all()[1].title == "beta_1"
    assert titles(Book.objects.order_by("title")[1:]) == ["Gamma", "beta_1"]
    assert list(Book.objects.values_list("pages", flat=True)) == [10, 20, 30]
    assert list(Book.objects.values_list("title", "author")) == [
        ("Alpha", 1),
        ("beta_1", 2),
        ("Gamma", None),
    ]
    assert Book.objects.count() == 3 and Book.objects.filter(pages=99).exists() is False
    assert len(Book.objects.all()) == 3
    assert Book.objects.filter(pages=99).first() is None
    with pytest.raises(IndexError):
        Book.objects.filter(pages=99)[0]
    with pytest.raises(ValueError, match="Negative indexing"):
        Book.objects.all()[-1]


def test_get_errors_name_the_model(library):
    Author, Book = library
    with pytest.raises(Book.DoesNotExist, match="Book matching query does not exist"):
        Book.objects.get(title="nope")
    with pytest.raises(
        Book.MultipleObjectsReturned, match="returned more than one Book -- it returned 3!"
    ):
        Book.objects.get()
    assert issubclass(Book.DoesNotExist, models.ObjectDoesNotExist)


def test_unknown_field_is_a_field_error_naming_the_field_and_model(library):
    Author, Book = library
    with pytest.raises(models.FieldError, match="'nope' into field of model Book"):
        Book.objects.filter(nope=1)
    with pytest.raises(models.FieldError, match="Unsupported lookup 'like'"):
        Book.objects.filter(title__like="x")
    with pytest.raises(models.FieldError):
        Book.objects.order_by("nope")


def test_reprs_follow_django(library):
    Author, Book = library
    assert repr(Book.objects.get(pk=1)) == "<Book: Book object (1)>"
    assert repr(Author.objects.all()) == "<QuerySet [<Author: Ann>, <Author: bob>]>"


def test_related_access_both_ways(library):
    Author, Book = library
    ann = Author.objects.get(name="Ann")
    assert titles(ann.book_set.all()) == ["Alpha"]
    assert Book.objects.get(pk=1).author == ann
    assert Book.objects.get(pk=3).author is None
    new = ann.book_set.create(title="Delta")
    assert new.author_id == ann.pk
    with pytest.raises(AttributeError, match="Manager isn't accessible via Author instances"):
        ann.objects  # noqa: B018 - the access is what raises


def test_one_to_one_both_ways():
    registry = models.Registry()
    with models.use_registry(registry):

        class User(models.Model):
            pass

        class Profile(models.Model):
            user = models.OneToOneField(User, on_delete=models.CASCADE)

        registry.migrate()
        user = User.objects.create()
        with pytest.raises(Profile.DoesNotExist, match="User has no profile"):
            user.profile  # noqa: B018 - the access is what raises
        profile = Profile.objects.create(user=user)
        assert User.objects.get().profile == profile
        assert Profile.objects.get().user == user
        with pytest.raises(models.IntegrityError):
            Profile.objects.create(user=user)


def test_update_returns_rows_and_refresh_from_db_reloads(library):
    Author, Book = library
    book = Book.objects.get(pk=1)
    assert Book.objects.filter(pages__lt=25).update(pages=5) == 2
    book.refresh_from_db()
    assert book.pages == 5


def test_f_expressions_in_update_save_and_filter(library):
    Author, Book = library
    assert Book.objects.filter(pk=1).update(pages=models.F("pages") + 5) == 1
    book = Book.objects.get(pk=1)
    assert book.pages == 15
    book.pages = models.F("pages") * 2
    book.save()
    book.refresh_from_db()
    assert book.pages == 30
    assert titles(Book.objects.filter(pages__gt=models.F("author") * 15)) == ["Alpha"]
    with pytest.raises(ValueError, match="can only be used to update, not to insert"):
        Book.objects.create(title="x", pages=models.F("pages") + 1)


def test_q_objects_combine_with_or_and_not(library):
    Author, Book = library
    Q = models.Q
    assert titles(Book.objects.filter(Q(pages=10) | Q(title="Gamma"))) == ["Alpha", "Gamma"]
    assert titles(Book.objects.filter(~Q(pages=10), pages__lt=30)) == ["beta_1"]
    assert titles(Book.objects.exclude(Q(pk__in=[]) | Q(pages=20))) == ["Alpha", "Gamma"]
    assert Book.objects.get(Q(title__startswith="b")).pages == 20


def test_field_error_lists_the_choices_of_a_model_with_hidden_through_relations():
    registry = models.Registry()
    with models.use_registry(registry):

        class Tag(models.Model):
            pass

        class Post(models.Model):
            title = models.CharField(max_length=10)
            tags = models.ManyToManyField(Tag, related_name="posts")

        registry.migrate()
        with pytest.raises(models.FieldError, match=r"Choices are: id, tags, title$"):
            Post.objects.filter(titel="x")
        with pytest.raises(models.FieldError, match=r"Choices are: id, posts$"):
            Tag.objects.filter(post="x")


def test_select_related_builds_each_row_then_its_related_object():
    from tests.models.recording import recording

    with recording() as (registry, log):

        class Team(models.Model):
            name = models.CharField(max_length=5)

        class Player(models.Model):
            team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True)

        registry.migrate()
        team = Team.objects.create(name="t")
        Player.objects.create(team=team)
        Player.objects.create()
        log.take()
        players = list(Player.objects.select_related("team"))
        assert log.take() == [
            "pre_init Player args=(1, 1) kwargs={}",
            "post_init Player#1",
            "pre_init Team args=(1, 't') kwargs={}",
            "post_init Team#1",
            "pre_init Player args=(2, None) kwargs={}",
            "post_init Player#2",
        ]
        assert [p.team for p in players] == [team, None]
        assert log.take() == []
        with pytest.raises(models.FieldError, match="Invalid field name"):
            list(Player.objects.select_related("name"))


def test_prefetch_related_builds_rows_once_and_managers_answer_from_the_cache():
    from tests.models.recording import recording

    with recording() as (registry, log):

        class Topping(models.Model):
            pass

        class Pizza(models.Model):
            toppings = models.ManyToManyField(Topping)

        registry.migrate()
        p1, p2 = Pizza.objects.create(), Pizza.objects.create()
        t1 = Topping.objects.create()
        p1.toppings.add(t1)
        p2.toppings.add(t1)
        log.take()
        pizzas = list(Pizza.objects.prefetch_related("toppings"))
        assert [line for line in log.take() if line.startswith("pre_init")] == [
            "pre_init Pizza args=(1,) kwargs={}",
            "pre_init Pizza args=(2,) kwargs={}",
            "pre_init Topping args=(1,) kwargs={}",
            "pre_init Topping args=(1,) kwargs={}",
        ]
        assert [list(p.toppings.all()) for p in pizzas] == [[t1], [t1]]
        assert pizzas[0].toppings.count() == 1
        assert log.take() == []
        pizzas[0].toppings.remove(t1)
        log.take()
        assert list(pizzas[0].toppings.all()) == []


def test_filters_through_reverse_relations_join_once_per_call(library):
    Author, Book = library
    Book.objects.create(title="Another", pages=5, author=Author.objects.get(name="Ann"))
    assert [a.name for a in Author.objects.filter(book__pages__lt=50)] == ["Ann", "bob", "Ann"]
    assert Author.objects.filter(book__pages__lt=50).count() == 3
    assert [a.name for a in Author.objects.filter(book__pages=10, book__title="Alpha")] == ["Ann"]
    assert [
        a.name for a in Author.objects.filter(book__pages=10).filter(book__title="Another")
    ] == ["Ann"]
    assert [a.name for a in Author.objects.exclude(book__pages=10)] == ["bob"]
    assert [b.title for b in Book.objects.filter(author__name__isnull=True)] == ["Gamma"]


def test_aggregates_latest_in_bulk_contains_and_defer(library):
    Author, Book = library
    assert Book.objects.aggregate(
        models.Sum("pages"), most=models.Max("pages"), n=models.Count("id")
    ) == {
        "pages__sum": 60,
        "most": 30,
        "n": 3,
    }
    assert Book.objects.filter(pages__gt=99).aggregate(models.Count("id")) == {"id__count": 0}
    assert Book.objects.latest("pages").title == "Gamma"
    assert Book.objects.earliest("pages").title == "Alpha"
    with pytest.raises(Book.DoesNotExist):
        Book.objects.filter(pages__gt=99).latest("pages")
    assert sorted(Book.objects.in_bulk([1, 3])) == [1, 3]
    assert Book.objects.in_bulk([]) == {}
    ann = Author.objects.get(name="Ann")
    assert Author.objects.contains(ann) and not Author.objects.filter(name="bob").contains(ann)
    book = Book.objects.defer("title").get(pk=1)
    assert "title" not in book.__dict__ and book.title == "Alpha"
    assert [a.name for a in Author.objects.reverse()] == ["Ann", "bob"]
