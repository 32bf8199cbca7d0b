"""Every name the generators derive from an AppModel, in one place.

Validation checks these same names (length, clashes), so what is validated is exactly what is generated.
"""

from __future__ import annotations

from studio.core.model.appmodel import AppModel, Entity, Field, Link, singularize

#: PostgreSQL truncates identifiers longer than this many bytes (NAMEDATALEN - 1).
MAX_NAME_BYTES = 63

ID = "id"
CREATED_AT = "created_at"
UPDATED_AT = "updated_at"
OWNER = "owner_id"
TEAM = "team_id"
IMPLICIT_COLUMNS = (ID, CREATED_AT, UPDATED_AT, OWNER, TEAM)

TEAMS_TABLE = "teams"
MEMBERS_TABLE = "team_members"
MEMBER_USER = "user_id"
MEMBER_ROLE = "role"

#: Functions the generated schema defines (in the model's schema).
SET_UPDATED_AT = "set_updated_at"
IS_TEAM_MEMBER = "is_team_member"
IS_ADMIN = "is_admin"
#: Trigger function making a team's creator its first member (owner), so the creator can manage the team.
ADD_TEAM_OWNER = "add_team_owner"


def link_column(link: Link) -> str:
    """The source's column of a many-to-one or one-to-one link (`author` -> `author_id`)."""
    return f"{link.name}_id"


def join_table(link: Link) -> str:
    """The join table of a many-to-many link (`posts` + `tags` -> `posts_tags`)."""
    return f"{link.source}_{link.name}"


def join_columns(model: AppModel, link: Link) -> tuple[str, str]:
    """The join table's columns pointing at the source and at the target (`post_id`, `tag_id`)."""
    source = model.entity(link.source)
    source_one = source.one if source is not None else singularize(link.source)
    return f"{source_one}_id", f"{singularize(link.name)}_id"


def enum_type(entity: Entity, field: Field) -> str:
    """The enum type of an enum field (`todos.status` -> `todo_status`)."""
    return f"{entity.one}_{field.name}"


def fk_constraint(table: str, column: str) -> str:
    """Name of a foreign key constraint (PostgreSQL's own default)."""
    return f"{table}_{column}_fkey"


def unique_constraint(table: str, *columns: str) -> str:
    """Name of a unique constraint (PostgreSQL's own default)."""
    return f"{table}_{'_'.join(columns)}_key"


def index_name(table: str, *columns: str) -> str:
    """Name of an index on `columns`."""
    return f"{table}_{'_'.join(columns)}_idx"


def updated_at_trigger(table: str) -> str:
    """Name of the trigger keeping `updated_at` current."""
    return f"{table}_{SET_UPDATED_AT}"


def add_team_owner_trigger() -> str:
    """Name of the trigger on `teams` that adds the creator to `team_members`."""
    return f"{TEAMS_TABLE}_{ADD_TEAM_OWNER}"


def too_long(name: str) -> bool:
    """Whether PostgreSQL would silently shorten `name`."""
    return len(name.encode("utf-8")) > MAX_NAME_BYTES


def entity_tables(model: AppModel) -> list[str]:
    """Every table the model makes: its entities, the team tables when used, and join tables."""
    tables = [e.name for e in model.entities]
    if model.uses_teams:
        tables += [TEAMS_TABLE, MEMBERS_TABLE]
    tables += [join_table(link) for link in model.links if link.kind.value == "many_to_many"]
    return tables


def derived_names(model: AppModel) -> list[tuple[str, str]]:
    """Every identifier generation derives, with where it comes from (for length checks)."""
    names: list[tuple[str, str]] = []
    for entity in model.entities:
        where = f"entity {entity.name}"
        names.append((entity.name, where))
        names.append((updated_at_trigger(entity.name), where))
        for field in entity.fields:
            names.append((field.name, f"{where}, field {field.name}"))
            if field.unique:
                names.append((unique_constraint(entity.name, field.name), f"{where}, field {field.name}"))
            if field.type.value == "enum":
                names.append((enum_type(entity, field), f"{where}, field {field.name}"))
        if entity.access.has_owner:
            names.append((index_name(entity.name, OWNER), where))
        if entity.access.value == "team":
            names.append((index_name(entity.name, TEAM), where))
            names.append((fk_constraint(entity.name, TEAM), where))
    for link in model.links:
        where = f"link {link.source}.{link.name}"
        if link.kind.value == "many_to_many":
            table = join_table(link)
            names.append((table, where))
            for column in join_columns(model, link):
                names += [(column, where), (fk_constraint(table, column), where)]
            names.append((index_name(table, join_columns(model, link)[1]), where))
        else:
            column = link_column(link)
            names += [
                (column, where),
                (fk_constraint(link.source, column), where),
                (index_name(link.source, column), where),
            ]
            if link.kind.value == "one_to_one":
                names.append((unique_constraint(link.source, column), where))
    return names
