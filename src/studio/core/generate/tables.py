"""The tables an AppModel becomes, column by column: the one shape every generator works from.

The SQL, TypeScript, Dart and Python generators all read `table_shapes(model)`, so a column's name, type,
nullability and default are decided once and the generated schema and client code always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.core.model import naming
from studio.core.model.appmodel import Access, AppModel, Entity, Field, FieldType, Link, LinkKind, OnDelete
from studio.core.sqltext import qualified, quote_literal

SQL_TYPES: dict[FieldType, str] = {
    FieldType.TEXT: "text",
    FieldType.LONG_TEXT: "text",
    FieldType.INTEGER: "integer",
    FieldType.DECIMAL: "numeric",
    FieldType.BOOLEAN: "boolean",
    FieldType.DATE: "date",
    FieldType.TIMESTAMP: "timestamp with time zone",
    FieldType.UUID: "uuid",
    FieldType.JSON: "jsonb",
    FieldType.FILE: "text",
    FieldType.TEXT_ARRAY: "text[]",
}

ON_DELETE_SQL = {OnDelete.RESTRICT: "RESTRICT", OnDelete.CASCADE: "CASCADE", OnDelete.SET_NULL: "SET NULL"}


@dataclass(frozen=True)
class Reference:
    """A foreign key: the referenced table (schema-qualified name parts) and what deleting it does."""

    schema: str
    table: str
    on_delete: str


@dataclass(frozen=True)
class Column:
    """One column as generated.

    `sql_type` is the type as written in SQL (an enum is its qualified type name); `kind` is the field
    type it came from (None for the id, timestamps and keys Studio adds; those have `role` set: "id",
    "created_at", "updated_at", "owner", "team", "link", "join"). `default_sql` is None when inserts must
    give a value (if the column is not nullable). `enum_values` lists an enum's values.
    """

    name: str
    sql_type: str
    nullable: bool
    default_sql: str | None = None
    kind: FieldType | None = None
    role: str = "field"
    enum_type: str | None = None
    enum_values: tuple[str, ...] = ()
    unique: bool = False
    references: Reference | None = None
    label: str = ""

    @property
    def insert_optional(self) -> bool:
        """Whether an insert may leave the column out (nullable, or it has a default)."""
        return self.nullable or self.default_sql is not None


@dataclass(frozen=True)
class TableShape:
    """A generated table: its columns in order, and where it came from.

    `entity` is None for the tables Studio adds (`teams`, `team_members`, join tables); `access` is the
    rule its policies follow (join tables follow their source entity's rule, team tables their own).
    """

    name: str
    schema: str
    columns: tuple[Column, ...]
    access: Access | None
    entity: Entity | None = None
    link: Link | None = None
    primary_key: tuple[str, ...] = (naming.ID,)

    def column(self, name: str) -> Column:
        """The column called `name` (KeyError when there is none)."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


def _default_sql(field: Field, enum_type: str | None) -> str | None:
    value = field.default
    if value is None:
        return None
    if field.type in (FieldType.DATE, FieldType.TIMESTAMP):
        return "CURRENT_DATE" if field.type is FieldType.DATE else "now()"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if enum_type is not None:
        return f"{quote_literal(value)}::{enum_type}"
    return quote_literal(value)


def _field_column(model: AppModel, entity: Entity, field: Field) -> Column:
    enum_type = qualified(model.schema, naming.enum_type(entity, field)) if field.type is FieldType.ENUM else None
    return Column(
        name=field.name,
        sql_type=enum_type or SQL_TYPES[field.type],
        nullable=not field.required,
        default_sql=_default_sql(field, enum_type),
        kind=field.type,
        enum_type=naming.enum_type(entity, field) if field.type is FieldType.ENUM else None,
        enum_values=field.values,
        unique=field.unique,
        label=field.label,
    )


def _id() -> Column:
    return Column(naming.ID, "uuid", False, "gen_random_uuid()", role="id")


def _timestamps() -> tuple[Column, Column]:
    return (
        Column(naming.CREATED_AT, "timestamp with time zone", False, "now()", role="created_at"),
        Column(naming.UPDATED_AT, "timestamp with time zone", False, "now()", role="updated_at"),
    )


def _owner() -> Column:
    return Column(naming.OWNER, "uuid", False, "auth.uid()", role="owner",
                  references=Reference("auth", "users", "CASCADE"))


def team_tables(model: AppModel) -> list[TableShape]:
    """`teams` (named, owned by their creator) and `team_members` (who belongs, with a role)."""
    teams = TableShape(
        name=naming.TEAMS_TABLE,
        schema=model.schema,
        columns=(_id(), Column("name", "text", False, kind=FieldType.TEXT, label="Name"), *_timestamps(), _owner()),
        access=Access.TEAM,
    )
    members = TableShape(
        name=naming.MEMBERS_TABLE,
        schema=model.schema,
        columns=(
            Column(naming.TEAM, "uuid", False, role="team",
                   references=Reference(model.schema, naming.TEAMS_TABLE, "CASCADE")),
            Column(naming.MEMBER_USER, "uuid", False, role="member",
                   references=Reference("auth", "users", "CASCADE")),
            Column(naming.MEMBER_ROLE, "text", False, "'member'", kind=FieldType.TEXT, label="Role"),
            Column(naming.CREATED_AT, "timestamp with time zone", False, "now()", role="created_at"),
        ),
        access=Access.TEAM,
        primary_key=(naming.TEAM, naming.MEMBER_USER),
    )
    return [teams, members]


def table_shapes(model: AppModel) -> list[TableShape]:
    """Every table of the model in creation order: team tables, entities, then join tables."""
    shapes = team_tables(model) if model.uses_teams else []
    for entity in model.entities:
        columns = [_id()]
        if entity.access is Access.TEAM:
            columns.append(Column(naming.TEAM, "uuid", False, role="team",
                                  references=Reference(model.schema, naming.TEAMS_TABLE, "CASCADE")))
        columns += [_field_column(model, entity, f) for f in entity.fields]
        for link in model.links_from(entity.name):
            if link.kind is LinkKind.MANY_TO_MANY:
                continue
            columns.append(Column(
                naming.link_column(link), "uuid", not link.required, role="link",
                unique=link.kind is LinkKind.ONE_TO_ONE,
                references=Reference(model.schema, link.target, ON_DELETE_SQL[link.on_delete]),
                label=link.label,
            ))
        columns += _timestamps()
        if entity.access.has_owner:
            columns.append(_owner())
        shapes.append(TableShape(entity.name, model.schema, tuple(columns), entity.access, entity=entity))
    for link in model.links:
        if link.kind is not LinkKind.MANY_TO_MANY:
            continue
        source = model.entity(link.source)
        source_column, target_column = naming.join_columns(model, link)
        shapes.append(TableShape(
            name=naming.join_table(link),
            schema=model.schema,
            columns=(
                Column(source_column, "uuid", False, role="join",
                       references=Reference(model.schema, link.source, "CASCADE")),
                Column(target_column, "uuid", False, role="join",
                       references=Reference(model.schema, link.target, "CASCADE")),
                Column(naming.CREATED_AT, "timestamp with time zone", False, "now()", role="created_at"),
            ),
            access=source.access if source is not None else Access.PRIVATE,
            link=link,
            primary_key=(source_column, target_column),
        ))
    return shapes
