"""Relation fields (``ForeignKey``, ``OneToOneField``, ``ManyToManyField``) and their descriptors.

A relation names its target by class, ``"self"`` or a string; strings resolve
through the registry when the target class is defined. An auto-created
many-to-many through model is built while the owning class is prepared, so
its ``class_prepared`` comes before the owner's, as in Django.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sigcli.models.db import not_supported
from sigcli.models.fields import Field

if TYPE_CHECKING:
    from sigcli.models.base import Model
    from sigcli.models.options import Options

_MISSING = object()


def _hidden(related_name: str | None) -> bool:
    return bool(related_name) and related_name.endswith("+")  # type: ignore[union-attr]


class Rel:
    """The reverse side of a relation, listed in the target's ``_meta.related_objects``."""

    is_reverse = True
    concrete = False
    is_relation = True

    def __init__(self, field: Any) -> None:
        self.field = field

    @property
    def many_to_many(self) -> bool:
        return bool(self.field.many_to_many)

    @property
    def one_to_one(self) -> bool:
        return bool(self.field.one_to_one)

    @property
    def model(self) -> type[Model]:
        return self.field.remote_model  # type: ignore[no-any-return]

    @property
    def related_model(self) -> type[Model]:
        return self.field.model  # type: ignore[no-any-return]

    @property
    def hidden(self) -> bool:
        return _hidden(self.field.related_name)

    @property
    def accessor_name(self) -> str:
        field = self.field
        if field.related_name and not self.hidden:
            return field.related_name  # type: ignore[no-any-return]
        name = field.model._meta.model_name
        return name if field.one_to_one else f"{name}_set"

    @property
    def query_name(self) -> str | None:
        field = self.field
        if self.hidden:
            return None
        return field.related_query_name or field.related_name or field.model._meta.model_name  # type: ignore[no-any-return]

    @property
    def name(self) -> str | None:
        return self.query_name

    def join_info(self, meta: Options) -> tuple[str, str, str, Options]:
        field = self.field
        if field.many_to_many:
            return field.through_join(
                field.target_field_name, field.source_field_name, field.model._meta
            )
        related = field.model._meta
        return related.read_table, field.column, related.pk.column, related

    def __repr__(self) -> str:
        return f"<{type(self.field).__name__}Rel: {self.field.model.__name__}.{self.field.name}>"


class RelatedField(Field):
    """What the three relation fields share: the target reference and its resolution."""

    is_relation = True
    remote_model: Any = None
    parent_link = False
    related_name: str | None = None
    related_query_name: str | None = None

    def _format_related_names(self, cls: type[Model]) -> None:
        """Fill ``%(class)s``, ``%(model_name)s`` and ``%(app_label)s`` in the related
        names, as Django does for each concrete model inheriting an abstract base's field."""
        meta = cls._meta
        names = {
            "class": cls.__name__.lower(),
            "model_name": meta.model_name,
            "app_label": meta.app_label.lower(),
        }
        if self.related_name:
            self.related_name = self.related_name % names
        if self.related_query_name:
            self.related_query_name = self.related_query_name % names

    def _resolve_target(self, cls: type[Model], to: Any) -> None:
        if to == "self":
            self._target_resolved(cls)
        elif isinstance(to, str):
            cls._meta.registry.lazy_model_operation(self._target_resolved, to)
        else:
            self._target_resolved(to)

    def _target_resolved(self, model: type[Model]) -> None:
        self.remote_model = model
        self.model._meta.registry.generation += 1


class ForeignKey(RelatedField):
    """A many-to-one relation stored in ``<name>_id``."""

    def __init__(
        self,
        to: Any,
        on_delete: Any = None,
        related_name: str | None = None,
        related_query_name: str | None = None,
        to_field: str | None = None,
        db_constraint: bool = True,
        parent_link: bool = False,
        **kwargs: Any,
    ) -> None:
        if on_delete is None:
            raise TypeError(
                f"{type(self).__name__}.__init__() missing 1 required argument: 'on_delete'"
            )
        if not callable(on_delete):
            raise TypeError("on_delete must be callable.")
        if to_field is not None:
            raise not_supported(
                f"{type(self).__name__}(to_field=...) (a relation to a field other than "
                "the primary key)"
            )
        kwargs.setdefault("db_index", True)
        super().__init__(**kwargs)
        self.to = to
        self.on_delete = on_delete
        self.related_name = related_name
        self.related_query_name = related_query_name
        self.db_constraint = db_constraint
        self.parent_link = parent_link
        self.rel = Rel(self)
        self.prep = self._prep_target

    @property
    def empty_strings_allowed(self) -> bool:  # type: ignore[override]
        return False

    def clone(self) -> Field:
        new = super().clone()
        assert isinstance(new, ForeignKey)
        new.rel = Rel(new)
        new.remote_model = None
        new.prep = new._prep_target
        return new

    @property
    def target_field(self) -> Field:
        return self.remote_model._meta.pk  # type: ignore[no-any-return]

    def _prep_target(self, value: Any) -> Any:
        if value is None or type(value) is int:
            return value
        prep = self.target_field.prep
        return prep(value) if prep is not None else value

    def get_attname(self) -> str:
        return f"{self.name}_id"

    def contribute_to_class(self, cls: type[Model], name: str) -> None:
        super().contribute_to_class(cls, name)
        setattr(cls, self.name, ForwardDescriptor(self))
        if not cls._meta.abstract:
            self._format_related_names(cls)
            self._resolve_target(cls, self.to)

    def _target_resolved(self, model: type[Model]) -> None:
        super()._target_resolved(model)
        rel = self.rel
        if not rel.hidden:
            descriptor = (
                ReverseOneToOneDescriptor(rel) if self.one_to_one else ReverseManyDescriptor(rel)
            )
            setattr(model, rel.accessor_name, descriptor)

    def db_type(self) -> str:
        if self.remote_model is None:
            return "integer"
        target = self.target_field
        return "integer" if target.db_type() == "integer" else target.db_type()

    def column_sql(self) -> str:
        remote = self.remote_model
        if remote is None:
            raise ValueError(
                f"Field {self.model.__name__}.{self.name} refers to model {self.to!r}, "
                "which is not defined in this scenario."
            )
        sql = super().column_sql()
        if self.db_constraint:
            meta = remote._meta
            sql += (
                f' REFERENCES "{meta.db_table}" ("{meta.pk.column}") DEFERRABLE INITIALLY DEFERRED'
            )
        return sql


class OneToOneField(ForeignKey):
    """A unique foreign key; the target gets a single-object accessor."""

    one_to_one = True

    def __init__(self, to: Any, on_delete: Any = None, **kwargs: Any) -> None:
        kwargs["unique"] = True
        super().__init__(to, on_delete, **kwargs)


class ManyToManyField(RelatedField):
    """A many-to-many relation through an auto-created or explicit through model."""

    many_to_many = True
    concrete = False

    def __init__(
        self,
        to: Any,
        related_name: str | None = None,
        related_query_name: str | None = None,
        through: Any = None,
        through_fields: tuple[str, str] | None = None,
        symmetrical: bool | None = None,
        db_table: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.to = to
        self.symmetrical = (to == "self") if symmetrical is None else symmetrical
        self.related_name = related_name
        self.related_query_name = related_query_name
        self.through_ref = through
        self.through_fields = through_fields
        self.db_table = db_table
        self.through: Any = None
        self.source_field_name = ""
        self.target_field_name = ""
        self.rel = Rel(self)

    def clone(self) -> Field:
        new = super().clone()
        assert isinstance(new, ManyToManyField)
        new.rel = Rel(new)
        new.remote_model = None
        new.through = None
        return new

    def contribute_to_class(self, cls: type[Model], name: str) -> None:
        self.name = name
        self.attname = name
        self.column = ""
        self.model = cls
        if not cls._meta.abstract:
            self._format_related_names(cls)
        if self.symmetrical and self.to in ("self", cls.__name__) and not self.related_name:
            self.related_name = f"{name}_rel_+"
        cls._meta.add_field(self)
        setattr(cls, name, ManyToManyDescriptor(self.rel, reverse=False))
        if cls._meta.abstract:
            return
        registry = cls._meta.registry
        if self.through_ref is None:
            self.through = create_through_model(self, cls)
            self._through_resolved(self.through)
        elif isinstance(self.through_ref, str):
            registry.lazy_model_operation(self._through_resolved, self.through_ref)
        else:
            registry.lazy_model_operation(self._through_resolved, self.through_ref.__name__)
        self._resolve_target(cls, self.to)

    def _through_resolved(self, through: type[Model]) -> None:
        self.through = through
        self._link()

    def _target_resolved(self, model: type[Model]) -> None:
        super()._target_resolved(model)
        rel = self.rel
        if not rel.hidden:
            setattr(model, rel.accessor_name, ManyToManyDescriptor(rel, reverse=True))
        self._link()

    def _link(self) -> None:
        """Once both the target and the through model exist, find the two through FKs."""
        if self.through is None or self.remote_model is None:
            return
        if self.through_fields:
            self.source_field_name, self.target_field_name = self.through_fields
            return
        source = self.model._meta.concrete_model
        target = self.remote_model._meta.concrete_model
        fks = [f for f in self.through._meta.local_fields if f.is_relation]
        to_source = [
            f
            for f in fks
            if f.remote_model is not None and f.remote_model._meta.concrete_model is source
        ]
        if source is target:
            if len(to_source) >= 2:
                self.source_field_name, self.target_field_name = (
                    to_source[0].name,
                    to_source[1].name,
                )
            return
        to_target = [
            f
            for f in fks
            if f.remote_model is not None and f.remote_model._meta.concrete_model is target
        ]
        if to_source and to_target:
            self.source_field_name, self.target_field_name = to_source[0].name, to_target[0].name

    def join_info(self, meta: Options) -> tuple[str, str, str, Options]:
        return self.through_join(
            self.source_field_name, self.target_field_name, self.remote_model._meta
        )

    def through_join(
        self, link: str, target: str, target_meta: Options
    ) -> tuple[str, str, str, Options]:
        """The through table with the column pointing at our side and the one at the other side."""
        through = self.through._meta
        return (
            through.db_table,
            through.get_field(link).column,
            through.get_field(target).column,
            target_meta,
        )

    def column_sql(self) -> str:
        raise TypeError("many-to-many fields have no column")


def create_through_model(field: ManyToManyField, klass: type[Model]) -> type[Model]:
    """The auto-created through model, named and shaped as Django names it (``Pizza_toppings``)."""
    from sigcli.models.base import Model
    from sigcli.models.deletion import CASCADE

    to = field.to
    if to == "self":
        to_name = klass.__name__
    elif isinstance(to, str):
        to_name = to.rsplit(".", 1)[-1]
    else:
        to_name = to.__name__
    name = f"{klass.__name__}_{field.name}"
    from_lower = klass._meta.model_name
    to_lower = to_name.lower()
    if to_lower == from_lower:
        to_lower, from_lower = f"to_{to_lower}", f"from_{from_lower}"
    meta = type(
        "Meta",
        (),
        {
            "db_table": field.db_table or f"{klass._meta.db_table}_{field.name}",
            "auto_created": klass,
            "unique_together": (from_lower, to_lower),
            "apps": klass._meta.registry,
        },
    )
    target = klass if to == "self" else to
    attrs = {
        "Meta": meta,
        "__module__": klass.__module__,
        from_lower: ForeignKey(klass, on_delete=CASCADE, related_name=f"{name}+"),
        to_lower: ForeignKey(target, on_delete=CASCADE, related_name=f"{name}+"),
    }
    return type(name, (Model,), attrs)


def _related_does_not_exist(target: type[Model], owner: type[Model], name: str) -> type[Exception]:
    return type(
        "RelatedObjectDoesNotExist",
        (target.DoesNotExist, AttributeError),
        {
            "__module__": owner.__module__,
            "__qualname__": f"{owner.__qualname__}.{name}.RelatedObjectDoesNotExist",
        },
    )


def _parent_deferred(instance: Any, parent: type[Model]) -> bool:
    d = instance.__dict__
    return any(attname not in d for attname in parent._meta.attnames)


def _parent_from_child(instance: Any, parent: type[Model]) -> Any:
    """``restaurant.place_ptr``: the child holds every parent value, so the parent is
    built from them (by keyword, sending ``pre_init``/``post_init``), not loaded."""
    d = instance.__dict__
    obj = parent(**{attname: d[attname] for attname in parent._meta.attnames})
    obj._state.adding = instance._state.adding
    obj._state.db = instance._state.db
    return obj


class ForwardDescriptor:
    """``book.author``: the related object, loaded on first access and cached."""

    def __init__(self, field: ForeignKey) -> None:
        self.field = field

    @property
    def RelatedObjectDoesNotExist(self) -> type[Exception]:  # noqa: N802 - Django's name
        field = self.field
        return _related_does_not_exist(field.remote_model, field.model, field.name)

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        field = self.field
        d = instance.__dict__
        # A foreign key only() left out is loaded first, as Django loads it.
        value = d[field.attname] if field.attname in d else getattr(instance, field.attname, None)
        cache = instance._state.fields_cache
        obj = cache.get(field.name, _MISSING)
        if obj is _MISSING or (obj.pk != value if obj is not None else value is not None):
            if value is None:
                obj = None
            elif field.parent_link and not _parent_deferred(instance, field.remote_model):
                obj = _parent_from_child(instance, field.remote_model)
            else:
                from sigcli.models import reads
                from sigcli.models.query import QuerySet

                obj = reads.get(QuerySet(field.remote_model), {"pk": value})
                if field.one_to_one and not field.rel.hidden:
                    obj._state.fields_cache[field.rel.accessor_name] = instance
            cache[field.name] = obj
        if obj is None and not field.null:
            raise self.RelatedObjectDoesNotExist(f"{field.model.__name__} has no {field.name}.")
        return obj

    def __set__(self, instance: Any, value: Any) -> None:
        field = self.field
        if value is not None:
            remote = field.remote_model
            if remote is None or not isinstance(value, remote):
                expected = remote._meta.object_name if remote is not None else field.to
                raise ValueError(
                    f'Cannot assign "{value!r}": "{instance.__class__.__name__}.{field.name}" '
                    f'must be a "{expected}" instance.'
                )
            instance.__dict__[field.attname] = value.pk
            if field.one_to_one and not field.rel.hidden:
                value._state.fields_cache[field.rel.accessor_name] = instance
        else:
            instance.__dict__[field.attname] = None
        instance._state.fields_cache[field.name] = value
        if field.parent_link and field.primary_key:
            # The inherited primary key follows the parent assigned, as in Django.
            pk_attname = field.remote_model._meta.pk.attname
            instance.__dict__[pk_attname] = value.pk if value is not None else None


class ReverseOneToOneDescriptor:
    """``user.profile``: the one object whose one-to-one field points here."""

    def __init__(self, rel: Rel) -> None:
        self.rel = rel

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        rel = self.rel
        name = rel.accessor_name
        cache = instance._state.fields_cache
        obj = cache.get(name, _MISSING)
        if obj is _MISSING:
            obj = None
            if instance.pk is not None:
                from sigcli.models import reads
                from sigcli.models.query import QuerySet

                try:
                    obj = reads.get(QuerySet(rel.related_model), {rel.field.name: instance.pk})
                except rel.related_model.DoesNotExist:
                    obj = None
                else:
                    obj._state.fields_cache[rel.field.name] = instance
            cache[name] = obj
        if obj is None:
            raise _related_does_not_exist(rel.related_model, instance.__class__, name)(
                f"{instance.__class__.__name__} has no {name}."
            )
        return obj

    def __set__(self, instance: Any, value: Any) -> None:
        rel = self.rel
        if value is not None:
            setattr(value, rel.field.name, instance)
        instance._state.fields_cache[rel.accessor_name] = value


class ReverseManyDescriptor:
    """``author.book_set``: a manager of the rows whose foreign key points here."""

    def __init__(self, rel: Rel) -> None:
        self.rel = rel
        self.field = rel.field

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        from sigcli.models.related_managers import ReverseManyManager, related_manager_class

        manager_class = related_manager_class(ReverseManyManager, self.rel.related_model)
        return manager_class(instance, self.rel)

    def __set__(self, instance: Any, value: Any) -> None:
        raise TypeError(
            f"Direct assignment to the reverse side of a related set is prohibited. "
            f"Use {self.rel.accessor_name}.set() instead."
        )


class ManyToManyDescriptor:
    """``pizza.toppings`` / ``topping.pizza_set``; on the class, ``.through`` is the through model."""

    def __init__(self, rel: Rel, reverse: bool) -> None:
        self.rel = rel
        self.field = rel.field
        self.reverse = reverse

    @property
    def through(self) -> type[Model]:
        return self.field.through  # type: ignore[no-any-return]

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        from sigcli.models.related_managers import ManyRelatedManager, related_manager_class

        target = self.field.model if self.reverse else self.field.remote_model
        manager_class = related_manager_class(ManyRelatedManager, target)
        return manager_class(instance, self.field, self.reverse)

    def __set__(self, instance: Any, value: Any) -> None:
        side = "reverse" if self.reverse else "forward"
        name = self.rel.accessor_name if self.reverse else self.field.name
        raise TypeError(
            f"Direct assignment to the {side} side of a many-to-many set is prohibited. Use {name}.set() instead."
        )
