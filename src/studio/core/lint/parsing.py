"""Reading the SQL texts a catalog carries (policy expressions, function, index and constraint definitions).

The texts are the server's own deparsed forms, read with only `pg_catalog` on the search path, so every
user table and function in them is schema-qualified. They are parsed with PostgreSQL's parser (pglast);
a text that does not parse yields nothing rather than an error, so one odd object cannot stop the lints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import pglast
from pglast import ast, enums
from pglast.stream import RawStream

# A name as written in SQL: (schema or None when unqualified, name).
Name = tuple[str | None, str]

_SELECT = "SELECT "

# Calls that give the same answer for every row of a statement, and cost a function call per row unless
# wrapped in a scalar subquery (which the planner runs once, as an "initplan").
PER_STATEMENT_CALLS: frozenset[Name] = frozenset({
    ("auth", "uid"), ("auth", "jwt"), ("auth", "role"), ("auth", "email"),
    (None, "current_setting"), ("pg_catalog", "current_setting"),
})


def _nodes_in(value: object) -> Iterator[ast.Node]:
    if isinstance(value, ast.Node):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _nodes_in(item)


def _children(node: ast.Node) -> Iterator[tuple[str, ast.Node]]:
    for member in node:
        for child in _nodes_in(getattr(node, member)):
            yield member, child


def walk(node: ast.Node) -> Iterator[ast.Node]:
    """Every node of a tree, the root first."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(child for _, child in reversed(list(_children(current))))


def _strings(names: tuple[ast.Node, ...] | None) -> list[str]:
    return [n.sval or "" for n in names or () if isinstance(n, ast.String)]


def _name(parts: list[str]) -> Name | None:
    if len(parts) == 1:
        return (None, parts[0])
    if len(parts) == 2:
        return (parts[0], parts[1])
    return None


def function_name(call: ast.FuncCall) -> Name | None:
    """The (schema, name) a call names, or None for a three-part name."""
    return _name(_strings(call.funcname))


@lru_cache(maxsize=4096)
def parse_expression(text: str) -> ast.SelectStmt | None:
    """`SELECT <text>` parsed, or None when the text is not an expression."""
    try:
        statements = pglast.parse_sql(_SELECT + text)
    except pglast.parser.ParseError:
        return None
    if len(statements) != 1 or not isinstance(statements[0].stmt, ast.SelectStmt):
        return None
    return statements[0].stmt


def relations(node: ast.Node) -> set[Name]:
    """Every table or view a tree reads (its FROM items), as written."""
    return {(n.schemaname, n.relname or "") for n in walk(node) if isinstance(n, ast.RangeVar)}


@lru_cache(maxsize=4096)
def query_relations(query: str) -> frozenset[Name]:
    """Every table or view a query text (a view's definition) reads, as written; empty if it does not parse."""
    try:
        statements = pglast.parse_sql(query)
    except pglast.parser.ParseError:
        return frozenset()
    return frozenset(set().union(*(relations(s) for s in statements)))


def called_functions(node: ast.Node) -> set[Name]:
    """Every function a tree calls, as written."""
    out = set()
    for n in walk(node):
        if isinstance(n, ast.FuncCall):
            name = function_name(n)
            if name:
                out.add(name)
    return out


def has_subquery(node: ast.Node) -> bool:
    """Whether a tree contains a subquery (`EXISTS (...)`, `IN (SELECT ...)`, `(SELECT ...)`)."""
    return any(isinstance(n, ast.SubLink) for n in walk(node))


def per_row_calls(root: ast.SelectStmt) -> list[ast.FuncCall]:
    """Calls of PER_STATEMENT_CALLS in an expression that the server would make once per row.

    A call is made once per statement only when it sits in the select list of a subquery with no FROM
    (`(SELECT auth.uid())`, deparsed `( SELECT auth.uid() AS uid)`); anywhere else (the expression itself,
    the WHERE of an EXISTS) it is evaluated for each row.
    """
    found: list[ast.FuncCall] = []

    def visit(node: ast.Node, once: bool) -> None:
        if isinstance(node, ast.SelectStmt) and node is not root:
            scalar = not node.fromClause and node.op == enums.SetOperation.SETOP_NONE
            for member, child in _children(node):
                visit(child, scalar and member == "targetList")
            return
        if isinstance(node, ast.FuncCall) and not once and function_name(node) in PER_STATEMENT_CALLS:
            found.append(node)
        for _, child in _children(node):
            visit(child, once)

    visit(root, False)
    return found


def _call_end(text: str, start: int) -> int:
    """The offset just after the call that starts at `start` (its closing parenthesis)."""
    depth = 0
    i = start
    while i < len(text):
        c = text[i]
        if c in "'\"":
            # skip a string constant or quoted name; a doubled quote is an escaped one
            i += 1
            while i < len(text):
                if text[i] == c:
                    if i + 1 < len(text) and text[i + 1] == c:
                        i += 2
                        continue
                    break
                i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def wrap_per_row_calls(text: str) -> str | None:
    """The expression with each per-row call wrapped in `(select ...)`, or None when there is none."""
    root = parse_expression(text)
    if root is None:
        return None
    spans = sorted((c.location - len(_SELECT), _call_end(text, c.location - len(_SELECT)))
                   for c in per_row_calls(root) if c.location is not None and c.location >= len(_SELECT))
    outer: list[tuple[int, int]] = []
    for start, end in spans:
        if outer and start < outer[-1][1]:
            continue  # inside a call that is wrapped already
        outer.append((start, end))
    if not outer:
        return None
    for start, end in reversed(outer):
        text = f"{text[:start]}(select {text[start:end]}){text[end:]}"
    return text


def is_literal_true(text: str | None) -> bool:
    """Whether an expression is the constant `true` (as the server deparses it, maybe parenthesized)."""
    if text is None:
        return False
    root = parse_expression(text)
    if root is None or not root.targetList or len(root.targetList) != 1:
        return False
    value = root.targetList[0].val
    return isinstance(value, ast.A_Const) and isinstance(value.val, ast.Boolean) and bool(value.val.boolval)


# -- functions -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionFacts:
    """What the lints need from a function's definition."""

    security_definer: bool
    # The `SET search_path` value ("" for an empty path), or None when the function does not set one.
    search_path: str | None
    language: str
    # Tables the body reads, when the body is SQL that parses; None for other languages.
    body_relations: frozenset[Name] | None
    # The body's text ("" for a SQL-standard `BEGIN ATOMIC` body, which is read as `body_relations`).
    body: str


def _set_value(stmt: ast.VariableSetStmt) -> str:
    if stmt.kind == enums.VariableSetKind.VAR_SET_CURRENT:
        return "FROM CURRENT"
    parts = []
    for arg in stmt.args or ():
        if isinstance(arg, ast.A_Const) and isinstance(arg.val, ast.String):
            parts.append(arg.val.sval or "")
        elif isinstance(arg, ast.ColumnRef):
            parts.append(".".join(_strings(arg.fields)))
    return ", ".join(parts)


@lru_cache(maxsize=4096)
def function_facts(definition: str) -> FunctionFacts | None:
    """Facts of a `pg_get_functiondef` text, or None when it does not parse."""
    try:
        statements = pglast.parse_sql(definition)
    except pglast.parser.ParseError:
        return None
    if len(statements) != 1 or not isinstance(statements[0].stmt, ast.CreateFunctionStmt):
        return None
    stmt = statements[0].stmt
    definer, search_path, language, body = False, None, "", ""
    for option in stmt.options or ():
        if not isinstance(option, ast.DefElem):
            continue
        arg = option.arg
        if option.defname == "security" and isinstance(arg, ast.Boolean):
            definer = bool(arg.boolval)
        elif option.defname == "set" and isinstance(arg, ast.VariableSetStmt) and arg.name == "search_path":
            search_path = _set_value(arg)
        elif option.defname == "language" and isinstance(arg, ast.String):
            language = (arg.sval or "").lower()
        elif option.defname == "as":
            body = "".join(_strings(arg)) if isinstance(arg, tuple) else ""
    body_relations: frozenset[Name] | None = None
    if stmt.sql_body is not None:
        body_relations = frozenset(set().union(*(relations(n) for n in _nodes_in(stmt.sql_body))))
    elif language == "sql":
        try:
            body_relations = frozenset(set().union(*(relations(s) for s in pglast.parse_sql(body))))
        except pglast.parser.ParseError:
            body_relations = None
    return FunctionFacts(definer, search_path, language, body_relations, body)


def search_path_schemas(search_path: str | None) -> list[str]:
    """The schemas an unqualified name is looked up in, under a function's `search_path` setting."""
    if search_path is None:
        return ["public"]  # the server default, `"$user", public`, as far as user tables go
    out = []
    for part in search_path.split(","):
        part = part.strip()
        if part.startswith('"') and part.endswith('"') and len(part) > 1:
            out.append(part[1:-1].replace('""', '"'))
        elif part:
            out.append(part.lower())
    return out


_TOKEN = re.compile(r'"(?:[^"]|"")*"|[A-Za-z_\u0080-\U0010ffff][\w$\u0080-\U0010ffff]*|\S')


def _identifier(token: str) -> str | None:
    if token.startswith('"'):
        return token[1:-1].replace('""', '"')
    if token[0].isalpha() or token[0] == "_":
        return token.lower()
    return None


def function_reads(facts: FunctionFacts, schema: str, name: str) -> bool:
    """Whether a function's body reads the table `schema.name`.

    SQL bodies are parsed; other languages (PL/pgSQL) are scanned for the name as an identifier, qualified
    by the table's schema or unqualified when that schema is on the function's search path.
    """
    path = search_path_schemas(facts.search_path)
    if facts.body_relations is not None:
        return any((s == schema or (s is None and schema in path)) and n == name for s, n in facts.body_relations)
    tokens = _TOKEN.findall(facts.body)
    for i, token in enumerate(tokens):
        if _identifier(token) != name or (i + 1 < len(tokens) and tokens[i + 1] == "."):
            continue
        if i >= 2 and tokens[i - 1] == ".":
            if _identifier(tokens[i - 2]) == schema:
                return True
        elif schema in path:
            return True
    return False


# -- indexes and constraints --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexShape:
    """An index reduced to what makes it useful: its columns and expressions, method, predicate."""

    # The plain columns the index starts with, up to its first expression.
    leading_columns: tuple[str, ...]
    partial: bool
    # Everything but the name, the table and uniqueness, printed canonically: equal means same index.
    signature: str
    unique: bool


def _shape(stmt: ast.IndexStmt) -> IndexShape:
    leading: list[str] = []
    for element in stmt.indexParams or ():
        if not isinstance(element, ast.IndexElem) or element.name is None:
            break
        leading.append(element.name)
    # a RawStream keeps what it printed: one per part
    parts = [stmt.accessMethod or "btree", RawStream()(stmt.indexParams or "")]
    parts.append(RawStream()(stmt.indexIncludingParams) if stmt.indexIncludingParams else "")
    parts.append(RawStream()(stmt.whereClause) if stmt.whereClause is not None else "")
    return IndexShape(tuple(leading), stmt.whereClause is not None, " | ".join(parts), bool(stmt.unique))


@lru_cache(maxsize=4096)
def index_shape(definition: str) -> IndexShape | None:
    """The shape of a `pg_get_indexdef` text, or None when it does not parse."""
    try:
        statements = pglast.parse_sql(definition)
    except pglast.parser.ParseError:
        return None
    if len(statements) != 1 or not isinstance(statements[0].stmt, ast.IndexStmt):
        return None
    return _shape(statements[0].stmt)


@dataclass(frozen=True)
class ConstraintFacts:
    """Columns of a primary key, unique or foreign key constraint."""

    columns: tuple[str, ...]
    # For a primary key or unique constraint, the shape of the index behind it.
    index: IndexShape | None = None
    # For a foreign key, the table it references.
    references: Name | None = None


@lru_cache(maxsize=4096)
def constraint_facts(definition: str) -> ConstraintFacts | None:
    """Facts of a `pg_get_constraintdef` text of a PRIMARY KEY, UNIQUE or FOREIGN KEY constraint."""
    try:
        statements = pglast.parse_sql("ALTER TABLE studio_lint ADD " + definition)
    except pglast.parser.ParseError:
        return None
    stmt = statements[0].stmt if len(statements) == 1 else None
    if not isinstance(stmt, ast.AlterTableStmt) or not stmt.cmds or len(stmt.cmds) != 1:
        return None
    command = stmt.cmds[0]
    constraint = command.def_ if isinstance(command, ast.AlterTableCmd) else None
    if not isinstance(constraint, ast.Constraint):
        return None
    if constraint.contype == enums.ConstrType.CONSTR_FOREIGN:
        target = constraint.pktable
        references = (target.schemaname, target.relname or "") if target is not None else None
        return ConstraintFacts(tuple(_strings(constraint.fk_attrs)), references=references)
    if constraint.contype in (enums.ConstrType.CONSTR_PRIMARY, enums.ConstrType.CONSTR_UNIQUE):
        columns = tuple(_strings(constraint.keys))
        index = ast.IndexStmt(
            accessMethod="btree", unique=True,
            indexParams=tuple(ast.IndexElem(name=c, ordering=enums.SortByDir.SORTBY_DEFAULT,
                                            nulls_ordering=enums.SortByNulls.SORTBY_NULLS_DEFAULT) for c in columns),
            indexIncludingParams=tuple(ast.IndexElem(name=c, ordering=enums.SortByDir.SORTBY_DEFAULT,
                                                     nulls_ordering=enums.SortByNulls.SORTBY_NULLS_DEFAULT)
                                       for c in _strings(constraint.including)) or None,
        )
        return ConstraintFacts(columns, _shape(index))
    return None
