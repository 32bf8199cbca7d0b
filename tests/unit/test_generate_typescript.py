"""The TypeScript client generator, checked without Node: layout, secrets, golden lines, quoting, determinism.

The integration tests (tests/integration/test_generate_typescript.py) compile the same output with tsc.
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import replace

import pytest

from studio.core.generate import typescript
from studio.core.generate.tables import table_shapes
from studio.core.generate.typescript import camel, comment_text, database_types, pascal, ts_string, typescript_files
from studio.core.model import AppModel, Entity, Field, FieldType, validate
from studio.core.model.templates import TEMPLATES, template

ROOT = "clients/typescript"


def files_of(name: str, **kwargs: str) -> dict[str, str]:
    return typescript_files(template(name).build(), **kwargs)


def lines_of(text: str) -> list[str]:
    return text.splitlines()


def assert_block(text: str, block: str) -> None:
    """`block` (lines) appears in `text` exactly, in order and consecutive."""
    assert block.strip("\n") in text, f"missing block:\n{block}"


# ---------------------------------------------------------------------------------------------- secrets and API


def test_the_api_takes_no_key_of_any_kind() -> None:
    parameters = inspect.signature(typescript_files).parameters
    assert list(parameters) == ["model", "project_url"]
    assert parameters["project_url"].kind is inspect.Parameter.KEYWORD_ONLY
    model = template("todo").build()
    for name in ("service_role_key", "secret_key", "key", "api_key", "anon_key", "publishable_key"):
        with pytest.raises(TypeError):
            typescript_files(model, **{name: "sb_secret_abc"})


@pytest.mark.parametrize("item", TEMPLATES, ids=lambda t: t.name)
def test_no_secret_ever_appears_except_the_warning(item) -> None:  # type: ignore[no-untyped-def]
    files = typescript_files(item.build(), project_url="https://abcdefghijklmnopqrst.supabase.co")
    for path, text in files.items():
        assert "eyJ" not in text, path  # no JWT (legacy anon / service_role keys) is ever embedded
        for line in text.splitlines():
            lowered = line.lower()
            if "service_role" in lowered or "sb_secret" in lowered or "secret" in lowered:
                assert path == f"{ROOT}/supabase.ts", (path, line)
                # Only the warning comment and the guard refusing a secret key mention it.
                is_comment = line.lstrip().startswith(("*", "/**", "//"))
                is_guard = 'publishableKey.startsWith("sb_secret_")' in line or "That is a secret key" in line
                assert is_comment or is_guard, line
    supabase = files[f"{ROOT}/supabase.ts"]
    assert "NEVER use a secret" in supabase and "`service_role` key in this app" in supabase


def test_project_url_becomes_the_default_url_and_must_be_a_url() -> None:
    supabase = files_of("todo", project_url="https://abcd.supabase.co")[f"{ROOT}/supabase.ts"]
    assert 'export const SUPABASE_URL: string = environment["SUPABASE_URL"] ?? "https://abcd.supabase.co"' in supabase
    local = files_of("todo")[f"{ROOT}/supabase.ts"]
    assert '?? "http://127.0.0.1:54321"' in local
    assert 'environment["SUPABASE_PUBLISHABLE_KEY"] ?? ""' in local
    with pytest.raises(ValueError, match="https://"):
        files_of("todo", project_url="sb_secret_looks_like_a_key")


# ---------------------------------------------------------------------------------------------------- layout


def test_files_one_service_per_table_join_tables_only_as_helpers() -> None:
    assert sorted(files_of("todo")) == [
        f"{ROOT}/database.types.ts", f"{ROOT}/index.ts", f"{ROOT}/services/lists.ts", f"{ROOT}/services/todos.ts",
        f"{ROOT}/supabase.ts",
    ]
    team = files_of("team")
    services = sorted(p.removeprefix(f"{ROOT}/services/") for p in team if "/services/" in p)
    assert services == ["labels.ts", "projects.ts", "tasks.ts", "team_members.ts", "teams.ts"]
    tasks = team[f"{ROOT}/services/tasks.ts"]
    for name in ("addTaskLabel", "removeTaskLabel", "listTaskLabels"):
        assert f"export async function {name}(" in tasks
    assert '.select("target:labels!tasks_labels_label_id_fkey(*)")' in tasks
    assert "export type TeamMemberKey = Pick<TeamMemberRow, \"team_id\" | \"user_id\">" in \
        team[f"{ROOT}/services/team_members.ts"]
    index = team[f"{ROOT}/index.ts"]
    assert 'export * from "./services/tasks"' in index and "tasks_labels" not in index


def test_service_names() -> None:
    todos = files_of("todo")[f"{ROOT}/services/todos.ts"]
    for name in ("listTodos", "getTodo", "createTodo", "updateTodo", "deleteTodo", "subscribeToTodos"):
        assert re.search(rf"^export (async )?function {name}\(", todos, re.M), name
    assert "export class TodosService {" in todos
    for name in ("TodoRow", "TodoInsert", "TodoUpdate", "TodoFilter", "TodoListOptions", "TodoListResult"):
        assert f"export type {name} = " in todos
    categories = files_of("blog")[f"{ROOT}/services/categories.ts"]
    assert "export async function getCategory(" in categories and "listCategories(" in categories


def test_create_only_tables_do_not_read_the_new_row_back() -> None:
    contact = files_of("blog")[f"{ROOT}/services/contact_messages.ts"]
    assert 'await client.from("contact_messages").insert(values)\n' in contact
    assert "): Promise<void> {" in contact
    posts = files_of("blog")[f"{ROOT}/services/posts.ts"]
    assert '.insert(values).select().single()' in posts


def test_list_uses_exact_count_filters_order_and_range() -> None:
    todos = files_of("todo")[f"{ROOT}/services/todos.ts"]
    assert 'client.from("todos").select("*", { count: "exact" })' in todos
    assert 'query = filter.due_on === null ? query.is("due_on", null) : query.eq("due_on", filter.due_on)' in todos
    assert 'query = query.eq("done", filter.done)' in todos
    assert "filter.tags" not in todos  # arrays and JSON are not equality-filtered
    assert "query = query.range(options.range.from, options.range.to)" in todos
    assert '.on<TodoRow>(\n      "postgres_changes",' in todos
    assert "throw requestError(error)" in todos


# ------------------------------------------------------------------------------------------ database.types.ts


def test_golden_todo_types() -> None:
    text = database_types(template("todo").build())
    assert text.startswith("export type Json =\n  | string\n")
    assert_block(text, """
      todos: {
        Row: {
          created_at: string
          done: boolean
          due_on: string | null
          id: string
          list_id: string
          notes: string | null
          owner_id: string
          priority: Database["public"]["Enums"]["todo_priority"]
          tags: string[] | null
          title: string
          updated_at: string
        }
        Insert: {
          created_at?: string
          done?: boolean
          due_on?: string | null
          id?: string
          list_id: string
          notes?: string | null
          owner_id?: string
          priority?: Database["public"]["Enums"]["todo_priority"]
          tags?: string[] | null
          title: string
          updated_at?: string
        }
""")
    assert_block(text, """
        Relationships: [
          {
            foreignKeyName: "todos_list_id_fkey"
            columns: ["list_id"]
            isOneToOne: false
            referencedRelation: "lists"
            referencedColumns: ["id"]
          },
        ]
""")
    assert_block(text, """
    Functions: {
      [_ in never]: never
    }
    Enums: {
      list_color: "grey" | "blue" | "green" | "red"
      todo_priority: "low" | "normal" | "high"
    }
""")
    assert_block(text, """
export const Constants = {
  public: {
    Enums: {
      list_color: ["grey", "blue", "green", "red"],
      todo_priority: ["low", "normal", "high"],
    },
  },
} as const
""")
    assert 'type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]' in text
    for helper in ("Tables", "TablesInsert", "TablesUpdate", "Enums", "CompositeTypes"):
        assert f"export type {helper}<" in text
    assert text.index("      lists: {") < text.index("      todos: {")
    assert "referencedRelation: \"users\"" not in text  # auth.users is another schema: left out like gen types


def test_functions_one_to_one_and_team_tables() -> None:
    blog = database_types(template("blog").build())
    assert "      is_admin: { Args: Record<PropertyKey, never>; Returns: boolean }" in blog
    assert "is_team_member" not in blog
    team = database_types(template("team").build())
    assert "      is_team_member: { Args: { team_id: string }; Returns: boolean }" in team
    assert "is_admin" not in team and "set_updated_at" not in team
    booking = database_types(template("booking").build())
    assert_block(booking, """
            foreignKeyName: "bookings_slot_id_fkey"
            columns: ["slot_id"]
            isOneToOne: true
            referencedRelation: "slots"
""")
    assert_block(team, """
      team_members: {
        Row: {
          created_at: string
          role: string
          team_id: string
          user_id: string
        }
""")


def test_every_shape_column_is_typed_and_tables_are_sorted() -> None:
    for item in TEMPLATES:
        model = item.build()
        text = database_types(model)
        names = re.findall(r"^      (\w+): \{$", text.split("    Views:")[0], re.M)
        shapes = table_shapes(model)
        assert names == sorted((s.name for s in shapes), key=lambda n: n.replace("_", "\x01"))
        for shape in shapes:
            block = text.split(f"\n      {shape.name}: {{\n        Row: {{\n", 1)[1].split("        }", 1)[0]
            assert [line.split(":")[0].strip() for line in block.splitlines()] == sorted(
                (c.name for c in shape.columns), key=lambda n: n.replace("_", "\x01"))


def test_sorting_follows_locale_compare() -> None:
    # node -e 'console.log(["a_b","a1","ab","a"].sort((x,y)=>x.localeCompare(y)))' -> [ 'a', 'a_b', 'a1', 'ab' ]
    model = AppModel("m", entities=(Entity("things", fields=tuple(
        Field(n, FieldType.TEXT) for n in ("ab", "a1", "a_b", "a"))),))
    text = database_types(model)
    row = text.split("        Row: {\n", 1)[1].split("        }", 1)[0]
    assert [line.split(":")[0].strip() for line in row.splitlines()][:4] == ["a", "a_b", "a1", "ab"]


def test_long_unions_and_arrays_break_like_prettier() -> None:
    values = tuple(f"value_number_{i}" for i in range(8))
    model = AppModel("m", entities=(Entity("things", fields=(
        Field("a_rather_long_column_name_for_a_status", FieldType.ENUM, values=values),)),))
    text = database_types(model)
    assert_block(text, """
          a_rather_long_column_name_for_a_status:
            | Database["public"]["Enums"]["thing_a_rather_long_column_name_for_a_status"]
            | null
""")
    assert "      thing_a_rather_long_column_name_for_a_status:\n        | \"value_number_0\"\n" in text
    assert "      thing_a_rather_long_column_name_for_a_status: [\n        \"value_number_0\",\n" in text
    assert all(len(line) <= 80 or '"' in line for line in text.split("type DatabaseWithoutInternals")[0].splitlines())


def test_another_schema() -> None:
    model = replace(template("todo").build(), schema="app")
    files = typescript_files(model)
    types = files[f"{ROOT}/database.types.ts"]
    assert "export type Database = {\n  app: {\n" in types
    assert 'Database["app"]["Enums"]["todo_priority"]' in types
    assert 'Extract<keyof Database, "app">' in types and "  app: {\n    Enums: {" in types
    assert 'export const SCHEMA = "app"' in files[f"{ROOT}/supabase.ts"]
    assert 'Database["app"]["Tables"]["todos"]["Row"]' in files[f"{ROOT}/services/todos.ts"]


# --------------------------------------------------------------------------------------------- text and names


@pytest.mark.parametrize(("value", "literal"), [
    ("plain", '"plain"'),
    ("it's", '"it\'s"'),
    ('say "hi"', "'say \"hi\"'"),  # prettier picks the quote needing fewer escapes
    ("both ' and \"\"", "'both \\' and \"\"'"),
    ("back\\slash", '"back\\\\slash"'),
    ("line\nbreak\ttab", '"line\\nbreak\\ttab"'),
    ("nul\x00", '"nul\\u0000"'),
    ("ünïcødé ☃ 日本", '"ünïcødé ☃ 日本"'),
    ("*/ end", '"*/ end"'),
    ("\ud800", '"\\ud800"'),
])
def test_ts_string(value: str, literal: str) -> None:
    assert ts_string(value) == literal


def test_ts_string_round_trips_through_a_javascript_like_reading() -> None:
    for value in ('a"b', "a'b", "\\", "\\'", '\\"', "'\"'\"'", "\u2028\u2029", "${x}`"):
        literal = ts_string(value)
        body = literal[1:-1]
        if literal[0] == "'":  # read it back as JSON: swap the quotes' escaping
            body = body.replace("\\'", "'").replace('"', '\\"')
        assert json.loads(f'"{body}"') == value, (value, literal)


def test_comment_text_cannot_end_a_comment() -> None:
    assert comment_text("a */ b\nc") == "a *\\/ b c"
    assert "*/" not in comment_text("*/*/**/")


def test_names_are_injective() -> None:
    assert camel("due_on") == "dueOn" and pascal("team_members") == "TeamMembers"
    assert camel("a_b") != camel("a__b") and camel("v_2") == "v_2" and camel("x_") == "x_"


def test_hostile_labels_and_values_stay_inside_literals_and_comments() -> None:
    hostile = ("it's", 'say "hi"', "back\\slash", "*/ end /*", "ünï ☃", "new\nline", "`${tpl}`")
    model = AppModel("m */ name", entities=(Entity("things", label="Things */ /* here", fields=(
        Field("status", FieldType.ENUM, values=hostile, default="it's", label='Status "*/" \\ ü'),
        Field("title", FieldType.TEXT, label="*/\n// injected"),
    )),))
    assert validate(model) == []
    files = typescript_files(model)
    service = files[f"{ROOT}/services/things.ts"]
    assert "Things *\\/ /* here (table `things`)" in service
    assert "  status: 'Status \"*/\" \\\\ ü'," in service
    assert '  title: "*/\\n// injected",' in service
    types = files[f"{ROOT}/database.types.ts"]
    for value in hostile:
        assert ts_string(value) in types
    assert " * The Supabase client for m *\\/ name," in files[f"{ROOT}/supabase.ts"]


def test_output_is_deterministic_and_independent_of_entity_order() -> None:
    for item in TEMPLATES:
        model = item.build()
        assert typescript_files(model) == typescript_files(item.build())
        reordered = replace(model, entities=tuple(reversed(model.entities)))
        assert database_types(reordered) == database_types(model)


def test_clashing_exports_fall_back_to_a_namespace() -> None:
    model = AppModel("m", entities=(Entity("person", fields=(Field("a", FieldType.TEXT),)),
                                    Entity("persons", fields=(Field("b", FieldType.TEXT),))))
    index = typescript_files(model)[f"{ROOT}/index.ts"]
    assert 'export * from "./services/person"' in index
    assert 'export * as PersonsModule from "./services/persons"' in index


def test_public_api_is_documented() -> None:
    for name in ("typescript_files", "database_types", "ts_string", "comment_text", "camel", "pascal"):
        assert getattr(typescript, name).__doc__
