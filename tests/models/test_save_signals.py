"""Construction and save(): pre_init/post_init, pre_save/post_save and their arguments."""

import pytest

from sigcli import models, signals
from tests.models.recording import recording


def declare_user():
    class User(models.Model):
        username = models.CharField(max_length=20, unique=True)
        age = models.IntegerField(null=True)

    return User


def test_create_sends_init_then_save_with_pk_set_only_after_insert():
    with recording() as (registry, log):
        User = declare_user()
        registry.migrate()
        User.objects.create(username="ann")
        assert log.take() == [
            "pre_init User args=() kwargs={'username': 'ann'}",
            "post_init User#None",
            "pre_save User#None update_fields=None",
            "post_save User#1 created=True update_fields=None",
        ]


def test_update_and_update_fields_frozenset_and_empty_update_fields_sends_nothing():
    with recording() as (registry, log):
        User = declare_user()
        registry.migrate()
        user = User.objects.create(username="ann")
        log.take()
        user.save()
        user.save(update_fields=["age", "username"])
        user.save(update_fields=[])
        assert log.take() == [
            "pre_save User#1 update_fields=None",
            "post_save User#1 created=False update_fields=None",
            "pre_save User#1 update_fields={age, username}",
            "post_save User#1 created=False update_fields={age, username}",
        ]


def test_update_fields_reaches_receivers_as_a_frozenset_of_the_given_names():
    seen = []
    with recording(connect=False) as (registry, _):

        class Book(models.Model):
            owner = models.ForeignKey("Owner", on_delete=models.CASCADE, null=True)

        class Owner(models.Model):
            pass

        registry.migrate()
        book = Book.objects.create()

        def keep(sender, update_fields, **kwargs):
            seen.append(update_fields)

        signals.pre_save.connect(keep, sender=Book, weak=False)
        try:
            book.save(update_fields=("owner_id",))
        finally:
            signals.pre_save.disconnect(keep, sender=Book)
    assert seen == [frozenset({"owner_id"})]
    assert type(seen[0]) is frozenset


def test_explicit_pk_not_in_table_is_created_and_changing_pk_inserts_again():
    with recording() as (registry, log):
        User = declare_user()
        registry.migrate()
        user = User(id=5, username="a")
        user.save()
        user.pk = 7
        user.username = "b"
        user.save()
        lines = [line for line in log.take() if line.startswith("post_save")]
        assert lines == [
            "post_save User#5 created=True update_fields=None",
            "post_save User#7 created=True update_fields=None",
        ]
        assert list(User.objects.order_by("pk").values_list("pk", flat=True)) == [5, 7]


def test_pre_init_kwargs_is_the_live_dict_that_init_consumes():
    kept = []

    def keep(sender, args, kwargs, **extra):
        kept.append(kwargs)

    with recording(connect=False) as (registry, _):
        User = declare_user()
        signals.pre_init.connect(keep, sender=User, weak=False)
        try:
            User(username="ann", age=3)
        finally:
            signals.pre_init.disconnect(keep, sender=User)
    assert kept == [{}]


def test_loaded_rows_send_init_with_positional_values_and_empty_kwargs():
    with recording() as (registry, log):
        User = declare_user()
        registry.migrate()
        User.objects.bulk_create([User(username="a", age=1), User(username="b")])
        log.take()
        users = list(User.objects.all())
        assert log.take() == [
            "pre_init User args=(1, 'a', 1) kwargs={}",
            "post_init User#1",
            "pre_init User args=(2, 'b', None) kwargs={}",
            "post_init User#2",
        ]
        assert users[0]._state.adding is False


def test_bulk_operations_and_update_send_nothing():
    with recording() as (registry, log):
        User = declare_user()
        registry.migrate()
        users = [User(username="a"), User(username="b")]
        log.take()
        User.objects.bulk_create(users)
        assert [u.pk for u in users] == [1, 2]
        users[0].age = 5
        assert User.objects.bulk_update(users, ["age"]) == 2
        assert User.objects.filter(age=5).update(age=6) == 1
        assert log.take() == []


def test_pre_save_error_stops_the_write_and_post_save():
    def refuse(sender, **kwargs):
        raise RuntimeError("no")

    with recording() as (registry, log):
        User = declare_user()
        registry.migrate()
        signals.pre_save.connect(refuse, sender=User, weak=False)
        try:
            with pytest.raises(RuntimeError):
                User.objects.create(username="a")
        finally:
            signals.pre_save.disconnect(refuse, sender=User)
        assert User.objects.count() == 0
        assert not [line for line in log.take() if line.startswith("post_save")]


def test_unique_violation_is_an_integrity_error_naming_table_and_column():
    with recording() as (registry, log):
        User = declare_user()
        registry.migrate()
        User.objects.create(username="a")
        log.take()
        with pytest.raises(models.IntegrityError, match="app_user.username"):
            User.objects.create(username="a")
        assert log.take()[-1] == "pre_save User#None update_fields=None"
        assert User.objects.count() == 1


def test_proxy_model_is_the_sender_and_shares_the_table():
    with recording() as (registry, log):
        User = declare_user()

        class Admin(User):
            class Meta:
                proxy = True

        registry.migrate()
        Admin.objects.create(username="root")
        assert log.take()[-1] == "post_save Admin#1 created=True update_fields=None"
        assert repr(User.objects.get()) == "<User: User object (1)>"
        assert Admin.objects.get() == User.objects.get()


def test_update_or_create_hit_saves_defaults_plus_auto_fields():
    with recording() as (registry, log):

        class Note(models.Model):
            text = models.CharField(max_length=10)
            done = models.BooleanField(default=False)
            updated = models.DateTimeField(auto_now=True)

        registry.migrate()
        Note.objects.create(text="n")
        log.take()
        note, created = Note.objects.update_or_create(text="n", defaults={"done": True})
        assert created is False and note.done is True
        assert log.take()[-2:] == [
            "pre_save Note#1 update_fields={done, updated}",
            "post_save Note#1 created=False update_fields={done, updated}",
        ]
        assert Note.objects.get().done is True


def test_get_or_create_hit_and_miss():
    with recording() as (registry, log):
        User = declare_user()
        registry.migrate()
        assert User.objects.get_or_create(username="a", defaults={"age": 3})[1] is True
        log.take()
        user, created = User.objects.get_or_create(username="a")
        assert (created, user.age) == (False, 3)
        assert log.take() == ["pre_init User args=(1, 'a', 3) kwargs={}", "post_init User#1"]


def test_save_errors_before_any_signal():
    with recording() as (registry, log):

        class Author(models.Model):
            pass

        class Book(models.Model):
            author = models.ForeignKey(Author, on_delete=models.CASCADE)

        registry.migrate()
        book = Book(author=Author())
        log.take()
        with pytest.raises(ValueError, match="unsaved related object 'author'"):
            book.save()
        with pytest.raises(ValueError, match="do not exist in the model Book"):
            Book(pk=1).save(update_fields=["nope"])
        with pytest.raises(TypeError, match=r"Book\(\) got unexpected keyword arguments: 'nope'"):
            Book(nope=1)
        assert [line for line in log.take() if "save" in line] == []
        with pytest.raises(
            models.IntegrityError, match="NOT NULL constraint failed: app_book.author_id"
        ):
            Book.objects.create()


def test_instance_loaded_with_only_saves_its_loaded_fields_and_loads_the_rest_on_access():
    with recording() as (registry, log):
        User = declare_user()
        registry.migrate()
        User.objects.create(username="a", age=3)
        user = User.objects.only("username").get()
        log.take()
        user.save()
        assert log.take() == [
            "pre_save User#1 update_fields={username}",
            "post_save User#1 created=False update_fields={username}",
        ]
        assert user.age == 3
        assert log.take() == [
            "pre_init User args=(1, <Deferred field>, 3) kwargs={}",
            "post_init User#1",
        ]
