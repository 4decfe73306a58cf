"""The delete collector and the ``on_delete`` handlers, with Django's signal order.

Collection walks the relations pointing at each collected model, loading the
rows that need signals or handlers and queueing raw DELETEs for the rest.
Deletion then sends every ``pre_delete`` (leaf models first, pk ascending),
and per model runs its DELETE followed by its ``post_delete``\\ s (pk
descending), all in one transaction; pks are cleared only at the end.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import chain
from typing import TYPE_CHECKING, Any

from sigcli.models import writes
from sigcli.models.query import QuerySet
from sigcli.observation import current_observer
from sigcli.signals import post_delete, pre_delete

if TYPE_CHECKING:
    from sigcli.models.base import Model

BATCH_SIZE = 500
DELETE_CHUNK = 100


class ProtectedError(Exception):
    """Deleting would orphan rows that point here with ``on_delete=PROTECT``."""

    def __init__(self, msg: str, protected_objects: Any) -> None:
        self.protected_objects = protected_objects
        super().__init__(msg, protected_objects)


class RestrictedError(Exception):
    """Deleting would orphan rows that point here with ``on_delete=RESTRICT``."""

    def __init__(self, msg: str, restricted_objects: Any) -> None:
        self.restricted_objects = restricted_objects
        super().__init__(msg, restricted_objects)


def CASCADE(collector: Collector, field: Any, sub_objs: Any) -> None:  # noqa: N802 - Django's name
    collector.collect(
        sub_objs, source=field.remote_model, nullable=field.null, fail_on_restricted=False
    )


def PROTECT(collector: Collector, field: Any, sub_objs: Any) -> None:  # noqa: N802
    raise ProtectedError(
        f"Cannot delete some instances of model '{field.remote_model.__name__}' because they are "
        f"referenced through a protected foreign key: '{sub_objs[0].__class__.__name__}.{field.name}'",
        sub_objs,
    )


def RESTRICT(collector: Collector, field: Any, sub_objs: Any) -> None:  # noqa: N802
    collector.add_restricted_objects(field, sub_objs)
    collector.add_dependency(field.remote_model, field.model)


def SET(value: Any) -> Any:  # noqa: N802
    """Set the foreign key to ``value`` (or ``value()`` when callable) without signals."""
    if callable(value):

        def set_on_delete(collector: Collector, field: Any, sub_objs: Any) -> None:
            collector.add_field_update(field, value(), sub_objs)
    else:

        def set_on_delete(collector: Collector, field: Any, sub_objs: Any) -> None:
            collector.add_field_update(field, value, sub_objs)

        set_on_delete.lazy_sub_objs = True  # type: ignore[attr-defined]
    return set_on_delete


def SET_NULL(collector: Collector, field: Any, sub_objs: Any) -> None:  # noqa: N802
    collector.add_field_update(field, None, sub_objs)


SET_NULL.lazy_sub_objs = True  # type: ignore[attr-defined]


def SET_DEFAULT(collector: Collector, field: Any, sub_objs: Any) -> None:  # noqa: N802
    collector.add_field_update(field, field.get_default(), sub_objs)


def DO_NOTHING(collector: Collector, field: Any, sub_objs: Any) -> None:  # noqa: N802
    pass


def _has_delete_listeners(model: type[Model]) -> bool:
    return pre_delete.has_listeners(model) or post_delete.has_listeners(model)


class Collector:
    """Gathers what a delete touches, then deletes it in dependency order."""

    def __init__(self, origin: Any = None) -> None:
        self.origin = origin
        # model -> {pk: instance} while collecting (the first instance of a row wins,
        # as in Django's sets), then model -> instances in pk order for the delete.
        self.data: dict[type[Model], Any] = {}
        self.field_updates: dict[tuple[Any, Any], list[Any]] = defaultdict(list)
        self.restricted_objects: dict[type[Model], dict[Any, set[Any]]] = defaultdict(
            lambda: defaultdict(set)
        )
        self.fast_deletes: list[QuerySet] = []
        self.dependencies: dict[type[Model], set[type[Model]]] = defaultdict(set)

    # -- collection ----------------------------------------------------------

    def add(
        self,
        objs: Any,
        source: Any = None,
        nullable: bool = False,
        reverse_dependency: bool = False,
    ) -> list[Any]:
        if not objs:
            return []
        model = objs[0].__class__
        instances = self.data.setdefault(model, {})
        attname = model._meta.pk.attname
        new_objs = []
        for obj in objs:
            pk = obj.__dict__.get(attname)
            if pk not in instances:
                instances[pk] = obj
                new_objs.append(obj)
        if source is not None and not nullable:
            self.add_dependency(source, model, reverse_dependency)
        return new_objs

    def add_dependency(self, model: Any, dependency: Any, reverse_dependency: bool = False) -> None:
        if reverse_dependency:
            model, dependency = dependency, model
        self.dependencies[model._meta.concrete_model].add(dependency._meta.concrete_model)
        self.data.setdefault(dependency, {})

    def add_field_update(self, field: Any, value: Any, objs: Any) -> None:
        self.field_updates[(field, value)].append(objs)

    def add_restricted_objects(self, field: Any, objs: Any) -> None:
        if objs:
            model = objs[0].__class__
            self.restricted_objects[model][field].update(objs)

    def clear_restricted_objects_from_set(self, model: Any, objs: Any) -> None:
        if model in self.restricted_objects:
            self.restricted_objects[model] = defaultdict(
                set,
                {
                    field: items - set(objs)
                    for field, items in self.restricted_objects[model].items()
                },
            )

    def clear_restricted_objects_from_queryset(self, model: Any, qs: QuerySet) -> None:
        if model in self.restricted_objects:
            pks = [obj.pk for objs in self.restricted_objects[model].values() for obj in objs]
            objs = set(qs._filter({"pk__in": pks}, False)._fetch())
            self.clear_restricted_objects_from_set(model, objs)

    def can_fast_delete(self, objs: Any, from_field: Any = None) -> bool:
        """True when rows can go with a raw DELETE: nobody listens and nothing cascades."""
        from sigcli.models.deletion import CASCADE as cascade

        if from_field is not None and from_field.on_delete is not cascade:
            return False
        if isinstance(objs, QuerySet):
            model = objs.model
        elif isinstance(objs, type) or hasattr(objs, "_meta"):
            model = objs if isinstance(objs, type) else objs.__class__
        else:
            return False
        if _has_delete_listeners(model):
            return False
        meta = model._meta
        if any(link is not from_field for link in meta.concrete_model._meta.parents.values()):
            return False
        return all(rel.field.on_delete is DO_NOTHING for rel in meta.delete_candidates())

    def related_objects(self, related_model: Any, field: Any, batch: list[Any]) -> QuerySet:
        """The rows of ``related_model`` whose ``field`` points at one of ``batch``."""
        queryset = QuerySet(related_model)
        attname = batch[0]._meta.pk.attname
        pks = list(dict.fromkeys(obj.__dict__[attname] for obj in batch))
        column = f'"{related_model._meta.read_table}"."{field.column}"'
        queryset._where = (f"{column} IN ({', '.join('?' for _ in pks)})",)
        queryset._params = tuple(pks)
        return queryset

    def collect(
        self,
        objs: Any,
        source: Any = None,
        nullable: bool = False,
        collect_related: bool = True,
        reverse_dependency: bool = False,
        fail_on_restricted: bool = True,
        keep_parents: bool = False,
    ) -> None:
        if self.can_fast_delete(objs):
            self.fast_deletes.append(objs)
            return
        if isinstance(objs, QuerySet):
            objs = objs._fetch()
        new_objs = self.add(objs, source, nullable, reverse_dependency)
        if not new_objs:
            return
        model = new_objs[0].__class__
        if not keep_parents:
            # The parents' rows go too; their relations are the child's candidates below.
            for link in model._meta.concrete_model._meta.parents.values():
                parent_objs = [getattr(obj, link.name) for obj in new_objs]
                self.collect(
                    parent_objs,
                    source=model,
                    collect_related=False,
                    reverse_dependency=True,
                    fail_on_restricted=False,
                )
        if not collect_related:
            return
        parents = set(model._meta.get_parent_list()) if keep_parents else set()
        protected: dict[str, list[Any]] = defaultdict(list)
        fast_from: dict[Any, list[Any]] = {}
        for rel in model._meta.delete_candidates():
            field = rel.field
            on_delete = field.on_delete
            if on_delete is DO_NOTHING or rel.model in parents:
                continue
            related_model = rel.related_model
            if self.can_fast_delete(related_model, from_field=field):
                fast_from.setdefault(related_model, []).append(field)
                continue
            for start in range(0, len(new_objs), BATCH_SIZE):
                batch = new_objs[start : start + BATCH_SIZE]
                sub_objs = self.related_objects(related_model, field, batch)
                if not _has_delete_listeners(related_model):
                    referenced = {
                        r.field.target_field.attname
                        for r in related_model._meta.delete_candidates()
                    }
                    if referenced:
                        sub_objs = sub_objs.only(*referenced)
                if getattr(on_delete, "lazy_sub_objs", False) or sub_objs._fetch():
                    try:
                        on_delete(self, field, sub_objs)
                    except ProtectedError as error:
                        key = f"'{field.model.__name__}.{field.name}'"
                        protected[key] += list(error.protected_objects)
        if protected:
            raise ProtectedError(
                f"Cannot delete some instances of model {model.__name__!r} because they are "
                f"referenced through protected foreign keys: {', '.join(protected)}.",
                set(chain.from_iterable(protected.values())),
            )
        for related_model, fields in fast_from.items():
            for start in range(0, len(new_objs), BATCH_SIZE):
                batch = new_objs[start : start + BATCH_SIZE]
                conditions = [self.related_objects(related_model, field, batch) for field in fields]
                if len(conditions) == 1:
                    self.fast_deletes.append(conditions[0])
                else:
                    combined = conditions[0]
                    where = " OR ".join(f"({' AND '.join(c._where)})" for c in conditions)
                    combined._where = (where,)
                    combined._params = tuple(p for c in conditions for p in c._params)
                    self.fast_deletes.append(combined)
        if fail_on_restricted:
            for related_model, instances in self.data.items():
                self.clear_restricted_objects_from_set(related_model, instances.values())
            for qs in self.fast_deletes:
                self.clear_restricted_objects_from_queryset(qs.model, qs)
            restricted: dict[str, list[Any]] = defaultdict(list)
            for related_model, fields_map in self.restricted_objects.items():
                for field, items in fields_map.items():
                    if items:
                        restricted[f"'{related_model.__name__}.{field.name}'"] += list(items)
            if restricted:
                raise RestrictedError(
                    f"Cannot delete some instances of model {model.__name__!r} because they are "
                    f"referenced through restricted foreign keys: {', '.join(restricted)}.",
                    set(chain.from_iterable(restricted.values())),
                )

    # -- deletion --------------------------------------------------------------

    def sort(self) -> None:
        """Order models so that each comes after the models it depends on; give up on a cycle."""
        sorted_models: list[Any] = []
        concrete_models: set[Any] = set()
        models = list(self.data)
        while len(sorted_models) < len(models):
            found = False
            for model in models:
                if model in sorted_models:
                    continue
                dependencies = self.dependencies.get(model._meta.concrete_model)
                if not (dependencies and dependencies.difference(concrete_models)):
                    sorted_models.append(model)
                    concrete_models.add(model._meta.concrete_model)
                    found = True
            if not found:
                return
        self.data = {model: self.data[model] for model in sorted_models}

    def delete(self) -> tuple[int, dict[str, int]]:
        ordered_pks: dict[Any, list[Any]] = {}
        for model, instances in self.data.items():
            ordered_pks[model] = ordered = sorted(instances)
            self.data[model] = [instances[pk] for pk in ordered]
        self.sort()
        counter: Counter[str] = Counter()
        if len(self.data) == 1:
            ((model, instances),) = self.data.items()
            if len(instances) == 1 and self.can_fast_delete(instances[0]):
                instance = instances[0]
                db = self._db()
                try:
                    count = self._delete_batch(model, [instance.pk])
                except Exception as error:
                    db.error_passed(error)
                    raise
                instance.__dict__[model._meta.pk.attname] = None
                return count, {model._meta.label: count}
        db = self._db()
        origin = self.origin
        send_pre, send_post = pre_delete.send, post_delete.send
        observed = current_observer() is not None
        with db.atomic(savepoint=False):
            for model, instances in self.data.items():
                if not model._meta.auto_created:
                    for obj in instances:
                        if observed or pre_delete.receivers:
                            send_pre(sender=model, instance=obj, using="default", origin=origin)
            for qs in self.fast_deletes:
                count = writes.raw_delete(qs)
                if count:
                    counter[qs.model._meta.label] += count
            for (field, value), instances_list in self.field_updates.items():
                lazy: list[QuerySet] = []
                loaded: list[Any] = []
                for instances in instances_list:
                    if isinstance(instances, QuerySet) and instances._result_cache is None:
                        lazy.append(instances)
                    else:
                        loaded.extend(instances)
                for qs in lazy:
                    writes.update(qs, {field.name: value})
                if loaded:
                    pks = list(dict.fromkeys(obj.pk for obj in loaded))
                    writes.update(
                        QuerySet(loaded[0].__class__)._filter({"pk__in": pks}, False),
                        {field.name: value},
                    )
            for instances in self.data.values():
                instances.reverse()
            for model, instances in self.data.items():
                count = self._delete_batch(model, ordered_pks[model][::-1])
                if count:
                    counter[model._meta.label] += count
                if not model._meta.auto_created:
                    for obj in instances:
                        if observed or post_delete.receivers:
                            send_post(sender=model, instance=obj, using="default", origin=origin)
        for model, instances in self.data.items():
            attname = model._meta.pk.attname
            for instance in instances:
                instance.__dict__[attname] = None
        return sum(counter.values()), dict(counter)

    def _db(self) -> Any:
        for model in self.data:
            return QuerySet(model)._db()
        for qs in self.fast_deletes:
            return qs._db()
        from sigcli.models.registry import get_registry

        return get_registry().db

    @staticmethod
    def _delete_batch(model: Any, pks: list[Any]) -> int:
        meta = model._meta
        db = QuerySet(model)._db()
        count = 0
        for start in range(0, len(pks), DELETE_CHUNK):
            chunk = pks[start : start + DELETE_CHUNK]
            sql = meta.delete_sql + f"({', '.join('?' for _ in chunk)})"
            count += db.execute(sql, chunk).rowcount
        return count
