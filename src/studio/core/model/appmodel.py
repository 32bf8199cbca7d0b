"""The AppModel: a builder's description of their app's data, in their words.

Entities have fields, links join them, and each entity has one access rule said the way a builder would
say it. Everything a table needs beyond that is implied and added by the generators: every entity gets
`id`, `created_at` and `updated_at`; rules that know an owner add `owner_id`; the team rule adds `team_id`
and the `teams` / `team_members` tables.

Names are what the database and the client code use (`todos`, `due_date`), so they are plain lower-case
identifiers; `label` is the builder's wording shown in the app ("Due date").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class FieldType(StrEnum):
    """The kinds of values a field holds."""

    TEXT = "text"
    LONG_TEXT = "long_text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    UUID = "uuid"
    JSON = "json"
    ENUM = "enum"
    FILE = "file"
    """A reference to a file in Supabase Storage: its path in a bucket."""
    TEXT_ARRAY = "text_array"


class LinkKind(StrEnum):
    """How two entities are linked."""

    MANY_TO_ONE = "many_to_one"
    """Each source row points at one target row (a foreign key on the source, with an index)."""
    ONE_TO_ONE = "one_to_one"
    """Like many-to-one, and no two source rows point at the same target row."""
    MANY_TO_MANY = "many_to_many"
    """Any number on both sides, through a join table."""


class OnDelete(StrEnum):
    """What happens to linking rows when the linked row is deleted."""

    RESTRICT = "restrict"
    CASCADE = "cascade"
    SET_NULL = "set_null"


class Access(StrEnum):
    """Who may see and change an entity's rows, in builder words."""

    PRIVATE = "private"
    """Private to its owner: each signed-in user sees and changes only their own rows."""
    TEAM = "team"
    """Shared within a team: members of the row's team see and change it (multi-tenant)."""
    PUBLIC_READ_OWNER_WRITE = "public_read_owner_write"
    """Anyone can read; only the row's owner can change it."""
    PUBLIC_READ_ADMIN_WRITE = "public_read_admin_write"
    """Anyone can read; only admins (the `admin` role in the user's app_metadata) can change it."""
    CREATE_ONLY_ADMIN_READ = "create_only_admin_read"
    """Anyone can add a row (a contact form); only admins can read, change or delete them."""

    @property
    def has_owner(self) -> bool:
        """Whether rows under this rule carry `owner_id` (the user who created them)."""
        return self in (Access.PRIVATE, Access.TEAM, Access.PUBLIC_READ_OWNER_WRITE)


@dataclass(frozen=True)
class Field:
    """One field of an entity.

    `default` is a value, not SQL (a string, number or boolean; for an enum one of `values`; for a date or
    timestamp the word "now"). `values` lists an enum's values in order.
    """

    name: str
    type: FieldType
    required: bool = False
    unique: bool = False
    default: str | int | float | bool | None = None
    values: tuple[str, ...] = ()
    label: str = ""


@dataclass(frozen=True)
class Link:
    """A link from entity `source` to entity `target`.

    For many-to-one and one-to-one, `name` names the link on the source (`author` makes the column
    `author_id`); `required` makes it NOT NULL; `on_delete` says what deleting the target does. For
    many-to-many, `name` names the join table's side of the target (`tags` on `posts` makes the table
    `posts_tags`), and join rows always go with either end.
    """

    name: str
    source: str
    target: str
    kind: LinkKind = LinkKind.MANY_TO_ONE
    required: bool = False
    on_delete: OnDelete = OnDelete.RESTRICT
    label: str = ""


@dataclass(frozen=True)
class Entity:
    """A kind of thing the app stores (a table): its fields and who may access its rows.

    `name` is the table's name, usually plural (`todos`); `singular` (default: derived from `name`) names
    one row in client code (`Todo`) and in join-table columns (`todo_id`).
    """

    name: str
    fields: tuple[Field, ...] = ()
    access: Access = Access.PRIVATE
    label: str = ""
    singular: str = ""

    @property
    def one(self) -> str:
        """The singular name: `singular` if given, else derived from `name` (`categories` -> `category`)."""
        return self.singular or singularize(self.name)

    def field(self, name: str) -> Field | None:
        """The field called `name`, if any."""
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class AppModel:
    """A whole app's data: entities and the links between them, in schema `schema` (normally `public`)."""

    name: str
    entities: tuple[Entity, ...] = ()
    links: tuple[Link, ...] = ()
    schema: str = "public"
    description: str = ""
    extra: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def entity(self, name: str) -> Entity | None:
        """The entity called `name`, if any."""
        return next((e for e in self.entities if e.name == name), None)

    @property
    def uses_teams(self) -> bool:
        """Whether any entity is shared within teams (so the model needs `teams` and `team_members`)."""
        return any(e.access is Access.TEAM for e in self.entities)

    def links_from(self, entity: str) -> list[Link]:
        """Links whose source is `entity`."""
        return [link for link in self.links if link.source == entity]


def singularize(name: str) -> str:
    """A plain English singular for a table name (`todos` -> `todo`, `categories` -> `category`).

    Only the common regular endings are handled; anything else keeps its name, which is always safe.
    """
    for plural, single in (("ies", "y"), ("sses", "ss"), ("xes", "x"), ("ches", "ch"), ("shes", "sh")):
        if name.endswith(plural) and len(name) > len(plural):
            return name[: -len(plural)] + single
    if name.endswith("s") and not name.endswith(("ss", "us", "is")) and len(name) > 1:
        return name[:-1]
    return name
