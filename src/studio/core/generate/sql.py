"""The schema and policy SQL of an AppModel: `supabase/schemas/supabase_tables.sql` and `supabase_policies.sql`.

Both files follow `table_shapes(model)` column for column, and Supabase's advice for schemas the API serves:

* every table has row level security, and one policy per command and audience (never two permissive
  policies for the same role and action), with `(select auth.uid())` so the user id is read once per query;
* membership checks go through `is_team_member(team_id)`, a `security definer` function with an empty
  search_path, so a policy never reads a table whose own policies would read it back;
* admins are users whose `app_metadata.role` is `admin` (app_metadata is set by the server only);
* table privileges: `authenticated` may select, insert, update and delete (policies decide which rows), `anon`
  gets only what its access rule lets it do, and neither may truncate;
* every foreign key column has an index, every function a fixed search_path.

Same model, same text: the output is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from studio.core.generate.tables import Column, TableShape, table_shapes
from studio.core.model import naming
from studio.core.model.appmodel import Access, AppModel
from studio.core.model.validate import validate
from studio.core.sqltext import qualified, quote_ident, quote_literal

#: Workspace-relative paths of the generated SQL files.
TABLES_FILE = "supabase/schemas/supabase_tables.sql"
POLICIES_FILE = "supabase/schemas/supabase_policies.sql"
SEED_FILE = "supabase/seed.sql"

#: The commands a policy is written for, in the order the policies are emitted.
COMMANDS = ("select", "insert", "update", "delete")

_UID = "(select auth.uid())"
_SYSTEM_COLUMNS = frozenset({"tableoid", "xmin", "cmin", "xmax", "cmax", "ctid"})
_BODY = "$fn$"


def require_valid(model: AppModel) -> None:
    """Raise `ValueError` listing every problem `validate(model)` finds; generate nothing from a broken model.

    Names that validation does not compare yet but PostgreSQL would refuse (see `name_clashes`) count too.
    """
    problems = [str(p) for p in validate(model)]
    if not problems:
        problems = name_clashes(model)
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise ValueError(f"The data model has {len(problems)} problem(s) to fix before generating:\n{listed}")


def name_clashes(model: AppModel) -> list[str]:
    """Generated names PostgreSQL keeps in one namespace per schema that would be made twice.

    Tables, indexes and unique constraints share the relation names; tables (their row types) and enum types
    share the type names. `todos.status` and `todo.status` both make the enum type `todo_status`, for example.
    Columns cannot take the names of PostgreSQL's system columns (`xmin`, `ctid`...).
    """
    relations: dict[str, str] = {}
    types: dict[str, str] = {}
    problems: list[str] = []

    def claim(space: dict[str, str], name: str, what: str) -> None:
        """Record that `what` uses `name` in `space`, noting a clash with an earlier user of it."""
        if name in space and space[name] != what:
            problems.append(f"{what}: the name “{name}” is also used for {space[name]}; rename one of them")
        space.setdefault(name, what)

    shapes = table_shapes(model)
    for shape in shapes:
        claim(relations, shape.name, f"table {shape.name}")
        claim(types, shape.name, f"table {shape.name}")
    for shape in shapes:
        for column in shape.columns:
            where = f"table {shape.name}, column {column.name}"
            if column.name in _SYSTEM_COLUMNS:
                problems.append(f"{where}: “{column.name}” is the name of a column PostgreSQL adds to every table;"
                                " choose another name")
            if column.unique:
                claim(relations, naming.unique_constraint(shape.name, column.name), f"{where} (unique key)")
            if column.enum_type is not None:
                claim(types, column.enum_type, f"{where} (its choice type)")
        for indexed in _indexed_columns(shape):
            claim(relations, naming.index_name(shape.name, indexed), f"table {shape.name}, column {indexed} (index)")
    return problems


def generate_sql_files(model: AppModel) -> dict[str, str]:
    """The three SQL files of a workspace (workspace-relative path -> content): tables, policies and seed."""
    # seed.py imports this module for its helpers, so it is imported here rather than at the top.
    from studio.core.generate.seed import seed_sql

    require_valid(model)
    return {TABLES_FILE: schema_sql(model), POLICIES_FILE: policies_sql(model), SEED_FILE: seed_sql(model)}


# -- shared helpers --------------------------------------------------------------------------------------------


def is_team_table(shape: TableShape) -> bool:
    """Whether `shape` is `teams` or `team_members` (the tables Studio adds for the team rule)."""
    return shape.entity is None and shape.link is None


def creation_order(model: AppModel) -> tuple[list[TableShape], set[tuple[str, str]]]:
    """Tables in the order they are created, and the (table, column) foreign keys added after all of them.

    Team tables come first, then entities so that each one's link targets exist before it (model order
    breaks ties, and optional links may form a circle: the first entity left takes those keys as later
    `ALTER TABLE`s), then join tables.
    """
    shapes = table_shapes(model)
    team = [s for s in shapes if is_team_table(s)]
    joins = [s for s in shapes if s.link is not None]
    pending = [s for s in shapes if s.entity is not None]
    created = {s.name for s in team}
    ordered: list[TableShape] = []
    deferred: set[tuple[str, str]] = set()
    while pending:
        ready = next((s for s in pending if _link_targets(s) <= created | {s.name}), pending[0])
        for column in ready.columns:
            target = column.references
            if column.role == "link" and target is not None and target.table not in created | {ready.name}:
                deferred.add((ready.name, column.name))
        pending.remove(ready)
        ordered.append(ready)
        created.add(ready.name)
    return [*team, *ordered, *joins], deferred


def _link_targets(shape: TableShape) -> set[str]:
    return {c.references.table for c in shape.columns if c.role == "link" and c.references is not None}


def uses_admin(model: AppModel) -> bool:
    """Whether any policy checks for admins (so the schema needs `is_admin()`)."""
    admin_rules = (Access.PUBLIC_READ_ADMIN_WRITE, Access.CREATE_ONLY_ADMIN_READ)
    return any(e.access in admin_rules for e in model.entities)


def _fn(model: AppModel, name: str) -> str:
    return qualified(model.schema, name)


def _join(parts: Iterable[str]) -> str:
    return "\n".join(parts).rstrip("\n") + "\n"


# -- tables file -----------------------------------------------------------------------------------------------


def schema_sql(model: AppModel) -> str:
    """`supabase/schemas/supabase_tables.sql`: enum types, tables, indexes, triggers, comments, grants, helpers."""
    require_valid(model)
    shapes, deferred = creation_order(model)
    out = [
        f"-- Tables of {_comment_text(model.name)}, generated by Studio from the app's data model.",
        "-- Edit the model and generate again rather than editing this file: it is rewritten on every generate.",
        "-- Who may read and change which rows is decided in supabase_policies.sql.",
        "",
    ]
    if model.schema != "public":
        schema = quote_ident(model.schema)
        out += [f"create schema if not exists {schema};",
                f"grant usage on schema {schema} to anon, authenticated, service_role;", ""]
    enums = [(s, c) for s in shapes for c in s.columns if c.enum_type is not None]
    if enums:
        out.append("-- Choice (enum) types")
        for _shape, column in enums:
            values = ", ".join(quote_literal(v) for v in column.enum_values)
            out.append(f"create type {column.sql_type} as enum ({values});")
        out.append("")
    out += _set_updated_at(model)
    for shape in shapes:
        out += _table(model, shape, deferred)
    later = [(s, c) for s in shapes for c in s.columns if (s.name, c.name) in deferred]
    if later:
        out.append("-- Links that point forward in a circle of optional links, added once both tables exist")
        for shape, column in later:
            out.append(f"alter table {qualified(shape.schema, shape.name)}\n    add {_foreign_key(shape, column)};")
        out.append("")
    if model.uses_teams:
        out += _team_helpers(model)
    if uses_admin(model):
        out += _is_admin(model)
    return _join(out)


def _comment_text(text: str) -> str:
    """`text` on one line, for a `--` comment."""
    return " ".join(text.split()) or "this app"


def _set_updated_at(model: AppModel) -> list[str]:
    fn = _fn(model, naming.SET_UPDATED_AT)
    return [
        "-- Keeps updated_at current on every update (one trigger per table).",
        f"create or replace function {fn}()",
        "    returns trigger",
        "    language plpgsql",
        "    security invoker",
        "    set search_path = ''",
        f"as {_BODY}",
        "begin",
        "    new.updated_at := now();",
        "    return new;",
        "end",
        f"{_BODY};",
        f"comment on function {fn}() is 'Sets updated_at to the current time; used by BEFORE UPDATE triggers.';",
        # Only triggers call it, and triggers do not need the caller to hold EXECUTE.
        f"revoke execute on function {fn}() from public, anon, authenticated;",
        "",
    ]


def _column_sql(column: Column) -> str:
    parts = [quote_ident(column.name), column.sql_type]
    if not column.nullable:
        parts.append("not null")
    if column.default_sql is not None:
        parts.append(f"default {column.default_sql}")
    return " ".join(parts)


def _foreign_key(shape: TableShape, column: Column) -> str:
    ref = column.references
    assert ref is not None
    name = quote_ident(naming.fk_constraint(shape.name, column.name))
    return (f"constraint {name} foreign key ({quote_ident(column.name)})"
            f" references {qualified(ref.schema, ref.table)} (id) on delete {ref.on_delete.lower()}")


def _indexed_columns(shape: TableShape) -> list[str]:
    """Columns that get their own index: foreign keys not already leading the primary key or a unique key."""
    return [c.name for c in shape.columns
            if c.references is not None and not c.unique and c.name != shape.primary_key[0]]


def _table(model: AppModel, shape: TableShape, deferred: set[tuple[str, str]]) -> list[str]:
    table = qualified(shape.schema, shape.name)
    lines = [_column_sql(c) for c in shape.columns]
    lines.append(f"primary key ({', '.join(quote_ident(c) for c in shape.primary_key)})")
    for column in shape.columns:
        if column.unique:
            name = quote_ident(naming.unique_constraint(shape.name, column.name))
            lines.append(f"constraint {name} unique ({quote_ident(column.name)})")
    for column in shape.columns:
        if column.references is not None and (shape.name, column.name) not in deferred:
            lines.append(_foreign_key(shape, column))
    heading = f"{shape.name}: {_comment_text(_table_label(shape))}" if _table_label(shape) else shape.name
    out = [f"-- {heading}", f"create table {table} ("]
    out += [f"    {line}," for line in lines[:-1]] + [f"    {lines[-1]}", ");"]
    for indexed in _indexed_columns(shape):
        out.append(f"create index {quote_ident(naming.index_name(shape.name, indexed))}"
                   f" on {table} ({quote_ident(indexed)});")
    if any(c.name == naming.UPDATED_AT for c in shape.columns):
        out += [f"create trigger {quote_ident(naming.updated_at_trigger(shape.name))}",
                f"    before update on {table}",
                f"    for each row execute function {_fn(model, naming.SET_UPDATED_AT)}();"]
    label = _table_label(shape)
    if label:
        out.append(f"comment on table {table} is {quote_literal(label)};")
    for column in shape.columns:
        if column.label and column.role in ("field", "link"):
            out.append(f"comment on column {table}.{quote_ident(column.name)} is {quote_literal(column.label)};")
    out += _grants(shape, table)
    out.append("")
    return out


def _table_label(shape: TableShape) -> str:
    if shape.entity is not None:
        return shape.entity.label
    if shape.link is not None:
        return shape.link.label
    if shape.name == naming.TEAMS_TABLE:
        return "Teams: groups of users that share the team's data"
    return "Who belongs to each team, and their role in it"


def anon_privileges(shape: TableShape) -> tuple[str, ...]:
    """What `anon` (a visitor who has not signed in) may do to the table at all; its policies narrow it."""
    if is_team_table(shape):
        return ()
    if shape.access in (Access.PUBLIC_READ_OWNER_WRITE, Access.PUBLIC_READ_ADMIN_WRITE):
        return ("select",)
    if shape.access is Access.CREATE_ONLY_ADMIN_READ and shape.link is None:
        return ("insert",)
    return ()


def _grants(shape: TableShape, table: str) -> list[str]:
    out = [
        # Supabase's default privileges give the API roles everything, TRUNCATE included (which RLS does not
        # limit); start from nothing and grant what the access rule needs.
        f"revoke all on table {table} from anon, authenticated;",
        f"grant select, insert, update, delete on table {table} to authenticated;",
    ]
    anon = anon_privileges(shape)
    if anon:
        out.append(f"grant {', '.join(anon)} on table {table} to anon;")
    out.append(f"grant all on table {table} to service_role;")
    return out


def _team_helpers(model: AppModel) -> list[str]:
    member = _fn(model, naming.IS_TEAM_MEMBER)
    adder = _fn(model, naming.ADD_TEAM_OWNER)
    members = qualified(model.schema, naming.MEMBERS_TABLE)
    teams = qualified(model.schema, naming.TEAMS_TABLE)
    return [
        "-- Whether the signed-in user belongs to a team. Security definer: it reads team_members with its owner's",
        "-- rights, so policies (including team_members' own) can call it without applying team_members' policies.",
        f"create or replace function {member}(team_id uuid)",
        "    returns boolean",
        "    language sql",
        "    stable",
        "    security definer",
        "    set search_path = ''",
        f"as {_BODY}",
        "    select exists (",
        f"        select 1 from {members} m",
        f"        where m.{naming.TEAM} = $1 and m.{naming.MEMBER_USER} = {_UID}",
        "    )",
        f"{_BODY};",
        f"comment on function {member}(uuid) is"
        " 'Whether the signed-in user is a member of the team; used by row level security policies.';",
        f"revoke execute on function {member}(uuid) from public, anon;",
        f"grant execute on function {member}(uuid) to authenticated, service_role;",
        "",
        "-- A new team's creator becomes its first member, with the role owner.",
        f"create or replace function {adder}()",
        "    returns trigger",
        "    language plpgsql",
        "    security definer",
        "    set search_path = ''",
        f"as {_BODY}",
        "begin",
        f"    insert into {members} ({naming.TEAM}, {naming.MEMBER_USER}, {naming.MEMBER_ROLE})",
        f"    values (new.id, new.{naming.OWNER}, 'owner')",
        f"    on conflict ({naming.TEAM}, {naming.MEMBER_USER}) do nothing;",
        "    return null;",
        "end",
        f"{_BODY};",
        f"comment on function {adder}() is 'Makes the creator of a team its first member (role owner).';",
        f"revoke execute on function {adder}() from public, anon, authenticated;",
        f"create trigger {quote_ident(naming.add_team_owner_trigger())}",
        f"    after insert on {teams}",
        f"    for each row execute function {adder}();",
        "",
    ]


def _is_admin(model: AppModel) -> list[str]:
    fn = _fn(model, naming.IS_ADMIN)
    return [
        "-- Whether the signed-in user is an admin: app_metadata.role = 'admin' in their token. Only the server",
        "-- (service role, dashboard) can change app_metadata; users can change user_metadata, so it is not used.",
        f"create or replace function {fn}()",
        "    returns boolean",
        "    language sql",
        "    stable",
        "    security invoker",
        "    set search_path = ''",
        f"as {_BODY}",
        "    select coalesce((select auth.jwt()) -> 'app_metadata' ->> 'role' = 'admin', false)",
        f"{_BODY};",
        f"comment on function {fn}() is 'Whether the signed-in user has the admin role in their app_metadata.';",
        f"revoke execute on function {fn}() from public, anon;",
        f"grant execute on function {fn}() to authenticated, service_role;",
        "",
    ]


# -- policies file ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """One policy: its name, command, roles, and its USING / WITH CHECK conditions (None when not used)."""

    name: str
    command: str
    roles: tuple[str, ...]
    using: str | None = None
    check: str | None = None

    def sql(self, table: str) -> str:
        """The CREATE POLICY statement for `table` (a qualified name)."""
        lines = [f"create policy {quote_ident(self.name)} on {table}",
                 f"    for {self.command} to {', '.join(self.roles)}"]
        if self.using is not None:
            lines.append(f"    using ({self.using})")
        if self.check is not None:
            lines.append(f"    with check ({self.check})")
        return "\n".join(lines) + ";"


_AUTH = ("authenticated",)
_EVERYONE = ("anon", "authenticated")


def policies_for(model: AppModel, shape: TableShape) -> list[Policy]:
    """The policies of one table, one per command, following its access rule."""
    if shape.name == naming.TEAMS_TABLE and is_team_table(shape):
        return _teams_policies(model)
    if shape.name == naming.MEMBERS_TABLE and is_team_table(shape):
        return _members_policies(model)
    if shape.link is not None:
        return _join_policies(model, shape)
    return _entity_policies(model, shape)


def _admin(model: AppModel) -> str:
    return f"(select {_fn(model, naming.IS_ADMIN)}())"


def _entity_policies(model: AppModel, shape: TableShape) -> list[Policy]:
    own = f"{naming.OWNER} = {_UID}"
    admin = _admin(model)
    access = shape.access
    if access is Access.PRIVATE:
        return [
            Policy("Owners read their rows", "select", _AUTH, using=own),
            Policy("Owners add their rows", "insert", _AUTH, check=own),
            Policy("Owners change their rows", "update", _AUTH, using=own, check=own),
            Policy("Owners delete their rows", "delete", _AUTH, using=own),
        ]
    if access is Access.TEAM:
        member = f"{_fn(model, naming.IS_TEAM_MEMBER)}({naming.TEAM})"
        return [
            Policy("Team members read the team's rows", "select", _AUTH, using=member),
            # The creator is recorded as the signed-in user, never someone else.
            Policy("Team members add rows as themselves", "insert", _AUTH, check=f"{member} and {own}"),
            Policy("Team members change the team's rows", "update", _AUTH, using=member, check=member),
            Policy("Team members delete the team's rows", "delete", _AUTH, using=member),
        ]
    if access is Access.PUBLIC_READ_OWNER_WRITE:
        return [
            Policy("Anyone can read", "select", _EVERYONE, using="true"),
            Policy("Owners add their rows", "insert", _AUTH, check=own),
            Policy("Owners change their rows", "update", _AUTH, using=own, check=own),
            Policy("Owners delete their rows", "delete", _AUTH, using=own),
        ]
    if access is Access.PUBLIC_READ_ADMIN_WRITE:
        return [
            Policy("Anyone can read", "select", _EVERYONE, using="true"),
            Policy("Admins add rows", "insert", _AUTH, check=admin),
            Policy("Admins change rows", "update", _AUTH, using=admin, check=admin),
            Policy("Admins delete rows", "delete", _AUTH, using=admin),
        ]
    return [
        Policy("Admins read rows", "select", _AUTH, using=admin),
        Policy("Anyone can add a well-formed row", "insert", _EVERYONE, check=_sane_submission(shape)),
        Policy("Admins change rows", "update", _AUTH, using=admin, check=admin),
        Policy("Admins delete rows", "delete", _AUTH, using=admin),
    ]


def _sane_submission(shape: TableShape) -> str:
    """What a row added by anyone (a contact form) must satisfy: required text filled in, and not back-dated."""
    checks = [f"length(btrim({quote_ident(c.name)})) > 0" for c in shape.columns
              if c.role == "field" and not c.nullable and c.sql_type == "text"]
    # Visitors must not back- or forward-date what they send: admins sort and filter by these.
    checks += [f"{naming.CREATED_AT} = now()", f"{naming.UPDATED_AT} = now()"]
    return " and ".join(checks)


def _teams_policies(model: AppModel) -> list[Policy]:
    own = f"{naming.OWNER} = {_UID}"
    member = f"{_fn(model, naming.IS_TEAM_MEMBER)}(id)"
    return [
        # The owner too: the trigger adding them as a member runs after the insert's RETURNING is checked.
        Policy("Members read their teams", "select", _AUTH, using=f"{own} or {member}"),
        Policy("Signed-in users create teams they own", "insert", _AUTH, check=own),
        Policy("Owners change their teams", "update", _AUTH, using=own, check=own),
        Policy("Owners delete their teams", "delete", _AUTH, using=own),
    ]


def _members_policies(model: AppModel) -> list[Policy]:
    teams = qualified(model.schema, naming.TEAMS_TABLE)
    members = quote_ident(naming.MEMBERS_TABLE)
    owner = (f"exists (select 1 from {teams} t where t.id = {members}.{naming.TEAM}"
             f" and t.{naming.OWNER} = {_UID})")
    member = f"{_fn(model, naming.IS_TEAM_MEMBER)}({naming.TEAM})"
    return [
        Policy("Members read their team's members", "select", _AUTH, using=member),
        Policy("Team owners add members", "insert", _AUTH, check=owner),
        Policy("Team owners change members", "update", _AUTH, using=owner, check=owner),
        Policy("Team owners remove members", "delete", _AUTH, using=owner),
    ]


def _join_policies(model: AppModel, shape: TableShape) -> list[Policy]:
    """A join table follows its source entity's rule, checked on the source row its row points at.

    The subqueries read the source and target tables, whose own policies apply inside them (a different
    table, so no recursion); they add nothing a user could not see anyway.
    """
    link = shape.link
    assert link is not None
    source_column, target_column = shape.columns[0].name, shape.columns[1].name
    here = quote_ident(shape.name)
    source = qualified(model.schema, link.source)
    target = qualified(model.schema, link.target)

    def on_source(condition: str) -> str:
        """`condition` holds for the source row this join row points at."""
        return (f"exists (select 1 from {source} src where src.id = {here}.{quote_ident(source_column)}"
                f" and {condition})")

    # Linking to a row one cannot see would leak its existence (foreign keys are checked without policies).
    visible_target = f"exists (select 1 from {target} tgt where tgt.id = {here}.{quote_ident(target_column)})"
    admin = _admin(model)
    access = shape.access
    if access in (Access.PRIVATE, Access.PUBLIC_READ_OWNER_WRITE, Access.TEAM):
        if access is Access.TEAM:
            mine = on_source(f"{_fn(model, naming.IS_TEAM_MEMBER)}(src.{naming.TEAM})")
            who = "Team members"
        else:
            mine = on_source(f"src.{naming.OWNER} = {_UID}")
            who = "Owners"
        write = f"{mine} and {visible_target}"
        read = Policy(f"{who} read links", "select", _AUTH, using=mine)
        if access is Access.PUBLIC_READ_OWNER_WRITE:
            read = Policy("Anyone can read links", "select", _EVERYONE, using="true")
        return [
            read,
            Policy(f"{who} add links", "insert", _AUTH, check=write),
            Policy(f"{who} change links", "update", _AUTH, using=mine, check=write),
            Policy(f"{who} delete links", "delete", _AUTH, using=mine),
        ]
    if access is Access.PUBLIC_READ_ADMIN_WRITE:
        read = Policy("Anyone can read links", "select", _EVERYONE, using="true")
    else:
        # Visitors cannot see the rows they sent (not even their ids), so only admins link them.
        read = Policy("Admins read links", "select", _AUTH, using=admin)
    return [
        read,
        Policy("Admins add links", "insert", _AUTH, check=admin),
        Policy("Admins change links", "update", _AUTH, using=admin, check=admin),
        Policy("Admins delete links", "delete", _AUTH, using=admin),
    ]


def policies_sql(model: AppModel) -> str:
    """`supabase/schemas/supabase_policies.sql`: row level security on every table and its policies."""
    require_valid(model)
    shapes, _ = creation_order(model)
    out = [
        f"-- Row level security of {_comment_text(model.name)}, generated by Studio from the app's data model.",
        "-- Every table has it on; each policy says who may do one thing (read, add, change, delete) to which rows.",
        "-- (select auth.uid()) is the signed-in user, read once per query; anon is a visitor who is not signed in.",
        "",
    ]
    for shape in shapes:
        table = qualified(shape.schema, shape.name)
        out += [f"-- {shape.name}: {_rule_words(shape)}", f"alter table {table} enable row level security;"]
        out += [p.sql(table) for p in policies_for(model, shape)]
        out.append("")
    return _join(out)


def _rule_words(shape: TableShape) -> str:
    if is_team_table(shape):
        if shape.name == naming.TEAMS_TABLE:
            return "members read their teams, anyone signed in creates one, its owner changes or deletes it"
        return "members see who is in their team; the team's owner adds, changes and removes members"
    words = {
        Access.PRIVATE: "private to its owner",
        Access.TEAM: "shared within the row's team",
        Access.PUBLIC_READ_OWNER_WRITE: "anyone reads, only the owner changes",
        Access.PUBLIC_READ_ADMIN_WRITE: "anyone reads, only admins change",
        Access.CREATE_ONLY_ADMIN_READ: "anyone adds, only admins read and change",
    }
    text = words[shape.access] if shape.access is not None else ""
    if shape.link is not None:
        text += f" (follows {shape.link.source})"
    return text
