"""The SQL reading behind the lints, on texts as PostgreSQL deparses them."""

from __future__ import annotations

import pytest

from studio.core.lint.parsing import (
    constraint_facts,
    function_facts,
    function_name,
    function_reads,
    index_shape,
    is_literal_true,
    parse_expression,
    per_row_calls,
    query_relations,
    search_path_schemas,
    wrap_per_row_calls,
)


def _per_row(text: str) -> list[tuple[str | None, str]]:
    root = parse_expression(text)
    assert root is not None
    return [n for n in (function_name(c) for c in per_row_calls(root)) if n]


@pytest.mark.parametrize(("expression", "calls"), [
    ("(owner = auth.uid())", [("auth", "uid")]),
    ("(owner = ( SELECT auth.uid() AS uid))", []),
    ("(( SELECT (auth.jwt() ->> 'role'::text)) = 'admin'::text)", []),
    ("((auth.jwt() ->> 'role'::text) = 'admin'::text)", [("auth", "jwt")]),
    ("(current_setting('app.tenant'::text, true) = (tenant)::text)", [(None, "current_setting")]),
    ("(auth.role() = 'authenticated'::text) AND (auth.email() ~~ '%@example.com'::text)",
     [("auth", "role"), ("auth", "email")]),
    # inside a subquery that reads a table the call runs for each of its rows
    ("(EXISTS ( SELECT 1 FROM public.members m WHERE ((m.team = t.team) AND (m.user_id = auth.uid())))))"[:-1],
     [("auth", "uid")]),
    ("(EXISTS ( SELECT 1 FROM public.members m WHERE (m.user_id = ( SELECT auth.uid() AS uid))))", []),
    ("(owner = public.uid())", []),
    # each arm of a set operation without FROM runs once too
    ("(( SELECT auth.uid() AS uid UNION SELECT auth.uid() AS uid) = owner)", []),
])
def test_per_row_calls(expression: str, calls: list[tuple[str | None, str]]) -> None:
    assert _per_row(expression) == calls


def test_wrapping_puts_each_per_row_call_in_a_scalar_subquery() -> None:
    text = "((title <> 'é(x'::text) AND (owner = auth.uid()) AND (current_setting('a)b'::text, true) = 'y'::text))"
    wrapped = wrap_per_row_calls(text)
    assert wrapped == ("((title <> 'é(x'::text) AND (owner = (select auth.uid())) AND "
                       "((select current_setting('a)b'::text, true)) = 'y'::text))")
    assert wrapped is not None and _per_row(wrapped) == []
    assert wrap_per_row_calls("(owner = ( SELECT auth.uid() AS uid))") is None
    # a call inside a wrapped one is not wrapped twice
    assert wrap_per_row_calls("(current_setting(auth.role(), true) = 'x'::text)") == \
        "((select current_setting(auth.role(), true)) = 'x'::text)"


@pytest.mark.parametrize(("expression", "expected"), [
    ("true", True), ("(true)", True), ("false", False), ("(id > 0)", False), (None, False), ("not a (", False),
])
def test_literal_true(expression: str | None, expected: bool) -> None:
    assert is_literal_true(expression) is expected


def test_function_facts_of_sql_and_plpgsql_bodies() -> None:
    sql = function_facts("CREATE OR REPLACE FUNCTION public.f(a integer)\n RETURNS integer\n LANGUAGE sql\n"
                         " SECURITY DEFINER\n SET search_path TO ''\nAS $function$ select a + (select count(*)::int"
                         " from public.todos join notes using (id)) $function$\n")
    assert sql is not None
    assert (sql.security_definer, sql.search_path, sql.language) == (True, "", "sql")
    assert sql.body_relations == {("public", "todos"), (None, "notes")}
    atomic = function_facts("CREATE OR REPLACE FUNCTION public.h()\n RETURNS bigint\n LANGUAGE sql\nBEGIN ATOMIC\n"
                            " SELECT count(*) AS count\n   FROM public.todos;\nEND\n")
    assert atomic is not None and atomic.body_relations == {("public", "todos")} and atomic.search_path is None
    plpgsql = function_facts("CREATE OR REPLACE FUNCTION public.g()\n RETURNS integer\n LANGUAGE plpgsql\n"
                             " SET search_path TO 'public', 'extensions'\n"
                             "AS $function$ begin return 1; end $function$\n")
    assert plpgsql is not None
    assert (plpgsql.security_definer, plpgsql.search_path, plpgsql.body_relations) == \
        (False, "public, extensions", None)
    assert function_facts("not sql") is None


@pytest.mark.parametrize(("search_path", "body", "reads"), [
    (None, "begin return query select * from todos; end", True),
    ("", "begin return query select * from todos; end", False),
    ("", "begin return query select * from public.todos; end", True),
    ("", 'begin return query select * from "public"."todos"; end', True),
    ("", "begin return query select * from other.todos; end", False),
    (None, "begin return query select t.todos from public.notes t; end", False),
    ("app, public", "begin perform 1 from Todos; end", True),
    (None, "begin perform 1 from todos_archive; end", False),
])
def test_plpgsql_body_reads_a_table(search_path: str | None, body: str, reads: bool) -> None:
    setting = "" if search_path is None else f" SET search_path TO {search_path or chr(39) * 2}\n"
    facts = function_facts(f"CREATE FUNCTION public.g() RETURNS SETOF public.todos LANGUAGE plpgsql\n{setting}"
                           f"AS $function$ {body} $function$")
    assert facts is not None
    assert function_reads(facts, "public", "todos") is reads


def test_search_path_schemas() -> None:
    assert search_path_schemas(None) == ["public"]
    assert search_path_schemas("") == []
    assert search_path_schemas('pg_catalog, "My Schema", Public') == ["pg_catalog", "My Schema", "public"]


def test_index_and_constraint_shapes_compare_alike() -> None:
    plain = index_shape("CREATE INDEX a ON public.t USING btree (x, y)")
    renamed = index_shape("CREATE UNIQUE INDEX b ON public.t USING btree (x, y)")
    key = constraint_facts("PRIMARY KEY (x, y)")
    assert plain is not None and renamed is not None and key is not None and key.index is not None
    assert plain.signature == renamed.signature == key.index.signature
    assert (plain.unique, renamed.unique) == (False, True)
    assert plain.leading_columns == ("x", "y") and not plain.partial
    different = [
        "CREATE INDEX c ON public.t USING btree (y, x)",
        "CREATE INDEX c ON public.t USING btree (x DESC, y)",
        "CREATE INDEX c ON public.t USING hash (x, y)",
        "CREATE INDEX c ON public.t USING btree (x, y) WHERE (x > 0)",
        "CREATE INDEX c ON public.t USING btree (x, y) INCLUDE (z)",
    ]
    for definition in different:
        shape = index_shape(definition)
        assert shape is not None and shape.signature != plain.signature, definition
    expression = index_shape("CREATE INDEX e ON public.t USING btree (x, lower(name), y)")
    assert expression is not None and expression.leading_columns == ("x",)
    unique = constraint_facts('UNIQUE NULLS NOT DISTINCT (x, "Y") INCLUDE (z)')
    included = index_shape('CREATE UNIQUE INDEX u ON public.t USING btree (x, "Y") INCLUDE (z) NULLS NOT DISTINCT')
    assert unique is not None and unique.index is not None and included is not None
    assert unique.columns == ("x", "Y") and unique.index.signature == included.signature


def test_foreign_key_facts() -> None:
    facts = constraint_facts('FOREIGN KEY (owner, "Tenant") REFERENCES auth.users(id, tenant) ON DELETE CASCADE')
    assert facts is not None
    assert facts.columns == ("owner", "Tenant") and facts.references == ("auth", "users")
    assert constraint_facts("CHECK ((x > 0))") is None


def test_query_relations() -> None:
    definition = " SELECT u.id,\n    u.email\n   FROM (auth.users u\n     JOIN public.p ON ((p.id = u.id)));"
    assert query_relations(definition) == {("auth", "users"), ("public", "p")}
    assert query_relations("not a query") == frozenset()
