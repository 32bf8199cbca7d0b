"""A project's own API (`<project url>/auth/v1/...`, `/rest/v1/...`), as Supabase's gateway serves it.

Every request needs an `apikey` (header or query parameter) that is one of the project's keys: the
legacy anon / service_role JWTs, the publishable key or the secret key. A project that is not
ACTIVE_HEALTHY answers 503.

* `GET /auth/v1/health`: GoTrue's health answer.
* `GET|HEAD /rest/v1/<table>`: a tiny PostgREST. `select=*` or a list of plain columns, `limit`,
  `offset`, `order=col.asc|desc[.nullsfirst|.nullslast]`, filters `col=<op>.<value>` with op one of
  eq, neq, gt, gte, lt, lte, like, ilike, is (null/true/false), `Prefer: count=exact`,
  `Accept-Profile` (public or graphql_public). The role is that of the key, or of the JWT in
  `Authorization: Bearer` (a key, or a user token signed with the project's secret: see
  `FakeProject.jwt_for`), set with `set_config('role', ...)` as PostgREST does, with the claims in
  `request.jwt.claims`. Errors have PostgREST's shape `{"code", "details", "hint", "message"}`.

Anything else is answered 404 and recorded as a gap of the fake (`FakePlatform.spec_violations`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import jwt

from tests.support.fake_platform.messages import Call, Reply
from tests.support.fake_platform.sql_runner import QueryFailed, relation_exists, rest_select
from tests.support.fake_platform.state import ACTIVE_HEALTHY, FakeProject

if TYPE_CHECKING:
    from tests.support.fake_platform.server import FakePlatform

__all__ = ["GOTRUE_HEALTH", "INVALID_API_KEY", "ProjectGateway"]

GOTRUE_HEALTH = {
    "version": "v2.170.0",
    "name": "GoTrue",
    "description": "GoTrue is a user registration and authentication API",
}
INVALID_API_KEY = {
    "message": "Invalid API key",
    "hint": "Double check your Supabase `anon` or `service_role` API key.",
}
_NO_API_KEY = {"message": "No API key found in request", "hint": "No `apikey` request header or url param was found."}
_EXPOSED_SCHEMAS = ("public", "graphql_public")
_OPERATORS = {"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "like": "like", "ilike": "ilike"}
_RESERVED_PARAMS = {"select", "limit", "offset", "order", "apikey", "columns", "on_conflict"}
_PLAIN_COLUMN = re.compile(r"[^(),:!.\s]+(?:\s[^(),:!.\s]+)*")


def _pgrst(status: int, code: str, message: str, details: Any = None, hint: Any = None) -> Reply:
    return Reply.json(status, {"code": code, "details": details, "hint": hint, "message": message})


class _Refused(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


class ProjectGateway:
    """Serves `/project/{ref}/...` for the projects of `platform`."""

    def __init__(self, platform: FakePlatform) -> None:
        self.platform = platform

    def handle(self, call: Call, ref: str, rest: str) -> Reply:
        with self.platform._lock:
            project = self.platform._projects.get(ref)
        if project is None:
            return Reply.message(404, "no Route matched with those values")
        if project.status != ACTIVE_HEALTHY:
            return Reply.message(503, f"The project is not available (status {project.status}).")
        apikey = call.headers.get("apikey") or call.arg("apikey")
        if not apikey:
            return Reply.json(401, dict(_NO_API_KEY))
        key_role = project.key_role(apikey)
        if key_role is None:
            return Reply.json(401, dict(INVALID_API_KEY))
        if rest == "/auth/v1/health" and call.method in ("GET", "HEAD"):
            return Reply.json(200, dict(GOTRUE_HEALTH))
        match = re.fullmatch(r"/rest/v1/([^/]+)", rest)
        if match is not None and call.method in ("GET", "HEAD"):
            try:
                return self._select(call, project, unquote(match.group(1)), key_role)
            except _Refused as refused:
                return refused.reply
        self.platform._record_gap(f"{call.method} /project/{{ref}}{rest}: the fake's project API does not serve this")
        return Reply.message(404, f"The fake platform does not serve {call.method} {rest}.")

    # -- PostgREST ------------------------------------------------------------------------------------------

    def _claims(self, call: Call, project: FakeProject, key_role: str) -> tuple[str, dict[str, Any]]:
        header = call.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return key_role, {"role": key_role}
        bearer_role = project.key_role(token)
        if bearer_role is not None and not token.startswith("ey"):
            return bearer_role, {"role": bearer_role}
        try:
            claims = jwt.decode(token, project.jwt_secret, algorithms=["HS256"], options={"verify_aud": False})
        except jwt.ExpiredSignatureError:
            raise _Refused(_pgrst(401, "PGRST303", "JWT expired")) from None
        except jwt.PyJWTError:
            raise _Refused(_pgrst(401, "PGRST301", "No suitable key or wrong key type")) from None
        return str(claims.get("role") or key_role), claims

    def _select(self, call: Call, project: FakeProject, table: str, key_role: str) -> Reply:
        role, claims = self._claims(call, project, key_role)
        schema = call.headers.get("accept-profile") or "public"
        if schema not in _EXPOSED_SCHEMAS:
            return _pgrst(
                406,
                "PGRST106",
                f"Invalid schema: {schema}",
                hint=f"Only the following schemas are exposed: {', '.join(_EXPOSED_SCHEMAS)}",
            )
        columns = self._columns(call.arg("select"))
        filters = self._filters(call)
        order = self._order(call.arg("order"))
        try:
            limit = int(call.arg("limit")) if call.arg("limit") is not None else None  # type: ignore[arg-type]
            offset = int(call.arg("offset") or 0)
        except ValueError:
            return _pgrst(400, "PGRST100", "limit and offset must be integers")
        prefer = call.headers.get("prefer", "")
        count = "count=exact" in prefer.replace(" ", "")
        database = self.platform._database(project)
        if not relation_exists(database, schema, table):
            return _pgrst(404, "PGRST205", f"Could not find the table '{schema}.{table}' in the schema cache")
        try:
            result = rest_select(
                database,
                schema=schema,
                table=table,
                columns=columns,
                filters=filters,
                order=order,
                limit=limit,
                offset=offset,
                role=role,
                claims=claims,
                count=count,
            )
        except QueryFailed as failure:
            return self._error(failure, role)
        total = "*" if result.total is None else str(result.total)
        span = f"{offset}-{offset + result.rows - 1}" if result.rows else "*"
        headers = {"Content-Range": f"{span}/{total}"}
        if call.method == "HEAD":
            return Reply.empty(200, headers)
        return Reply.text(200, result.body, "application/json; charset=utf-8", headers)

    def _columns(self, select: str | None) -> list[str] | None:
        if select is None or select.strip() == "*":
            return None
        columns = [part.strip() for part in select.split(",")]
        for column in columns:
            if column.startswith('"') and column.endswith('"') and len(column) > 1:
                continue
            if not _PLAIN_COLUMN.fullmatch(column):
                self.platform._record_gap(f"select={select!r}: the fake's PostgREST takes only * or plain columns")
                raise _Refused(_pgrst(400, "PGRST100", f"failed to parse select parameter ({select})"))
        return [column[1:-1].replace('""', '"') if column.startswith('"') else column for column in columns]

    def _filters(self, call: Call) -> list[tuple[str, str, str | None]]:
        filters: list[tuple[str, str, str | None]] = []
        for name, value in call.query:
            if name in _RESERVED_PARAMS:
                continue
            operator, _, operand = value.partition(".")
            if operator == "is" and operand.lower() in ("null", "true", "false"):
                filters.append((name, f"is {operand.lower()}", None))
            elif operator in _OPERATORS:
                filters.append((name, _OPERATORS[operator], operand))
            else:
                self.platform._record_gap(f"filter {name}={value!r}: the fake's PostgREST does not support it")
                raise _Refused(_pgrst(400, "PGRST100", f'"failed to parse filter ({value})" (line 1, column 1)'))
        return filters

    def _order(self, order: str | None) -> list[tuple[str, bool, bool | None]]:
        if not order:
            return []
        terms: list[tuple[str, bool, bool | None]] = []
        for term in order.split(","):
            parts = term.strip().split(".")
            column, modifiers = parts[0], parts[1:]
            descending = "desc" in modifiers
            nulls = True if "nullsfirst" in modifiers else False if "nullslast" in modifiers else None
            if not column or any(m not in ("asc", "desc", "nullsfirst", "nullslast") for m in modifiers):
                self.platform._record_gap(f"order={order!r}: the fake's PostgREST does not support it")
                raise _Refused(_pgrst(400, "PGRST100", f"failed to parse order ({order})"))
            terms.append((column, descending, nulls))
        return terms

    @staticmethod
    def _error(failure: QueryFailed, role: str) -> Reply:
        fields = failure.fields
        code = failure.sqlstate or "XX000"
        if code == "42501":
            status = 401 if role == "anon" else 403
        elif code in ("42P01", "42883"):
            status = 404
        elif code.startswith("23"):
            status = 409
        elif code.startswith(("22", "42")) or code == "P0001":
            status = 400
        else:
            status = 500
        return _pgrst(status, code, fields.get("message") or "", fields.get("detail"), fields.get("hint"))
