"""Reading an AppModel back out of an existing database's catalog.

Tables become entities, columns fields, foreign keys links, two-key tables many-to-many links, and the
access rule is recognised from the table's columns and policies. What cannot be expressed in the model
(a column type it has no field for, a foreign key to another schema) is left out and listed in `notes`,
so the builder sees exactly what the import did not carry over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from studio.core.model import naming
from studio.core.model.appmodel import Access, AppModel, Entity, Field, FieldType, Link, LinkKind, OnDelete
from studio.core.schema.catalog import Catalog, DbObject

_SCALARS: dict[str, FieldType] = {
    "text": FieldType.TEXT,
    "character varying": FieldType.TEXT,
    "character": FieldType.TEXT,
    "citext": FieldType.TEXT,
    "smallint": FieldType.INTEGER,
    "integer": FieldType.INTEGER,
    "bigint": FieldType.INTEGER,
    "numeric": FieldType.DECIMAL,
    "real": FieldType.DECIMAL,
    "double precision": FieldType.DECIMAL,
    "boolean": FieldType.BOOLEAN,
    "date": FieldType.DATE,
    "timestamp with time zone": FieldType.TIMESTAMP,
    "timestamp without time zone": FieldType.TIMESTAMP,
    "uuid": FieldType.UUID,
    "json": FieldType.JSON,
    "jsonb": FieldType.JSON,
    "text[]": FieldType.TEXT_ARRAY,
    "character varying[]": FieldType.TEXT_ARRAY,
}
_FOREIGN_KEY = re.compile(
    r"FOREIGN KEY \((?P<columns>[^)]*)\) REFERENCES (?P<table>[^(]+)\((?P<refcols>[^)]*)\)(?P<rest>.*)"
)
_UNIQUE = re.compile(r"UNIQUE \((?P<columns>[^)]*)\)")
_PRIMARY = re.compile(r"PRIMARY KEY \((?P<columns>[^)]*)\)")
_ON_DELETE = {"CASCADE": OnDelete.CASCADE, "SET NULL": OnDelete.SET_NULL}


@dataclass(frozen=True)
class ImportResult:
    """The model read from a database, and what could not be carried over (in plain words)."""

    model: AppModel
    notes: tuple[str, ...]


def _unquote(name: str) -> str:
    name = name.strip()
    return name[1:-1].replace('""', '"') if name.startswith('"') and name.endswith('"') else name


def _names(text: str) -> list[str]:
    return [_unquote(part) for part in text.split(",")]


@dataclass
class _Table:
    obj: DbObject
    columns: list[DbObject]
    constraints: list[DbObject]
    policies: list[DbObject]


def _field_type(type_: str, enums: dict[str, list[str]], schema: str) -> tuple[FieldType, tuple[str, ...]] | None:
    base = re.sub(r"\(.*?\)", "", type_).strip()
    if base in _SCALARS:
        return _SCALARS[base], ()
    qualified = base if "." in base else f"{schema}.{base}"
    if qualified in enums:
        return FieldType.ENUM, tuple(enums[qualified])
    return None


def _access(table: _Table, names: set[str]) -> tuple[Access, str]:
    text = " ".join(
        f"{p.attrs.get('command')} {' '.join(p.attrs.get('roles') or [])} {p.attrs.get('using') or ''}"
        f" {p.attrs.get('with_check') or ''}" for p in table.policies
    ).lower()
    if naming.TEAM in names or "is_team_member" in text:
        return Access.TEAM, ""
    public_read = any(
        p.attrs.get("command") in ("r", "*") and (p.attrs.get("using") or "").strip().lower() == "true"
        for p in table.policies
    )
    admin = naming.IS_ADMIN in text or "app_metadata" in text
    if admin and not public_read and any(p.attrs.get("command") == "a" for p in table.policies):
        return Access.CREATE_ONLY_ADMIN_READ, ""
    if public_read:
        return (Access.PUBLIC_READ_ADMIN_WRITE, "") if admin and naming.OWNER not in names else (
            Access.PUBLIC_READ_OWNER_WRITE, "")
    if naming.OWNER in names:
        return Access.PRIVATE, ""
    note = "no owner column and no policy Studio recognises; set “private to its owner” — check it"
    return Access.PRIVATE, note


def model_from_catalog(catalog: Catalog, *, schema: str = "public", name: str = "Imported app") -> ImportResult:
    """An AppModel describing the tables of `schema` in `catalog`, and notes on what was left out."""
    notes: list[str] = []
    enums = {f"{o.schema}.{o.name}": list(o.attrs.get("labels") or []) for o in catalog.objects.values()
             if o.kind == "enum"}
    tables: dict[str, _Table] = {}
    for obj in catalog.objects.values():
        if obj.kind == "table" and obj.schema == schema:
            tables[obj.key] = _Table(obj, [], [], [])
    for obj in catalog.objects.values():
        table = tables.get(obj.parent or "")
        if table is None:
            continue
        if obj.kind == "column":
            table.columns.append(obj)
        elif obj.kind == "constraint":
            table.constraints.append(obj)
        elif obj.kind == "policy":
            table.policies.append(obj)
    by_name = {t.obj.name: t for t in tables.values()}
    skip_tables = {naming.TEAMS_TABLE, naming.MEMBERS_TABLE} if {naming.TEAMS_TABLE, naming.MEMBERS_TABLE} <= set(
        by_name) else set()

    entities: list[Entity] = []
    links: list[Link] = []
    join_tables: list[_Table] = []
    for table_name in sorted(by_name):
        table = by_name[table_name]
        if table_name in skip_tables:
            continue
        foreign = [(_names(m["columns"]), _unquote(m["table"].split(".")[-1]), m["table"], m["rest"])
                   for c in table.constraints if c.attrs.get("type") == "f"
                   for m in [_FOREIGN_KEY.match(c.attrs.get("definition") or "")] if m]
        primary = next((_names(m["columns"]) for c in table.constraints if c.attrs.get("type") == "p"
                        for m in [_PRIMARY.match(c.attrs.get("definition") or "")] if m), [])
        unique = {tuple(_names(m["columns"])) for c in table.constraints if c.attrs.get("type") == "u"
                  for m in [_UNIQUE.match(c.attrs.get("definition") or "")] if m}
        plain = [c for c in table.columns if c.name != naming.CREATED_AT]
        if len(primary) == 2 and len(foreign) == 2 and len(plain) == 2 and "id" not in {c.name for c in plain}:
            join_tables.append(table)
            continue
        if primary != [naming.ID]:
            notes.append(f"table {table_name}: its primary key is not a single “id” column; Studio's entities use"
                         " one, so generating from this model will change it")
        names = {c.name for c in table.columns}
        fields: list[Field] = []
        link_columns: dict[str, tuple[str, str, str]] = {}
        for columns, target, qualified_target, rest in foreign:
            if len(columns) != 1:
                notes.append(f"table {table_name}: the foreign key on ({', '.join(columns)}) spans several columns"
                             " and was left out")
                continue
            link_columns[columns[0]] = (target, qualified_target, rest)
        for column in sorted(table.columns, key=lambda c: int(c.attrs.get("position") or 0)):
            if column.name in (naming.ID, naming.CREATED_AT, naming.UPDATED_AT, naming.OWNER, naming.TEAM):
                continue
            if column.name in link_columns:
                target, qualified_target, rest = link_columns[column.name]
                if not qualified_target.startswith(f"{schema}.") or target not in by_name or not column.name.endswith(
                        "_id"):
                    notes.append(f"table {table_name}: column {column.name} refers to {qualified_target}; kept as a"
                                 " plain field")
                else:
                    on_delete = next((v for k, v in _ON_DELETE.items() if f"ON DELETE {k}" in rest), OnDelete.RESTRICT)
                    links.append(Link(
                        name=column.name[: -len("_id")], source=table_name, target=target,
                        kind=LinkKind.ONE_TO_ONE if (column.name,) in unique else LinkKind.MANY_TO_ONE,
                        required=bool(column.attrs.get("not_null")), on_delete=on_delete,
                    ))
                    continue
            found = _field_type(str(column.attrs.get("type") or ""), enums, schema)
            if found is None:
                notes.append(f"table {table_name}: column {column.name} has type {column.attrs.get('type')}, which"
                             " has no field kind; left out")
                continue
            kind, values = found
            fields.append(Field(name=column.name, type=kind, required=bool(column.attrs.get("not_null")),
                                unique=(column.name,) in unique, values=values,
                                label=str(column.attrs.get("comment") or "")))
        access, note = _access(table, names)
        if note:
            notes.append(f"table {table_name}: {note}")
        entities.append(Entity(table_name, fields=tuple(fields), access=access,
                               label=str(table.obj.attrs.get("comment") or "")))
    entity_names = {e.name for e in entities}
    for table in join_tables:
        ends = [(_names(m["columns"])[0], _unquote(m["table"].split(".")[-1]))
                for c in table.constraints if c.attrs.get("type") == "f"
                for m in [_FOREIGN_KEY.match(c.attrs.get("definition") or "")] if m]
        positions = {c.name: int(c.attrs.get("position") or 0) for c in table.columns}
        (_, source), (_, target) = sorted(ends, key=lambda end: positions.get(end[0], 0))
        prefix = f"{source}_"
        if source in entity_names and target in entity_names and table.obj.name.startswith(prefix):
            links.append(Link(name=table.obj.name[len(prefix):], source=source, target=target,
                              kind=LinkKind.MANY_TO_MANY))
        else:
            notes.append(f"table {table.obj.name}: looks like a join table but its name does not follow"
                         f" <source>_<link>; left out")
    model = AppModel(name=name, entities=tuple(entities), links=tuple(links), schema=schema)
    return ImportResult(model=model, notes=tuple(notes))
