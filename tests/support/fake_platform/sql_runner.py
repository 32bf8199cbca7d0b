"""SQL on a project's real database, answered the way Supabase's services answer.

`POST /v1/projects/{ref}/database/query` is served on the platform by postgres-meta (`pg-meta`), which
runs the text with node-postgres and returns node-postgres' rows. This module does the same on libpq
(psycopg's `pq` layer, to see every result of a multi-statement text and each value's raw text):

* without parameters the whole text goes in one simple-protocol message: several statements are
  allowed and form one implicit transaction (an error rolls back all of them);
* with parameters it is one extended-protocol statement, every parameter sent as text of unknown
  type (as node-postgres sends them), `$1`, `$2`... placeholders;
* the rows returned are those of the only result, or, when there are several results, of the last
  one that has rows (`[]` if none has);
* values are converted as node-postgres' type parsers do, with pg-meta's overrides: int2/int4/oid
  and floats become numbers, int8 a number when it is a safe integer (a string otherwise), numeric a
  string, date/timestamp/timestamptz their text, json/jsonb the parsed value, bool a boolean,
  bytea `{"type": "Buffer", "data": [...]}`, interval an object of its non-zero parts, arrays of those
  built-in types arrays; everything else (text, uuid, name, name[], enums, ...) its text;
* an error is described as pg-meta formats it (`ERROR:  42P01: ...`, `LINE n:` with a caret, DETAIL,
  HINT, QUERY, CONTEXT lines).

The per-project API's tiny PostgREST (`rest_select`) builds its JSON in the database, like PostgREST.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from psycopg import pq, sql
from psycopg.conninfo import make_conninfo

__all__ = [
    "Database",
    "QueryFailed",
    "RestResult",
    "format_error",
    "parse_pg_array",
    "pgmeta_value",
    "run_query",
]

# Supabase databases run in UTC with ISO dates; set both so values read the same on any machine.
_SESSION_OPTIONS = "-c TimeZone=UTC -c DateStyle=ISO,MDY -c IntervalStyle=postgres"
_MAX_IDLE = 2
_MAX_SAFE_INTEGER = 2**53 - 1


class QueryFailed(Exception):
    """A statement failed; `fields` holds the server's error fields, `message` pg-meta's formatting."""

    def __init__(self, message: str, fields: dict[str, str | None]) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    @property
    def sqlstate(self) -> str | None:
        return self.fields.get("sqlstate")


class Database:
    """Connections to one project database (as the superuser), a few kept idle between requests.

    Each connection is reset (`DISCARD ALL`) before it is reused, so no session state (role, settings,
    temporary tables, session locks) passes from one request to the next. `close()` cancels what is
    running and closes everything.
    """

    def __init__(self, uri: str) -> None:
        self.conninfo = make_conninfo(uri, options=_SESSION_OPTIONS)
        self._lock = threading.Lock()
        self._idle: list[pq.abc.PGconn] = []
        self._busy: set[pq.abc.PGconn] = set()
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[pq.abc.PGconn]:
        """A connection for the duration of the block; it goes back to the pool if it is still sound."""
        conn = self._acquire()
        reusable = False
        try:
            yield conn
            reusable = True
        finally:
            self._release(conn, reusable)

    def close(self) -> None:
        """Cancel running statements and close every connection; later requests get new ones."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            busy = list(self._busy)
        for conn in busy:
            with suppress(Exception):
                conn.get_cancel().cancel()
        for conn in idle:
            conn.finish()

    def _acquire(self) -> pq.abc.PGconn:
        with self._lock:
            self._closed = False
            conn = self._idle.pop() if self._idle else None
            if conn is not None:
                self._busy.add(conn)
                return conn
        conn = pq.PGconn.connect(self.conninfo.encode())
        if conn.status != pq.ConnStatus.OK:
            message = conn.get_error_message()
            conn.finish()
            raise QueryFailed(f"could not connect to the project database: {message}", {})
        with self._lock:
            self._busy.add(conn)
        return conn

    def _release(self, conn: pq.abc.PGconn, reusable: bool) -> None:
        if reusable and conn.status == pq.ConnStatus.OK:
            if conn.transaction_status != pq.TransactionStatus.IDLE:
                conn.exec_(b"rollback")
            reusable = conn.exec_(b"discard all").status == pq.ExecStatus.COMMAND_OK
        with self._lock:
            self._busy.discard(conn)
            if reusable and not self._closed and len(self._idle) < _MAX_IDLE:
                self._idle.append(conn)
                return
        conn.finish()


# -- the query endpoint --------------------------------------------------------------------------------


def run_query(db: Database, query: str, parameters: list[Any] | None, read_only: bool) -> list[dict[str, Any]]:
    """Run `query` as pg-meta does and return its rows; raises `QueryFailed` with pg-meta's message."""
    with db.connection() as conn:
        if read_only:
            _check(conn.exec_(b"begin read only"), query)
        try:
            if parameters:
                values = [_node_param(value) for value in parameters]
                results = [conn.exec_params(query.encode(), values)]
            else:
                results = list(_simple_query(conn, query))
            for result in results:
                _check(result, query)
        except QueryFailed:
            if read_only:
                conn.exec_(b"rollback")
            raise
        if read_only:
            _check(conn.exec_(b"commit"), query)
    if len(results) == 1:
        chosen: pq.abc.PGresult | None = results[0]
    else:
        chosen = next((result for result in reversed(results) if result.ntuples > 0), None)
    return [] if chosen is None else _rows(chosen)


def _simple_query(conn: pq.abc.PGconn, query: str) -> Iterator[pq.abc.PGresult]:
    """Every result of a simple-protocol query (COPY to or from the client is refused)."""
    conn.send_query(query.encode())
    while (result := conn.get_result()) is not None:
        if result.status == pq.ExecStatus.COPY_IN:
            conn.put_copy_end(b"COPY FROM STDIN is not supported by the query endpoint")
            continue
        if result.status == pq.ExecStatus.COPY_OUT:
            while True:
                nbytes, _ = conn.get_copy_data(0)
                if nbytes < 0:
                    break
            continue
        yield result


def _check(result: pq.abc.PGresult, query: str) -> None:
    if result.status in (pq.ExecStatus.FATAL_ERROR, pq.ExecStatus.BAD_RESPONSE):
        raise _failure(result, query)


def _field(result: pq.abc.PGresult, name: pq.DiagnosticField) -> str | None:
    value = result.error_field(name)
    return None if value is None else value.decode("utf-8", "replace")


def _failure(result: pq.abc.PGresult, query: str) -> QueryFailed:
    field = pq.DiagnosticField
    fields = {
        "severity": _field(result, field.SEVERITY),
        "sqlstate": _field(result, field.SQLSTATE),
        "message": _field(result, field.MESSAGE_PRIMARY),
        "detail": _field(result, field.MESSAGE_DETAIL),
        "hint": _field(result, field.MESSAGE_HINT),
        "position": _field(result, field.STATEMENT_POSITION),
        "internal_query": _field(result, field.INTERNAL_QUERY),
        "context": _field(result, field.CONTEXT),
    }
    if fields["message"] is None:
        fields["message"] = result.error_message.decode("utf-8", "replace").strip()
    return QueryFailed(format_error(fields, query), fields)


def format_error(fields: dict[str, str | None], query: str) -> str:
    """An error as pg-meta formats it (which follows libpq's own verbose formatting)."""
    text = ""
    if fields.get("severity"):
        text += f"{fields['severity']}:  "
    if fields.get("sqlstate"):
        text += f"{fields['sqlstate']}: "
    if fields.get("message"):
        text += str(fields["message"])
    text += "\n"
    if fields.get("position"):
        position = int(str(fields["position"])) - 1
        line, line_number, line_offset = "", 0, 0
        offset = 0
        for index, candidate in enumerate(query.split("\n")):
            if offset + len(candidate) > position:
                line, line_number, line_offset = candidate, index + 1, position - offset
                break
            offset += len(candidate) + 1
        caret_column = 5 + len(str(line_number)) + 2 + line_offset
        text += f"LINE {line_number}: {line}\n{' ' * caret_column}^\n"
    if fields.get("detail"):
        text += f"DETAIL:  {fields['detail']}\n"
    if fields.get("hint"):
        text += f"HINT:  {fields['hint']}\n"
    if fields.get("internal_query"):
        text += f"QUERY:  {fields['internal_query']}\n"
    if fields.get("context"):
        text += f"CONTEXT:  {fields['context']}\n"
    return text


def _node_param(value: Any) -> bytes | None:
    """A JSON parameter as node-postgres sends it: text of unknown type."""
    if value is None:
        return None
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        return _js_number(value).encode()
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, list):
        return _pg_array_literal(value).encode()
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _js_number(value: float) -> str:
    """How JavaScript prints a number (near enough: integral values without `.0`)."""
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def _pg_array_literal(values: list[Any]) -> str:
    """node-postgres' `arrayString`: a JS array as a PostgreSQL array literal."""
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
        elif isinstance(value, list):
            parts.append(_pg_array_literal(value))
        else:
            raw = _node_param(value)
            text = "" if raw is None else raw.decode()
            parts.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(parts) + "}"


# -- values, as node-postgres (with pg-meta's parsers) gives them ----------------------------------------


def _rows(result: pq.abc.PGresult) -> list[dict[str, Any]]:
    names = [(result.fname(i) or b"").decode() for i in range(result.nfields)]
    types = [result.ftype(i) for i in range(result.nfields)]
    rows = []
    for row in range(result.ntuples):
        record: dict[str, Any] = {}
        for column, (name, oid) in enumerate(zip(names, types, strict=True)):
            raw = result.get_value(row, column)
            record[name] = None if raw is None else pgmeta_value(oid, raw.decode("utf-8", "replace"))
        rows.append(record)
    return rows


def _int8(text: str) -> int | str:
    number = int(text)
    return number if abs(number) <= _MAX_SAFE_INTEGER else text


def _float(text: str) -> float | int | None:
    number = float(text)
    if not math.isfinite(number):
        return None  # JSON.stringify(NaN) is null
    return int(number) if number.is_integer() and abs(number) < 1e21 else number


def _bool(text: str) -> bool:
    return text in ("t", "true", "TRUE", "y", "yes", "on", "1")


def _bytea(text: str) -> dict[str, Any]:
    data = bytes.fromhex(text[2:]) if text.startswith("\\x") else text.encode()
    return {"type": "Buffer", "data": list(data)}


_INTERVAL = re.compile(
    r"^(?:([+-]?\d+)\s+years?\s*)?(?:([+-]?\d+)\s+mons?\s*)?(?:([+-]?\d+)\s+days?\s*)?"
    r"(?:([+-])?(\d*):(\d\d):(\d\d)(?:\.(\d{1,6}))?)?$"
)


def _interval(text: str) -> dict[str, Any] | str:
    """postgres-interval's object: its non-zero parts (time parts negative when the time is)."""
    match = _INTERVAL.match(text)
    if match is None:
        return text
    years, months, days, sign, hours, minutes, seconds, fraction = match.groups()
    parsed: dict[str, Any] = {}
    negative = sign == "-"
    for name, value in (("years", years), ("months", months), ("days", days)):
        if value and int(value):
            parsed[name] = int(value)
    for name, value in (("hours", hours), ("minutes", minutes), ("seconds", seconds)):
        if value and int(value):
            parsed[name] = -int(value) if negative else int(value)
    if fraction and int(fraction):
        milliseconds = _float(str(int(fraction.ljust(6, "0")) / 1000))
        parsed["milliseconds"] = -milliseconds if negative and milliseconds else milliseconds
    return parsed


def parse_pg_array(text: str, element: Callable[[str], Any] = str) -> list[Any] | str:
    """A PostgreSQL array literal (`{1,2,NULL,"a b"}`, nested ones too) as a list, each element converted."""
    body = text
    if body.startswith("["):  # explicit bounds: [0:1]={1,2}
        equals = body.find("=")
        if equals < 0:
            return text
        body = body[equals + 1 :]
    position = 0

    def parse() -> list[Any]:
        nonlocal position
        if body[position] != "{":
            raise ValueError(text)
        position += 1
        items: list[Any] = []
        if body[position] == "}":
            position += 1
            return items
        while True:
            if body[position] == "{":
                items.append(parse())
            elif body[position] == '"':
                position += 1
                chars = []
                while body[position] != '"':
                    if body[position] == "\\":
                        position += 1
                    chars.append(body[position])
                    position += 1
                position += 1
                items.append(element("".join(chars)))
            else:
                end = position
                while body[end] not in ",}":
                    end += 1
                raw = body[position:end].strip()
                position = end
                items.append(None if raw == "NULL" else element(raw))
            if body[position] == ",":
                position += 1
                continue
            if body[position] == "}":
                position += 1
                return items
            raise ValueError(text)

    try:
        return parse()
    except (ValueError, IndexError):
        return text


def _array_of(element: Callable[[str], Any]) -> Callable[[str], Any]:
    return lambda text: parse_pg_array(text, element)


def _json(text: str) -> Any:
    return json.loads(text)


def _text(text: str) -> str:
    return text


# Type OIDs node-postgres (pg-types 2) parses, with pg-meta's overrides (int8, dates, point).
_PARSERS: dict[int, Callable[[str], Any]] = {
    16: _bool,
    17: _bytea,
    20: _int8,
    21: int,
    23: int,
    26: int,
    114: _json,
    3802: _json,
    700: _float,
    701: _float,
    1186: _interval,
    199: _array_of(_json),
    3807: _array_of(_json),
    1000: _array_of(_bool),
    1001: _array_of(_bytea),
    1005: _array_of(int),
    1007: _array_of(int),
    1028: _array_of(int),
    1016: _array_of(_text),  # int8[]: strings (pg-meta only overrides the scalar int8)
    1021: _array_of(_float),
    1022: _array_of(_float),
    1231: _array_of(_float),
    1014: _array_of(_text),
    1015: _array_of(_text),
    1008: _array_of(_text),
    1009: _array_of(_text),
    1040: _array_of(_text),
    1041: _array_of(_text),
    651: _array_of(_text),
    2951: _array_of(_text),
    791: _array_of(_text),
    1183: _array_of(_text),
    1270: _array_of(_text),
    3907: _array_of(_text),
    1115: _array_of(_text),
    1182: _array_of(_text),
    1185: _array_of(_text),
    1187: _array_of(_interval),
}


def pgmeta_value(oid: int, text: str) -> Any:
    """One value as the query endpoint returns it, from its type OID and its text."""
    parser = _PARSERS.get(oid)
    if parser is None:
        return text
    try:
        return parser(text)
    except ValueError:
        return text


# -- the tiny PostgREST -----------------------------------------------------------------------------------


@dataclass
class RestResult:
    """A PostgREST answer: the JSON text of the rows, their number, and the total when it was counted."""

    body: str
    rows: int
    total: int | None


def relation_exists(db: Database, schema: str, name: str) -> bool:
    """Whether PostgREST's schema cache would hold `schema.name` (a table, view or foreign table)."""
    with db.connection() as conn:
        result = conn.exec_params(
            b"select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
            b" where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'v', 'm', 'f', 'p')",
            [schema.encode(), name.encode()],
        )
        _check(result, "")
        return result.ntuples > 0


def rest_select(
    db: Database,
    *,
    schema: str,
    table: str,
    columns: list[str] | None,
    filters: list[tuple[str, str, str | None]],
    order: list[tuple[str, bool, bool | None]],
    limit: int | None,
    offset: int,
    role: str,
    claims: dict[str, Any],
    count: bool,
) -> RestResult:
    """`select` on a relation as `role`, with the request's JWT claims, as PostgREST runs it.

    `filters` are (column, SQL operator, value or None for `is null`), `order` (column, descending,
    nulls first or None). Raises `QueryFailed` with the server's error fields.
    """
    target = sql.Identifier(schema, table)
    select_list = sql.SQL("*") if columns is None else sql.SQL(", ").join(sql.Identifier(column) for column in columns)
    where_parts = []
    params: list[bytes | None] = []
    for column, operator, value in filters:
        if value is None:
            where_parts.append(sql.SQL("{} {} null").format(sql.Identifier(column), sql.SQL(operator)))
        else:
            params.append(value.encode())
            placeholder = sql.SQL(f"${len(params)}")
            where_parts.append(sql.SQL("{} {} {}").format(sql.Identifier(column), sql.SQL(operator), placeholder))
    where = sql.SQL(" where ") + sql.SQL(" and ").join(where_parts) if where_parts else sql.SQL("")
    order_parts = []
    for column, descending, nulls_first in order:
        part = sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL("desc" if descending else "asc"))
        if nulls_first is not None:
            part = part + sql.SQL(" nulls first" if nulls_first else " nulls last")
        order_parts.append(part)
    order_by = sql.SQL(" order by ") + sql.SQL(", ").join(order_parts) if order_parts else sql.SQL("")
    page = sql.SQL(" offset {}").format(sql.Literal(offset))
    if limit is not None:
        page = sql.SQL(" limit {}").format(sql.Literal(limit)) + page
    source = sql.SQL("select {} from {}{}{}{}").format(select_list, target, where, order_by, page)
    main = sql.SQL("select coalesce(json_agg(pgrst_t), '[]')::text, count(*) from ({}) pgrst_t").format(source)
    counting = sql.SQL("select count(*) from {}{}").format(target, where)

    with db.connection() as conn:
        _check(conn.exec_(b"begin"), "")
        try:
            settings = conn.exec_params(
                b"select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)",
                [role.encode(), json.dumps(claims).encode()],
            )
            _check(settings, "")
            result = conn.exec_params(main.as_string(None).encode(), params)
            _check(result, "")
            body = (result.get_value(0, 0) or b"[]").decode()
            rows = int(result.get_value(0, 1) or b"0")
            total = None
            if count:
                counted = conn.exec_params(counting.as_string(None).encode(), params)
                _check(counted, "")
                total = int(counted.get_value(0, 0) or b"0")
        except QueryFailed:
            conn.exec_(b"rollback")
            raise
        _check(conn.exec_(b"commit"), "")
    return RestResult(body, rows, total)
