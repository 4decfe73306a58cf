"""What the queryset's writing methods do: create, get_or_create, update_or_create,
the bulk operations, update and delete.

Only ``create`` and the ``*_or_create`` pair send save signals (through
``Model.save``); ``bulk_create``, ``bulk_update`` and ``update`` send none;
``delete`` goes through the collector with the queryset itself as ``origin``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sigcli.models.compiler import rows_where_sql
from sigcli.models.db import IntegrityError
from sigcli.models.expressions import is_expression
from sigcli.models.fields import FieldDoesNotExist, FieldError

if TYPE_CHECKING:
    from sigcli.models.query import QuerySet


def create(qs: QuerySet, kwargs: dict[str, Any]) -> Any:
    obj = qs.model(**kwargs)
    obj.save(force_insert=True, using="default")
    return obj


def get_or_create(
    qs: QuerySet, defaults: dict[str, Any] | None, kwargs: dict[str, Any]
) -> tuple[Any, bool]:
    try:
        return qs.get(**kwargs), False
    except qs.model.DoesNotExist:
        params = extract_model_params(qs, defaults, kwargs)
        try:
            with qs._db().atomic():
                params = {k: v() if callable(v) else v for k, v in params.items()}
                return qs.create(**params), True
        except IntegrityError:
            try:
                return qs.get(**kwargs), False
            except qs.model.DoesNotExist:
                pass
            raise


def extract_model_params(
    qs: QuerySet, defaults: dict[str, Any] | None, kwargs: dict[str, Any]
) -> dict[str, Any]:
    params = {k: v for k, v in kwargs.items() if "__" not in k}
    params.update(defaults or {})
    meta = qs.model._meta
    invalid = [
        name
        for name in params
        if name not in meta.fields_map
        and name != "pk"
        and not isinstance(getattr(qs.model, name, None), property)
    ]
    if invalid:
        raise FieldError(
            f"Invalid field name(s) for model {meta.object_name}: '{', '.join(sorted(invalid))}'."
        )
    return params


def update_or_create(
    qs: QuerySet,
    defaults: dict[str, Any] | None,
    create_defaults: dict[str, Any] | None,
    kwargs: dict[str, Any],
) -> tuple[Any, bool]:
    update_defaults = defaults or {}
    if create_defaults is None:
        create_defaults = update_defaults
    with qs._db().atomic():
        obj, created = qs.get_or_create(create_defaults, **kwargs)
        if created:
            return obj, created
        for name, value in update_defaults.items():
            setattr(obj, name, value() if callable(value) else value)
        update_fields = set(update_defaults)
        meta = qs.model._meta
        if meta.non_pk_names.issuperset(update_fields):
            for field in meta.custom_pre_save:
                update_fields.add(field.name)
                if field.name != field.attname:
                    update_fields.add(field.attname)
            obj.save(using="default", update_fields=update_fields)
        else:
            obj.save(using="default")
    return obj, False


def bulk_create(qs: QuerySet, objs: list[Any], ignore_conflicts: bool) -> list[Any]:
    meta = qs.model._meta
    if meta.concrete_model._meta.parents:
        raise ValueError("Can't bulk create a multi-table inherited model")
    if not objs:
        return objs
    db = qs._db()
    with db.atomic(savepoint=False):
        for obj in objs:
            obj._prepare_related_fields_for_save("bulk_create")
            pk_set = obj.pk is not None
            sql, fields, preps = meta.insert_all if pk_set else meta.insert_auto
            if ignore_conflicts:
                sql = sql.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)
            values = [f.pre_save(obj, True) for f in fields]
            for index, prep in preps:
                values[index] = prep(values[index])
            cursor = db.execute(sql, values)
            if not pk_set and not ignore_conflicts:
                obj.__dict__[meta.pk.attname] = cursor.lastrowid
            obj._state.adding = False
            obj._state.db = "default"
    return objs


def bulk_update(qs: QuerySet, objs: list[Any], names: list[str]) -> int:
    if not names:
        raise ValueError("Field names must be given to bulk_update().")
    if any(obj.pk is None for obj in objs):
        raise ValueError("All bulk_update() objects must have a primary key set.")
    meta = qs.model._meta
    fields = []
    for name in names:
        field = meta.get_field(name)
        if getattr(field, "is_reverse", False) or getattr(field, "many_to_many", False):
            raise ValueError("bulk_update() can only be used with concrete fields.")
        if field.primary_key:
            raise ValueError("bulk_update() cannot be used with primary key fields.")
        fields.append(field)
    if not objs:
        return 0
    for obj in objs:
        obj._prepare_related_fields_for_save("bulk_update")
    sql, plan_fields, preps = meta._update_plan(fields)
    db = qs._db()
    rows = 0
    with db.atomic(savepoint=False):
        for obj in objs:
            d = obj.__dict__
            values = [d.get(f.attname) for f in plan_fields]
            for index, prep in preps:
                values[index] = prep(values[index])
            values.append(obj.pk)
            rows += db.execute(sql, values).rowcount
    return rows


def update(qs: QuerySet, kwargs: dict[str, Any]) -> int:
    if qs._low or qs._high is not None:
        raise TypeError("Cannot update a query once a slice has been taken.")
    from sigcli.models.lookups import _value_for
    from sigcli.models.query import QuerySet

    meta = qs.model._meta
    tables: dict[Any, tuple[list[str], list[Any]]] = {}
    for name, value in kwargs.items():
        try:
            field = meta.get_field(name)
        except FieldDoesNotExist:
            raise FieldDoesNotExist(f"{meta.object_name} has no field named '{name}'") from None
        if getattr(field, "is_reverse", False) or getattr(field, "many_to_many", False):
            raise FieldError(
                f"Cannot update model field {field!r} (only non-relations and foreign keys permitted)."
            )
        # A parent's field is written in the parent's table (multi-table inheritance).
        table = field.model._meta.concrete_model._meta
        sets, params = tables.setdefault(table, ([], []))
        if is_expression(value):
            sql, extra = value.as_sql(meta)
            # Columns are named through the read view; the UPDATE names its table.
            sql = sql.replace(f'"{meta.read_table}".', f'"{table.db_table}".')
            sets.append(f'"{field.column}" = {sql}')
            params.extend(extra)
        else:
            sets.append(f'"{field.column}" = ?')
            params.append(_value_for(field, value, name))
    qs._result_cache = None
    if not tables or qs._empty:
        return 0
    db = qs._db()
    own = meta.concrete_model._meta
    count = 0
    if len(tables) > 1 or own not in tables:
        # As Django does, the rows are chosen once, before any table changes.
        selected = qs._chain()
        selected._order = ()
        pks = selected.values_list("pk", flat=True)._fetch()
        if not pks:
            return 0
        qs = QuerySet(qs.model)._filter({"pk__in": pks}, False)
    try:
        for table, (sets, params) in tables.items():
            sql = f'UPDATE "{table.db_table}" SET {", ".join(sets)}{rows_where_sql(qs, table)}'
            rows = int(db.execute(sql, [*params, *qs._params]).rowcount)
            if table is own or own not in tables:
                count = rows
    except Exception as error:
        db.error_passed(error)
        raise
    return count


def delete(qs: QuerySet) -> tuple[int, dict[str, int]]:
    from sigcli.models.deletion import Collector

    if qs._low or qs._high is not None:
        raise TypeError("Cannot use 'limit' or 'offset' with delete().")
    if qs._fields is not None:
        raise TypeError("Cannot call delete() after .values() or .values_list()")
    query = qs._chain()
    query._order = ()
    query._related = ()
    query._prefetch = ()
    collector = Collector(origin=qs)
    collector.collect(query)
    result = collector.delete()
    qs._result_cache = None
    return result


def raw_delete(qs: QuerySet) -> int:
    """DELETE the matching rows directly: no loading, no signals."""
    if qs._empty:
        return 0
    table = qs.model._meta.db_table
    return int(qs._db().execute(f'DELETE FROM "{table}"{rows_where_sql(qs)}', qs._params).rowcount)
