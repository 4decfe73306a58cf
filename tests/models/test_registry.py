"""Registries: isolation, lazy string references, class_prepared, migrate signals."""

import pytest

from sigcli import models, signals


def collect(signal, **connect):
    seen = []

    def receiver(sender, signal, **kwargs):
        seen.append((sender, kwargs))

    signal.connect(receiver, weak=False, **connect)
    return seen, receiver


def test_two_registries_share_no_models_or_rows():
    first, second = models.Registry(), models.Registry()
    with models.use_registry(first):

        class Item(models.Model):
            name = models.CharField(max_length=5)

        first.migrate()
        Item.objects.create(name="a")
    with models.use_registry(second):

        class Item(models.Model):  # noqa: F811 - the same name in another registry
            name = models.CharField(max_length=5)

        second.migrate()
        assert Item.objects.count() == 0
        assert second.get_model("Item") is Item
    assert first.get_model("app.item") is not second.get_model("Item")


def test_class_prepared_comes_for_the_through_model_before_its_owner():
    registry = models.Registry()
    seen, receiver = collect(signals.class_prepared)
    try:
        with models.use_registry(registry):

            class Topping(models.Model):
                pass

            class Pizza(models.Model):
                toppings = models.ManyToManyField(Topping)

            class Base(models.Model):
                class Meta:
                    abstract = True
    finally:
        signals.class_prepared.disconnect(receiver)
    assert [sender.__name__ for sender, _ in seen] == ["Topping", "Pizza_toppings", "Pizza"]
    assert seen[0][1] == {}


def test_migrate_sends_pre_and_post_migrate_with_the_app_config():
    registry = models.Registry()
    pre, pre_receiver = collect(signals.pre_migrate)
    post, post_receiver = collect(signals.post_migrate)
    try:
        with models.use_registry(registry):

            class Note(models.Model):
                pass

            registry.migrate()
    finally:
        signals.pre_migrate.disconnect(pre_receiver)
        signals.post_migrate.disconnect(post_receiver)
    for seen in (pre, post):
        ((sender, kwargs),) = seen
        assert sender is registry.app_config and sender.label == "app"
        assert list(kwargs) == [
            "app_config",
            "verbosity",
            "interactive",
            "using",
            "stdout",
            "apps",
            "plan",
        ]
        assert (
            kwargs["app_config"] is sender and kwargs["using"] == "default" and kwargs["plan"] == []
        )


def test_models_defined_after_migrate_get_their_tables():
    registry = models.Registry()
    with models.use_registry(registry):
        registry.migrate()

        class Late(models.Model):
            pass

        Late.objects.create()
        assert Late.objects.count() == 1


def test_models_used_without_migrate_get_their_tables_on_first_use():
    registry = models.Registry()
    with models.use_registry(registry):

        class Early(models.Model):
            pass

        Early.objects.create()
        assert Early.objects.count() == 1


def test_string_sender_waits_for_the_model_named_with_its_app_label():
    registry = models.Registry()
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    with models.use_registry(registry):
        signals.post_save.connect(receiver, sender="app.User", weak=False)
        signals.pre_save.connect(receiver, sender="app.user", weak=False)

        class User(models.Model):
            pass

        try:
            User.objects.create()
            assert seen == [None, 1]
            assert signals.post_save.disconnect(receiver, sender="app.User") is None
            assert signals.pre_save.disconnect(receiver, sender="app.User") is None
            User.objects.create()
            assert seen == [None, 1]
        finally:
            signals.post_save.disconnect(receiver, sender=User)
            signals.pre_save.disconnect(receiver, sender=User)


@pytest.mark.parametrize("reference", ["User", "app.User.extra", ""])
def test_string_sender_without_exactly_one_app_label_is_refused_as_django_refuses_it(reference):
    registry = models.Registry()
    with models.use_registry(registry), pytest.raises(ValueError) as refused:
        signals.post_save.connect(lambda **kwargs: None, sender=reference, weak=False)
    assert str(refused.value) == (
        f"Invalid model reference {reference!r}. String model references must be of the "
        "form 'app_label.ModelName'."
    )
    assert registry.pending_references() == []


def test_string_sender_naming_another_app_never_connects():
    registry = models.Registry()
    seen = []
    with models.use_registry(registry):
        signals.post_save.connect(lambda sender, **kwargs: seen.append(sender), sender="shop.User")

        class User(models.Model):
            pass

        registry.migrate()
        User.objects.create()
    assert seen == []
    assert registry.pending_references() == ["shop.User"]
    assert signals.post_save.has_listeners(User) is False


def test_disconnect_by_string_before_the_model_exists_cancels_the_connection():
    registry = models.Registry()
    seen = []

    def receiver(sender, **kwargs):
        seen.append(sender)

    with models.use_registry(registry):
        signals.post_save.connect(receiver, sender="app.Later", weak=False)
        signals.post_save.disconnect(receiver, sender="app.Later")

        class Later(models.Model):
            pass

        Later.objects.create()
    assert seen == []
    assert signals.post_save.disconnect(receiver, sender=Later) is False


def test_unknown_string_reference_names_the_field_and_the_model():
    registry = models.Registry()
    with models.use_registry(registry):

        class Book(models.Model):
            author = models.ForeignKey("Autor", on_delete=models.CASCADE)

        assert registry.pending_references() == ["Autor"]
        with pytest.raises(ValueError, match="Book.author refers to model 'Autor'"):
            registry.migrate()


def test_string_references_resolve_when_the_target_is_defined():
    registry = models.Registry()
    with models.use_registry(registry):

        class Book(models.Model):
            author = models.ForeignKey("Author", on_delete=models.CASCADE, related_name="books")
            tags = models.ManyToManyField("Tag")

        class Author(models.Model):
            pass

        class Tag(models.Model):
            pass

        registry.migrate()
        author = Author.objects.create()
        book = Book.objects.create(author=author)
        book.tags.add(Tag.objects.create())
        assert list(author.books.all()) == [book]
        assert list(Tag.objects.get().book_set.all()) == [book]
        assert Book.tags.through.__name__ == "Book_tags"


def test_abstract_base_fields_and_ordering_are_inherited():
    registry = models.Registry()
    with models.use_registry(registry):

        class Stamped(models.Model):
            name = models.CharField(max_length=10)

            class Meta:
                abstract = True
                ordering = ["-name"]

        class Tag(Stamped):
            pass

        with pytest.raises(TypeError, match="Abstract models cannot be instantiated"):
            Stamped()
        for name in "abc":
            Tag.objects.create(name=name)
        assert [t.name for t in Tag.objects.all()] == ["c", "b", "a"]
        assert Tag._meta.db_table == "app_tag"


def test_a_project_app_label_is_kept_and_its_references_resolve():
    registry = models.Registry()
    seen = []

    def receiver(sender, **kwargs):
        seen.append(sender.__name__)

    with models.use_registry(registry):
        signals.post_save.connect(receiver, sender="shop.Order", weak=False)

        class Order(models.Model):
            class Meta:
                app_label = "shop"

        try:
            registry.migrate()
            order = Order.objects.create()
            assert (Order._meta.label, Order._meta.db_table) == ("shop.Order", "shop_order")
            assert order.delete() == (1, {"shop.Order": 1})
        finally:
            signals.post_save.disconnect(receiver, sender=Order)
    assert seen == ["Order"]


def test_a_model_defined_twice_replaces_the_first_with_a_warning():
    registry = models.Registry()
    with models.use_registry(registry):

        class Item(models.Model):
            name = models.CharField(max_length=5)

        first = Item
        with pytest.warns(RuntimeWarning, match="'Item' is defined a second time") as caught:

            class Item(models.Model):  # noqa: F811 - on purpose
                title = models.CharField(max_length=5)

    assert caught[0].filename == __file__
    assert registry.get_model("Item") is Item is not first


def test_two_models_of_one_name_from_different_modules_conflict():
    registry = models.Registry()
    with models.use_registry(registry):

        class Item(models.Model):
            pass

        with pytest.raises(RuntimeError, match="two models named 'Item' in one scenario"):
            type("Item", (models.Model,), {"__module__": "elsewhere", "__qualname__": "Item"})
    assert registry.get_model("Item") is Item


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("pk", "'pk' always means the primary key, so no field can be called that"),
        ("title_", "a field name cannot end with an underscore"),
        ("first__name", "a field name cannot contain '__', which separates lookups"),
    ],
)
def test_field_names_that_django_checks_reject_are_refused(name, problem):
    with models.use_registry(models.Registry()), pytest.raises(TypeError) as refused:
        type(
            "Item", (models.Model,), {"__module__": __name__, name: models.CharField(max_length=5)}
        )
    assert str(refused.value) == (
        f"Item.{name}: {problem} (Django's system check rejects it); rename the field"
    )
