"""Dart client code for `supabase_flutter`: typed models and one service per table.

`dart_files(model)` returns the files of a `lib/` folder, under `clients/dart/lib/`:

* `supabase_config.dart`: the project URL and `initSupabase()`. The publishable (anon) key is read at build
  time with `String.fromEnvironment`, so no key is ever written into the code, and a server key (service_role
  or `sb_secret_...`) given by mistake is refused. This generator takes no key at all.
* `models/<table>.dart`: the row class (immutable, `fromJson` / `toJson` / `copyWith`), the insert and update
  shapes, a column enum and one Dart enum per enum column.
* `services/<table>_service.dart`: list (filters, order, paging), get, create, update, delete and a Realtime
  subscription, through `Supabase.instance.client`.

Everything comes from `table_shapes(model)`, so the client code matches the generated tables exactly. Values
that come from the builder (enum values, labels, names) only ever reach the code as escaped string literals
or as sanitised comments; identifiers are derived, made valid and kept apart from Dart's reserved words
and from the names the generated code itself uses.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from studio.core.generate.common import (
    check_project_url,
    comment_text,
    create_only,
    unique_name,
    updatable,
    upper_camel,
    words,
)
from studio.core.generate.tables import Column, TableShape, table_shapes
from studio.core.model.appmodel import AppModel, singularize

LIB = "clients/dart/lib"

#: Words Dart reserves, built-in identifiers and contextual keywords: never used as a generated name.
_RESERVED_WORDS = (
    "abstract as assert async await base break case catch class const continue covariant default deferred do"
    " dynamic else enum export extends extension external factory false final finally for Function get hide if"
    " implements import in interface is late library mixin new null of on operator part required rethrow return"
    " sealed set show static super switch sync this throw true try type typedef var void when while with yield"
)
DART_RESERVED = frozenset(_RESERVED_WORDS.split())

#: Type names a generated class must not take: dart:core's, and what the services import from supabase_flutter.
_TAKEN_TYPE_WORDS = (
    "ArgumentError AssertionError BigInt BidirectionalIterator Comparable Comparator ConcurrentModificationError"
    " DateTime Deprecated Duration Enum Error Exception Expando Finalizer Float Function Future FormatException"
    " IndexError Invocation Iterable Iterator List Map MapEntry Match Never NoSuchMethodError Null Object"
    " OutOfMemoryError Pattern Record RangeError RegExp RegExpMatch RuneIterator Runes Set Sink StackOverflowError"
    " StackTrace StateError Stopwatch Stream String StringBuffer StringSink Symbol Type TypeError UnimplementedError"
    " UnsupportedError Uri UriData WeakReference Supabase SupabaseClient RealtimeChannel PostgresChangeEvent"
    " PostgresChangeFilter PostgresChangePayload"
)
DART_TAKEN_TYPES = frozenset(_TAKEN_TYPE_WORDS.split())

#: Names a field may not take: members every generated class has or inherits, and the names their bodies
#: use that a member would hide (the lower-case built-in types, `identical`).
_MEMBER_NAMES = frozenset({"hashCode", "runtimeType", "toString", "noSuchMethod", "fromJson", "toJson", "copyWith",
                           "isEmpty", "int", "double", "bool", "num", "identical"})
_ENUM_MEMBER_NAMES = frozenset({"values", "index", "name", "value", "hashCode", "runtimeType", "toString",
                                "noSuchMethod", "fromValue", "compareTo"})

_PLACEHOLDER_URL = "https://YOUR-PROJECT-REF.supabase.co"


# --- names ------------------------------------------------------------------------------------------------




def lower_camel(text: str) -> str:
    """`due_on` -> `dueOn`; empty when `text` has no ASCII letters or digits."""
    parts = words(text)
    if not parts:
        return ""
    return parts[0].lower() + "".join(part[:1].upper() + part[1:].lower() for part in parts[1:])






def _member_name(text: str, fallback: str, avoid: frozenset[str], taken: set[str]) -> str:
    """A lowerCamelCase identifier for `text`: valid, not reserved, not in `avoid`, unique within `taken`."""
    name = lower_camel(text) or fallback
    if name[0].isdigit():
        name = "v" + name
    if name in DART_RESERVED or name in avoid:
        name += "Value"
    return unique_name(name, taken)


def _type_name(base: str, taken: set[str]) -> str:
    """A type name: `base`, with `Row` added when it would hide a dart:core or imported type; unique."""
    if base in DART_TAKEN_TYPES or base in DART_RESERVED:
        base += "Row"
    return unique_name(base, taken)


# --- literals and comments --------------------------------------------------------------------------------

_SIMPLE_ESCAPES = {"\\": "\\\\", "'": "\\'", "$": "\\$", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
                   "\f": "\\f", "\v": "\\v"}


def dart_string(value: str) -> str:
    """`value` as a single-quoted Dart string literal: quotes, `$`, backslashes and control characters escaped."""
    out = []
    for char in value:
        if char in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[char])
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            out.append(f"\\u{{{ord(char):X}}}")
        else:
            out.append(char)
    return "'" + "".join(out) + "'"




def _label(text: str) -> str:
    """` (label)` for a comment, or nothing when there is no label."""
    cleaned = comment_text(text)
    return f" ({cleaned})" if cleaned else ""


def _code(text: str) -> str:
    """A name shown in a doc comment between backticks (names are plain identifiers; this keeps it so)."""
    return "`" + comment_text(text).replace("`", "'") + "`"




# --- the shape of each table in Dart ----------------------------------------------------------------------


@dataclass(frozen=True)
class DartEnum:
    """A Dart enum for an enum column: its type name and its members as (identifier, database value)."""

    name: str
    column: Column
    members: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class DartField:
    """One column as a Dart field: its name, its kind (`string`, `int`, `double`, `bool`, `date`,
    `timestamp`, `json`, `string_list`, `enum`) and its Dart type without the `?`."""

    column: Column
    name: str
    kind: str
    type: str
    enum: DartEnum | None
    member: str
    """The column's member in the table's column enum."""

    @property
    def nullable(self) -> bool:
        """Whether the row's field can be null (JSON columns are always `Object?`)."""
        return self.column.nullable or self.kind == "json"

    @property
    def row_type(self) -> str:
        """The field's type in the row class."""
        if self.kind == "json":
            return "Object?"
        return f"{self.type}?" if self.column.nullable else self.type


@dataclass(frozen=True)
class DartTable:
    """Every name the Dart code of one table uses."""

    shape: TableShape
    label: str
    row: str
    insert: str
    update: str
    columns: str
    service: str
    fields: tuple[DartField, ...]
    enums: tuple[DartEnum, ...]
    clear: dict[str, str]
    """Update's `clear...` flag per nullable column name."""

    @property
    def keys(self) -> list[DartField]:
        """The primary key's fields, in key order."""
        return [self.field(name) for name in self.shape.primary_key]

    def field(self, column: str) -> DartField:
        """The field of `column`."""
        return next(f for f in self.fields if f.column.name == column)

    @property
    def updatable(self) -> bool:
        """Whether the table has columns worth updating."""
        return updatable(self.shape)

    @property
    def create_only(self) -> bool:
        """Whether inserting users may not read rows back."""
        return create_only(self.shape)






_KINDS = {
    "text": ("string", "String"),
    "uuid": ("string", "String"),
    "integer": ("int", "int"),
    "numeric": ("double", "double"),
    "boolean": ("bool", "bool"),
    "date": ("date", "DateTime"),
    "timestamp with time zone": ("timestamp", "DateTime"),
    "jsonb": ("json", "Object"),
    "text[]": ("string_list", "List<String>"),
}


def _one(shape: TableShape) -> str:
    return shape.entity.one if shape.entity is not None else singularize(shape.name)


def dart_tables(model: AppModel) -> list[DartTable]:
    """The Dart names of every table of `model`, in `table_shapes` order."""
    tables = []
    for shape in table_shapes(model):
        base = upper_camel(_one(shape)) or "Table"
        if base[0].isdigit():
            base = "T" + base
        types: set[str] = set()
        row = _type_name(base, types)
        insert = _type_name(base + "Insert", types)
        update = _type_name(base + "Update", types)
        columns = _type_name(base + "Column", types)
        service = _type_name(base + "Service", types)
        field_names: set[str] = set()
        member_names: set[str] = set()
        fields = []
        enums = []
        for index, column in enumerate(shape.columns):
            name = _member_name(column.name, f"column{index + 1}", _MEMBER_NAMES, field_names)
            member = _member_name(column.name, f"column{index + 1}", _ENUM_MEMBER_NAMES, member_names)
            enum = None
            if column.enum_type is not None:
                enum_base = base + (upper_camel(column.name) or f"Column{index + 1}")
                value_names: set[str] = set()
                enum = DartEnum(
                    name=_type_name(enum_base, types),
                    column=column,
                    members=tuple(
                        (_member_name(value, f"value{n + 1}", _ENUM_MEMBER_NAMES, value_names), value)
                        for n, value in enumerate(column.enum_values)
                    ),
                )
                enums.append(enum)
                kind, dart_type = "enum", enum.name
            else:
                kind, dart_type = _KINDS.get(column.sql_type, ("json", "Object"))
            fields.append(DartField(column, name, kind, dart_type, enum, member))
        update_names = {f.name for f in fields}
        clear = {
            f.column.name: _member_name("clear_" + f.column.name, "clear", _MEMBER_NAMES | {"isEmpty"}, update_names)
            for f in fields if f.column.nullable
        }
        label = shape.entity.label if shape.entity is not None else ""
        tables.append(DartTable(shape, label, row, insert, update, columns, service, tuple(fields), tuple(enums),
                                clear))
    return tables


# --- expressions ------------------------------------------------------------------------------------------


def _from_json(field: DartField) -> str:
    """The expression reading `field` from `json` (a row from PostgREST or Realtime)."""
    raw = f"json[{dart_string(field.column.name)}]"
    nullable = field.column.nullable
    kind = field.kind
    if kind == "json":
        return raw
    if kind in ("string", "bool"):
        return f"{raw} as {field.type}{'?' if nullable else ''}"
    if kind in ("int", "double"):
        method = "toInt" if kind == "int" else "toDouble"
        return f"({raw} as num?)?.{method}()" if nullable else f"({raw} as num).{method}()"
    if kind in ("date", "timestamp"):
        value = f"DateTime.parse({raw} as String)"
    elif kind == "string_list":
        value = f"List<String>.unmodifiable({raw} as List<dynamic>)"
    else:
        assert field.enum is not None
        value = f"{field.enum.name}.fromValue({raw} as String)"
    return f"{raw} == null ? null : {value}" if nullable else value


def _to_json(field: DartField, access: str, nullable: bool) -> str:
    """The JSON value of `access` (an expression of `field`'s type, nullable or not)."""
    kind = field.kind
    if kind in ("string", "int", "double", "bool", "json", "string_list"):
        return access
    if kind == "date":
        return f"{access} == null ? null : _dateString({access}!)" if nullable else f"_dateString({access})"
    if kind == "timestamp":
        return f"{access}?.toUtc().toIso8601String()" if nullable else f"{access}.toUtc().toIso8601String()"
    return f"{access}?.value" if nullable else f"{access}.value"


def _given(field: DartField) -> str:
    """The JSON value of an optional field known not to be null."""
    if field.kind in ("string", "int", "double", "bool", "json", "string_list"):
        return field.name
    return _to_json(field, f"{field.name}!", False)


# --- files ------------------------------------------------------------------------------------------------


def _header(model: AppModel, what: str) -> list[str]:
    return [
        f"// {what}",
        f"// Generated by Studio from the data model \"{comment_text(model.name)}\".",
        "// Do not edit by hand: change the model and generate again.",
        "",
    ]


def _enum_lines(enum: DartEnum) -> list[str]:
    lines = [f"/// The values of {_code(enum.column.name)}{_label(enum.column.label)}.", f"enum {enum.name} {{"]
    for index, (member, value) in enumerate(enum.members):
        end = ";" if index == len(enum.members) - 1 else ","
        lines.append(f"  {member}({dart_string(value)}){end}")
    lines += [
        "",
        f"  const {enum.name}(this.value);",
        "",
        "  /// The value as the database stores it.",
        "  final String value;",
        "",
        "  /// The member whose [value] is [value]; an [ArgumentError] for a value this app does not know.",
        f"  static {enum.name} fromValue(String value) {{",
        "    for (final member in values) {",
        "      if (member.value == value) {",
        "        return member;",
        "      }",
        "    }",
        f"    throw ArgumentError.value(value, 'value', {dart_string('not a value of ' + enum.name)});",
        "  }",
        "}",
        "",
    ]
    return lines


def _row_lines(table: DartTable) -> list[str]:
    shape = table.shape
    lines = [
        f"/// A row of {_code(shape.name)}{_label(table.label)}, as read from the database.",
        f"class {table.row} {{",
        f"  /// A row with the given values (rows normally come from [{table.row}.fromJson]).",
        f"  const {table.row}({{",
    ]
    for field in table.fields:
        lines.append(f"    {'' if field.nullable else 'required '}this.{field.name},")
    lines += [
        "  });",
        "",
        "  /// The row from its JSON form, as PostgREST and Realtime send it.",
        f"  factory {table.row}.fromJson(Map<String, dynamic> json) {{",
        f"    return {table.row}(",
    ]
    for field in table.fields:
        lines.append(f"      {field.name}: {_from_json(field)},")
    lines += ["    );", "  }", ""]
    for field in table.fields:
        lines.append(f"  /// {_code(field.column.name)}{_label(field.column.label)}.")
        lines.append(f"  final {field.row_type} {field.name};")
        lines.append("")
    lines += [
        "  /// The row's JSON form, keyed by column name.",
        "  Map<String, dynamic> toJson() => <String, dynamic>{",
    ]
    for field in table.fields:
        lines.append(f"        {dart_string(field.column.name)}: {_to_json(field, field.name, field.nullable)},")
    lines += [
        "      };",
        "",
        "  /// A copy with the given fields replaced; nullable fields can be replaced with null.",
        f"  {table.row} copyWith({{",
    ]
    for field in table.fields:
        if field.nullable:
            lines.append(f"    Object? {field.name} = _unset,")
        else:
            lines.append(f"    {field.type}? {field.name},")
    lines += ["  }) {", f"    return {table.row}("]
    for field in table.fields:
        if field.nullable:
            cast = "" if field.kind == "json" else f" as {field.row_type}"
            name = field.name
            lines.append(f"      {name}: identical({name}, _unset) ? this.{name} : {name}{cast},")
        else:
            lines.append(f"      {field.name}: {field.name} ?? this.{field.name},")
    lines += ["    );", "  }", "}", ""]
    return lines


def _insert_lines(table: DartTable) -> list[str]:
    shape = table.shape
    required = [f for f in table.fields if not f.column.insert_optional]
    optional = [f for f in table.fields if f.column.insert_optional]
    lines = [
        f"/// The values of a new row of {_code(shape.name)}: required columns are required parameters; a column",
        "/// left null is left out of the insert, so the database fills in its default (or null).",
        f"class {table.insert} {{",
        "  /// A new row's values.",
        f"  const {table.insert}({{",
    ]
    lines += [f"    required this.{f.name}," for f in required]
    lines += [f"    this.{f.name}," for f in optional]
    lines += ["  });", ""]
    for field in table.fields:
        optional_type = "Object?" if field.kind == "json" else f"{field.type}?"
        field_type = optional_type if field.column.insert_optional else field.row_type
        lines.append(f"  /// {_code(field.column.name)}{_label(field.column.label)}.")
        lines.append(f"  final {field_type} {field.name};")
        lines.append("")
    lines += [
        "  /// The JSON body of the insert, keyed by column name.",
        "  Map<String, dynamic> toJson() => <String, dynamic>{",
    ]
    for field in required:
        lines.append(f"        {dart_string(field.column.name)}: {_to_json(field, field.name, field.nullable)},")
    for field in optional:
        lines.append(f"        if ({field.name} != null) {dart_string(field.column.name)}: {_given(field)},")
    lines += ["      };", "}", ""]
    return lines


def _update_lines(table: DartTable) -> list[str]:
    shape = table.shape
    lines = [
        f"/// Changes to a row of {_code(shape.name)}: only the fields given are changed. A nullable column is",
        "/// emptied (set to null) with its `clear...` flag.",
        f"class {table.update} {{",
        "  /// The changes to make.",
        f"  const {table.update}({{",
    ]
    for field in table.fields:
        lines.append(f"    this.{field.name},")
        if field.column.name in table.clear:
            lines.append(f"    this.{table.clear[field.column.name]} = false,")
    lines += ["  });", ""]
    for field in table.fields:
        field_type = "Object?" if field.kind == "json" else f"{field.type}?"
        lines.append(f"  /// New value of {_code(field.column.name)}{_label(field.column.label)}.")
        lines.append(f"  final {field_type} {field.name};")
        lines.append("")
        if field.column.name in table.clear:
            lines.append(f"  /// Whether to set {_code(field.column.name)} to null.")
            lines.append(f"  final bool {table.clear[field.column.name]};")
            lines.append("")
    lines += [
        "  /// Whether nothing would change.",
        "  bool get isEmpty => toJson().isEmpty;",
        "",
        "  /// The JSON body of the update, keyed by column name.",
        "  Map<String, dynamic> toJson() => <String, dynamic>{",
    ]
    for field in table.fields:
        key = dart_string(field.column.name)
        given = f"if ({field.name} != null) {key}: {_given(field)}"
        if field.column.name in table.clear:
            lines.append(f"        if ({table.clear[field.column.name]}) {key}: null else {given},")
        else:
            lines.append(f"        {given},")
    lines += ["      };", "}", ""]
    return lines


def _columns_lines(table: DartTable) -> list[str]:
    lines = [
        f"/// The columns of {_code(table.shape.name)}, for filters and ordering in [{table.service}].",
        f"enum {table.columns} {{",
    ]
    for index, field in enumerate(table.fields):
        end = ";" if index == len(table.fields) - 1 else ","
        lines.append(f"  {field.member}({dart_string(field.column.name)}){end}")
    lines += [
        "",
        f"  const {table.columns}(this.value);",
        "",
        "  /// The column's name in the database.",
        "  final String value;",
        "}",
        "",
    ]
    return lines


_DATE_HELPER = [
    "String _dateString(DateTime date) {",
    "  final year = date.year.toString().padLeft(4, '0');",
    "  final month = date.month.toString().padLeft(2, '0');",
    "  final day = date.day.toString().padLeft(2, '0');",
    "  return '$year-$month-$day';",
    "}",
    "",
]


def _model_file(model: AppModel, table: DartTable) -> str:
    lines = _header(model, f"Typed rows of {comment_text(table.shape.schema)}.{comment_text(table.shape.name)}.")
    for enum in table.enums:
        lines += _enum_lines(enum)
    lines += _columns_lines(table)
    lines += _row_lines(table)
    lines += _insert_lines(table)
    lines += _update_lines(table)
    if any(f.nullable for f in table.fields):
        lines += ["const Object _unset = Object();", ""]
    if any(f.kind == "date" for f in table.fields):
        lines += _DATE_HELPER
    return "\n".join(lines).rstrip("\n") + "\n"


def _key_params(table: DartTable) -> str:
    return ", ".join(f"{f.type} {f.name}" for f in table.keys)


def _key_filters(table: DartTable) -> str:
    return "".join(f".eq({dart_string(f.column.name)}, {f.name})" for f in table.keys)


def _service_file(model: AppModel, table: DartTable) -> str:
    shape = table.shape
    source = "_client.from(tableName)" if shape.schema == "public" else "_client.schema(schemaName).from(tableName)"
    row, keys = table.row, table.keys
    created_at = next((f for f in table.fields if f.column.role == "created_at"), keys[0])
    lines = _header(model, f"Reads and writes {comment_text(shape.schema)}.{comment_text(shape.name)}.")
    lines += [
        "import 'package:supabase_flutter/supabase_flutter.dart'",
        "    show PostgresChangeEvent, PostgresChangeFilter, RealtimeChannel, Supabase, SupabaseClient;",
        "",
        f"import {dart_string('../models/' + shape.name + '.dart')};",
        "",
        f"/// Reads and writes {_code(shape.name)}{_label(table.label)} as the signed-in user: Row Level Security",
        "/// decides which rows each call sees and may change.",
        f"class {table.service} {{",
        "  /// A service on [client], by default the one `initSupabase()` set up.",
        f"  {table.service}([SupabaseClient? client]) : _client = client ?? Supabase.instance.client;",
        "",
        "  /// The table's name.",
        f"  static const String tableName = {dart_string(shape.name)};",
        "",
        "  /// The table's schema.",
        f"  static const String schemaName = {dart_string(shape.schema)};",
        "",
        "  static int _channels = 0;",
        "",
        "  final SupabaseClient _client;",
        "",
        "  /// Rows whose columns equal the values in [equals] (null matches null), ordered by [orderBy] then by",
        "  /// the primary key, [limit] rows from [offset] on.",
        f"  Future<List<{row}>> list({{",
        f"    Map<{table.columns}, Object?> equals = const {{}},",
        f"    {table.columns} orderBy = {table.columns}.{created_at.member},",
        "    bool ascending = true,",
        "    int offset = 0,",
        "    int limit = 100,",
        "  }) async {",
        "    if (limit < 1) {",
        "      throw ArgumentError.value(limit, 'limit', 'must be at least 1');",
        "    }",
        f"    var query = {source}.select();",
        "    for (final entry in equals.entries) {",
        "      final value = entry.value;",
        "      query = value == null",
        "          ? query.isFilter(entry.key.value, null)",
        "          : query.eq(entry.key.value, _filterValue(entry.key, value));",
        "    }",
        "    var ordered = query.order(orderBy.value, ascending: ascending);",
    ]
    for key in keys:
        lines += [
            f"    if (orderBy != {table.columns}.{key.member}) {{",
            f"      ordered = ordered.order({dart_string(key.column.name)}, ascending: ascending);",
            "    }",
        ]
    lines += [
        "    final rows = await ordered.range(offset, offset + limit - 1);",
        f"    return rows.map({row}.fromJson).toList();",
        "  }",
        "",
        "  /// The row with this primary key, or null when there is none the user may see.",
        f"  Future<{row}?> get({_key_params(table)}) async {{",
        f"    final row = await {source}.select(){_key_filters(table)}.maybeSingle();",
        f"    return row == null ? null : {row}.fromJson(row);",
        "  }",
        "",
    ]
    if table.create_only:
        lines += [
            "  /// Adds a row. Only admins may read this table, so the new row is not returned.",
            f"  Future<void> create({table.insert} values) async {{",
            f"    await {source}.insert(values.toJson());",
            "  }",
            "",
        ]
    else:
        lines += [
            "  /// Adds a row and returns it as stored (with its id and defaults).",
            f"  Future<{row}> create({table.insert} values) async {{",
            f"    final row = await {source}.insert(values.toJson()).select().single();",
            f"    return {row}.fromJson(row);",
            "  }",
            "",
        ]
    if table.updatable:
        lines += [
            "  /// Changes the row with this primary key and returns it, or null when the user may not see it.",
            f"  Future<{row}?> update({_key_params(table)}, {table.update} values) async {{",
            "    final changes = values.toJson();",
            "    if (changes.isEmpty) {",
            "      throw ArgumentError.value(values, 'values', 'nothing to change');",
            "    }",
            f"    final row = await {source}.update(changes){_key_filters(table)}.select().maybeSingle();",
            f"    return row == null ? null : {row}.fromJson(row);",
            "  }",
            "",
        ]
    lines += [
        "  /// Deletes the row with this primary key (nothing happens when the user may not delete it).",
        f"  Future<void> delete({_key_params(table)}) async {{",
        f"    await {source}.delete(){_key_filters(table)};",
        "  }",
        "",
        "  /// Calls [onChange] for every insert, update and delete the user may see (the table must be in the",
        "  /// `supabase_realtime` publication). [row] is the new row (null for a delete); [oldRecord] holds the",
        "  /// old row's primary key. Stop with `Supabase.instance.client.removeChannel(channel)`.",
        "  RealtimeChannel subscribe(",
        f"    void Function(PostgresChangeEvent event, {row}? row, Map<String, dynamic> oldRecord) onChange, {{",
        "    PostgresChangeEvent event = PostgresChangeEvent.all,",
        "    PostgresChangeFilter? filter,",
        "  }) {",
        "    _channels += 1;",
        "    return _client",
        "        .channel('$schemaName:$tableName:$_channels')",
        "        .onPostgresChanges(",
        "          event: event,",
        "          schema: schemaName,",
        "          table: tableName,",
        "          filter: filter,",
        "          callback: (payload) => onChange(",
        "            payload.eventType,",
        f"            payload.newRecord.isEmpty ? null : {row}.fromJson(payload.newRecord),",
        "            payload.oldRecord,",
        "          ),",
        "        )",
        "        .subscribe();",
        "  }",
        "",
    ]
    lines += _filter_value_lines(table)
    lines += ["}", ""]
    if any(f.kind == "date" for f in table.fields):
        lines += _DATE_HELPER
    return "\n".join(lines).rstrip("\n") + "\n"


def _filter_value_lines(table: DartTable) -> list[str]:
    lines = [f"  static Object _filterValue({table.columns} column, Object value) {{"]
    for enum in table.enums:
        lines += [f"    if (value is {enum.name}) {{", "      return value.value;", "    }"]
    dates = [f for f in table.fields if f.kind == "date"]
    lines.append("    if (value is DateTime) {")
    if dates:
        test = " || ".join(f"column == {table.columns}.{f.member}" for f in dates)
        lines += [f"      if ({test}) {{", "        return _dateString(value);", "      }"]
    lines += [
        "      return value.toUtc().toIso8601String();",
        "    }",
        "    return value;",
        "  }",
    ]
    return lines


def _config_file(model: AppModel, project_url: str | None) -> str:
    url = check_project_url(project_url)
    lines = _header(model, "Where the app's Supabase project is, and how the app connects to it.")
    lines += [
        "import 'dart:convert';",
        "",
        "import 'package:supabase_flutter/supabase_flutter.dart' show Supabase;",
        "",
        "/// The project's API URL; `--dart-define=SUPABASE_URL=...` at build time overrides it.",
        "const String supabaseUrl = String.fromEnvironment(",
        "  'SUPABASE_URL',",
        f"  defaultValue: {dart_string(url or _PLACEHOLDER_URL)},",
        ");",
        "",
        "/// The project's publishable key (`sb_publishable_...`, or the legacy anon key), given at build time:",
        "/// `flutter run --dart-define=SUPABASE_PUBLISHABLE_KEY=sb_publishable_...`. It is safe in an app because",
        "/// Row Level Security decides what it may do.",
        "///",
        "/// Never put the service_role key or a secret key (`sb_secret_...`) in the app, not here and not in a",
        "/// --dart-define: they bypass Row Level Security, and anyone who has the app can read them out of it.",
        "const String supabasePublishableKey = String.fromEnvironment('SUPABASE_PUBLISHABLE_KEY');",
        "",
        "/// Connects `Supabase.instance` to the project; call it once in `main()` before `runApp()`.",
        "Future<void> initSupabase() async {",
    ]
    if url is None:
        lines += [
            f"  if (supabaseUrl == {dart_string(_PLACEHOLDER_URL)}) {{",
            "    throw StateError('Set the project URL: --dart-define=SUPABASE_URL=https://<project-ref>.supabase.co');",
            "  }",
        ]
    lines += [
        "  if (supabasePublishableKey.isEmpty) {",
        "    throw StateError('Set the publishable key: --dart-define=SUPABASE_PUBLISHABLE_KEY=sb_publishable_...');",
        "  }",
        "  if (_isServerKey(supabasePublishableKey)) {",
        "    throw StateError('SUPABASE_PUBLISHABLE_KEY holds a server key (service_role or secret): '",
        "        'use the publishable key; a server key must never be in an app.');",
        "  }",
        "  await Supabase.initialize(url: supabaseUrl, anonKey: supabasePublishableKey);",
        "}",
        "",
        "bool _isServerKey(String key) {",
        "  if (key.startsWith('sb_secret_')) {",
        "    return true;",
        "  }",
        "  final parts = key.split('.');",
        "  if (parts.length != 3) {",
        "    return false;",
        "  }",
        "  try {",
        "    final claims = jsonDecode(utf8.decode(base64Url.decode(base64Url.normalize(parts[1]))));",
        "    return claims is Map && claims['role'] == 'service_role';",
        "  } on FormatException {",
        "    return false;",
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def dart_files(model: AppModel, *, project_url: str | None = None) -> dict[str, str]:
    """The Dart client of `model` for `supabase_flutter`: workspace-relative path -> file text.

    `project_url` (the linked project's API URL) becomes the default URL; without it the app must be given
    one with `--dart-define=SUPABASE_URL=...`. No key is ever taken or written: the app reads its publishable
    key at build time. The same model always gives the same files.
    """
    files = {f"{LIB}/supabase_config.dart": _config_file(model, project_url)}
    for table in dart_tables(model):
        files[f"{LIB}/models/{table.shape.name}.dart"] = _model_file(model, table)
        files[f"{LIB}/services/{table.shape.name}_service.dart"] = _service_file(model, table)
    return dict(sorted(files.items()))
