"""Python client code for `supabase-py`: a typed package that passes `mypy --strict`.

`python_files(model)` returns a package under `clients/python/<package>/` (the package is named after the
model: "To-do list" -> `to_do_list_client`):

* `config.py`: the project URL and the publishable key, read from `SUPABASE_URL` and
  `SUPABASE_PUBLISHABLE_KEY`, and `create_client()` / `create_async_client()`. No key is ever written into
  the code, and a server key (service_role or `sb_secret_...`) found there is refused. This generator takes
  no key at all.
* `models/<table>.py`: the row (a frozen dataclass with `from_json`, which checks every value's type, and
  `to_json`), the insert and update shapes (dataclasses whose `to_json` leaves out what was not given:
  `UNSET`), a `Literal` of the column names and one `enum.StrEnum` per enum column.
* `services/<table>.py`: list (filters, order, paging with `.range`), get, create, update and delete on a
  sync `supabase.Client`, and an async `subscribe` on an `AsyncClient` (Realtime exists only there).
* `_support.py`: the JSON checks and the `UNSET` marker the models share.

Everything comes from `table_shapes(model)`, so the code matches the generated tables exactly. Values from
the builder (enum values, labels, names) reach the code only as `repr` literals or escaped docstrings;
identifiers are derived, made valid and kept apart from keywords and from the names the code itself uses.
"""

from __future__ import annotations

import builtins
import keyword
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

ROOT = "clients/python"

#: Names a model attribute must not take: keywords, and what annotations and the code in class bodies use.
_ATTRIBUTE_TAKEN = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset({
    "str", "int", "float", "bool", "dict", "list", "object", "type", "builtins", "from_json", "to_json",
})

#: Type names a generated class must not take (built-in names; modules are imported under aliases).
_TYPE_TAKEN = frozenset(dir(builtins)) | frozenset({"Self", "JSON", "Unset", "UNSET", "Change"})


# --- names ------------------------------------------------------------------------------------------------


def package_name(model: AppModel) -> str:
    """The generated package's name: the model's name as a Python identifier, plus `_client`."""
    name = "_".join(word.lower() for word in words(model.name)) or "app"
    if name[0].isdigit():
        name = "app_" + name
    return f"{name}_client"


def _type_name(base: str, taken: set[str]) -> str:
    if base in _TYPE_TAKEN or keyword.iskeyword(base):
        base += "Row"
    return unique_name(base, taken)


def _attribute(name: str, fallback: str, taken: set[str]) -> str:
    """A Python attribute for column `name`: the name itself when it can be, else a sanitised one."""
    if not (name.isascii() and name.isidentifier()) or name.startswith("_"):
        name = "_".join(word.lower() for word in words(name)) or fallback
        if name[0].isdigit():
            name = "c_" + name
    if name in _ATTRIBUTE_TAKEN:
        name += "_"
    return unique_name(name, taken, "_")


def _enum_member(value: str, fallback: str, taken: set[str]) -> str:
    """An upper-case enum member name for `value` (never starting with `_`, so never an enum sunder name)."""
    name = "_".join(word.upper() for word in words(value)) or fallback
    if name[0].isdigit():
        name = "V_" + name
    return unique_name(name, taken, "_")


def py_string(value: str | None) -> str:
    """`value` as a Python literal, double-quoted when that needs no escapes (`repr` escapes everything needed)."""
    literal = repr(value)
    if literal.startswith("'") and value is not None and '"' not in value:
        literal = '"' + literal[1:-1] + '"'
    return literal


def docstring_text(text: str) -> str:
    """`text` made safe inside a triple-double-quoted docstring: one line, backslashes and quotes escaped."""
    return comment_text(text).replace("\\", "\\\\").replace('"', '\\"')


def _label(text: str) -> str:
    cleaned = docstring_text(text)
    return f" ({cleaned})" if cleaned else ""


# --- the shape of each table in Python --------------------------------------------------------------------


@dataclass(frozen=True)
class PyEnum:
    """An `enum.StrEnum` for an enum column: its class name and members as (identifier, database value)."""

    name: str
    column: Column
    members: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PyField:
    """One column as a dataclass attribute: its name, its kind and its Python type (without `| None`)."""

    column: Column
    name: str
    kind: str
    type: str
    enum: PyEnum | None

    @property
    def row_type(self) -> str:
        """The attribute's type in the row class."""
        if self.kind == "json":
            return self.type
        return f"{self.type} | None" if self.column.nullable else self.type


@dataclass(frozen=True)
class PyTable:
    """Every name the Python code of one table uses."""

    shape: TableShape
    label: str
    module: str
    row: str
    insert: str
    update: str
    columns: str
    service: str
    fields: tuple[PyField, ...]
    enums: tuple[PyEnum, ...]

    @property
    def keys(self) -> list[PyField]:
        """The primary key's fields, in key order."""
        return [self.field(name) for name in self.shape.primary_key]

    def field(self, column: str) -> PyField:
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
    "text": ("str", "str"),
    "uuid": ("str", "str"),
    "integer": ("int", "int"),
    "numeric": ("float", "float"),
    "boolean": ("bool", "bool"),
    "date": ("date", "_dt.date"),
    "timestamp with time zone": ("datetime", "_dt.datetime"),
    "jsonb": ("json", "_s.JSON"),
    "text[]": ("str_list", "list[str]"),
}


def _module_name(table: str, taken: set[str]) -> str:
    name = table if table.isascii() and table.isidentifier() and not keyword.iskeyword(table) else ""
    name = name or "_".join(word.lower() for word in words(table)) or "table"
    if name[0].isdigit() or name.startswith("_"):
        name = "t_" + name.lstrip("_")
    return unique_name(name, taken, "_")


def python_tables(model: AppModel) -> list[PyTable]:
    """The Python names of every table of `model`, in `table_shapes` order."""
    tables = []
    modules: set[str] = set()
    for shape in table_shapes(model):
        one = shape.entity.one if shape.entity is not None else singularize(shape.name)
        base = upper_camel(one) or "Table"
        if base[0].isdigit():
            base = "T" + base
        types: set[str] = set()
        row = _type_name(base, types)
        insert = _type_name(base + "Insert", types)
        update = _type_name(base + "Update", types)
        columns = _type_name(base + "Column", types)
        service = _type_name(base + "Service", types)
        attributes: set[str] = set()
        fields = []
        enums = []
        for index, column in enumerate(shape.columns):
            name = _attribute(column.name, f"column_{index + 1}", attributes)
            enum = None
            if column.enum_type is not None:
                members: set[str] = set()
                enum = PyEnum(
                    name=_type_name(base + (upper_camel(column.name) or f"Column{index + 1}"), types),
                    column=column,
                    members=tuple((_enum_member(value, f"VALUE_{n + 1}", members), value)
                                  for n, value in enumerate(column.enum_values)),
                )
                enums.append(enum)
                kind, py_type = "enum", enum.name
            else:
                kind, py_type = _KINDS.get(column.sql_type, ("json", "_s.JSON"))
            fields.append(PyField(column, name, kind, py_type, enum))
        label = shape.entity.label if shape.entity is not None else ""
        tables.append(PyTable(shape, label, _module_name(shape.name, modules), row, insert, update, columns, service,
                              tuple(fields), tuple(enums)))
    return tables


# --- expressions ------------------------------------------------------------------------------------------


def _from_json(field: PyField) -> str:
    key = py_string(field.column.name)
    prefix = "opt" if field.column.nullable else "req"
    if field.kind == "json":
        return f"_s.json_value(data, {key})"
    if field.kind == "enum":
        assert field.enum is not None
        return f"_s.{prefix}_enum(data, {key}, {field.enum.name})"
    return f"_s.{prefix}_{field.kind}(data, {key})"


def _to_json(field: PyField, access: str, nullable: bool) -> str:
    kind = field.kind
    if kind in ("str", "int", "float", "bool", "json"):
        return access
    if kind == "str_list":
        value = f"list({access})"
    elif kind in ("date", "datetime"):
        value = f"{access}.isoformat()"
    else:
        value = f"{access}.value"
    return f"None if {access} is None else {value}" if nullable else value


def _json_item(field: PyField) -> str:
    """`"column": value` of a dict literal in `to_json`."""
    return f"{py_string(field.column.name)}: {_to_json(field, 'self.' + field.name, field.column.nullable)}"


# --- files ------------------------------------------------------------------------------------------------


def _docstring(model: AppModel, first: str, *more: str) -> list[str]:
    lines = [f'"""{first}', ""]
    lines += list(more)
    if more:
        lines.append("")
    lines += [f'Generated by Studio from the data model "{docstring_text(model.name)}".',
              "Do not edit by hand: change the model and generate again.", '"""', ""]
    return lines


def _model_file(model: AppModel, table: PyTable, package: str) -> str:
    shape = table.shape
    lines = _docstring(model, f"Typed rows of `{docstring_text(shape.schema)}.{docstring_text(shape.name)}`"
                              f"{_label(table.label)}.")
    lines += [
        "from __future__ import annotations",
        "",
        "import dataclasses as _dc",
        "import datetime as _dt",
        *(["import enum as _enum"] if table.enums else []),
        "import typing as _t",
        "from collections import abc as _abc",
        "",
        f"from {package} import _support as _s",
        "",
        *([""] if table.enums else []),  # two blank lines before a class, one before the column names
    ]
    for enum in table.enums:
        lines += [f"class {enum.name}(_enum.StrEnum):",
                  f'    """The values of `{docstring_text(enum.column.name)}`{_label(enum.column.label)}."""', ""]
        lines += [f"    {member} = {py_string(value)}" for member, value in enum.members]
        lines += ["", ""]
    lines.append(f"{table.columns} = _t.Literal[")
    lines += [f"    {py_string(field.column.name)}," for field in table.fields]
    lines += ["]", f'"""The names of the columns of `{docstring_text(shape.name)}`."""', "", ""]
    lines += _row_lines(table)
    lines += _insert_lines(table)
    lines += _update_lines(table)
    return "\n".join(lines).rstrip("\n") + "\n"


def _row_lines(table: PyTable) -> list[str]:
    lines = [
        "@_dc.dataclass(frozen=True, kw_only=True)",
        f"class {table.row}:",
        f'    """A row of `{docstring_text(table.shape.name)}`{_label(table.label)}, as read from the database."""',
        "",
    ]
    for field in table.fields:
        lines.append(f"    {field.name}: {field.row_type}")
        lines.append(f'    """`{docstring_text(field.column.name)}`{_label(field.column.label)}."""')
    lines += [
        "",
        "    @classmethod",
        "    def from_json(cls, data: _abc.Mapping[str, object]) -> _t.Self:",
        '        """The row from its JSON form (PostgREST, Realtime); `ValueError` for a missing or wrong value."""',
        "        return cls(",
    ]
    lines += [f"            {field.name}={_from_json(field)}," for field in table.fields]
    lines += [
        "        )",
        "",
        "    def to_json(self) -> dict[str, _s.JSON]:",
        '        """The row\'s JSON form, keyed by column name."""',
        "        return {",
    ]
    lines += [f"            {_json_item(field)}," for field in table.fields]
    lines += ["        }", "", ""]
    return lines


def _optional_type(field: PyField) -> str:
    if field.kind == "json":
        return f"{field.type} | _s.Unset"
    return f"{field.type} | _s.Unset | None" if field.column.nullable else f"{field.type} | _s.Unset"


def _given_lines(field: PyField) -> list[str]:
    access = f"self.{field.name}"
    return [
        f"        if not isinstance({access}, _s.Unset):",
        f"            data[{py_string(field.column.name)}] = {_to_json(field, access, field.column.nullable)}",
    ]


def _insert_lines(table: PyTable) -> list[str]:
    required = [f for f in table.fields if not f.column.insert_optional]
    optional = [f for f in table.fields if f.column.insert_optional]
    lines = [
        "@_dc.dataclass(frozen=True, kw_only=True)",
        f"class {table.insert}:",
        f'    """The values of a new row of `{docstring_text(table.shape.name)}`: columns left `UNSET` take their'
        ' default (or null)."""',
        "",
    ]
    for field in required:
        lines.append(f"    {field.name}: {field.row_type}")
    for field in optional:
        lines.append(f"    {field.name}: {_optional_type(field)} = _s.UNSET")
    lines += [
        "",
        "    def to_json(self) -> dict[str, _s.JSON]:",
        '        """The insert\'s JSON body, keyed by column name; `UNSET` columns are left out."""',
    ]
    if required:
        lines.append("        data: dict[str, _s.JSON] = {")
        lines += [f"            {_json_item(field)}," for field in required]
        lines.append("        }")
    else:
        lines.append("        data: dict[str, _s.JSON] = {}")
    for field in optional:
        lines += _given_lines(field)
    lines += ["        return data", "", ""]
    return lines


def _update_lines(table: PyTable) -> list[str]:
    lines = [
        "@_dc.dataclass(frozen=True, kw_only=True)",
        f"class {table.update}:",
        f'    """Changes to a row of `{docstring_text(table.shape.name)}`: only columns not `UNSET` change (None'
        ' empties a nullable column)."""',
        "",
    ]
    lines += [f"    {field.name}: {_optional_type(field)} = _s.UNSET" for field in table.fields]
    lines += [
        "",
        "    def to_json(self) -> dict[str, _s.JSON]:",
        '        """The update\'s JSON body, keyed by column name; `UNSET` columns are left out."""',
        "        data: dict[str, _s.JSON] = {}",
    ]
    for field in table.fields:
        lines += _given_lines(field)
    lines += ["        return data", "", ""]
    return lines


def _import_lines(module: str, names: list[str]) -> list[str]:
    """`from module import names`, one name a line when one line would be too long."""
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= 120:
        return [line]
    return [f"from {module} import (", *(f"    {name}," for name in names), ")"]


def _service_file(model: AppModel, table: PyTable, package: str) -> str:
    shape = table.shape
    row, keys = table.row, table.keys
    created_at = next((f for f in table.fields if f.column.role == "created_at"), keys[0])
    key_params = ", ".join(f"{f.name}: {f.type}" for f in keys)
    key_filters = "".join(f".eq({py_string(f.column.name)}, {f.name})" for f in keys)
    names = [table.row, table.insert, table.columns] + ([table.update] if table.updatable else [])
    lines = _docstring(model, f"Reads and writes `{docstring_text(shape.schema)}.{docstring_text(shape.name)}`"
                              f"{_label(table.label)}.")
    lines += [
        "from __future__ import annotations",
        "",
        "import builtins",
        "import itertools",
        "import typing as _t",
        "from collections import abc as _abc",
        "",
        "import postgrest",
        "import realtime",
        "import supabase",
        "",
        f"from {package} import _support as _s",
        *_import_lines(f"{package}.models.{table.module}", sorted(names)),
        "",
        "_CHANNELS = itertools.count(1)",
        "",
        "",
        f"class {table.service}:",
        f'    """Reads and writes `{docstring_text(shape.name)}` as the client\'s signed-in user.',
        "",
        '    Row Level Security decides which rows each call sees and may change.',
        '    """',
        "",
        f"    TABLE: _t.ClassVar[str] = {py_string(shape.name)}",
        f"    SCHEMA: _t.ClassVar[str] = {py_string(shape.schema)}",
        "",
        "    def __init__(self, client: supabase.Client) -> None:",
        '        """A service on `client` (see `config.create_client()`)."""',
        "        self._client = client",
        "",
        "    def _rows(self) -> postgrest.SyncRequestBuilder:",
    ]
    if shape.schema == "public":
        lines.append("        return self._client.table(self.TABLE)")
    else:
        lines.append("        return self._client.schema(self.SCHEMA).from_(self.TABLE)")
    lines += [
        "",
        "    def list(",
        "        self,",
        "        *,",
        f"        equals: _abc.Mapping[{table.columns}, object] | None = None,",
        f"        order_by: {table.columns} = {py_string(created_at.column.name)},",
        "        descending: bool = False,",
        "        offset: int = 0,",
        "        limit: int = 100,",
        f"    ) -> builtins.list[{row}]:",
        '        """Rows whose columns equal `equals` (None matches null), ordered by `order_by` then the primary key,',
        '        `limit` rows from `offset` on."""',
        "        if limit < 1:",
        '            raise ValueError("limit must be at least 1")',
        '        query = self._rows().select("*")',
        "        for column, value in (equals or {}).items():",
        '            query = query.is_(column, "null") if value is None else query.eq(column, _s.filter_value(value))',
        "        query = query.order(order_by, desc=descending)",
    ]
    for key in keys:
        lines += [f"        if order_by != {py_string(key.column.name)}:",
                  f"            query = query.order({py_string(key.column.name)}, desc=descending)"]
    lines += [
        "        response = query.range(offset, offset + limit - 1).execute()",
        f"        return [{row}.from_json(_s.row_object(item)) for item in response.data]",
        "",
        f"    def get(self, {key_params}) -> {row} | None:",
        '        """The row with this primary key, or None when there is none the user may see."""',
        f'        response = self._rows().select("*"){key_filters}.maybe_single().execute()',
        f"        return None if response is None else {row}.from_json(_s.row_object(response.data))",
        "",
    ]
    if table.create_only:
        lines += [
            f"    def create(self, values: {table.insert}) -> None:",
            '        """Adds a row. Only admins may read this table, so the new row is not returned."""',
            "        self._rows().insert(values.to_json(), returning=postgrest.ReturnMethod.minimal).execute()",
            "",
        ]
    else:
        lines += [
            f"    def create(self, values: {table.insert}) -> {row}:",
            '        """Adds a row and returns it as stored (with its id and defaults)."""',
            "        response = self._rows().insert(values.to_json()).execute()",
            f"        return {row}.from_json(_s.only_row(response.data))",
            "",
        ]
    if table.updatable:
        lines += [
            f"    def update(self, {key_params}, values: {table.update}) -> {row} | None:",
            '        """Changes the row with this primary key; returns it, or None when the user may not change it."""',
            "        changes = values.to_json()",
            "        if not changes:",
            '            raise ValueError("nothing to change: every column is UNSET")',
            f"        response = self._rows().update(changes){key_filters}.execute()",
            "        row = _s.first_row(response.data)",
            f"        return None if row is None else {row}.from_json(row)",
            "",
        ]
    lines += [
        f"    def delete(self, {key_params}) -> bool:",
        '        """Deletes the row with this primary key; whether a row was deleted."""',
        f"        response = self._rows().delete(){key_filters}.execute()",
        "        return len(response.data) > 0",
        "",
        "    async def subscribe(",
        "        self,",
        "        client: supabase.AsyncClient,",
        f"        on_change: _abc.Callable[[_s.Change[{row}]], None],",
        "        *,",
        '        event: _t.Literal["*", "INSERT", "UPDATE", "DELETE"] = "*",',
        "        row_filter: str | None = None,",
        "    ) -> realtime.AsyncRealtimeChannel:",
        '        """Calls `on_change` for every change the user may see (the table must be in the `supabase_realtime`',
        "        publication). Realtime needs the async client: `await config.create_async_client()`. `row_filter` is",
        '        Realtime\'s `column=operator.value`. Stop with `await client.remove_channel(channel)`."""',
        "",
        "        def deliver(payload: realtime.PostgresChangesPayload) -> None:",
        f"            on_change(_s.change_from_payload(payload, {row}.from_json))",
        "",
        '        channel = client.channel(f"{self.SCHEMA}:{self.TABLE}:{next(_CHANNELS)}")',
        "        channel.on_postgres_changes(",
        "            realtime.RealtimePostgresChangesListenEvent(event),",
        "            deliver,",
        "            table=self.TABLE,",
        "            schema=self.SCHEMA,",
        "            filter=row_filter,",
        "        )",
        "        return await channel.subscribe()",
    ]
    return "\n".join(lines) + "\n"


_SUPPORT = '''"""What the generated models and services share: JSON checks, the `UNSET` marker and Realtime changes.

Generated by Studio. Do not edit by hand.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import typing
from collections.abc import Callable, Mapping, Sequence

import realtime

JSON: typing.TypeAlias = "bool | int | float | str | list[JSON] | dict[str, JSON] | None"
"""A JSON value."""

E = typing.TypeVar("E", bound=enum.StrEnum)
R = typing.TypeVar("R")


class Unset(enum.Enum):
    """The type of `UNSET`."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: typing.Final = Unset.UNSET
"""A column left out of an insert (the database's default applies) or an update (it does not change)."""


def _value(data: Mapping[str, object], key: str) -> object:
    if key not in data:
        raise ValueError(f"the row has no column {key!r}")
    return data[key]


def _wrong(key: str, value: object, expected: str) -> ValueError:
    return ValueError(f"column {key!r}: expected {expected}, got {type(value).__name__}")


def req_str(data: Mapping[str, object], key: str) -> str:
    """The text value of column `key`."""
    value = _value(data, key)
    if not isinstance(value, str):
        raise _wrong(key, value, "text")
    return value


def opt_str(data: Mapping[str, object], key: str) -> str | None:
    """The text value of column `key`, or None."""
    return None if data.get(key) is None else req_str(data, key)


def req_int(data: Mapping[str, object], key: str) -> int:
    """The integer value of column `key`."""
    value = _value(data, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(key, value, "an integer")
    return value


def opt_int(data: Mapping[str, object], key: str) -> int | None:
    """The integer value of column `key`, or None."""
    return None if data.get(key) is None else req_int(data, key)


def req_float(data: Mapping[str, object], key: str) -> float:
    """The numeric value of column `key`."""
    value = _value(data, key)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _wrong(key, value, "a number")
    try:
        return float(value)
    except ValueError:
        raise _wrong(key, value, "a number") from None


def opt_float(data: Mapping[str, object], key: str) -> float | None:
    """The numeric value of column `key`, or None."""
    return None if data.get(key) is None else req_float(data, key)


def req_bool(data: Mapping[str, object], key: str) -> bool:
    """The boolean value of column `key`."""
    value = _value(data, key)
    if not isinstance(value, bool):
        raise _wrong(key, value, "a boolean")
    return value


def opt_bool(data: Mapping[str, object], key: str) -> bool | None:
    """The boolean value of column `key`, or None."""
    return None if data.get(key) is None else req_bool(data, key)


def req_date(data: Mapping[str, object], key: str) -> datetime.date:
    """The date value of column `key` (`yyyy-mm-dd`)."""
    text = req_str(data, key)
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise _wrong(key, text, "a date") from None


def opt_date(data: Mapping[str, object], key: str) -> datetime.date | None:
    """The date value of column `key`, or None."""
    return None if data.get(key) is None else req_date(data, key)


def req_datetime(data: Mapping[str, object], key: str) -> datetime.datetime:
    """The timestamp value of column `key` (ISO 8601 with its offset)."""
    text = req_str(data, key)
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        raise _wrong(key, text, "a timestamp") from None


def opt_datetime(data: Mapping[str, object], key: str) -> datetime.datetime | None:
    """The timestamp value of column `key`, or None."""
    return None if data.get(key) is None else req_datetime(data, key)


def req_str_list(data: Mapping[str, object], key: str) -> list[str]:
    """The text-array value of column `key`."""
    value = _value(data, key)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _wrong(key, value, "a list of text")
    return [str(item) for item in value]


def opt_str_list(data: Mapping[str, object], key: str) -> list[str] | None:
    """The text-array value of column `key`, or None."""
    return None if data.get(key) is None else req_str_list(data, key)


def req_enum(data: Mapping[str, object], key: str, kind: type[E]) -> E:
    """The value of enum column `key` as a member of `kind`."""
    text = req_str(data, key)
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"column {key!r}: {text!r} is not a value of {kind.__name__}") from None


def opt_enum(data: Mapping[str, object], key: str, kind: type[E]) -> E | None:
    """The value of enum column `key` as a member of `kind`, or None."""
    return None if data.get(key) is None else req_enum(data, key, kind)


def _is_json(value: object) -> typing.TypeGuard[JSON]:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, list):
        return all(_is_json(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


def json_value(data: Mapping[str, object], key: str) -> JSON:
    """The JSON value of column `key` (a missing column reads as null)."""
    value = data.get(key)
    if not _is_json(value):
        raise _wrong(key, value, "JSON")
    return value


def filter_value(value: object) -> str | int | float | bool:
    """A value for an equality filter: enum members, dates and timestamps as the database writes them."""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot filter on a {type(value).__name__}")


def row_object(item: object) -> Mapping[str, object]:
    """`item` as a row (a JSON object); `ValueError` when it is not one."""
    if not isinstance(item, Mapping) or not all(isinstance(key, str) for key in item):
        raise ValueError(f"expected a row (a JSON object), got {type(item).__name__}")
    return typing.cast("Mapping[str, object]", item)


def first_row(data: Sequence[object]) -> Mapping[str, object] | None:
    """The first row of a response, or None when it has none."""
    return row_object(data[0]) if data else None


def only_row(data: Sequence[object]) -> Mapping[str, object]:
    """The one row a write returned; `LookupError` when Row Level Security hid it."""
    row = first_row(data)
    if row is None:
        raise LookupError("the database returned no row: Row Level Security does not let this user read it")
    return row


@dataclasses.dataclass(frozen=True)
class Change(typing.Generic[R]):
    """One change to a table, from Realtime: the event, the new row (None for a delete) and the old record
    (its primary key; every column when the table's replica identity is full)."""

    event: str
    new: R | None
    old: Mapping[str, object]
    commit_timestamp: str


def change_from_payload(payload: realtime.PostgresChangesPayload,
                        parse: Callable[[Mapping[str, object]], R]) -> Change[R]:
    """The change a Realtime payload describes, its new row parsed with `parse`."""
    data = payload["data"]
    record = data.get("record")
    old = data.get("old_record") or {}
    return Change(
        event=str(data["type"].value),
        new=parse(record) if record else None,
        old=dict(old),
        commit_timestamp=data["commit_timestamp"],
    )
'''


def _config_file(model: AppModel, project_url: str | None) -> str:
    url = check_project_url(project_url)
    lines = _docstring(
        model,
        "Where the app's Supabase project is and the key it uses, read from the environment.",
        "`SUPABASE_URL` is the project's API URL" + (" (default: the linked project's)." if url else "."),
        "`SUPABASE_PUBLISHABLE_KEY` is its publishable key (`sb_publishable_...`, or the legacy anon key).",
        "",
        "Never give an app the service_role key or a secret key (`sb_secret_...`): they bypass Row Level",
        "Security. Code run by users must only ever hold the publishable key; a server key is refused here.",
    )
    lines += [
        "from __future__ import annotations",
        "",
        "import base64",
        "import binascii",
        "import json",
        "import os",
        "import typing as _t",
        "",
        "import supabase",
        "",
        'URL_VARIABLE: _t.Final = "SUPABASE_URL"',
        'KEY_VARIABLE: _t.Final = "SUPABASE_PUBLISHABLE_KEY"',
        f"DEFAULT_URL: _t.Final[str | None] = {py_string(url)}",
        '"""The project\'s API URL when `SUPABASE_URL` is not set."""',
        "",
        "",
        "class ConfigError(RuntimeError):",
        '    """The environment does not say where the project is, or holds a key an app must not use."""',
        "",
        "",
        "def project_url() -> str:",
        '    """The project\'s API URL."""',
        "    url = os.environ.get(URL_VARIABLE) or DEFAULT_URL",
        "    if not url:",
        '        raise ConfigError(f"Set {URL_VARIABLE} to the project\'s API URL (https://<project-ref>.supabase.co).")',
        "    return url",
        "",
        "",
        "def is_server_key(key: str) -> bool:",
        '    """Whether `key` is a server key (a secret key, or a JWT whose role is service_role)."""',
        '    if key.startswith("sb_secret_"):',
        "        return True",
        '    parts = key.split(".")',
        "    if len(parts) != 3:",
        "        return False",
        "    try:",
        '        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))',
        "    except (binascii.Error, UnicodeDecodeError, ValueError):",
        "        return False",
        '    return isinstance(claims, dict) and claims.get("role") == "service_role"',
        "",
        "",
        "def publishable_key() -> str:",
        '    """The project\'s publishable key; `ConfigError` when it is missing or is a server key."""',
        '    key = os.environ.get(KEY_VARIABLE, "")',
        "    if not key:",
        '        raise ConfigError(f"Set {KEY_VARIABLE} to the project\'s publishable key (sb_publishable_...).")',
        "    if is_server_key(key):",
        '        raise ConfigError(f"{KEY_VARIABLE} holds a server key (service_role or secret); use the publishable"',
        '                          " key: a server key must never be in an app.")',
        "    return key",
        "",
        "",
        "def create_client() -> supabase.Client:",
        '    """A sync client for the project with the publishable key (for the services\' reads and writes)."""',
        "    return supabase.create_client(project_url(), publishable_key())",
        "",
        "",
        "async def create_async_client() -> supabase.AsyncClient:",
        '    """An async client for the project with the publishable key (for Realtime subscriptions)."""',
        "    return await supabase.acreate_client(project_url(), publishable_key())",
    ]
    return "\n".join(lines) + "\n"


def _init_file(model: AppModel, package: str) -> str:
    lines = _docstring(
        model,
        f"Typed access to the tables of \"{docstring_text(model.name)}\" through supabase-py.",
        "`config.create_client()` connects; `services.<table>.<Name>Service(client)` reads and writes a table;",
        "`models.<table>` holds its typed rows and the shapes of inserts and updates.",
    )
    lines += [
        f"from {package}.config import ConfigError, create_async_client, create_client",
        "",
        '__all__ = ["ConfigError", "create_async_client", "create_client"]',
    ]
    return "\n".join(lines) + "\n"


def python_files(model: AppModel, *, project_url: str | None = None) -> dict[str, str]:
    """The Python client of `model` for supabase-py: workspace-relative path -> file text.

    `project_url` (the linked project's API URL) becomes the default URL; without it `SUPABASE_URL` must be
    set. No key is ever taken or written: the package reads its publishable key from the environment. The
    same model always gives the same files.
    """
    package = package_name(model)
    root = f"{ROOT}/{package}"
    tables = python_tables(model)
    files = {
        f"{root}/__init__.py": _init_file(model, package),
        f"{root}/py.typed": "",
        f"{root}/_support.py": _SUPPORT,
        f"{root}/config.py": _config_file(model, project_url),
        f"{root}/models/__init__.py": '"""Typed rows, inserts and updates: one module per table."""\n',
        f"{root}/services/__init__.py": '"""Reads and writes: one module per table, each with a service class."""\n',
    }
    for table in tables:
        files[f"{root}/models/{table.module}.py"] = _model_file(model, table, package)
        files[f"{root}/services/{table.module}.py"] = _service_file(model, table, package)
    return dict(sorted(files.items()))
