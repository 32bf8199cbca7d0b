"""TypeScript client code for supabase-js: the `Database` types, a client factory and one service per table.

`database.types.ts` has the shape `supabase gen types typescript --schema <schema>` prints for the generated
schema (same members, same order, the same prettier layout), so regenerating the types with the CLI later
changes nothing the services rely on. Everything is read from `table_shapes(model)`, the same shapes the
SQL is generated from.

The generator takes no key at all: the app gets its publishable key from its environment at run time, and
the secret / service_role key never reaches client code.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from studio.core.generate.tables import Column, TableShape, table_shapes
from studio.core.model import naming
from studio.core.model.appmodel import Access, AppModel, Link, LinkKind, singularize

#: Where the TypeScript client goes in the workspace.
ROOT = "clients/typescript"

#: The parameter of the generated `is_team_member(team_id uuid)` function.
IS_TEAM_MEMBER_ARG = "team_id"

#: prettier's default line width, which `supabase gen types` formats with.
_WIDTH = 80

_TS_TYPES = {
    "uuid": "string",
    "text": "string",
    "date": "string",
    "timestamp with time zone": "string",
    "integer": "number",
    "numeric": "number",
    "boolean": "boolean",
    "jsonb": "Json",
    "text[]": "string[]",
}

#: Columns of these types are left out of equality filters (PostgREST compares them by text).
_UNFILTERED_SQL_TYPES = frozenset({"jsonb", "text[]"})


def typescript_files(model: AppModel, *, project_url: str | None = None) -> dict[str, str]:
    """The TypeScript client for `model`: workspace-relative path (under `clients/typescript/`) -> content.

    `project_url` (the project's API URL, `https://<ref>.supabase.co`) becomes the default `SUPABASE_URL`.
    There is deliberately no parameter for a key: the app reads its publishable key from its environment.
    """
    if project_url is not None and not project_url.startswith(("https://", "http://")):
        raise ValueError(f"the project URL must start with https:// (got {project_url!r})")
    shapes = table_shapes(model)
    files = {
        f"{ROOT}/database.types.ts": database_types(model),
        f"{ROOT}/supabase.ts": _supabase_module(model, project_url),
    }
    modules: list[tuple[str, list[str]]] = []
    for shape in shapes:
        if shape.link is not None:
            continue  # join tables: link helpers on the source entity's service
        joins = [s for s in shapes if s.link is not None and s.link.source == shape.name]
        service = _Service(model, shape, joins)
        files[f"{ROOT}/services/{shape.name}.ts"] = service.module()
        modules.append((shape.name, service.exports))
    files[f"{ROOT}/index.ts"] = _index_module(modules)
    return dict(sorted(files.items()))


# ---------------------------------------------------------------------------------------------------- text helpers


def ts_string(value: str) -> str:
    """`value` as a TypeScript string literal, exactly as `JSON.stringify` then prettier would write it.

    Double quotes unless the text holds more double than single quotes; any text is safe (quotes,
    backslashes, line breaks, control characters, lone surrogates, `*/`).
    """
    content = json.dumps(value, ensure_ascii=False)[1:-1]
    content = "".join(f"\\u{ord(ch):04x}" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in content)
    quote = "'" if content.count('"') > content.count("'") else '"'
    out: list[str] = []
    i = 0
    while i < len(content):
        ch = content[i]
        if ch == "\\":
            escaped = content[i + 1]
            out.append('"' if escaped == '"' and quote == "'" else "\\" + escaped)
            i += 2
            continue
        out.append("\\" + ch if ch == quote else ch)
        i += 1
    return quote + "".join(out) + quote


def comment_text(text: str) -> str:
    """`text` made safe inside a `/** ... */` comment: one line, and no `*/` that would end it."""
    flat = " ".join(text.replace("\u2028", "\n").replace("\u2029", "\n").split())
    return flat.replace("*/", "*\\/")


def camel(name: str) -> str:
    """`due_on` -> `dueOn`: each underscore before a letter becomes that letter in upper case.

    Other underscores stay (`a__b` -> `a_B`, `v_2` -> `v_2`), so different names never give the same result.
    """
    out: list[str] = []
    i = 0
    while i < len(name):
        if name[i] == "_" and i + 1 < len(name) and name[i + 1].isalpha() and name[i + 1].islower():
            out.append(name[i + 1].upper())
            i += 2
        else:
            out.append(name[i])
            i += 1
    return "".join(out)


def pascal(name: str) -> str:
    """`team_members` -> `TeamMembers`."""
    text = camel(name)
    return text[:1].upper() + text[1:]


def _sort_key(name: str) -> str:
    """Order of JavaScript's `localeCompare` for plain identifiers (`_` sorts before digits and letters)."""
    return name.replace("_", "\x01")


def _width(text: str) -> int:
    """Display width the way prettier measures it (wide East Asian characters count two)."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _member(indent: int, key: str, parts: Sequence[str], *, optional: bool = False) -> list[str]:
    """`key: A | B` on one line if it fits, else one union member a line (prettier's layout)."""
    pad = " " * indent
    name = f"{key}?" if optional else key
    line = f"{pad}{name}: {' | '.join(parts)}"
    if len(parts) < 2 or _width(line) <= _WIDTH:
        return [line]
    return [f"{pad}{name}:", *(f"{pad}  | {part}" for part in parts)]


def _array(indent: int, prefix: str, items: Sequence[str], suffix: str = "") -> list[str]:
    """`prefix[a, b]suffix` on one line if it fits, else one item a line with trailing commas."""
    pad = " " * indent
    line = f"{pad}{prefix}[{', '.join(items)}]{suffix}"
    if not items or _width(line) <= _WIDTH:
        return [line]
    return [f"{pad}{prefix}[", *(f"{pad}  {item}," for item in items), f"{pad}]{suffix}"]


def _sorted_unique(names: Iterable[str]) -> list[str]:
    return sorted(set(names), key=_sort_key)


# -------------------------------------------------------------------------------------------- database.types.ts


def _ts_type(schema: str, column: Column) -> str:
    if column.enum_type is not None:
        return f'Database["{schema}"]["Enums"]["{column.enum_type}"]'
    try:
        return _TS_TYPES[column.sql_type]
    except KeyError:
        raise ValueError(f"no TypeScript type for column {column.name} of type {column.sql_type}") from None


def _column_parts(schema: str, column: Column) -> list[str]:
    return [_ts_type(schema, column), "null"] if column.nullable else [_ts_type(schema, column)]


def _relationships(shape: TableShape) -> list[tuple[str, str, bool, str]]:
    """Foreign keys to tables of the same schema (gen types leaves out others, such as `auth.users`)."""
    found = []
    for column in shape.columns:
        ref = column.references
        if ref is None or ref.schema != shape.schema:
            continue
        one_to_one = column.unique or shape.primary_key == (column.name,)
        found.append((naming.fk_constraint(shape.name, column.name), column.name, one_to_one, ref.table))
    return sorted(found, key=lambda r: (_sort_key(r[0]), _sort_key(r[3])))


def _table_lines(shape: TableShape) -> list[str]:
    schema = shape.schema
    columns = sorted(shape.columns, key=lambda c: _sort_key(c.name))
    lines = [f"      {shape.name}: {{", "        Row: {"]
    for column in columns:
        lines += _member(10, column.name, _column_parts(schema, column))
    lines += ["        }", "        Insert: {"]
    for column in columns:
        lines += _member(10, column.name, _column_parts(schema, column), optional=column.insert_optional)
    lines += ["        }", "        Update: {"]
    for column in columns:
        lines += _member(10, column.name, _column_parts(schema, column), optional=True)
    lines.append("        }")
    relationships = _relationships(shape)
    if not relationships:
        lines.append("        Relationships: []")
    else:
        lines.append("        Relationships: [")
        for fk_name, column_name, one_to_one, target in relationships:
            lines += [
                "          {",
                f"            foreignKeyName: {ts_string(fk_name)}",
                *_array(12, "columns: ", [ts_string(column_name)]),
                f"            isOneToOne: {'true' if one_to_one else 'false'}",
                f"            referencedRelation: {ts_string(target)}",
                *_array(12, "referencedColumns: ", [ts_string(naming.ID)]),
                "          },",
            ]
        lines.append("        ]")
    lines.append("      }")
    return lines


def _enums(shapes: Sequence[TableShape]) -> list[tuple[str, tuple[str, ...]]]:
    enums: dict[str, tuple[str, ...]] = {}
    for shape in shapes:
        for column in shape.columns:
            if column.enum_type is not None:
                enums.setdefault(column.enum_type, column.enum_values)
    return [(name, enums[name]) for name in sorted(enums, key=_sort_key)]


def _functions(model: AppModel) -> list[tuple[str, str, str]]:
    """(name, Args, Returns) of the callable functions the generated SQL defines (trigger functions left out)."""
    functions = []
    admin_rules = (Access.PUBLIC_READ_ADMIN_WRITE, Access.CREATE_ONLY_ADMIN_READ)
    if any(entity.access in admin_rules for entity in model.entities):
        functions.append((naming.IS_ADMIN, "Record<PropertyKey, never>", "boolean"))
    if model.uses_teams:
        functions.append((naming.IS_TEAM_MEMBER, f"{{ {IS_TEAM_MEMBER_ARG}: string }}", "boolean"))
    return sorted(functions, key=lambda f: _sort_key(f[0]))


_NEVER = "      [_ in never]: never"

_HELPERS = '''type DatabaseWithoutInternals = Omit<Database, "__InternalSupabase">

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "@SCHEMA@">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] &
        DefaultSchema["Views"])
    ? (DefaultSchema["Tables"] &
        DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
        Row: infer R
      }
      ? R
      : never
    : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Insert: infer I
      }
      ? I
      : never
    : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Update: infer U
      }
      ? U
      : never
    : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends (DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never) = never,
> = DefaultSchemaEnumNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
    ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
    : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends (PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never) = never,
> = PublicCompositeTypeNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
    ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
    : never
'''


def database_types(model: AppModel) -> str:
    """`database.types.ts`: what `supabase gen types typescript --schema <schema>` prints for the generated SQL.

    Tables, columns, enums and functions sorted by name as gen types sorts them; relationships only to
    tables of the same schema; the `Tables<>`, `TablesInsert<>`, `TablesUpdate<>`, `Enums<>` and
    `CompositeTypes<>` helpers and the `Constants` object of recent CLI versions. There is no
    `__InternalSupabase` entry (gen types adds it only when it knows the server's PostgREST version;
    supabase-js then assumes version 12).
    """
    schema = model.schema
    shapes = table_shapes(model)
    lines = [
        "export type Json =",
        "  | string",
        "  | number",
        "  | boolean",
        "  | null",
        "  | { [key: string]: Json | undefined }",
        "  | Json[]",
        "",
        "export type Database = {",
        f"  {schema}: {{",
        "    Tables: {",
    ]
    tables = sorted(shapes, key=lambda s: _sort_key(s.name))
    if not tables:
        lines.append(_NEVER)
    for shape in tables:
        lines += _table_lines(shape)
    lines += ["    }", "    Views: {", _NEVER, "    }", "    Functions: {"]
    functions = _functions(model)
    if not functions:
        lines.append(_NEVER)
    for name, args, returns in functions:
        line = f"      {name}: {{ Args: {args}; Returns: {returns} }}"
        if _width(line) <= _WIDTH:
            lines.append(line)
        else:
            lines += [f"      {name}: {{", f"        Args: {args}", f"        Returns: {returns}", "      }"]
    lines += ["    }", "    Enums: {"]
    enums = _enums(shapes)
    if not enums:
        lines.append(_NEVER)
    for name, values in enums:
        lines += _member(6, name, [ts_string(v) for v in values])
    lines += ["    }", "    CompositeTypes: {", _NEVER, "    }", "  }", "}", ""]
    lines.append(_HELPERS.replace("@SCHEMA@", schema))
    lines += ["export const Constants = {", f"  {schema}: {{"]
    if not enums:
        lines.append("    Enums: {},")
    else:
        lines.append("    Enums: {")
        for name, values in enums:
            lines += _array(6, f"{name}: ", [ts_string(v) for v in values], ",")
        lines.append("    },")
    lines += ["  },", "} as const", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------- supabase.ts


def _supabase_module(model: AppModel, project_url: str | None) -> str:
    url = ts_string(project_url) if project_url is not None else ts_string("http://127.0.0.1:54321")
    where = "the linked project's URL" if project_url is not None else "the Supabase CLI's local stack"
    return f'''/**
 * The Supabase client for {comment_text(model.name) or "this app"}, typed with the generated `Database`.
 *
 * Give it the project's publishable key (`sb_publishable_...`, or the legacy `anon` key). NEVER use a secret
 * key (`sb_secret_...`) or the `service_role` key in this app: they bypass Row Level Security, and anything
 * shipped inside an app can be read by whoever has it. Those keys belong on a server only.
 *
 * Generated by Studio from the app's data model; regenerate it rather than editing it.
 */
import {{ createClient, type SupabaseClient }} from "@supabase/supabase-js"

import type {{ Database }} from "./database.types"

/** The database schema the app's tables are in. */
export const SCHEMA = {ts_string(model.schema)}

type Environment = Record<string, string | undefined>
const environment: Environment =
  (globalThis as {{ process?: {{ env?: Environment }} }}).process?.env ?? {{}}

/** The project's API URL: `SUPABASE_URL` from the environment, else {where}. */
export const SUPABASE_URL: string = environment["SUPABASE_URL"] ?? {url}

/**
 * The publishable key from the `SUPABASE_PUBLISHABLE_KEY` environment variable ("" when unset).
 * With a bundler that exposes variables differently (Vite's `import.meta.env`), pass the key to
 * `createSupabase` yourself.
 */
export const SUPABASE_PUBLISHABLE_KEY: string = environment["SUPABASE_PUBLISHABLE_KEY"] ?? ""

/** A supabase-js client that knows this app's tables. */
export type TypedSupabaseClient = SupabaseClient<Database>

/** A client for the project at `url` using its publishable key (never a secret key). */
export function createSupabase(
  url: string = SUPABASE_URL,
  publishableKey: string = SUPABASE_PUBLISHABLE_KEY,
): TypedSupabaseClient {{
  if (!publishableKey) {{
    throw new Error("Set SUPABASE_PUBLISHABLE_KEY or pass the project's publishable key to createSupabase.")
  }}
  if (publishableKey.startsWith("sb_secret_")) {{
    throw new Error("That is a secret key: it must never be used in an app. Use the publishable key.")
  }}
  return createClient<Database>(url, publishableKey, {{ db: {{ schema: SCHEMA }} }})
}}

/** An error the database or the API returned, with PostgREST's message, code, details and hint. */
export class SupabaseRequestError extends Error {{
  readonly code: string
  readonly details: string
  readonly hint: string

  constructor(error: {{ message: string; code?: string; details?: string | null; hint?: string | null }}) {{
    super(error.message)
    this.name = "SupabaseRequestError"
    this.code = error.code ?? ""
    this.details = error.details ?? ""
    this.hint = error.hint ?? ""
  }}
}}

/** The error to throw for a failed request. */
export function requestError(error: {{
  message: string
  code?: string
  details?: string | null
  hint?: string | null
}}): SupabaseRequestError {{
  return new SupabaseRequestError(error)
}}

let channelCount = 0

/** A realtime channel name no other subscription of this app uses. */
export function channelName(table: string): string {{
  channelCount += 1
  return `${{SCHEMA}}:${{table}}:${{channelCount}}`
}}
'''


# ---------------------------------------------------------------------------------------------------- services


@dataclass(frozen=True)
class _JoinHelper:
    link: Link
    table: str
    source_column: str
    target_column: str
    target: str
    add: str
    remove: str
    list_all: str
    method_add: str
    method_remove: str
    method_list: str


class _Service:
    """The service module of one table: types, functions, link helpers and a class binding them to a client."""

    def __init__(self, model: AppModel, shape: TableShape, joins: Sequence[TableShape]) -> None:
        self.model = model
        self.shape = shape
        self.table = shape.name
        one = shape.entity.one if shape.entity is not None else singularize(shape.name)
        self.one = pascal(one)
        self.plural = pascal(shape.name)
        self.row = f"{self.one}Row"
        self.insert = f"{self.one}Insert"
        self.update = f"{self.one}Update"
        self.filter = f"{self.one}Filter"
        self.column_type = f"{self.one}Column"
        self.options = f"{self.one}ListOptions"
        self.result = f"{self.one}ListResult"
        self.key = f"{self.one}Key"
        self.labels = f"{camel(one)}Labels"
        self.class_name = f"{self.plural}Service"
        self.fn_list = f"list{self.plural}"
        self.fn_get = f"get{self.one}"
        self.fn_create = f"create{self.one}"
        self.fn_update = f"update{self.one}"
        self.fn_delete = f"delete{self.one}"
        self.fn_subscribe = f"subscribeTo{self.plural}"
        self.single_key = shape.primary_key == (naming.ID,)
        self.readable_after_insert = shape.access is not Access.CREATE_ONLY_ADMIN_READ
        taken = {
            self.row, self.insert, self.update, self.filter, self.column_type, self.options, self.result,
            self.key, self.labels, self.class_name, self.fn_list, self.fn_get, self.fn_create, self.fn_update,
            self.fn_delete, self.fn_subscribe,
        }
        methods = {"list", "get", "create", "update", "delete", "subscribe", "client"}
        self.joins = [self._join(join, taken, methods) for join in joins]
        self.exports = sorted(taken)

    def _join(self, join: TableShape, taken: set[str], methods: set[str]) -> _JoinHelper:
        link = join.link
        assert link is not None and link.kind is LinkKind.MANY_TO_MANY
        source_column, target_column = naming.join_columns(self.model, link)
        item, items = pascal(singularize(link.name)), pascal(link.name)

        def unique(name: str, pool: set[str]) -> str:
            if name in pool:
                name = f"{name}Via{pascal(join.name)}"
            pool.add(name)
            return name

        return _JoinHelper(
            link=link, table=join.name, source_column=source_column, target_column=target_column,
            target=link.target,
            add=unique(f"add{self.one}{item}", taken), remove=unique(f"remove{self.one}{item}", taken),
            list_all=unique(f"list{self.one}{items}", taken),
            method_add=unique(f"add{item}", methods), method_remove=unique(f"remove{item}", methods),
            method_list=unique(f"list{items}", methods),
        )

    # -- pieces

    def _table_type(self, table: str, part: str) -> str:
        return f'Database["{self.shape.schema}"]["Tables"]["{table}"]["{part}"]'

    def _key_param(self) -> str:
        return f"id: {self.row}[\"id\"]" if self.single_key else f"key: {self.key}"

    def _key_arg(self) -> str:
        return "id" if self.single_key else "key"

    def _key_filters(self) -> str:
        if self.single_key:
            return '.eq("id", id)'
        return "".join(f'.eq("{c}", key.{c})' for c in self.shape.primary_key)

    def _heading(self) -> list[str]:
        entity = self.shape.entity
        label = comment_text(entity.label) if entity is not None and entity.label else ""
        title = f"{label} (table `{self.table}`)" if label else f"Table `{self.table}`"
        return [
            "/**",
            f" * {title}: list, read, add, change and delete rows, and follow changes live.",
            " *",
            " * Row Level Security decides what each signed-in user may do; a call it refuses throws a",
            " * SupabaseRequestError. Generated by Studio from the app's data model; regenerate it rather than",
            " * editing it.",
            " */",
        ]

    def _types(self) -> list[str]:
        filterable = [c.name for c in self.shape.columns if c.sql_type not in _UNFILTERED_SQL_TYPES]
        picked = " | ".join(f'"{name}"' for name in _sorted_unique(filterable))
        lines = [
            f"/** A row of `{self.table}`, as read. */",
            f"export type {self.row} = {self._table_type(self.table, 'Row')}",
            "/** The values to add a row: columns with a default or allowing empty may be left out. */",
            f"export type {self.insert} = {self._table_type(self.table, 'Insert')}",
            "/** Changes to a row: only the columns given are changed. */",
            f"export type {self.update} = {self._table_type(self.table, 'Update')}",
            f"/** A column of `{self.table}`. */",
            f"export type {self.column_type} = keyof {self.row}",
            "/** Equality filters: each column given must equal its value (`null` matches empty values). */",
            f"export type {self.filter} = Partial<Pick<{self.row}, {picked}>>",
        ]
        if not self.single_key:
            keys = " | ".join(f'"{c}"' for c in self.shape.primary_key)
            lines += ["/** What identifies one row. */", f"export type {self.key} = Pick<{self.row}, {keys}>"]
        lines += [
            "/** Which rows `list` returns, in which order, and which page of them (`range`, both ends included). */",
            f"export type {self.options} = {{",
            f"  filter?: {self.filter}",
            f"  orderBy?: {self.column_type}",
            "  ascending?: boolean",
            "  range?: { from: number; to: number }",
            "}",
            "/** One page of rows and how many rows match the filter in all. */",
            f"export type {self.result} = {{ rows: {self.row}[]; count: number }}",
            "",
            "/** The label of each column, as the builder named it. */",
            f"export const {self.labels} = {{",
        ]
        for column in sorted(self.shape.columns, key=lambda c: _sort_key(c.name)):
            if column.label:
                lines.append(f"  {column.name}: {ts_string(column.label)},")
        lines.append("} as const")
        return lines

    def _functions(self) -> list[str]:
        row, table = self.row, self.table
        filters = []
        for column in sorted(self.shape.columns, key=lambda c: _sort_key(c.name)):
            if column.sql_type in _UNFILTERED_SQL_TYPES:
                continue
            name = column.name
            filters.append(f"  if (filter.{name} !== undefined) {{")
            if column.nullable:
                filters.append(f"    query = filter.{name} === null ? query.is(\"{name}\", null)"
                               f" : query.eq(\"{name}\", filter.{name})")
            else:
                filters.append(f"    query = query.eq(\"{name}\", filter.{name})")
            filters.append("  }")
        tiebreak = "".join(
            f'  if (orderBy !== "{c}") query = query.order("{c}", {{ ascending }})\n' for c in self.shape.primary_key
        )
        if self.readable_after_insert:
            create = [
                f"/** Add a row to `{table}`; returns it as stored (with its id and defaults). */",
                f"export async function {self.fn_create}(client: TypedSupabaseClient, values: {self.insert}):"
                f" Promise<{row}> {{",
                f'  const {{ data, error }} = await client.from("{table}").insert(values).select().single()',
                "  if (error) throw requestError(error)",
                "  return data",
                "}",
            ]
        else:
            create = [
                "/**",
                f" * Add a row to `{table}`. Nothing is returned: anyone may add rows here, but only admins may",
                " * read them, so the new row cannot be read back.",
                " */",
                f"export async function {self.fn_create}(client: TypedSupabaseClient, values: {self.insert}):"
                " Promise<void> {",
                f'  const {{ error }} = await client.from("{table}").insert(values)',
                "  if (error) throw requestError(error)",
                "}",
            ]
        return [
            f"/** Rows of `{table}` matching `options.filter`, ordered (by creation, by default) and paged. */",
            f"export async function {self.fn_list}(",
            "  client: TypedSupabaseClient,",
            f"  options: {self.options} = {{}},",
            f"): Promise<{self.result}> {{",
            "  const filter = options.filter ?? {}",
            f'  let query = client.from("{table}").select("*", {{ count: "exact" }})',
            *filters,
            f'  const orderBy = options.orderBy ?? "{naming.CREATED_AT}"',
            "  const ascending = options.ascending ?? true",
            "  query = query.order(orderBy, { ascending })",
            tiebreak.rstrip("\n"),
            "  if (options.range) query = query.range(options.range.from, options.range.to)",
            "  const { data, error, count } = await query",
            "  if (error) throw requestError(error)",
            "  return { rows: data, count: count ?? data.length }",
            "}",
            "",
            f"/** One row of `{table}`, or null when there is none (or this user may not see it). */",
            f"export async function {self.fn_get}(client: TypedSupabaseClient, {self._key_param()}):"
            f" Promise<{row} | null> {{",
            f'  const {{ data, error }} = await client.from("{table}").select("*"){self._key_filters()}.maybeSingle()',
            "  if (error) throw requestError(error)",
            "  return data",
            "}",
            "",
            *create,
            "",
            f"/** Change a row of `{table}`; returns it as stored. Throws when there is no such row to change. */",
            f"export async function {self.fn_update}(",
            "  client: TypedSupabaseClient,",
            f"  {self._key_param()},",
            f"  changes: {self.update},",
            f"): Promise<{row}> {{",
            f'  const {{ data, error }} = await client.from("{table}").update(changes){self._key_filters()}'
            ".select().single()",
            "  if (error) throw requestError(error)",
            "  return data",
            "}",
            "",
            f"/** Delete a row of `{table}`; false when there was no such row (or this user may not delete it). */",
            f"export async function {self.fn_delete}(client: TypedSupabaseClient, {self._key_param()}):"
            " Promise<boolean> {",
            f'  const {{ error, count }} = await client.from("{table}").delete({{ count: "exact" }})'
            f"{self._key_filters()}",
            "  if (error) throw requestError(error)",
            "  return (count ?? 0) > 0",
            "}",
            "",
            "/**",
            f" * Call `onChange` for every row of `{table}` added, changed or deleted that this user may see",
            " * (`filter` narrows it to rows whose column equals a value). Returns the function that stops it.",
            " */",
            f"export function {self.fn_subscribe}(",
            "  client: TypedSupabaseClient,",
            f"  onChange: (change: RealtimePostgresChangesPayload<{row}>) => void,",
            f"  filter?: {{ column: {self.column_type}; value: string | number | boolean }},",
            "): () => void {",
            "  const channel = client",
            f'    .channel(channelName("{table}"))',
            "    .on<" + row + ">(",
            '      "postgres_changes",',
            "      {",
            '        event: "*",',
            "        schema: SCHEMA,",
            f'        table: "{table}",',
            "        ...(filter ? { filter: `${filter.column}=eq.${String(filter.value)}` } : {}),",
            "      },",
            "      onChange,",
            "    )",
            "    .subscribe()",
            "  return () => {",
            "    void client.removeChannel(channel)",
            "  }",
            "}",
        ]

    def _join_functions(self, join: _JoinHelper) -> list[str]:
        src, tgt = camel(join.source_column), camel(join.target_column)
        target_row = self._table_type(join.target, "Row")
        hint = f"target:{join.target}!{naming.fk_constraint(join.table, join.target_column)}(*)"
        label = comment_text(join.link.label) if join.link.label else join.link.name
        return [
            f"/** Link a row of `{self.table}` to a row of `{join.target}` ({label}). */",
            f"export async function {join.add}(client: TypedSupabaseClient, {src}: string, {tgt}: string):"
            " Promise<void> {",
            f'  const {{ error }} = await client.from("{join.table}").insert({{ {join.source_column}: {src},'
            f" {join.target_column}: {tgt} }})",
            "  if (error) throw requestError(error)",
            "}",
            "",
            f"/** Remove the link between a row of `{self.table}` and a row of `{join.target}` ({label}). */",
            f"export async function {join.remove}(client: TypedSupabaseClient, {src}: string, {tgt}: string):"
            " Promise<void> {",
            "  const { error } = await client",
            f'    .from("{join.table}")',
            "    .delete()",
            f'    .eq("{join.source_column}", {src})',
            f'    .eq("{join.target_column}", {tgt})',
            "  if (error) throw requestError(error)",
            "}",
            "",
            f"/** The rows of `{join.target}` linked to a row of `{self.table}` ({label}), oldest link first. */",
            f"export async function {join.list_all}(",
            "  client: TypedSupabaseClient,",
            f"  {src}: string,",
            f"): Promise<{target_row}[]> {{",
            "  const { data, error } = await client",
            f'    .from("{join.table}")',
            f'    .select("{hint}")',
            f'    .eq("{join.source_column}", {src})',
            f'    .order("{naming.CREATED_AT}")',
            "  if (error) throw requestError(error)",
            "  return data.flatMap((link) => (link.target ? [link.target] : []))",
            "}",
        ]

    def _class(self) -> list[str]:
        kp, ka = self._key_param(), self._key_arg()
        lines = [
            f"/** The operations on `{self.table}`, bound to one client: `new {self.class_name}(supabase).list()`. */",
            f"export class {self.class_name} {{",
            "  readonly client: TypedSupabaseClient",
            "",
            "  constructor(client: TypedSupabaseClient) {",
            "    this.client = client",
            "  }",
            "",
            f"  /** See {self.fn_list}. */",
            f"  list(options: {self.options} = {{}}): Promise<{self.result}> {{",
            f"    return {self.fn_list}(this.client, options)",
            "  }",
            "",
            f"  /** See {self.fn_get}. */",
            f"  get({kp}): Promise<{self.row} | null> {{",
            f"    return {self.fn_get}(this.client, {ka})",
            "  }",
            "",
            f"  /** See {self.fn_create}. */",
            f"  create(values: {self.insert}): Promise<{self.row if self.readable_after_insert else 'void'}> {{",
            f"    return {self.fn_create}(this.client, values)",
            "  }",
            "",
            f"  /** See {self.fn_update}. */",
            f"  update({kp}, changes: {self.update}): Promise<{self.row}> {{",
            f"    return {self.fn_update}(this.client, {ka}, changes)",
            "  }",
            "",
            f"  /** See {self.fn_delete}. */",
            f"  delete({kp}): Promise<boolean> {{",
            f"    return {self.fn_delete}(this.client, {ka})",
            "  }",
            "",
            f"  /** See {self.fn_subscribe}. */",
            "  subscribe(",
            f"    onChange: (change: RealtimePostgresChangesPayload<{self.row}>) => void,",
            f"    filter?: {{ column: {self.column_type}; value: string | number | boolean }},",
            "  ): () => void {",
            f"    return {self.fn_subscribe}(this.client, onChange, filter)",
            "  }",
        ]
        for join in self.joins:
            src, tgt = camel(join.source_column), camel(join.target_column)
            lines += [
                "",
                f"  /** See {join.add}. */",
                f"  {join.method_add}({src}: string, {tgt}: string): Promise<void> {{",
                f"    return {join.add}(this.client, {src}, {tgt})",
                "  }",
                "",
                f"  /** See {join.remove}. */",
                f"  {join.method_remove}({src}: string, {tgt}: string): Promise<void> {{",
                f"    return {join.remove}(this.client, {src}, {tgt})",
                "  }",
                "",
                f"  /** See {join.list_all}. */",
                f"  {join.method_list}({src}: string): Promise<{self._table_type(join.target, 'Row')}[]> {{",
                f"    return {join.list_all}(this.client, {src})",
                "  }",
            ]
        lines.append("}")
        return lines

    def module(self) -> str:
        """The text of `services/<table>.ts`."""
        lines = [
            *self._heading(),
            'import type { RealtimePostgresChangesPayload } from "@supabase/supabase-js"',
            "",
            'import type { Database } from "../database.types"',
            'import { channelName, requestError, SCHEMA, type TypedSupabaseClient } from "../supabase"',
            "",
            *self._types(),
            "",
            *self._functions(),
        ]
        for join in self.joins:
            lines += ["", *self._join_functions(join)]
        lines += ["", *self._class(), ""]
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------------------ index.ts

_BASE_EXPORTS = frozenset({
    "Json", "Database", "Tables", "TablesInsert", "TablesUpdate", "Enums", "CompositeTypes", "Constants",
    "SCHEMA", "SUPABASE_URL", "SUPABASE_PUBLISHABLE_KEY", "TypedSupabaseClient", "createSupabase",
    "SupabaseRequestError", "requestError", "channelName",
})


def _index_module(modules: Sequence[tuple[str, list[str]]]) -> str:
    lines = [
        "/** The app's Supabase client, its database types and one service per table. Generated by Studio. */",
        'export * from "./database.types"',
        'export * from "./supabase"',
    ]
    taken = set(_BASE_EXPORTS)
    for table, exports in modules:
        if taken.isdisjoint(exports):
            lines.append(f'export * from "./services/{table}"')
            taken.update(exports)
        else:  # two tables would export the same name: this one is reachable under its own name instead
            name = f"{pascal(table)}Module"
            lines.append(f'export * as {name} from "./services/{table}"')
            taken.add(name)
    return "\n".join(lines) + "\n"
