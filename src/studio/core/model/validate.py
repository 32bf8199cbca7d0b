"""Checks on an AppModel before anything is generated, each problem said in the builder's terms.

Caught here: names that are not plain identifiers, reserved words (in SQL and in the client languages),
duplicates (including clashes with the columns Studio adds), links to entities that do not exist, enum
fields without values or with a default that is not one of them, defaults of the wrong type, cycles of
required links (no row could ever be inserted first), and names PostgreSQL would cut at 63 bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pglast.keywords import RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

from studio.core.model import naming
from studio.core.model.appmodel import AppModel, Entity, Field, FieldType, LinkKind, OnDelete

_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*\Z")

#: Words the generated client code cannot use as a field or class name (TypeScript, Dart, Python).
_CLIENT_WORDS = (  # Dart's reserved words, Python's keywords, and TypeScript's where variables need them
    "and as assert async await break case catch class const continue def default del delete do elif else enum"
    " except extends false final finally for from function global if import in is lambda new nonlocal none not"
    " null or pass raise rethrow return super switch this throw true try typeof var void while with yield"
)
CLIENT_KEYWORDS = frozenset(_CLIENT_WORDS.split())
SQL_RESERVED = frozenset(RESERVED_KEYWORDS | TYPE_FUNC_NAME_KEYWORDS)

_DEFAULT_TYPES: dict[FieldType, tuple[type, ...]] = {
    FieldType.TEXT: (str,),
    FieldType.LONG_TEXT: (str,),
    FieldType.INTEGER: (int,),
    FieldType.DECIMAL: (int, float),
    FieldType.BOOLEAN: (bool,),
    FieldType.DATE: (str,),
    FieldType.TIMESTAMP: (str,),
    FieldType.UUID: (str,),
    FieldType.ENUM: (str,),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a model: where (`entity todos, field title`) and what, in plain words."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _name_problems(name: str, where: str, what: str) -> list[Problem]:
    if not _IDENTIFIER.match(name):
        return [Problem(where, f"the {what} name “{name}” must start with a lower-case letter and use only"
                               " lower-case letters, digits and underscores")]
    problems = []
    if name in SQL_RESERVED:
        problems.append(Problem(where, f"“{name}” is a reserved word in SQL; choose another {what} name"))
    elif name in CLIENT_KEYWORDS:
        problems.append(Problem(where, f"“{name}” is a reserved word in the app's code; choose another {what} name"))
    return problems


def _field_problems(entity: Entity, field: Field) -> list[Problem]:
    where = f"entity {entity.name}, field {field.name}"
    problems = _name_problems(field.name, where, "field")
    if field.name in naming.IMPLICIT_COLUMNS:
        problems.append(Problem(where, f"“{field.name}” is added by Studio to every entity; choose another name"))
    if field.type is FieldType.ENUM:
        if not field.values:
            problems.append(Problem(where, "a choice field needs at least one value"))
        if len(set(field.values)) != len(field.values):
            problems.append(Problem(where, "a choice field's values must all differ"))
        for value in field.values:
            if not value or naming.too_long(value):
                problems.append(Problem(where, f"the value “{value}” must be 1 to 63 bytes long"))
    elif field.values:
        problems.append(Problem(where, "only choice (enum) fields have a list of values"))
    if field.default is not None:
        allowed = _DEFAULT_TYPES.get(field.type)
        wrong_type = allowed is None or not isinstance(field.default, allowed) or (
            isinstance(field.default, bool) and field.type is not FieldType.BOOLEAN)
        if wrong_type:
            problems.append(Problem(where, f"the default {field.default!r} does not suit a {field.type.value} field"))
        elif field.type is FieldType.ENUM and field.default not in field.values:
            problems.append(Problem(where, f"the default “{field.default}” is not one of the choices"))
        elif field.type in (FieldType.DATE, FieldType.TIMESTAMP) and field.default != "now":
            problems.append(Problem(where, "a date or time default can only be “now”"))
    return problems


def validate(model: AppModel) -> list[Problem]:
    """Every problem of `model`; an empty list means it can be generated."""
    problems = _name_problems(model.schema, "model", "schema")
    entity_names = [e.name for e in model.entities]
    if not model.entities:
        problems.append(Problem("model", "add at least one entity"))
    for name in sorted({n for n in entity_names if entity_names.count(n) > 1}):
        problems.append(Problem(f"entity {name}", "two entities have this name"))
    reserved_tables = {naming.TEAMS_TABLE, naming.MEMBERS_TABLE} if model.uses_teams else set()
    for entity in model.entities:
        where = f"entity {entity.name}"
        problems += _name_problems(entity.name, where, "entity")
        if entity.singular:
            problems += _name_problems(entity.singular, where, "singular")
        if entity.name in reserved_tables:
            problems.append(Problem(where, f"“{entity.name}” is the table Studio makes for teams; rename it"))
        columns: dict[str, str] = {}
        for field in entity.fields:
            problems += _field_problems(entity, field)
            if field.name in columns:
                problems.append(Problem(f"{where}, field {field.name}", "two fields have this name"))
            columns[field.name] = f"field {field.name}"
        for link in model.links_from(entity.name):
            if link.kind is LinkKind.MANY_TO_MANY:
                continue
            column = naming.link_column(link)
            if column in columns or column in naming.IMPLICIT_COLUMNS:
                clash = columns.get(column, "a column Studio adds")
                message = f"its column “{column}” clashes with {clash}"
                problems.append(Problem(f"link {entity.name}.{link.name}", message))
            columns[column] = f"link {link.name}"
    problems += _link_problems(model, set(entity_names))
    problems += _cycle_problems(model)
    tables = naming.entity_tables(model)
    for table in sorted({t for t in tables if tables.count(t) > 1}):
        problems.append(Problem(f"table {table}", "two parts of the model would make a table of this name"))
    for name, where in naming.derived_names(model):
        if naming.too_long(name):
            problems.append(Problem(where, f"the name “{name}” is longer than PostgreSQL's 63 bytes; shorten it"))
    return problems


def _link_problems(model: AppModel, entities: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for link in model.links:
        where = f"link {link.source}.{link.name}"
        problems += _name_problems(link.name, where, "link")
        for end in (link.source, link.target):
            if end not in entities:
                problems.append(Problem(where, f"it links to “{end}”, which is not an entity of this model"))
        if (link.source, link.name) in seen:
            problems.append(Problem(where, "two links of this entity have this name"))
        seen.add((link.source, link.name))
        if link.kind is LinkKind.MANY_TO_MANY:
            source_column, target_column = naming.join_columns(model, link)
            if source_column == target_column:
                problems.append(Problem(where, "name the link differently from the entity, e.g. “followers”"))
        elif link.on_delete is OnDelete.SET_NULL and link.required:
            problems.append(Problem(where, "a required link cannot be emptied when its target is deleted;"
                                           " choose “delete these too” or “prevent deleting”"))
    return problems


def _cycle_problems(model: AppModel) -> list[Problem]:
    """Required links that form a cycle: no row of any entity in it could be inserted first."""
    required: dict[str, list[str]] = {}
    for link in model.links:
        if link.required and link.kind is not LinkKind.MANY_TO_MANY:
            required.setdefault(link.source, []).append(link.target)
    problems: list[Problem] = []
    reported: set[frozenset[str]] = set()
    for start in sorted(required):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in required.get(node, []):
                if nxt == start:
                    cycle = frozenset(path)
                    if cycle not in reported:
                        reported.add(cycle)
                        shown = " → ".join([*path, start])
                        problems.append(Problem(f"links {shown}", "these required links form a circle, so no row"
                                                " could be added first; make one of them optional"))
                elif nxt not in path:
                    stack.append((nxt, [*path, nxt]))
    return problems
