"""``Model._meta``: a model's fields, table and the SQL prepared once per model.

Everything the per-save path needs (column lists, INSERT and UPDATE
statements, the constructor's default plan) is computed when the class is
prepared, so that a save does no introspection.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from sigcli.models.fields import AutoField, Field, FieldDoesNotExist

if TYPE_CHECKING:
    from sigcli.models.base import Model
    from sigcli.models.registry import Registry


class Options:
    """Metadata of one model class, shaped like Django's ``_meta``."""

    def __init__(self, model: type[Model], meta: Any, registry: Registry) -> None:
        self.model = model
        self.meta = meta
        self.registry = registry
        self.app_label: str = getattr(meta, "app_label", None) or registry.label
        self.object_name = model.__name__
        self.model_name = model.__name__.lower()
        self.label = f"{self.app_label}.{self.object_name}"
        self.label_lower = self.label.lower()
        self.abstract = bool(getattr(meta, "abstract", False))
        self.proxy = bool(getattr(meta, "proxy", False))
        self.auto_created: Any = getattr(meta, "auto_created", False)
        self.db_table: str = (
            getattr(meta, "db_table", None) or f"{self.app_label}_{self.model_name}"
        )
        self.ordering: list[str] = list(getattr(meta, "ordering", None) or [])
        self.get_latest_by: Any = getattr(meta, "get_latest_by", None)
        self.unique_together: list[tuple[str, ...]] = _normalize_together(
            getattr(meta, "unique_together", ())
        )
        self.verbose_name = getattr(meta, "verbose_name", self.model_name)
        self.concrete_model: type[Model] = model
        # Multi-table inheritance: each concrete parent and the one-to-one field
        # linking this model's row to the parent's, nearest parent first.
        self.parents: dict[type[Model], Any] = {}
        self.local_fields: list[Field] = []
        self.local_many_to_many: list[Any] = []
        self.concrete_fields: list[Field] = []
        self.many_to_many: list[Any] = []
        self.pk: Field = None  # type: ignore[assignment]
        self.auto_field: Field | None = None
        self.table_ready = False
        self._related_cache: tuple[int, list[Any]] | None = None

    # -- building ------------------------------------------------------------

    def add_field(self, field: Field) -> None:
        if field.many_to_many:
            self.local_many_to_many.append(field)
            return
        counters = [f.creation_counter for f in self.local_fields]
        self.local_fields.insert(bisect.bisect(counters, field.creation_counter), field)
        if field.primary_key:
            self.pk = field

    def setup_proxy(self, concrete: type[Model]) -> None:
        """Share the concrete model's table and fields."""
        cmeta = concrete._meta
        self.concrete_model = cmeta.concrete_model
        self.db_table = cmeta.db_table
        self.local_fields = cmeta.local_fields
        self.local_many_to_many = cmeta.local_many_to_many
        self.pk = cmeta.pk
        self.auto_field = cmeta.auto_field
        self.parents = cmeta.parents

    def prepare(self) -> None:
        """Add the automatic ``id`` and compute the SQL and plans saves use.

        Abstract models only hold fields for their subclasses: no ``id``, no SQL.
        """
        if self.abstract:
            return
        if self.pk is None and self.parents:
            link = next(iter(self.parents.values()))
            link.primary_key = link.unique = True
            self.pk = link
        elif self.pk is None and not self.proxy:
            auto = AutoField(verbose_name="ID", primary_key=True, auto_created=True)
            auto.contribute_to_class(self.model, "id")
            self.auto_field = auto
        elif isinstance(self.pk, AutoField):
            self.auto_field = self.pk
        self._compute()

    def _compute(self) -> None:
        """Reads see every field, the parents' first (a child's table is read through
        a view joining its parents'); writes are planned for this model's own table."""
        fields = self.local_fields
        parent_fields: list[Field] = []
        parent_m2m: list[Any] = []
        for parent in self.parents:
            parent_fields.extend(parent._meta.concrete_fields)
            parent_m2m.extend(parent._meta.many_to_many)
        self.read_table = f"{self.db_table}__joined" if self.parents else self.db_table
        table = self.read_table
        self.concrete_fields = concrete = [*parent_fields, *fields]
        self.many_to_many = [*parent_m2m, *self.local_many_to_many]
        self.attnames = tuple(f.attname for f in concrete)
        self.columns = tuple(f.column for f in concrete)
        self.qualified_columns = tuple(f'"{table}"."{c}"' for c in self.columns)
        self.select_sql = f'SELECT {", ".join(self.qualified_columns)} FROM "{table}"'
        self.converters = tuple(
            (i, f.from_db) for i, f in enumerate(concrete) if f.from_db is not None
        )
        self.fields_map: dict[str, Any] = {}
        for f in concrete:
            self.fields_map[f.name] = f
            self.fields_map[f.attname] = f
        for f in self.many_to_many:
            self.fields_map[f.name] = f
        pk = self.pk
        self.non_pk_fields = tuple(f for f in concrete if not f.primary_key)
        self.non_pk_names = frozenset(
            name for f in self.non_pk_fields for name in (f.name, f.attname)
        )
        self.local_non_pk_fields = tuple(f for f in fields if f is not pk)
        self.custom_pre_save = tuple(f for f in concrete if f.has_custom_pre_save)
        self.init_plan = tuple(
            (f.attname, f.default, callable(f.default))
            if f.has_default()
            else (f.attname, f.get_default(), False)
            for f in concrete
        )
        self.relation_fields = tuple(f for f in concrete if f.is_relation)
        self.insert_all = self._insert_plan(fields)
        self.insert_auto = self._insert_plan(tuple(f for f in fields if f is not self.auto_field))
        self.update_all = self._update_plan(self.local_non_pk_fields)
        self.pk_where = f'"{self.db_table}"."{pk.column}" = ?'
        self.delete_sql = f'DELETE FROM "{self.db_table}" WHERE "{self.db_table}"."{pk.column}" IN '

    def view_sql(self) -> str | None:
        """The view a child model is read through: its parent's columns, then its own."""
        if not self.parents or self.proxy:
            return None
        ((parent, link),) = self.parents.items()
        pmeta = parent._meta
        own = ", ".join(f'"{self.db_table}"."{f.column}"' for f in self.local_fields)
        inherited = ", ".join(pmeta.qualified_columns)
        return (
            f'CREATE VIEW IF NOT EXISTS "{self.read_table}" AS SELECT {inherited}, {own} '
            f'FROM "{self.db_table}" INNER JOIN "{pmeta.read_table}" ON '
            f'("{self.db_table}"."{link.column}" = "{pmeta.read_table}"."{pmeta.pk.column}")'
        )

    def _insert_plan(
        self, fields: Any
    ) -> tuple[str, tuple[Field, ...], tuple[tuple[int, Any], ...]]:
        fields = tuple(fields)
        if fields:
            columns = ", ".join(f'"{f.column}"' for f in fields)
            marks = ", ".join("?" for _ in fields)
            sql = f'INSERT INTO "{self.db_table}" ({columns}) VALUES ({marks})'
        else:
            sql = f'INSERT INTO "{self.db_table}" DEFAULT VALUES'
        return sql, fields, self._preps(fields)

    def _update_plan(
        self, fields: Any
    ) -> tuple[str, tuple[Field, ...], tuple[tuple[int, Any], ...]]:
        fields = tuple(fields)
        sets = ", ".join(f'"{f.column}" = ?' for f in fields)
        pk = self.pk
        sql = f'UPDATE "{self.db_table}" SET {sets} WHERE "{self.db_table}"."{pk.column}" = ?'
        return sql, fields, self._preps(fields)

    @staticmethod
    def _preps(fields: Any) -> tuple[tuple[int, Any], ...]:
        return tuple((i, f.prep) for i, f in enumerate(fields) if f.prep is not None)

    def update_plan_for(
        self, names: frozenset[str]
    ) -> tuple[str, tuple[Field, ...], tuple[tuple[int, Any], ...]]:
        fields = [f for f in self.local_non_pk_fields if f.name in names or f.attname in names]
        return self._update_plan(fields)

    def create_table_sql(self) -> list[str]:
        columns = [f.column_sql() for f in self.local_fields]
        for together in self.unique_together:
            cols = ", ".join(f'"{self.get_field(name).column}"' for name in together)
            columns.append(f"UNIQUE ({cols})")
        statements = [f'CREATE TABLE IF NOT EXISTS "{self.db_table}" ({", ".join(columns)})']
        for f in self.local_fields:
            if f.is_relation and not f.unique:
                statements.append(
                    f'CREATE INDEX IF NOT EXISTS "{self.db_table}_{f.column}" '
                    f'ON "{self.db_table}" ("{f.column}")'
                )
        return statements

    # -- lookups -------------------------------------------------------------

    def get_field(self, name: str) -> Any:
        """A field by name or attname, a many-to-many field, or a reverse relation."""
        field = self.fields_map.get(name)
        if field is not None:
            return field
        for relation in self.related_objects:
            if relation.query_name == name:
                return relation
        raise FieldDoesNotExist(f"{self.object_name} has no field named '{name}'")

    def get_fields(self) -> list[Any]:
        return [*self.related_objects, *self.concrete_fields, *self.many_to_many]

    def get_parent_list(self) -> list[type[Model]]:
        """Every concrete ancestor, nearest first."""
        found: list[type[Model]] = []
        for parent in self.parents:
            found.append(parent)
            found.extend(p for p in parent._meta.get_parent_list() if p not in found)
        return found

    def field_choices(self) -> str:
        names = {f.name for f in self.concrete_fields} | {f.name for f in self.many_to_many}
        names.update(r.query_name for r in self.related_objects if r.query_name)
        return ", ".join(sorted(names))

    @property
    def related_objects(self) -> list[Any]:
        """Relations pointing at this model (reverse FK, one-to-one, many-to-many),
        in model registration order then field order, as Django lists them; a
        child model's start with its parents' (but not their links to other children)."""
        generation = self.registry.generation
        cached = self._related_cache
        if cached is not None and cached[0] == generation:
            return cached[1]
        concrete = self.concrete_model
        relations: list[Any] = [
            rel
            for parent in self.concrete_model._meta.parents
            for rel in parent._meta.related_objects
            if not rel.field.parent_link
        ]
        for model in list(self.registry.models.values()):
            meta = model._meta
            if meta.proxy:
                continue
            for field in (*meta.local_fields, *meta.local_many_to_many):
                if not field.is_relation:
                    continue
                remote = field.remote_model
                if remote is not None and remote._meta.concrete_model is concrete:
                    relations.append(field.rel)
        self._related_cache = (generation, relations)
        return relations

    def delete_candidates(self) -> list[Any]:
        """Reverse FK and one-to-one relations: what a delete must visit."""
        return [r for r in self.related_objects if not r.field.many_to_many]

    def __repr__(self) -> str:
        return f"<Options for {self.object_name}>"


def _normalize_together(value: Any) -> list[tuple[str, ...]]:
    if not value:
        return []
    if isinstance(value[0], str):
        return [tuple(value)]
    return [tuple(v) for v in value]
