"""The generated TypeScript client type-checks against the real supabase-js, under tsc 7 and tsc 5.

`database.types.ts` is compared byte for byte with what Supabase's own generator (`@supabase/postgrest-typegen`,
which `supabase gen types typescript` runs through postgres-meta) prints for the same tables in a real database.

For every template a `usage.ts` uses the types and services the way an app would, and `// @ts-expect-error`
lines prove that wrong code is rejected (a required column left out, a value outside an enum, a nullable
column used as if it could not be null, filters on unknown columns). Runtime checks compile to JavaScript
and run it under Node: hostile enum values and labels survive exactly, and the services send the requests
PostgREST expects (seen through a fake `fetch`).

The Node packages are installed once into a cache folder outside the repository (`~/.cache/studio-test-npm`,
or `$STUDIO_TEST_NPM_CACHE`) and reused. Without npm the tests are skipped, unless `CI` or
`STUDIO_REQUIRE_TOOLCHAINS=1` is set: then they fail.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

import psycopg
import pytest

from studio.core.generate.tables import Column, TableShape, table_shapes
from studio.core.generate.typescript import database_types, pascal, typescript_files
from studio.core.model import AppModel, Entity, Field, FieldType, Link, LinkKind, naming, singularize, validate
from studio.core.model.appmodel import Access
from studio.core.model.templates import TEMPLATES, template
from studio.core.sqltext import qualified, quote_ident, quote_literal

#: Exact versions: a new release must not fail the tests on unchanged code (bump them on purpose).
PACKAGES = {
    "typescript": "7.0.2",
    "typescript5": "npm:typescript@5.9.3",
    "@supabase/supabase-js": "2.109.0",
    # What `supabase gen types typescript` runs (postgres-meta's generator), to compare against.
    "@supabase/postgrest-typegen": "0.2.5",
    "pg": "8.23.1",
}
TSC_VERSIONS = ("typescript", "typescript5")

#: Strict, plus the stricter options app templates (Vite, Next.js) and careful teams turn on.
TSC_FLAGS = [
    "--noEmit", "--strict", "--skipLibCheck", "--moduleResolution", "bundler", "--module", "esnext",
    "--target", "es2022", "--noUnusedLocals", "--noUnusedParameters", "--exactOptionalPropertyTypes",
    "--noUncheckedIndexedAccess", "--verbatimModuleSyntax", "--isolatedModules", "--noImplicitReturns",
    "--noPropertyAccessFromIndexSignature", "--noImplicitOverride", "--erasableSyntaxOnly",
]
# Compiling to CommonJS for Node 20, which cannot run TypeScript itself.
EMIT_FLAGS = ["--strict", "--skipLibCheck", "--module", "node16", "--moduleResolution", "node16",
              "--target", "es2022"]

ROOT = "clients/typescript"


def _toolchain_missing(reason: str) -> NoReturn:
    if os.environ.get("CI") or os.environ.get("STUDIO_REQUIRE_TOOLCHAINS") == "1":
        pytest.fail(f"{reason} (required because CI or STUDIO_REQUIRE_TOOLCHAINS=1 is set)")
    pytest.skip(reason)


@dataclass(frozen=True)
class NodeProject:
    """A folder with the packages installed; projects to check go under `work/`, so imports resolve."""

    root: Path
    node: str

    def tsc(self, version: str) -> list[str]:
        return [self.node, str(self.root / "node_modules" / version / "bin" / "tsc")]


@pytest.fixture(scope="session")
def node_project() -> NodeProject:
    """The cached Node project (installed on first use; reused while PACKAGES stay the same)."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        _toolchain_missing("npm and node are needed to type-check the generated TypeScript")
    cache = Path(os.environ.get("STUDIO_TEST_NPM_CACHE") or Path.home() / ".cache" / "studio-test-npm")
    manifest = {"name": "studio-typescript-check", "private": True, "dependencies": PACKAGES}
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    root = cache / hashlib.sha256(text.encode()).hexdigest()[:16]
    if not (root / ".ready").exists():
        # Install beside it, then move it in: a concurrent session never sees a half-installed folder.
        staging = cache / f"staging-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        staging.mkdir(parents=True)
        (staging / "package.json").write_text(text, encoding="utf-8")
        try:
            done = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                cwd=staging, capture_output=True, text=True, timeout=280, check=False,
            )
        except subprocess.TimeoutExpired:
            shutil.rmtree(staging, ignore_errors=True)
            _toolchain_missing("npm install timed out")
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            _toolchain_missing(f"npm install failed: {done.stderr.strip()[-2000:]}")
        (staging / ".ready").write_text("ok\n", encoding="utf-8")
        try:
            staging.rename(root)
        except OSError:  # another session got there first
            shutil.rmtree(staging, ignore_errors=True)
    return NodeProject(root, node)


@pytest.fixture
def workdir(node_project: NodeProject) -> Iterator[Path]:
    """A fresh folder inside the Node project (so `@supabase/supabase-js` resolves), removed afterwards."""
    path = node_project.root / "work" / uuid.uuid4().hex
    path.mkdir(parents=True)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def write_client(folder: Path, model: AppModel, **kwargs: str) -> Path:
    files = typescript_files(model, **kwargs)
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder / ROOT


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=240, check=False)


def type_check(project: NodeProject, version: str, client: Path, *files: str) -> None:
    done = run([*project.tsc(version), *TSC_FLAGS, *files], client)
    assert done.returncode == 0, f"tsc ({version}) failed:\n{done.stdout}\n{done.stderr}"


def compile_and_run(project: NodeProject, client: Path, entry: str) -> str:
    out = client / "js"
    done = run([*project.tsc("typescript"), *EMIT_FLAGS, "--outDir", str(out), entry], client)
    assert done.returncode == 0, f"tsc failed:\n{done.stdout}\n{done.stderr}"
    result = run([project.node, str(out / entry.replace(".ts", ".js"))], client)
    assert result.returncode == 0, result.stderr
    return result.stdout


# ---------------------------------------------------------------------------------------- usage.ts, per model

SAMPLES = {
    "uuid": '"00000000-0000-4000-8000-000000000000"',
    "text": '"x"',
    "date": '"2025-01-31"',
    "timestamp with time zone": '"2025-01-31T12:00:00Z"',
    "integer": "1",
    "numeric": "2.5",
    "boolean": "true",
    "jsonb": '{ "a": [1, null, "b"] }',
    "text[]": '["a", "b"]',
}
BASE_TYPES = {"uuid": "string", "text": "string", "date": "string", "timestamp with time zone": "string",
              "integer": "number", "numeric": "number", "boolean": "boolean", "jsonb": "Json",
              "text[]": "string[]"}
NOT_A_VALUE = "\x00 not one of the values"


def lit(value: str) -> str:
    """A TypeScript string literal written independently of the generator (JSON is valid TypeScript)."""
    return json.dumps(value)


def sample(column: Column) -> str:
    return lit(column.enum_values[0]) if column.enum_type else SAMPLES[column.sql_type]


def expected_type(column: Column) -> str:
    base = " | ".join(lit(v) for v in column.enum_values) if column.enum_type else BASE_TYPES[column.sql_type]
    return f"{base} | null" if column.nullable else base


@dataclass(frozen=True)
class Names:
    """The generated names of one table's service (as the README of the client promises them)."""

    one: str
    plural: str

    @classmethod
    def of(cls, shape: TableShape) -> Names:
        one = shape.entity.one if shape.entity is not None else singularize(shape.name)
        return cls(pascal(one), pascal(shape.name))


def table_usage(model: AppModel, shape: TableShape) -> tuple[list[str], list[str]]:
    """(type checks, statements) for one table: exact columns and types, then every service call."""
    t, n = lit(shape.name), Names.of(shape)
    checks = [f"Expect<Equal<keyof Tables<{t}>, {' | '.join(lit(c.name) for c in shape.columns)}>>"]
    for column in shape.columns:
        checks.append(f"Expect<Equal<Tables<{t}>[{lit(column.name)}], {expected_type(column)}>>")
    required = [c for c in shape.columns if not c.insert_optional]
    checks.append(f"Expect<Equal<RequiredKeys<TablesInsert<{t}>>, "
                  f"{' | '.join(lit(c.name) for c in required) or 'never'}>>")
    checks.append(f"Expect<Equal<RequiredKeys<TablesUpdate<{t}>>, never>>")
    if shape.link is not None:
        return checks, []
    checks += [f"Expect<Equal<api.{n.one}Row, Tables<{t}>>>", f"Expect<Equal<api.{n.one}Insert, TablesInsert<{t}>>>",
               f"Expect<Equal<api.{n.one}Update, TablesUpdate<{t}>>>"]

    values = "{ " + ", ".join(f"{c.name}: {sample(c)}" for c in required) + " }"
    key = '"00000000-0000-4000-8000-000000000000"' if shape.primary_key == ("id",) else \
        "{ " + ", ".join(f"{c}: {SAMPLES['uuid']}" for c in shape.primary_key) + " }"
    filterable = [c for c in shape.columns if c.sql_type not in ("jsonb", "text[]")]
    first = filterable[-1]
    changed = next((c for c in shape.columns if c.role == "field"), shape.columns[0])
    readable = shape.access is not Access.CREATE_ONLY_ADMIN_READ
    fn = f"exercise_{shape.name}"
    body = [
        f"export async function {fn}(client: TypedSupabaseClient, row: Tables<{t}>): Promise<void> {{",
        f"  const values: TablesInsert<{t}> = {values}",
        f"  const created{': Tables<' + t + '>' if readable else ': void'} = await api.create{n.one}(client, values)",
        "  sink(created)",
        f"  const page: {{ rows: Tables<{t}>[]; count: number }} = await api.list{n.plural}(client, "
        f"{{ filter: {{ {first.name}: {sample(first)} }}, orderBy: \"created_at\", ascending: false, "
        "range: { from: 0, to: 9 } })",
        "  sink(page.rows.length + page.count)",
        f"  sink(await api.list{n.plural}(client))",
        f"  const one: Tables<{t}> | null = await api.get{n.one}(client, {key})",
        f"  const updated: Tables<{t}> = await api.update{n.one}(client, {key},"
        f" {{ {changed.name}: {sample(changed)} }})",
        f"  const deleted: boolean = await api.delete{n.one}(client, {key})",
        "  sink(one, updated, deleted)",
        f"  const stop: () => void = api.subscribeTo{n.plural}(client, (change) => sink(change.eventType, change.new))",
        f"  api.subscribeTo{n.plural}(client, () => undefined, {{ column: {lit(first.name)}, value: 1 }})()",
        "  stop()",
        f"  const service = new api.{n.plural}Service(client)",
        f"  sink(await service.list({{ range: {{ from: 10, to: 19 }} }}), await service.get({key}))",
        "  // @ts-expect-error not a column of this table",
        f"  sink(await api.list{n.plural}(client, {{ filter: {{ no_such_column: 1 }} }}))",
        "  // @ts-expect-error a filter value must have the column's type",
        f"  sink(await api.list{n.plural}(client, {{ filter: {{ {first.name}: {{ nested: true }} }} }}))",
        "  // @ts-expect-error not a column to order by",
        f"  sink(await api.list{n.plural}(client, {{ orderBy: \"no_such_column\" }}))",
        "  // @ts-expect-error inserts take only the table's columns",
        f"  sink(await api.create{n.one}(client, {{ ...values, no_such_column: 1 }}))",
        "  // @ts-expect-error a key is not a number",
        f"  sink(await api.get{n.one}(client, 42))",
    ]
    if required:
        rest = "{ " + ", ".join(f"{c.name}: {sample(c)}" for c in required[1:]) + " }"
        body += [f"  // @ts-expect-error the required column {required[0].name} is left out",
                 f"  const missing: TablesInsert<{t}> = {rest}", "  sink(missing)"]
    if not readable:
        body += ["  // @ts-expect-error nothing comes back from adding a row that only admins may read",
                 f"  const readBack: Tables<{t}> = await api.create{n.one}(client, values)", "  sink(readBack)"]
    for column in shape.columns:
        if column.enum_type:
            body += ["  // @ts-expect-error not one of the enum's values",
                     f"  const wrong_{column.name}: TablesUpdate<{t}> = {{ {column.name}: {lit(NOT_A_VALUE)} }}",
                     f"  sink(wrong_{column.name})"]
        if column.nullable:
            body += ["  // @ts-expect-error the column may be null",
                     f"  const sure_{column.name}: NonNullable<Tables<{t}>[{lit(column.name)}]> = row.{column.name}",
                     f"  sink(sure_{column.name})"]
        else:
            body += [f"  const sure_{column.name}: NonNullable<Tables<{t}>[{lit(column.name)}]> = row.{column.name}",
                     f"  sink(sure_{column.name})"]
    body.append("}")
    return checks, body


def join_usage(model: AppModel, link: Link) -> tuple[list[str], list[str]]:
    source = model.entity(link.source)
    assert source is not None
    one, item, items = pascal(source.one), pascal(singularize(link.name)), pascal(link.name)
    target = lit(link.target)
    checks = [f"Expect<Equal<Awaited<ReturnType<typeof api.list{one}{items}>>, Tables<{target}>[]>>"]
    body = [
        f"export async function exercise_{link.source}_{link.name}(client: TypedSupabaseClient): Promise<void> {{",
        f"  await api.add{one}{item}(client, \"a\", \"b\")",
        f"  await api.remove{one}{item}(client, \"a\", \"b\")",
        f"  const linked: Tables<{target}>[] = await api.list{one}{items}(client, \"a\")",
        f"  const service = new api.{pascal(source.name)}Service(client)",
        f"  sink(linked, await service.list{items}(\"a\"), await service.add{item}(\"a\", \"b\"))",
        "  // @ts-expect-error both ends are needed",
        f"  await api.add{one}{item}(client, \"a\")",
        "}",
    ]
    return checks, body


PRELUDE = """\
import { Constants, type Enums, type Json, type Tables, type TablesInsert, type TablesUpdate } from "./index"
import { createSupabase, SCHEMA, type TypedSupabaseClient } from "./index"
import * as api from "./index"

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
type Expect<T extends true> = T
type RequiredKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T]
declare function sink(...values: unknown[]): void

export const client: TypedSupabaseClient = createSupabase("https://example.supabase.co", "sb_publishable_x")
sink(SCHEMA, Constants)
export type NoEnum = Enums<never>
export type AnyJson = Json
"""


def usage(model: AppModel) -> str:
    """A usage.ts for any model, derived from its table shapes (the contract the SQL is generated from)."""
    checks: list[str] = []
    bodies: list[str] = []
    enums: dict[str, tuple[str, ...]] = {}
    for shape in table_shapes(model):
        c, b = table_usage(model, shape)
        checks += c
        bodies += b
        enums.update({col.enum_type: col.enum_values for col in shape.columns if col.enum_type})
    for link in model.links:
        if link.kind is LinkKind.MANY_TO_MANY:
            c, b = join_usage(model, link)
            checks += c
            bodies += b
    schema = lit(model.schema)
    for name, values in sorted(enums.items()):
        union, items = " | ".join(lit(v) for v in values), ", ".join(lit(v) for v in values)
        checks += [f"Expect<Equal<Enums<{lit(name)}>, {union}>>",
                   f"Expect<Equal<(typeof Constants)[{schema}][\"Enums\"][{lit(name)}], readonly [{items}]>>"]
    lines = [PRELUDE, "export type Checks = [", *(f"  {c}," for c in checks), "]", "", *bodies, ""]
    return "\n".join(lines)


SPECIFIC = {
    "todo": """
export const todo: Tables<"todos"> = {
  id: "t", list_id: "l", title: "Buy milk", notes: null, done: false, due_on: null, priority: "high",
  tags: ["shop"], created_at: "2025-01-01T00:00:00Z", updated_at: "2025-01-01T00:00:00Z", owner_id: "u",
}
export const priority: Enums<"todo_priority"> = "normal"
// @ts-expect-error "urgent" is not a priority
export const badPriority: Enums<"todo_priority"> = "urgent"
// @ts-expect-error notes may be null
export const notes: string = todo.notes
// @ts-expect-error title is required
export const noTitle: TablesInsert<"todos"> = { list_id: "l" }
export const minimal: TablesInsert<"todos"> = { list_id: "l", title: "Buy milk" }
""",
    "blog": """
export async function admin(): Promise<boolean | null> {
  const { data } = await client.rpc("is_admin")
  return data
}
export async function postWithCategory(): Promise<string | null> {
  const { data } = await client.from("posts").select("title, categories(name)").limit(1).single()
  return data ? data.categories?.name ?? null : null
}
""",
    "team": """
export async function member(teamId: string): Promise<boolean> {
  const { data, error } = await client.rpc("is_team_member", { team_id: teamId })
  if (error) throw error
  return data
}
export async function badMember(): Promise<void> {
  // @ts-expect-error the argument is called team_id
  await client.rpc("is_team_member", { team: "x" })
}
export const key: api.TeamMemberKey = { team_id: "t", user_id: "u" }
""",
    "booking": """
export async function slotBooking(): Promise<void> {
  const { data } = await client.from("slots").select("id, bookings(id)").limit(1).single()
  if (!data) return
  // one-to-one: each slot has at most one booking, so it is an object, not a list
  const booking: { id: string } | null = data.bookings
  sink(booking)
  // @ts-expect-error not a list
  const list: { id: string }[] = data.bookings
  sink(list)
}
""",
}


@pytest.mark.parametrize("version", TSC_VERSIONS)
@pytest.mark.parametrize("item", TEMPLATES, ids=lambda t: t.name)
def test_template_client_type_checks(item, version: str, node_project: NodeProject, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    model = item.build()
    client = write_client(workdir, model, project_url="https://abcdefghijklmnopqrst.supabase.co")
    (client / "usage.ts").write_text(usage(model) + SPECIFIC.get(item.name, ""), encoding="utf-8")
    type_check(node_project, version, client, "index.ts", "usage.ts")


def test_wrong_usage_is_really_rejected(node_project: NodeProject, workdir: Path) -> None:
    """The @ts-expect-error lines only prove something if tsc fails without them: check that it does."""
    client = write_client(workdir, template("todo").build())
    (client / "wrong.ts").write_text(
        'import type { TablesInsert } from "./index"\nexport const v: TablesInsert<"todos"> = { list_id: "l" }\n',
        encoding="utf-8")
    done = run([*node_project.tsc("typescript"), *TSC_FLAGS, "wrong.ts"], client)
    assert done.returncode != 0 and "title" in done.stdout


HOSTILE_VALUES = ("it's", 'say "hi"', "back\\slash", "*/ end /*", "ünïcødé ☃ 日本 🎉", "new\nline",
                  "`${template}`", "\u2028\u2029", "tab\there", "'", '"', "\\", "</script>", " spaced ")
HOSTILE_LABELS = ('Status "*/" \\ ü', "*/\n// injected", "${x}` + '", "\u2028 ☃")


def hostile_model() -> AppModel:
    model = AppModel(
        "Hostile */ app \"name\"",
        entities=(
            Entity("things", label="Things */ /* here", fields=(
                Field("status", FieldType.ENUM, values=HOSTILE_VALUES, required=True, default="it's",
                      label=HOSTILE_LABELS[0]),
                Field("title", FieldType.TEXT, label=HOSTILE_LABELS[1]),
                Field("mood", FieldType.ENUM, values=HOSTILE_VALUES[::-1], label=HOSTILE_LABELS[2]),
                Field("data", FieldType.JSON, label=HOSTILE_LABELS[3]),
            )),
            Entity("tags", access=Access.PUBLIC_READ_ADMIN_WRITE, fields=(Field("name", FieldType.TEXT),)),
        ),
        links=(Link("tags", "things", "tags", LinkKind.MANY_TO_MANY, label="*/ tags"),),
    )
    assert validate(model) == []
    return model


@pytest.mark.parametrize("version", TSC_VERSIONS)
def test_hostile_values_and_labels_compile(version: str, node_project: NodeProject, workdir: Path) -> None:
    model = hostile_model()
    client = write_client(workdir, model)
    (client / "usage.ts").write_text(usage(model), encoding="utf-8")
    type_check(node_project, version, client, "index.ts", "usage.ts")


def test_hostile_values_and_labels_survive_exactly(node_project: NodeProject, workdir: Path) -> None:
    client = write_client(workdir, hostile_model())
    (client / "dump.ts").write_text(
        'import { Constants } from "./database.types"\n'
        'import { thingLabels } from "./services/things"\n'
        "console.log(JSON.stringify({ enums: Constants.public.Enums, labels: thingLabels }))\n",
        encoding="utf-8")
    dumped = json.loads(compile_and_run(node_project, client, "dump.ts"))
    assert dumped["enums"] == {"thing_mood": list(HOSTILE_VALUES[::-1]), "thing_status": list(HOSTILE_VALUES)}
    assert dumped["labels"] == {"data": HOSTILE_LABELS[3], "mood": HOSTILE_LABELS[2], "status": HOSTILE_LABELS[0],
                                "title": HOSTILE_LABELS[1]}


FAKE_FETCH = """\
import { createClient } from "@supabase/supabase-js"
import type { Database } from "./database.types"
import * as api from "./index"

const calls: string[] = []
async function fakeFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url
  const prefer = new Headers(init?.headers).get("prefer") ?? ""
  const body = typeof init?.body === "string" ? init.body : ""
  calls.push([init?.method ?? "GET", decodeURIComponent(url.replace("http://db.invalid", "")), prefer, body].join(" "))
  const row = { id: "r1" }
  return new Response(JSON.stringify(url.includes("limit") || init?.method === "GET" ? [row] : row), {
    status: 200, headers: { "content-type": "application/json", "content-range": "0-0/42" },
  })
}
class NoSocket { constructor(_url: string) {} close(): void {} send(): void {} }

async function main(): Promise<void> {
  const client = createClient<Database>("http://db.invalid", "sb_publishable_x", {
    db: { schema: api.SCHEMA }, global: { fetch: fakeFetch }, realtime: { transport: NoSocket as never },
  })
  const page = await api.listTasks(client, {
    filter: { status: "done", assignee: null }, orderBy: "title", ascending: false, range: { from: 20, to: 39 },
  })
  await api.listTasks(client)
  await api.getTeamMember(client, { team_id: "t1", user_id: "u1" })
  await api.createTask(client, { title: "T", team_id: "t1", project_id: "p1" })
  await api.updateTask(client, "r1", { status: "doing" })
  await api.deleteTask(client, "r1")
  await api.addTaskLabel(client, "r1", "l1")
  await api.removeTaskLabel(client, "r1", "l1")
  await api.listTaskLabels(client, "r1")
  console.log(JSON.stringify({ count: page.count, calls }))
}
main().catch((error: unknown) => {
  throw error
})
"""


def test_services_send_the_requests_postgrest_expects(node_project: NodeProject, workdir: Path) -> None:
    client = write_client(workdir, template("team").build())
    (client / "requests.ts").write_text(FAKE_FETCH, encoding="utf-8")
    result = json.loads(compile_and_run(node_project, client, "requests.ts"))
    assert result["count"] == 42
    assert result["calls"] == [
        "GET /rest/v1/tasks?select=*&assignee=is.null&status=eq.done&order=title.desc,id.desc&offset=20&limit=20"
        " count=exact ",
        "GET /rest/v1/tasks?select=*&order=created_at.asc,id.asc count=exact ",
        "GET /rest/v1/team_members?select=*&team_id=eq.t1&user_id=eq.u1  ",
        'POST /rest/v1/tasks?select=* return=representation {"title":"T","team_id":"t1","project_id":"p1"}',
        'PATCH /rest/v1/tasks?id=eq.r1&select=* return=representation {"status":"doing"}',
        "DELETE /rest/v1/tasks?id=eq.r1 count=exact ",
        'POST /rest/v1/tasks_labels  {"task_id":"r1","label_id":"l1"}',
        "DELETE /rest/v1/tasks_labels?task_id=eq.r1&label_id=eq.l1  ",
        "GET /rest/v1/tasks_labels?select=target:labels!tasks_labels_label_id_fkey(*)&task_id=eq.r1"
        "&order=created_at.asc  ",
    ]


# ------------------------------------------------------------------------- the same as `supabase gen types`


def schema_sql(model: AppModel) -> str:
    """The tables of `table_shapes(model)` as plain DDL (no policies): what gen types reads is all there."""
    schema = model.schema
    shapes = table_shapes(model)
    statements = [f"create schema if not exists {quote_ident(schema)};"]
    enums: dict[str, tuple[str, ...]] = {}
    for shape in shapes:
        enums.update({c.enum_type: c.enum_values for c in shape.columns if c.enum_type and c.enum_type not in enums})
    for name, values in enums.items():
        statements.append(f"create type {qualified(schema, name)} as enum"
                          f" ({', '.join(quote_literal(v) for v in values)});")
    foreign_keys = []
    for shape in shapes:
        table = qualified(schema, shape.name)
        columns = []
        for column in shape.columns:
            columns.append(" ".join(filter(None, (
                quote_ident(column.name), column.sql_type, "" if column.nullable else "not null",
                f"default {column.default_sql}" if column.default_sql is not None else "",
                "unique" if column.unique else ""))))
            ref = column.references
            if ref is not None:
                foreign_keys.append(
                    f"alter table {table} add constraint {quote_ident(naming.fk_constraint(shape.name, column.name))}"
                    f" foreign key ({quote_ident(column.name)}) references {qualified(ref.schema, ref.table)} (id)"
                    f" on delete {ref.on_delete};")
        columns.append(f"primary key ({', '.join(quote_ident(k) for k in shape.primary_key)})")
        statements.append(f"create table {table} ({', '.join(columns)});")
    statements += foreign_keys
    statements.append(f"create function {qualified(schema, naming.SET_UPDATED_AT)}() returns trigger"
                      " language plpgsql as $$ begin return new; end $$;")
    if any(e.access in (Access.PUBLIC_READ_ADMIN_WRITE, Access.CREATE_ONLY_ADMIN_READ) for e in model.entities):
        statements.append(f"create function {qualified(schema, naming.IS_ADMIN)}() returns boolean"
                          " language sql stable as $$ select false $$;")
    if model.uses_teams:
        statements.append(f"create function {qualified(schema, naming.IS_TEAM_MEMBER)}(team_id uuid) returns boolean"
                          " language sql stable as $$ select true $$;")
    return "\n".join(statements)


GEN_TYPES = """\
import pg from "pg"
import { generateTypescript, introspect, sortGeneratorMetadata } from "@supabase/postgrest-typegen"

const [url, schema] = process.argv.slice(2)
const pool = new pg.Pool({ connectionString: url })
try {
  const metadata = await introspect(pool, { includedSchemas: [schema] })
  // As `supabase gen types typescript --schema <schema>` asks postgres-meta for it.
  process.stdout.write(await generateTypescript(sortGeneratorMetadata(metadata), {
    detectOneToOneRelationships: true, defaultSchema: schema,
  }))
} finally {
  await pool.end()
}
"""


def long_names_model() -> AppModel:
    """Unions and arrays too wide for one line, wide (CJK) characters, quotes of both kinds."""
    return AppModel("m", entities=(Entity("things", fields=(
        Field("a_rather_long_column_name_for_a_status", FieldType.ENUM, values=tuple(f"value_{i}" for i in range(9))),
        Field("wide", FieldType.ENUM, values=("日本語の値", "日本語の値です", "ほかの値", "まだまだ", "もう一つ")),
        Field("quotes", FieldType.ENUM, values=("a'b", "'", '"', "a\"b\"c'", "\\", "\u2028", "\x01", "e\u0301")),
    )),))


GEN_TYPES_MODELS = {
    **{t.name: t.build for t in TEMPLATES},
    "hostile": hostile_model,
    "long_names": long_names_model,
    "other_schema": lambda: replace(template("team").build(), schema="app"),
}


@pytest.mark.parametrize("name", list(GEN_TYPES_MODELS))
def test_types_are_what_supabase_gen_types_prints(name: str, node_project: NodeProject, workdir: Path,
                                                  db_url: str) -> None:
    model = GEN_TYPES_MODELS[name]()
    assert validate(model) == []
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(schema_sql(model).encode())
    script = workdir / "gen_types.mjs"
    script.write_text(GEN_TYPES, encoding="utf-8")
    done = run([node_project.node, str(script), db_url, model.schema], workdir)
    assert done.returncode == 0, done.stderr
    assert database_types(model) == done.stdout
