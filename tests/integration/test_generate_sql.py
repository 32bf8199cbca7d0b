"""Generated schema, policies and seed on a real database: every template deploys through Studio's own pipeline,
the seed loads, and the policies let each user do exactly what the model's access rules say.

Users act the way PostgREST makes them act: inside a transaction, `request.jwt.claims` is set and the role is
switched to `anon` or `authenticated` (see `as_user`). Writes a policy refuses either fail with 42501 (an
INSERT or the new row of an UPDATE: "new row violates row-level security policy"; a role without the table
privilege: "permission denied") or touch no row (UPDATE and DELETE only see rows their USING allows).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import errors
from psycopg.pq import TransactionStatus

from studio.core.generate.seed import ADA, GRACE, LINUS, SAMPLE_TEAMS, SAMPLE_USERS, SampleUser, seed_sql
from studio.core.generate.sql import (
    POLICIES_FILE,
    SEED_FILE,
    TABLES_FILE,
    generate_sql_files,
    policies_sql,
    schema_sql,
)
from studio.core.generate.tables import TableShape, table_shapes
from studio.core.lint import Level, lint_catalog
from studio.core.migrations.apply import apply_plan
from studio.core.model import naming
from studio.core.model.appmodel import Access, AppModel, Entity, Field, FieldType, Link, LinkKind, OnDelete
from studio.core.model.templates import TEMPLATES, template
from studio.core.schema.catalog import Catalog
from studio.core.schema.planner import make_plan
from studio.core.schema.shadow import catalog_of_sources
from studio.core.sqltext import qualified, quote_ident
from studio.core.targets.local import LocalServer
from studio.core.targets.postgres import PostgresTarget

TEMPLATE_NAMES = [t.name for t in TEMPLATES]
ROW_LEVEL_SECURITY = "row-level security"


# -- helpers -------------------------------------------------------------------------------------------------


@contextmanager
def as_user(conn: psycopg.Connection[tuple[object, ...]], user_id: str | None, *, admin: bool = False,
            email: str = "") -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """Act as a signed-in user (`user_id`) or, with None, as a visitor (`anon`), like PostgREST does.

    Must run inside a transaction: the claims and the role are set with `set_config(..., true)` and
    `SET LOCAL ROLE`, so they end with it. `admin` puts `role: admin` into the token's app_metadata.
    """
    assert conn.info.transaction_status == TransactionStatus.INTRANS, "as_user needs a transaction"
    if user_id is None:
        claims: dict[str, object] = {"role": "anon"}
        role = "anon"
    else:
        app_metadata: dict[str, object] = {"provider": "email", "providers": ["email"]}
        if admin:
            app_metadata["role"] = "admin"
        claims = {"sub": user_id, "role": "authenticated", "aud": "authenticated", "email": email,
                  "app_metadata": app_metadata, "user_metadata": {}}
        role = "authenticated"
    conn.execute("select set_config('request.jwt.claims', %s, true)", [json.dumps(claims)])
    conn.execute(f"set local role {role}")
    try:
        yield conn
    finally:
        if conn.info.transaction_status == TransactionStatus.INTRANS:
            conn.execute("set local role none")
            conn.execute("select set_config('request.jwt.claims', '', true)")


@dataclass(frozen=True)
class Actor:
    """Someone making requests: a sample user (None: a visitor), possibly with the admin claim."""

    name: str
    user: SampleUser | None
    admin: bool = False

    @contextmanager
    def acting(self, conn: psycopg.Connection[tuple[object, ...]]) -> Iterator[None]:
        """`as_user` for this actor."""
        user_id = self.user.id if self.user is not None else None
        email = self.user.email if self.user is not None else ""
        with as_user(conn, user_id, admin=self.admin, email=email):
            yield


ANON = Actor("anon", None)
ACTORS = (ANON, Actor("ada", ADA), Actor("grace", GRACE), Actor("linus", LINUS), Actor("admin", GRACE, admin=True))


def deploy_with_studio(local_server: LocalServer, target: PostgresTarget, model: AppModel) -> Catalog:
    """Deploy the generated schema files the way Studio does; a second plan must then be empty."""
    files = generate_sql_files(model)
    sources = [(TABLES_FILE, files[TABLES_FILE]), (POLICIES_FILE, files[POLICIES_FILE])]
    desired = asyncio.run(catalog_of_sources(local_server, sources))
    plan = asyncio.run(make_plan(target, desired))
    assert not plan.not_handled
    assert not plan.empty
    asyncio.run(apply_plan(target, plan, workspace=None, name="generated_schema"))
    again = asyncio.run(make_plan(target, desired))
    assert again.empty, [c.title for c in again.changes]
    assert not again.not_handled
    return desired


def apply_files(db_url: str, model: AppModel) -> None:
    """Run the three generated files directly, in order, as the superuser."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("set client_min_messages = warning")
        for text in (schema_sql(model), policies_sql(model), seed_sql(model)):
            conn.execute(text.encode())


def count(conn: psycopg.Connection[tuple[object, ...]], sql: str, params: list[object] | None = None) -> int:
    """The single integer `sql` returns."""
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return int(str(row[0]))


@contextmanager
def rolled_back(conn: psycopg.Connection[tuple[object, ...]]) -> Iterator[None]:
    """A transaction (or savepoint) that is always rolled back."""
    with conn.transaction(force_rollback=True):
        yield


# -- the access matrix -----------------------------------------------------------------------------------------


@dataclass
class Row:
    """A seeded row: its key (primary key values as JSON text), owner and team, and its source row's."""

    key: str
    owner: str | None = None
    team: str | None = None
    source_owner: str | None = None
    source_team: str | None = None
    target_key: str | None = None


class Matrix:
    """Who should be able to do what to every seeded row of a model, checked statement by statement."""

    def __init__(self, model: AppModel, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        self.model = model
        self.conn = conn
        members = conn.execute(f"select team_id::text, user_id::text from {self._t(naming.MEMBERS_TABLE)}"
                               ).fetchall() if model.uses_teams else []
        self.members: dict[str, set[str]] = {}
        for team, user in members:
            self.members.setdefault(str(team), set()).add(str(user))
        self.team_owner = {t.id: t.owner.id for t in SAMPLE_TEAMS} if model.uses_teams else {}
        self.checked = 0

    def _t(self, name: str) -> str:
        return qualified(self.model.schema, name)

    @staticmethod
    def key_sql(shape: TableShape, alias: str = "") -> str:
        """SQL of a row's key: its primary key values as a JSON array text."""
        prefix = f"{alias}." if alias else ""
        return f"jsonb_build_array({', '.join(prefix + quote_ident(c) for c in shape.primary_key)})::text"

    def rows(self, shape: TableShape) -> list[Row]:
        """The seeded rows of `shape`, with what decides access to them."""
        table = self._t(shape.name)
        columns = {c.name for c in shape.columns}
        owner = "x.owner_id::text" if naming.OWNER in columns else "null"
        team = "x.team_id::text" if naming.TEAM in columns else "null"
        source = "null, null, null"
        joins = ""
        if shape.link is not None:
            src = self.model.entity(shape.link.source)
            assert src is not None
            src_cols = {c.name for c in next(s for s in table_shapes(self.model) if s.name == src.name).columns}
            source = ", ".join([
                "s.owner_id::text" if naming.OWNER in src_cols else "null",
                "s.team_id::text" if naming.TEAM in src_cols else "null",
                f"x.{quote_ident(shape.columns[1].name)}::text",
            ])
            joins = f" join {self._t(src.name)} s on s.id = x.{quote_ident(shape.columns[0].name)}"
        sql = f"select {self.key_sql(shape, 'x')}, {owner}, {team}, {source} from {table} x{joins} order by 1"
        return [Row(*(None if v is None else str(v) for v in r)) for r in self.conn.execute(sql).fetchall()]

    # -- what the rules say -----------------------------------------------------------------------------------

    def _member(self, actor: Actor, team: str | None) -> bool:
        return actor.user is not None and team is not None and actor.user.id in self.members.get(team, set())

    def _is(self, actor: Actor, user: str | None) -> bool:
        return actor.user is not None and actor.user.id == user

    def privileged(self, shape: TableShape, actor: Actor, command: str) -> bool:
        """Whether the actor's role holds the table privilege for `command` at all."""
        if actor.user is not None:
            return True
        if shape.entity is None and shape.link is None:
            return False
        if shape.access in (Access.PUBLIC_READ_OWNER_WRITE, Access.PUBLIC_READ_ADMIN_WRITE):
            return command == "select"
        if shape.access is Access.CREATE_ONLY_ADMIN_READ and shape.link is None:
            return command == "insert"
        return False

    def allowed(self, shape: TableShape, actor: Actor, command: str, row: Row) -> bool:
        """Whether the access rule lets `actor` run `command` on `row` (for insert: add it back as it is).

        In every rule an UPDATE's USING is its DELETE's, so `allowed(..., "delete", ...)` says whether an UPDATE
        reaches the row at all, and `allowed(..., "update", ...)` whether its WITH CHECK then accepts it.
        """
        if shape.name == naming.TEAMS_TABLE and shape.entity is None:
            if command == "select":
                return self._is(actor, row.owner) or self._member(actor, self._team_of_key(row))
            return self._is(actor, row.owner)
        if shape.name == naming.MEMBERS_TABLE and shape.entity is None:
            team = json.loads(row.key)[0]
            if command == "select":
                return self._member(actor, team)
            return self._is(actor, self.team_owner[team])
        access = shape.access
        if shape.link is not None:
            return self._join_allowed(shape, actor, command, row)
        if access is Access.PRIVATE:
            return self._is(actor, row.owner)
        if access is Access.TEAM:
            member = self._member(actor, row.team)
            return member and (command != "insert" or self._is(actor, row.owner))
        if access is Access.PUBLIC_READ_OWNER_WRITE:
            return command == "select" or self._is(actor, row.owner)
        if access is Access.PUBLIC_READ_ADMIN_WRITE:
            return command == "select" or actor.admin
        assert access is Access.CREATE_ONLY_ADMIN_READ
        return command == "insert" or actor.admin

    @staticmethod
    def _team_of_key(row: Row) -> str:
        return str(json.loads(row.key)[0])

    def _join_allowed(self, shape: TableShape, actor: Actor, command: str, row: Row) -> bool:
        access = shape.access
        if access in (Access.PUBLIC_READ_ADMIN_WRITE, Access.CREATE_ONLY_ADMIN_READ):
            return actor.admin or (command == "select" and access is Access.PUBLIC_READ_ADMIN_WRITE)
        if command == "select" and access is Access.PUBLIC_READ_OWNER_WRITE:
            return True
        mine = self._member(actor, row.source_team) if access is Access.TEAM else self._is(actor, row.source_owner)
        if command in ("insert", "update") and mine:
            return self._target_visible(shape, actor, row)
        return mine

    def _target_visible(self, shape: TableShape, actor: Actor, row: Row) -> bool:
        assert shape.link is not None
        with rolled_back(self.conn), actor.acting(self.conn):
            found = self.conn.execute(f"select 1 from {self._t(shape.link.target)} where id = %s::uuid",
                                      [row.target_key]).fetchone()
        return found is not None

    # -- what the database does ---------------------------------------------------------------------------------

    def check_table(self, shape: TableShape) -> None:
        """Every actor, every command, every seeded row of `shape`: the database agrees with the rules."""
        rows = self.rows(shape)
        # a join table may stay empty: when no target row is visible to the source rows' users
        assert rows or shape.link is not None, f"the seed has no rows in {shape.name}"
        table = self._t(shape.name)
        key = self.key_sql(shape)
        for actor in ACTORS:
            where = f"{actor.name} on {shape.name}"
            with rolled_back(self.conn), actor.acting(self.conn):
                if not self.privileged(shape, actor, "select"):
                    with pytest.raises(errors.InsufficientPrivilege), self.conn.transaction():
                        self.conn.execute(f"select 1 from {table}")
                    seen = None
                else:
                    seen = {str(r[0]) for r in self.conn.execute(f"select {key} from {table}").fetchall()}
            if seen is not None:
                expected = {r.key for r in rows if self.allowed(shape, actor, "select", r)}
                assert seen == expected, f"{where}: select"
            for row in rows:
                for command in ("update", "delete", "insert"):
                    self._check_write(shape, actor, command, row)

    def _record(self, shape: TableShape) -> str:
        """SQL of the row to add back, from its JSON; a visitor's submission is dated now, as the rule wants."""
        values = "%s::jsonb"
        if shape.access is Access.CREATE_ONLY_ADMIN_READ and shape.link is None:
            values += " || jsonb_build_object('created_at', now(), 'updated_at', now())"
        return f"jsonb_populate_record(null::{self._t(shape.name)}, {values})"

    def _check_write(self, shape: TableShape, actor: Actor, command: str, row: Row) -> None:
        table = self._t(shape.name)
        key = self.key_sql(shape)
        where = f"{actor.name} {command} {shape.name} {row.key}"
        privileged = self.privileged(shape, actor, command)
        allowed = privileged and self.allowed(shape, actor, command, row)
        with rolled_back(self.conn):
            # Foreign keys are not what this checks: with replica, RESTRICT does not stop a delete.
            self.conn.execute("set local session_replication_role = replica")
            values = None
            if command == "insert":
                record = self.conn.execute(f"select to_jsonb(x) from {table} x where {self.key_sql(shape, 'x')} = %s",
                                           [row.key]).fetchone()
                assert record is not None
                values = record[0]
                self.conn.execute(f"delete from {table} where {key} = %s", [row.key])
            with actor.acting(self.conn):
                try:
                    with self.conn.transaction():
                        if command == "update":
                            done = self.conn.execute(f"update {table} set created_at = created_at where {key} = %s",
                                                     [row.key]).rowcount
                        elif command == "delete":
                            done = self.conn.execute(f"delete from {table} where {key} = %s", [row.key]).rowcount
                        else:
                            done = self.conn.execute(f"insert into {table} select * from {self._record(shape)}",
                                                     [json.dumps(values)]).rowcount
                    outcome: int | str = done
                except errors.InsufficientPrivilege as exc:
                    outcome = str(exc)
        self.checked += 1
        if allowed:
            assert outcome == 1, f"{where}: expected to succeed, got {outcome!r}"
        elif not privileged:
            assert isinstance(outcome, str) and "permission denied" in outcome, f"{where}: {outcome!r}"
        elif command == "insert" or (command == "update" and self.allowed(shape, actor, "delete", row)):
            # an INSERT, or an UPDATE whose USING lets the row through but whose WITH CHECK refuses it
            assert isinstance(outcome, str) and ROW_LEVEL_SECURITY in outcome, f"{where}: {outcome!r}"
        else:
            assert outcome == 0, f"{where}: expected no row touched, got {outcome!r}"


# -- every template, through Studio's pipeline ---------------------------------------------------------------------


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_deploys_seeds_and_enforces_its_access_rules(
    local_server: LocalServer, target: PostgresTarget, db_url: str, name: str
) -> None:
    model = template(name).build()
    desired = deploy_with_studio(local_server, target, model)

    findings = [f for f in lint_catalog(desired) if f.level in (Level.ERROR, Level.WARNING)]
    assert findings == [], [f"{f.rule}: {f.title}" for f in findings]

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(generate_sql_files(model)[SEED_FILE].encode())
        matrix = Matrix(model, conn)
        shapes = table_shapes(model)
        for shape in shapes:
            matrix.check_table(shape)
        # rows x actors x (update, delete, insert) statements were checked
        assert matrix.checked >= len(shapes) * len(ACTORS) * 3


def test_every_table_has_rls_and_every_policy_reads_the_user_once() -> None:
    for item in TEMPLATES:
        policies = policies_sql(item.build())
        assert "auth.uid()" in policies
        assert policies.count("auth.uid()") == policies.count("(select auth.uid())")
        for shape in table_shapes(item.build()):
            assert f"alter table {qualified(shape.schema, shape.name)} enable row level security;" in policies


# -- the rules, told as stories with concrete numbers ---------------------------------------------------------------


def _ids(conn: psycopg.Connection[tuple[object, ...]], sql: str, params: list[object] | None = None) -> int:
    """How many rows `sql` returns to the current user."""
    return len(conn.execute(sql, params).fetchall())


def test_private_rows_belong_to_their_owner(db_url: str) -> None:
    model = template("todo").build()
    apply_files(db_url, model)
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert count(conn, "select count(*) from public.lists") == 5
        assert count(conn, "select count(*) from public.todos") == 5
        seen = {}
        for user in SAMPLE_USERS:
            with rolled_back(conn), as_user(conn, user.id):
                seen[user.email] = (_ids(conn, "select id from public.lists"),
                                    _ids(conn, "select id from public.todos"))
        assert seen == {"ada@example.com": (2, 2), "grace@example.com": (2, 2), "linus@example.com": (1, 1)}

        grace_list = conn.execute("select id from public.lists where owner_id = %s limit 1", [GRACE.id]).fetchone()
        ada_todo = conn.execute("select id, updated_at from public.todos where owner_id = %s limit 1",
                                [ADA.id]).fetchone()
        assert grace_list is not None and ada_todo is not None
        with rolled_back(conn), as_user(conn, ADA.id):
            # Ada cannot read, change or delete Grace's list: the statements see no row
            assert conn.execute("update public.lists set title = 'Mine now' where id = %s",
                                [grace_list[0]]).rowcount == 0
            assert conn.execute("delete from public.lists where id = %s", [grace_list[0]]).rowcount == 0
            # she cannot add a row in Grace's name, nor hand her own row to Grace
            with pytest.raises(errors.InsufficientPrivilege, match=ROW_LEVEL_SECURITY), conn.transaction():
                conn.execute("insert into public.lists (title, owner_id) values ('Sneaky', %s)", [GRACE.id])
            with pytest.raises(errors.InsufficientPrivilege, match=ROW_LEVEL_SECURITY), conn.transaction():
                conn.execute("update public.todos set owner_id = %s where id = %s", [GRACE.id, ada_todo[0]])
            # her own rows: owner_id defaults to her, and the updated_at trigger runs for her
            conn.execute("insert into public.lists (title) values ('Books to read')")
            assert _ids(conn, "select id from public.lists") == 3
            conn.execute("update public.todos set done = not done where id = %s", [ada_todo[0]])
            changed = conn.execute("select updated_at from public.todos where id = %s", [ada_todo[0]]).fetchone()
            assert changed is not None and changed[0] > ada_todo[1]
        with (rolled_back(conn), as_user(conn, None),
              pytest.raises(errors.InsufficientPrivilege, match="permission denied"), conn.transaction()):
            conn.execute("select id from public.todos")


def test_public_posts_owner_writes_and_admin_categories(db_url: str) -> None:
    model = template("blog").build()
    apply_files(db_url, model)
    with psycopg.connect(db_url, autocommit=True) as conn:
        posts = count(conn, "select count(*) from public.posts")
        categories = count(conn, "select count(*) from public.categories")
        assert (posts, categories) == (3, 5)
        with rolled_back(conn), as_user(conn, None):
            assert _ids(conn, "select id from public.posts") == posts
            assert _ids(conn, "select id from public.categories") == categories
            assert _ids(conn, "select id from public.comments") == 3
            with pytest.raises(errors.InsufficientPrivilege, match="permission denied"), conn.transaction():
                conn.execute("insert into public.posts (title, body) values ('Spam', 'Buy now')")
        with rolled_back(conn), as_user(conn, LINUS.id):
            assert _ids(conn, "select id from public.posts") == posts
            assert conn.execute("update public.posts set title = 'Edited'").rowcount == 1  # only his own
            assert conn.execute("delete from public.posts").rowcount == 1
            conn.execute("insert into public.posts (title, body) values ('Linus writes', 'Hello.')")
            # categories are for admins: a plain user adds none and changes none
            with pytest.raises(errors.InsufficientPrivilege, match=ROW_LEVEL_SECURITY), conn.transaction():
                conn.execute("insert into public.categories (name, slug) values ('Music', 'music')")
            assert conn.execute("update public.categories set name = name || '!'").rowcount == 0
            assert conn.execute("delete from public.categories").rowcount == 0
        # Grace is an admin in the seed's auth.users, but only the token's app_metadata counts
        with (rolled_back(conn), as_user(conn, GRACE.id),
              pytest.raises(errors.InsufficientPrivilege, match=ROW_LEVEL_SECURITY), conn.transaction()):
            conn.execute("insert into public.categories (name, slug) values ('Music', 'music')")
        with rolled_back(conn), as_user(conn, GRACE.id, admin=True):
            conn.execute("insert into public.categories (name, slug) values ('Music', 'music')")
            assert conn.execute("update public.categories set name = name || '!'").rowcount == categories + 1
            assert conn.execute("delete from public.categories where slug = 'music'").rowcount == 1


def test_contact_form_is_write_only_for_visitors(db_url: str) -> None:
    model = template("blog").build()
    apply_files(db_url, model)
    with psycopg.connect(db_url, autocommit=True) as conn:
        seeded = count(conn, "select count(*) from public.contact_messages")
        assert seeded == 5
        with rolled_back(conn):
            with as_user(conn, None):
                conn.execute("insert into public.contact_messages (email, message) values ('sam@example.com', 'Hi!')")
                with pytest.raises(errors.InsufficientPrivilege, match="permission denied"), conn.transaction():
                    conn.execute("select id from public.contact_messages")
                # the row must be sane: text filled in, dates not chosen by the visitor
                with pytest.raises(errors.InsufficientPrivilege, match=ROW_LEVEL_SECURITY), conn.transaction():
                    conn.execute("insert into public.contact_messages (email, message) values ('x@example.com', ' ')")
                with pytest.raises(errors.InsufficientPrivilege, match=ROW_LEVEL_SECURITY), conn.transaction():
                    conn.execute("insert into public.contact_messages (email, message, created_at)"
                                 " values ('x@example.com', 'Old news', now() - interval '1 year')")
            with as_user(conn, ADA.id):
                conn.execute("insert into public.contact_messages (email, message) values ('ada@example.com', 'Hi')")
                assert _ids(conn, "select id from public.contact_messages") == 0
                assert conn.execute("update public.contact_messages set message = 'x'").rowcount == 0
                assert conn.execute("delete from public.contact_messages").rowcount == 0
            with as_user(conn, GRACE.id, admin=True):
                assert _ids(conn, "select id from public.contact_messages") == seeded + 2
                assert conn.execute("delete from public.contact_messages").rowcount == seeded + 2


def test_team_data_is_shared_with_members_only(db_url: str) -> None:
    model = template("team").build()
    apply_files(db_url, model)
    acme, blue = SAMPLE_TEAMS
    with psycopg.connect(db_url, autocommit=True) as conn:
        per_team = {team: count(conn, "select count(*) from public.tasks where team_id = %s", [team.id])
                    for team in SAMPLE_TEAMS}
        assert per_team == {acme: 2, blue: 2}
        with rolled_back(conn), as_user(conn, LINUS.id):  # a member of Acme
            assert _ids(conn, "select id from public.tasks") == 2
            assert _ids(conn, "select id from public.teams") == 1
            assert _ids(conn, "select user_id from public.team_members") == 2
            assert conn.execute("update public.tasks set title = title || '!'").rowcount == 2
            # not the owner of Acme: cannot add people to it
            with pytest.raises(errors.InsufficientPrivilege, match=ROW_LEVEL_SECURITY), conn.transaction():
                conn.execute("insert into public.team_members (team_id, user_id) values (%s, %s)", [acme.id, GRACE.id])
            # cannot put rows into a team he is not in, nor move Acme's rows there
            with pytest.raises(errors.InsufficientPrivilege, match=ROW_LEVEL_SECURITY), conn.transaction():
                conn.execute("insert into public.labels (team_id, name) values (%s, 'mine')", [blue.id])
            with pytest.raises(errors.InsufficientPrivilege, match=ROW_LEVEL_SECURITY), conn.transaction():
                conn.execute("update public.labels set team_id = %s", [blue.id])
            # join rows follow the task: he sees Acme's task-label links only
            links = count(conn, "select count(*) from public.tasks_labels")
        assert links == count(conn, "select count(*) from public.tasks_labels l join public.tasks t on t.id = l.task_id"
                                    " where t.team_id = %s", [acme.id])
        with rolled_back(conn), as_user(conn, GRACE.id, admin=True):  # admin rights do not open other teams
            assert _ids(conn, "select id from public.tasks") == 2
            assert _ids(conn, "select id from public.projects where team_id = %s", [acme.id]) == 0


def test_a_new_team_starts_with_its_creator_as_owner(db_url: str) -> None:
    model = template("team").build()
    apply_files(db_url, model)
    with psycopg.connect(db_url, autocommit=True) as conn, rolled_back(conn):
        with as_user(conn, LINUS.id):
            row = conn.execute("insert into public.teams (name) values ('Night owls') returning id").fetchone()
            assert row is not None
            team = row[0]
            members = conn.execute("select user_id::text, role from public.team_members where team_id = %s",
                                   [team]).fetchall()
            assert members == [(LINUS.id, "owner")]
            conn.execute("insert into public.projects (team_id, name) values (%s, 'Moonlighting')", [team])
            # a team cannot be created in someone else's name
            with pytest.raises(errors.InsufficientPrivilege, match=ROW_LEVEL_SECURITY), conn.transaction():
                conn.execute("insert into public.teams (name, owner_id) values ('Fake', %s)", [ADA.id])
        with as_user(conn, GRACE.id):
            assert _ids(conn, "select id from public.projects where team_id = %s", [team]) == 0
            with pytest.raises(errors.InsufficientPrivilege, match=ROW_LEVEL_SECURITY), conn.transaction():
                conn.execute("insert into public.team_members (team_id, user_id) values (%s, %s)", [team, GRACE.id])
        with as_user(conn, LINUS.id):  # the owner invites Grace
            conn.execute("insert into public.team_members (team_id, user_id) values (%s, %s)", [team, GRACE.id])
        with as_user(conn, GRACE.id):
            assert _ids(conn, "select id from public.projects where team_id = %s", [team]) == 1
            assert conn.execute("delete from public.team_members where team_id = %s", [team]).rowcount == 0
        with as_user(conn, LINUS.id):
            assert conn.execute("delete from public.team_members where team_id = %s and user_id = %s",
                                [team, GRACE.id]).rowcount == 1
        with as_user(conn, GRACE.id):
            assert _ids(conn, "select id from public.projects where team_id = %s", [team]) == 0


def test_bookings_are_private_and_slots_are_run_by_admins(db_url: str) -> None:
    model = template("booking").build()
    apply_files(db_url, model)
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert count(conn, "select count(*) from public.slots") == 3
        assert count(conn, "select count(distinct slot_id) from public.bookings") == count(
            conn, "select count(*) from public.bookings")
        with rolled_back(conn), as_user(conn, ADA.id):
            assert _ids(conn, "select id from public.bookings") == 1
            assert _ids(conn, "select id from public.slots") == 3
            assert conn.execute("update public.slots set starts_at = starts_at + interval '1 hour'").rowcount == 0
        with rolled_back(conn), as_user(conn, LINUS.id, admin=True):
            assert conn.execute("update public.slots set starts_at = starts_at + interval '1 hour'").rowcount == 3
            # an admin is not the owner of other people's bookings
            assert _ids(conn, "select id from public.bookings") == 1


# -- determinism and refusal ---------------------------------------------------------------------------------------


def test_generation_is_deterministic() -> None:
    for item in TEMPLATES:
        first, second = generate_sql_files(item.build()), generate_sql_files(item.build())
        assert first == second
        assert list(first) == [TABLES_FILE, POLICIES_FILE, SEED_FILE]
        assert all(text.endswith("\n") and not text.endswith("\n\n") for text in first.values())


def test_invalid_models_are_refused_with_every_problem() -> None:
    model = AppModel("Broken", entities=(
        Entity("select", fields=(Field("id", FieldType.TEXT),)),
        Entity("notes", fields=(Field("kind", FieldType.ENUM),)),
    ), links=(Link("owner", "notes", "missing", LinkKind.MANY_TO_ONE),))
    for generate in (generate_sql_files, schema_sql, policies_sql, seed_sql):
        with pytest.raises(ValueError) as caught:
            generate(model)
        message = str(caught.value)
        assert "reserved word" in message and "choice field needs at least one value" in message
        assert "missing" in message


def test_a_circle_of_optional_links_deploys_and_is_seeded(
    local_server: LocalServer, target: PostgresTarget, db_url: str
) -> None:
    model = AppModel("Circle", entities=(
        Entity("people", access=Access.PUBLIC_READ_OWNER_WRITE, fields=(Field("name", FieldType.TEXT),)),
        Entity("desks", access=Access.PRIVATE, fields=(Field("code", FieldType.TEXT, unique=True),)),
    ), links=(
        Link("desk", "people", "desks", LinkKind.ONE_TO_ONE),  # people is created first: this key comes later
        Link("occupant", "desks", "people", LinkKind.MANY_TO_ONE, required=True),
        Link("mentor", "people", "people", LinkKind.MANY_TO_ONE, on_delete=OnDelete.SET_NULL),
    ))
    tables = schema_sql(model)
    assert "alter table public.people\n    add constraint people_desk_id_fkey" in tables
    deploy_with_studio(local_server, target, model)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(seed_sql(model).encode())
        desks = count(conn, "select count(*) from public.desks")
        # every desk is somebody's, and as many people as there are desks got one (each a different desk)
        assert count(conn, "select count(distinct desk_id) from public.people") == min(
            desks, count(conn, "select count(*) from public.people"))
        assert count(conn, "select count(*) from public.people where mentor_id is not null") >= 1
        Matrix(model, conn).check_table(table_shapes(model)[0])
