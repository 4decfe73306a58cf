"""Django features the own engine leaves out say so, and say what runs them."""

import pytest

from sigcli import models


@pytest.fixture
def registry():  # type: ignore[no-untyped-def]
    registry = models.Registry()
    with models.use_registry(registry):
        yield registry
    registry.close()


def test_a_queryset_method_django_has_names_itself_and_the_django_engine(registry) -> None:  # type: ignore[no-untyped-def]
    class Thing(models.Model):
        name = models.CharField(max_length=10)

    with pytest.raises(models.NotSupportedError) as raised:
        Thing.objects.filter(name="a").annotate(n=1)
    assert str(raised.value) == (
        "QuerySet.annotate() is not supported by sigcli's own engine; "
        "`sigcli run --engine django` runs the scenario on Django, which has it."
    )
    with pytest.raises(models.NotSupportedError, match=r"^Manager\.union\(\) is not supported"):
        Thing.objects.union(Thing.objects.all())
    assert not hasattr(Thing.objects.all(), "raw")
    with pytest.raises(AttributeError, match="'QuerySet' object has no attribute 'nothing'"):
        Thing.objects.all().nothing()


def test_two_concrete_parents_are_named(registry) -> None:  # type: ignore[no-untyped-def]
    class Left(models.Model):
        pass

    class Right(models.Model):
        pass

    with pytest.raises(models.NotSupportedError) as raised:

        class Both(Left, Right):
            pass

    assert str(raised.value) == (
        "Both subclasses two concrete models (Left and Right): multi-table inheritance from "
        "more than one parent is not supported by sigcli's own engine; "
        "`sigcli run --engine django` runs the scenario on Django, which has it."
    )
