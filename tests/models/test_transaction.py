"""transaction.atomic and on_commit: callbacks wait for the outermost commit, vanish on rollback."""

import pytest

from sigcli import models, signals
from sigcli.models import transaction


def test_on_commit_runs_after_commit_and_is_dropped_by_a_rollback():
    registry = models.Registry()
    ran = []
    with models.use_registry(registry):

        class Note(models.Model):
            text = models.CharField(max_length=5)

        registry.migrate()
        transaction.on_commit(lambda: ran.append("autocommit"))
        with transaction.atomic():
            Note.objects.create(text="a")
            transaction.on_commit(lambda: ran.append("outer"))
            with pytest.raises(RuntimeError), transaction.atomic():
                Note.objects.create(text="b")
                transaction.on_commit(lambda: ran.append("rolled back"))
                raise RuntimeError
            assert ran == ["autocommit"]
        assert ran == ["autocommit", "outer"]
        assert list(Note.objects.values_list("text", flat=True)) == ["a"]


def test_a_delete_receiver_callback_runs_when_the_delete_commits():
    registry = models.Registry()
    ran = []

    def later(sender, instance, **kwargs):
        transaction.on_commit(lambda: ran.append((instance.pk, Note.objects.count())))

    with models.use_registry(registry):

        class Note(models.Model):
            pass

        registry.migrate()
        note = Note.objects.create()
        signals.post_delete.connect(later, sender=Note, weak=False)
        try:
            note.delete()
        finally:
            signals.post_delete.disconnect(later, sender=Note)
    assert ran == [(1, 0)]


def test_atomic_as_a_decorator_rolls_back_on_error():
    registry = models.Registry()
    with models.use_registry(registry):

        class Note(models.Model):
            pass

        registry.migrate()

        @transaction.atomic
        def make_two():
            Note.objects.create()
            raise ValueError("second failed")

        with pytest.raises(ValueError):
            make_two()
        assert Note.objects.count() == 0


def test_an_error_caught_inside_atomic_breaks_the_block_until_it_ends():
    registry = models.Registry()
    with models.use_registry(registry):

        class Tag(models.Model):
            slug = models.CharField(max_length=5, unique=True)

        registry.migrate()
        with transaction.atomic():
            Tag.objects.create(slug="a")
            with pytest.raises(models.IntegrityError):
                Tag.objects.create(slug="a")
            with pytest.raises(transaction.TransactionManagementError):
                Tag.objects.count()
        assert Tag.objects.count() == 0
        with transaction.atomic():
            Tag.objects.create(slug="a")
            with pytest.raises(models.IntegrityError), transaction.atomic():
                Tag.objects.create(slug="a")
            Tag.objects.create(slug="b")
        assert sorted(Tag.objects.values_list("slug", flat=True)) == ["a", "b"]
