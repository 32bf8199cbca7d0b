"""Property tests: any model `validate()` accepts generates SQL that parses, applies to a fresh Supabase-like
database in order (tables, policies, seed), passes the lints, and whose policies let each sample user do exactly
what the access rules say (the same check as for the templates); hostile but valid names and labels never
break quoting.

Models are random: entity and field names from plain identifiers and SQL keywords that are legal names
(`position`, `values`, `char`...), every field type, enum values and labels with quotes, newlines, dollar
signs, backslashes and any unicode, random links (validation rules out circles of required links) and
random access rules. Each example gets its own database.
"""

from __future__ import annotations

import asyncio
import re

import pglast
import psycopg
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pglast.keywords import COL_NAME_KEYWORDS, UNRESERVED_KEYWORDS

from studio.core.generate.sql import (
    POLICIES_FILE,
    SEED_FILE,
    TABLES_FILE,
    generate_sql_files,
    name_clashes,
)
from studio.core.generate.tables import table_shapes
from studio.core.lint import Level, lint_catalog
from studio.core.model import naming
from studio.core.model.appmodel import Access, AppModel, Entity, Field, FieldType, Link, LinkKind, OnDelete
from studio.core.model.validate import CLIENT_KEYWORDS, SQL_RESERVED, validate
from studio.core.schema.shadow import catalog_of_sources
from studio.core.sqltext import qualified
from studio.core.targets.local import LocalServer
from tests.integration.test_generate_sql import Matrix

_LEGAL_KEYWORDS = sorted(
    n for n in UNRESERVED_KEYWORDS | COL_NAME_KEYWORDS
    if re.fullmatch(r"[a-z][a-z0-9_]*", n) and n not in CLIENT_KEYWORDS and n not in SQL_RESERVED
)
_HOSTILE_TEXT = (
    "O'Brien's \"quoted\" label", "line one\nline two\r\nthree", "-- not a comment", "$fn$ dollar $$ signs",
    "back\\slash \\n", "résumé 日本語 😀", "*/ /* ; drop table x; --", "  spaced  ", "tab\there", "'",
)
_CHARS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
_text = st.one_of(st.text(_CHARS, max_size=24), st.sampled_from(_HOSTILE_TEXT))
_label = st.one_of(st.just(""), _text)
_name = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_]{0,14}", fullmatch=True),
    st.sampled_from(_LEGAL_KEYWORDS),
).filter(lambda n: n not in SQL_RESERVED and n not in CLIENT_KEYWORDS)
_enum_value = st.one_of(st.text(_CHARS, min_size=1, max_size=20), st.sampled_from(_HOSTILE_TEXT)).filter(
    lambda v: 0 < len(v.encode()) <= naming.MAX_NAME_BYTES)


@st.composite
def _field(draw: st.DrawFn, name: str) -> Field:
    kind = draw(st.sampled_from(FieldType))
    values: tuple[str, ...] = ()
    if kind is FieldType.ENUM:
        values = tuple(draw(st.lists(_enum_value, min_size=1, max_size=4, unique=True)))
    default: str | int | float | bool | None = None
    if draw(st.booleans()):
        # Only defaults a column of this type can hold: validation checks the Python type, not the range.
        options = {
            FieldType.TEXT: _text, FieldType.LONG_TEXT: _text,
            FieldType.INTEGER: st.integers(-(2**31), 2**31 - 1),
            FieldType.DECIMAL: st.one_of(st.integers(-(10**12), 10**12),
                                         st.floats(allow_nan=False, allow_infinity=False, width=32)),
            FieldType.BOOLEAN: st.booleans(),
            FieldType.DATE: st.just("now"), FieldType.TIMESTAMP: st.just("now"),
            FieldType.UUID: st.uuids().map(str),
            FieldType.ENUM: st.sampled_from(values) if values else st.nothing(),
        }
        if kind in options:
            default = draw(options[kind])
    return Field(name, kind, required=draw(st.booleans()), unique=draw(st.booleans()), default=default,
                 values=values, label=draw(_label))


@st.composite
def _entity(draw: st.DrawFn, name: str) -> Entity:
    names = draw(st.lists(_name.filter(lambda n: n not in naming.IMPLICIT_COLUMNS), max_size=5, unique=True))
    fields = tuple(draw(_field(n)) for n in names)
    singular = draw(st.one_of(st.just(""), _name))
    return Entity(name, fields=fields, access=draw(st.sampled_from(Access)), label=draw(_label), singular=singular)


@st.composite
def models(draw: st.DrawFn) -> AppModel:
    """A random AppModel that `validate()` accepts (and whose names PostgreSQL can all take)."""
    names = draw(st.lists(_name, min_size=1, max_size=4, unique=True))
    entities = tuple(draw(_entity(n)) for n in names)
    links = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(LinkKind))
        required = draw(st.booleans()) and kind is not LinkKind.MANY_TO_MANY
        on_delete = draw(st.sampled_from([d for d in OnDelete if not (required and d is OnDelete.SET_NULL)]))
        links.append(Link(draw(_name), draw(st.sampled_from(names)), draw(st.sampled_from(names)), kind,
                          required=required, on_delete=on_delete, label=draw(_label)))
    model = AppModel(draw(_text), entities=entities, links=tuple(links),
                     schema=draw(st.sampled_from(["public", "public", "public", "app"])))
    assume(not validate(model))
    assume(not name_clashes(model))
    return model


def _apply(server: LocalServer, model: AppModel, files: dict[str, str]) -> dict[str, int]:
    """Apply the files to a fresh database and check every policy as every sample user (see `Matrix`);
    the number of rows the seed put in each table."""
    name = server.create_database()
    try:
        with psycopg.connect(server.uri(name), autocommit=True) as conn:
            conn.execute("set client_min_messages = warning")
            for path in (TABLES_FILE, POLICIES_FILE, SEED_FILE):
                conn.execute(files[path].encode())
            tables = conn.execute(
                "select n.nspname, c.relname, c.relrowsecurity from pg_class c"
                " join pg_namespace n on n.oid = c.relnamespace"
                " where c.relkind = 'r' and n.nspname in ('public', 'app')").fetchall()
            rows = []
            for schema, table, rls in tables:
                found = conn.execute(f"select count(*) from {qualified(str(schema), str(table))}").fetchone()
                assert found is not None
                rows.append((table, rls, found[0]))
            matrix = Matrix(model, conn)
            for shape in table_shapes(model):
                matrix.check_table(shape)
    finally:
        server.drop_database(name)
    assert all(rls for _, rls, _ in rows), "every table has row level security"
    return {str(table): int(str(n)) for table, _, n in rows}


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
@given(model=models())
def test_any_valid_model_generates_sql_that_applies(local_server: LocalServer, model: AppModel) -> None:
    files = generate_sql_files(model)
    assert generate_sql_files(model) == files
    for text in files.values():
        pglast.parse_sql(text)
    counts = _apply(local_server, model, files)
    for shape in table_shapes(model):
        if shape.entity is not None or shape.link is None:
            assert counts[shape.name] >= 1, f"the seed fills {shape.name}"
    desired = asyncio.run(catalog_of_sources(local_server, [(TABLES_FILE, files[TABLES_FILE]),
                                                            (POLICIES_FILE, files[POLICIES_FILE])]))
    findings = [f for f in lint_catalog(desired, exposed_schemas=("public", "app"))
                if f.level in (Level.ERROR, Level.WARNING)]
    assert findings == [], [f"{f.rule}: {f.title}" for f in findings]


HOSTILE = AppModel(
    name="Café \"Hostile\" O'Hare\n-- drop table\r\n$fn$",
    entities=(
        Entity("position", access=Access.PUBLIC_READ_OWNER_WRITE, label="It's \"the\" position\nsecond line",
               singular="spot", fields=(
                   Field("values", FieldType.ENUM, required=True, unique=True,
                         values=("it's", 'say "hi"', "with space ", "ünïcødé 😀", "$fn$", "a\\b", "--"),
                         default="it's", label="Values; -- */"),
                   Field("char", FieldType.TEXT, required=True, default="O'Reilly $$", label="Char\twith tab"),
                   Field("int", FieldType.INTEGER, unique=True, default=-7, label="日本語のラベル"),
               )),
        Entity("between", access=Access.TEAM, label="", fields=(
            Field("json", FieldType.JSON, label="'"),
            Field("names", FieldType.TEXT_ARRAY, required=True, label="\\"),
        )),
        Entity("action", access=Access.CREATE_ONLY_ADMIN_READ, label="Contact 'us'", fields=(
            Field("message", FieldType.LONG_TEXT, required=True, label="Message\n\n"),
        )),
    ),
    links=(
        Link("spot", "between", "position", LinkKind.ONE_TO_ONE, label="Spot's link"),
        Link("friends", "position", "position", LinkKind.MANY_TO_MANY, label="Friends \"of\""),
        Link("parent", "between", "between", LinkKind.MANY_TO_ONE, on_delete=OnDelete.SET_NULL),
    ),
)


def test_hostile_names_and_labels_keep_their_exact_text(local_server: LocalServer) -> None:
    assert validate(HOSTILE) == [] and name_clashes(HOSTILE) == []
    files = generate_sql_files(HOSTILE)
    name = local_server.create_database()
    try:
        with psycopg.connect(local_server.uri(name), autocommit=True) as conn:
            conn.execute("set client_min_messages = warning")
            for path in (TABLES_FILE, POLICIES_FILE, SEED_FILE):
                conn.execute(files[path].encode())
            position = qualified("public", "position")
            labels = conn.execute(
                "select obj_description(%s::regclass, 'pg_class'), col_description(%s::regclass, 2),"
                " col_description(%s::regclass, 3), col_description(%s::regclass, 4)",
                [position] * 4).fetchone()
            assert labels == ("It's \"the\" position\nsecond line", "Values; -- */", "Char\twith tab", "日本語のラベル")
            values = conn.execute("select enum_range(null::public.spot_values)::text[]").fetchone()
            assert values is not None and values[0] == list(HOSTILE.entities[0].fields[0].values)
            seeded = conn.execute('select "values"::text from public."position" order by 1').fetchall()
            assert len(seeded) >= 3 and len({v for (v,) in seeded}) == len(seeded)
            assert conn.execute("select count(*) from public.position_friends").fetchone() != (0,)
    finally:
        local_server.drop_database(name)
