"""Read a database's user schema into a Catalog with one query.

The query (`introspect.sql`) returns one JSON document (in two parts), so a remote target pays one round
trip; on this computer, where another connection is cheap, the two parts run at once on two connections. This
module turns the document into `DbObject`s with stable keys, and maps `pg_depend` rows (which speak in
oids) onto those keys.

The large lists of the document (relations, columns, constraints, indexes, policies, dependencies) come
column-wise, one JSON array per field, because that is several times cheaper for the server to build; the
builder zips them back into rows. It runs once per object of a schema that may have tens of thousands, so
its loops are written for speed: names bound to locals, objects made and added in place.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from importlib import resources
from typing import Any

from studio.core.schema.bulk import paused_gc
from studio.core.schema.catalog import MANAGED_SCHEMAS, Catalog, DbObject, default_not_null_name
from studio.core.sqltext import quote_ident, quote_literal
from studio.core.targets.base import Row, Target

# An object id as the catalog document carries it (the query casts oids to int8).
Oid = int

# Key prefixes per object kind; keys are `<kind>:<quoted qualified name>`.
_RELKIND_TO_KIND = {"r": "table", "p": "table", "v": "view", "m": "matview", "S": "sequence", "f": "table"}
_TYPTYPE_TO_KIND = {"e": "enum", "d": "domain", "c": "composite"}
_SUPPORTED_PUBLICATIONS = ("supabase_realtime",)
_TABLE_GRANT_TYPES = {"table": "TABLE", "view": "TABLE", "matview": "TABLE", "sequence": "SEQUENCE"}
# Read definitions with only pg_catalog on the search path, so every name in them is schema-qualified.
INTROSPECTION_SETTINGS = {"search_path": "pg_catalog"}
# The privilege letters of aclitem text (PostgreSQL's ACL_ALL_RIGHTS_STR) and the names aclexplode() gives.
_PRIVILEGES = {"a": "INSERT", "r": "SELECT", "w": "UPDATE", "d": "DELETE", "D": "TRUNCATE", "x": "REFERENCES",
               "t": "TRIGGER", "X": "EXECUTE", "U": "USAGE", "C": "CREATE", "T": "TEMPORARY", "c": "CONNECT",
               "s": "SET", "A": "ALTER SYSTEM", "m": "MAINTAIN"}


@cache
def _query_template() -> str:
    return resources.files("studio.core.schema").joinpath("introspect.sql").read_text(encoding="utf-8")


def excluded_schemas(include_schemas: Iterable[str] | None = None) -> list[str]:
    """Managed schemas left out of a catalog, less those the caller asked to include."""
    # The migration history belongs to the deploy machinery, never to a plan (it would plan to drop it).
    wanted = set(include_schemas or ()) - {"supabase_migrations"}
    return [s for s in MANAGED_SCHEMAS if s not in wanted]


# The catalog document comes in two parts (JSON objects whose keys do not overlap): the second holds the lists
# whose text comes from the server's deparsers (constraints, indexes, policies), the first everything else.
# Together they are one statement's work; a target that can run two reads at once on this computer gets them
# from two statements on two connections, so the server works on them on two cores.
_SELECT_WHOLE = ("\nselect doc_a.part::text as part_a, doc_b.part::text as part_b, stats.estimates::text as estimates"
                 "\nfrom doc_a, doc_b, stats")
_SELECT_PARTS = ("\nselect doc_b.part::text as part_b\nfrom doc_b",
                 "\nselect doc_a.part::text as part_a, stats.estimates::text as estimates\nfrom doc_a, stats")


def _query_prelude(include_schemas: Iterable[str] | None) -> str:
    excluded = "ARRAY[" + ", ".join(quote_literal(s) for s in excluded_schemas(include_schemas)) + "]::name[]"
    return _query_template().rstrip().replace(":excluded", excluded)


def catalog_query(include_schemas: Iterable[str] | None = None) -> str:
    """The introspection query text with its schema filter filled in.

    It returns one row: the catalog document in its two parts (`part_a`, `part_b`: JSON texts; the
    fingerprint is the sha256 of `part_a`, a line break and `part_b`) and the tables' row estimates
    (`estimates`: JSON text; volatile, so kept out of the document).
    """
    return _query_prelude(include_schemas) + _SELECT_WHOLE


def catalog_query_parts(include_schemas: Iterable[str] | None = None) -> tuple[str, str]:
    """The introspection query as two statements that can run at the same time: the first (the larger share of
    the server's work) returns one row (`part_b`), the second one row (`part_a`, `estimates`), as
    `catalog_query` names them."""
    prelude = _query_prelude(include_schemas)
    return prelude + _SELECT_PARTS[0], prelude + _SELECT_PARTS[1]


def fingerprint_check_sql(expected: str, include_schemas: Iterable[str] | None = None) -> str:
    """A statement that fails with SQLSTATE SD001 unless the schema's fingerprint is still `expected`.

    Run inside a migration's transaction (after its lock) it makes "the database changed since the plan
    was made" impossible to miss, on any target, in the same round trip as the migration itself.
    """
    if not all(c in "0123456789abcdef" for c in expected) or len(expected) != 64:
        raise ValueError("fingerprint must be a sha256 hex digest")
    query = catalog_query(include_schemas)
    return (
        "DO $studio_drift_check$\nDECLARE\n  saved_path text := current_setting('search_path');\n"
        "  found text;\nBEGIN\n"
        "  PERFORM set_config('search_path', 'pg_catalog', true);\n"
        "  SELECT encode(sha256(convert_to(part_a || chr(10) || part_b, 'UTF8')), 'hex') INTO found FROM (\n"
        f"{query}\n) AS studio_catalog;\n"
        "  PERFORM set_config('search_path', saved_path, true);\n"
        f"  IF found IS DISTINCT FROM '{expected}' THEN\n"
        "    RAISE EXCEPTION USING ERRCODE = 'SD001',\n"
        "      MESSAGE = 'The database schema changed since this plan was made.';\n"
        "  END IF;\nEND\n$studio_drift_check$"
    )


def document_fingerprint(document: str, *more: str) -> str:
    """The fingerprint of a catalog document: the sha256 of its UTF-8 text, as `fingerprint_check_sql` computes
    it on the server. Given in parts, the parts are joined by line breaks (without copying them)."""
    digest = hashlib.sha256(document.encode("utf-8"))
    for part in more:
        digest.update(b"\n")
        digest.update(part.encode("utf-8"))
    return digest.hexdigest()


async def introspect(target: Target, *, include_schemas: Sequence[str] | None = None) -> Catalog:
    """Read the user schema of `target` (Supabase-managed schemas left out unless included).

    A target that says it can run reads concurrently (`concurrent_reads`, a `PostgresTarget` on this
    computer) runs the two parts of the query at the same time on two connections; any other runs it whole,
    in one round trip. Both give the same catalog and fingerprint.
    """
    if getattr(target, "concurrent_reads", False) and await _large(target, include_schemas):
        return await _introspect_in_parts(target, include_schemas)
    rows = await target.fetch(catalog_query(include_schemas), settings=INTROSPECTION_SETTINGS)
    part_a, part_b, estimates = rows[0]
    with paused_gc():
        doc = json.loads(part_a)
        doc.update(json.loads(part_b))
        return catalog_from_document(doc, document_fingerprint(part_a, part_b), json.loads(estimates))


# From this many tables in the compared schemas, the query's two parts run at once (each part has a fixed cost
# of about 10 ms on a fresh connection: below a few hundred tables, one statement is as quick and lighter).
SPLIT_FROM_TABLES = 200


async def _large(target: Target, include_schemas: Sequence[str] | None) -> bool:
    """Whether the schema is large enough for the two-part query to pay (one quick count of tables)."""
    excluded = "ARRAY[" + ", ".join(quote_literal(s) for s in excluded_schemas(include_schemas)) + "]::name[]"
    rows = await target.fetch(
        "select count(*) >= %s from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
        f" where c.relkind in ('r', 'p') and n.nspname <> all ({excluded}) and n.nspname not like 'pg\\_%%'"
        " and n.nspname <> 'information_schema'", [SPLIT_FROM_TABLES])
    return bool(rows[0][0])


async def _introspect_in_parts(target: Target, include_schemas: Sequence[str] | None) -> Catalog:
    """`introspect` through `target.fetch_concurrently`: the catalog is started from part A as soon as it
    arrives, while the server still works on part B (at 1,000 tables part A comes first and this hides about
    20 ms of building)."""
    started: list[tuple[Any, _Builder]] = []

    def arrived(number: int, rows: list[Row]) -> None:
        if number == 1:  # part A and the estimates
            part_a, estimates = rows[0]
            with paused_gc():
                builder = _Builder(json.loads(part_a), "", json.loads(estimates))
                builder.build_first()
            # the fingerprint as `document_fingerprint(part_a, part_b)` computes it, begun now
            started.append((hashlib.sha256(part_a.encode("utf-8")), builder))

    first, _ = await target.fetch_concurrently(  # type: ignore[attr-defined]
        catalog_query_parts(include_schemas), settings=INTROSPECTION_SETTINGS, on_result=arrived)
    (part_b,) = first[0]
    digest, builder = started[0]
    with paused_gc():
        builder.doc.update(json.loads(part_b))
        catalog = builder.build_rest()
    digest.update(b"\n")
    digest.update(part_b.encode("utf-8"))
    catalog.fingerprint = digest.hexdigest()
    return catalog


async def introspect_pair(live: Target, desired: Target, *, include_schemas: Sequence[str] | None = None
                          ) -> tuple[Catalog, Catalog]:
    """Read two databases at once: `(catalog of live, catalog of desired)`.

    The two catalog queries run concurrently (each target has its own connection, and the servers do the
    work), and the smaller catalog is built while the larger one's answer is still on its way: at 1,000
    tables against an empty database this takes the empty side's whole time off the plan's. Both reads run to
    their end; if either fails, its error is raised (the live side's first) once both are done, so neither
    target is left with a query in flight.
    """
    results = await asyncio.gather(introspect(live, include_schemas=include_schemas),
                                   introspect(desired, include_schemas=include_schemas), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    live_catalog, desired_catalog = results
    assert isinstance(live_catalog, Catalog) and isinstance(desired_catalog, Catalog)
    return live_catalog, desired_catalog


def catalog_from_document(doc: dict[str, Any], fingerprint: str, estimates: list[list[Any]]) -> Catalog:
    """Build a Catalog from the introspection query's document and row estimates ([table oids, estimates])."""
    with paused_gc():
        return _Builder(doc, fingerprint, estimates).build()


def _q(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def _rows(columns: list[list[Any]] | None) -> Iterator[tuple[Any, ...]]:
    """The rows of a column-wise list (each column is null when the list is empty)."""
    if not columns or columns[0] is None:
        return iter(())
    return zip(*columns, strict=True)


class _Builder:
    """Turns the document into objects; keeps the oid -> key maps that dependencies need."""

    def __init__(self, doc: dict[str, Any], fingerprint: str, estimates: list[list[Any]]) -> None:
        self.doc = doc
        self.catalog = Catalog(server_version=int(doc["server_version"]), fingerprint=fingerprint)
        self.objects = self.catalog.objects
        self.estimates = estimates
        self.class_key: dict[Oid, str] = {}  # pg_class oid -> key (tables, views, sequences, indexes, composites)
        self.class_qname: dict[Oid, str] = {}
        self.type_key: dict[Oid, str] = {}  # pg_type oid -> key (incl. array types and table row types)
        self.proc_key: dict[Oid, str] = {}
        self.constraint_key: dict[Oid, str] = {}
        self.index_constraint: dict[Oid, str] = {}  # index oid backing a constraint -> constraint key
        self.rule_key: dict[Oid, str] = {}
        self.trigger_key: dict[Oid, str] = {}
        self.policy_key: dict[Oid, str] = {}
        self.column_key: dict[tuple[Oid, int], str] = {}
        self.schema_keys: dict[str, str] = {}
        # catalog name -> its pg_class oid (the classid of pg_depend and pg_description rows)
        self.class_oid = {name: int(oid) for oid, name in doc["catalog_classes"].items()}
        # Grantees whose privileges are compared, as aclitem text names them ("" is PUBLIC), in the order the
        # server sorts their names (which is the order of the grant objects).
        self.acl_order: list[str] = doc["acl_roles"] or []
        self.grantees = {("" if name == "PUBLIC" else name): name for name in self.acl_order}
        # comments: catalog oid -> object oid -> sub-object number -> text
        self.comments: dict[int, dict[Oid, dict[int, str]]] = {}
        for classoid, objoid, subid, text in _rows(doc["comments"]):
            self.comments.setdefault(classoid, {}).setdefault(objoid, {})[subid] = text

    # -- helpers -------------------------------------------------------------------------------------------

    def _add(self, kind: str, key: str, schema: str, name: str, attrs: dict[str, Any], *,
             parent: str | None = None, deps: Iterable[str] = ()) -> None:
        if key in self.objects:
            raise ValueError(f"duplicate catalog key {key!r}")
        deps = set(deps)
        if parent:
            deps.add(parent)
        schema_key = self.schema_keys.get(schema) if kind != "schema" else None
        if schema_key:
            deps.add(schema_key)
        self.objects[key] = DbObject(kind, key, schema, name, attrs, parent, deps)

    def _base_deps(self, parent: str, schema: str) -> set[str]:
        """The dependencies every object has: its parent, and its schema when that is in the catalog."""
        schema_key = self.schema_keys.get(schema)
        return {parent, schema_key} if schema_key else {parent}

    def _not_handled(self, what: str) -> None:
        self.catalog.not_handled.append(what)

    def _comments_of(self, catalog: str) -> dict[Oid, dict[int, str]]:
        return self.comments.get(self.class_oid.get(catalog, -1), {})

    def _grants(self, acl: list[str] | None) -> dict[str, list[str]]:
        """grantee -> sorted privileges (`SELECT`, or `SELECT*` when grantable) for the compared grantees,
        from aclitem text (`grantee=privileges/grantor`, `*` after a privilege that may be granted on)."""
        if not acl:
            return {}
        grantees = self.grantees
        found: dict[str, list[str]] = {}
        for item in acl:
            grantee, _, rest = item.partition("=")
            name = grantees.get(grantee)  # the compared roles' names never need quotes in aclitem text
            if name is None:
                continue
            privileges = found.setdefault(name, [])
            for letter in rest.partition("/")[0]:
                if letter == "*":
                    privileges[-1] += "*"
                else:
                    privileges.append(_PRIVILEGES.get(letter, letter))
        return {grantee: sorted(found[grantee]) for grantee in self.acl_order if grantee in found}

    def _add_grants(self, target_key: str, schema: str, name: str, grants: dict[str, list[str]],
                    object_type: str, sql_name: str, column: str | None = None) -> None:
        if not grants:
            return
        objects = self.objects
        schema_key = self.schema_keys.get(schema)
        for grantee, privileges in grants.items():
            key = f"grant:{target_key}:{grantee}"
            if key in objects:
                raise ValueError(f"duplicate catalog key {key!r}")
            attrs = {"grantee": grantee, "privileges": privileges, "object_type": object_type, "object": sql_name}
            if column:
                attrs["column"] = column
            objects[key] = DbObject("grant", key, schema, name, attrs, target_key,
                                    {target_key, schema_key} if schema_key else {target_key})

    # -- build ---------------------------------------------------------------------------------------------

    def build(self) -> Catalog:
        self.build_first()
        return self.build_rest()

    def build_first(self) -> None:
        """The objects the first part of the document (`part_a`) describes and the rest refers to: schemas,
        extensions, types, relations, columns and sequence ownerships (added first, in this order)."""
        doc = self.doc
        schema_comments = self._comments_of("pg_namespace")
        for s in doc["schemas"]:
            key = f"schema:{quote_ident(s['name'])}"
            self._add("schema", key, "", s["name"], {"comment": schema_comments.get(s["oid"], {}).get(0)})
            self._add_grants(key, "", s["name"], self._grants(s["acl"]), "SCHEMA", quote_ident(s["name"]))
            self.schema_keys[s["name"]] = key
        for x in doc["extensions"]:
            self._add("extension", f"extension:{quote_ident(x['name'])}", x["schema"], x["name"],
                      {"schema": x["schema"], "version": x["version"]})
        self._types(doc["types"])
        self._relations(doc["relations"])
        self._columns(doc["columns"])
        self._sequence_owners(doc["relations"])

    def build_rest(self) -> Catalog:
        """Everything else (the document whole by now), then the dependencies between all of it."""
        doc = self.doc
        self._constraints(doc["constraints"])
        self._indexes(doc["indexes"])
        self._policies(doc["policies"], doc["policy_roles"])
        self._functions(doc["functions"])
        self._triggers(doc["triggers"])
        self._publications(doc["publications"], doc["publication_names"])
        self._default_grants(doc["default_grants"])
        for schema, name, table, column in _rows(doc["identity_sequences"]):
            column_key = self.column_key.get((table, column))
            if column_key:
                self.catalog.identity_sequences[f"sequence:{_q(schema, name)}"] = column_key
        for other in doc["other_objects"]:
            self._not_handled(other)
        self._dependencies(doc["depends"])
        for obj in self.objects.values():
            deps = obj.deps
            assert isinstance(deps, set)
            deps.discard(obj.key)
            obj.deps = frozenset(deps)
        class_key = self.class_key
        row_estimates = self.catalog.row_estimates
        for oid, estimate in _rows(self.estimates):
            table_key = class_key.get(oid)
            if table_key:
                # -1 means the table was never analysed: its size is unknown
                row_estimates[table_key] = int(estimate)
        return self.catalog

    def _types(self, types: list[dict[str, Any]]) -> None:
        comments = self._comments_of("pg_type")
        for t in types:
            kind = _TYPTYPE_TO_KIND.get(t["type"])
            qname = _q(t["schema"], t["name"])
            if kind is None:
                if t["type"] != "m":  # multiranges come with their range type
                    label = {"r": "range type", "b": "base type", "p": "pseudo type"}.get(t["type"], "type")
                    self._not_handled(f"{label} {qname}")
                continue
            key = f"{kind}:{qname}"
            self.type_key[t["oid"]] = key
            self.type_key[t["array_oid"]] = key
            if t["relid"]:
                self.class_key[t["relid"]] = key
            attrs: dict[str, Any] = {"comment": comments.get(t["oid"], {}).get(0)}
            if kind == "enum":
                attrs["labels"] = t["labels"] or []
            elif kind == "composite":
                attrs["attributes"] = t["attributes"] or []
            else:
                attrs.update(base_type=t["base_type"], not_null=t["not_null"], default=t["default"],
                             constraints=t["constraints"] or [])
            self._add(kind, key, t["schema"], t["name"], attrs)

    def _relations(self, relations: list[list[Any]]) -> None:
        comments = self._comments_of("pg_class")
        for (oid, schema, name, relkind, rowtype, rls, force_rls, persistence, partition, inherits, partition_key,
             options, view_definition, view_rule, sequence, _owned_by, acl) in _rows(relations):
            qname = _q(schema, name)
            kind = _RELKIND_TO_KIND[relkind]
            if relkind == "f":
                self._not_handled(f"foreign table {qname}")
                continue
            if partition:
                self._not_handled(f"partition {qname}")
                continue
            key = f"{kind}:{qname}"
            self.class_key[oid] = key
            self.class_qname[oid] = qname
            self.type_key[rowtype] = key
            comment = comments[oid].get(0) if oid in comments else None
            attrs: dict[str, Any]
            if kind == "table":
                if inherits:
                    self._not_handled(f"table inheritance of {qname} from {', '.join(inherits)}")
                attrs = {"comment": comment, "rls": rls, "force_rls": force_rls, "unlogged": persistence == "u",
                         "partition_key": partition_key, "options": sorted(options or [])}
            elif kind in {"view", "matview"}:
                attrs = {"comment": comment, "definition": view_definition, "options": sorted(options or [])}
                if view_rule:
                    self.rule_key[view_rule] = key
            else:
                attrs = {"comment": comment}
                attrs.update(zip(("type", "start", "increment", "min", "max", "cache", "cycle"), sequence,
                                 strict=True))
            self._add(kind, key, schema, name, attrs)
            self._add_grants(key, schema, name, self._grants(acl), _TABLE_GRANT_TYPES[kind], qname)

    def _columns(self, columns: list[list[Any]]) -> None:
        class_key, class_qname, objects = self.class_key, self.class_qname, self.objects
        column_key = self.column_key
        comments = self._comments_of("pg_class")
        schema_keys = self.schema_keys
        table: Oid | None = None
        table_key: str | None = None
        table_q = table_name = schema = ""
        table_comments: dict[int, str] = {}
        deps: set[str] = set()
        for (oid, num, name, type_, not_null, expression, generated_kind, identity, collation, acl,
             not_null_name) in _rows(columns):
            if oid != table:  # rows come table by table
                table = oid
                table_key = class_key.get(oid)
                if table_key is not None:
                    table_q = class_qname[oid]
                    table_obj = objects[table_key]
                    table_name, schema = table_obj.name, table_obj.schema
                    schema_key = schema_keys.get(schema)
                    deps = {table_key, schema_key} if schema_key else {table_key}
                    table_comments = comments.get(oid, {})
            if table_key is None:
                continue  # column of a relation that is not handled
            key = f"column:{table_q}.{quote_ident(name)}"
            column_key[(oid, num)] = key
            if not_null_name is not None and not_null_name == default_not_null_name(table_name, name):
                not_null_name = None  # only a name someone chose is compared (the query leaves out most)
            if key in objects:
                raise ValueError(f"duplicate catalog key {key!r}")
            objects[key] = DbObject("column", key, schema, name, {
                "type": type_, "not_null": not_null,
                "default": None if generated_kind else expression,
                "generated": {"kind": generated_kind, "expression": expression} if generated_kind else None,
                "identity": identity, "collation": collation, "comment": table_comments.get(num),
                "position": num, "not_null_name": not_null_name}, table_key, set(deps))
            if acl:
                self._add_grants(key, schema, name, self._grants(acl), "COLUMN", table_q, quote_ident(name))

    def _sequence_owners(self, relations: list[list[Any]]) -> None:
        for row in _rows(relations):
            oid, schema, name, owned = row[0], row[1], row[2], row[15]
            seq_key = self.class_key.get(oid)
            if not owned or seq_key is None or not seq_key.startswith("sequence:"):
                continue
            table_q = self.class_qname.get(owned[0])
            column_key = f"column:{table_q}.{quote_ident(owned[1])}" if table_q else None
            if column_key is None or column_key not in self.objects or self.objects[column_key].kind != "column":
                continue
            # No parent: the ownership is released by a change of its own before the sequence or the column
            # goes (dropping the column would silently drop an owned sequence with it).
            self._add("sequence_owner", f"sequence_owner:{seq_key[len('sequence:'):]}", schema, name,
                      {"sequence": seq_key, "column": column_key}, deps=[seq_key, column_key])

    def _constraints(self, constraints: list[list[Any]]) -> None:
        class_key, class_qname, objects = self.class_key, self.class_qname, self.objects
        constraint_key, index_constraint = self.constraint_key, self.index_constraint
        comments = self._comments_of("pg_constraint")
        for oid, table, name, contype, definition, index, inherited in _rows(constraints):
            table_key = class_key.get(table)
            if table_key is None or inherited:
                continue
            key = f"constraint:{class_qname[table]}.{quote_ident(name)}"
            constraint_key[oid] = key
            if index and contype in {"p", "u", "x"}:
                index_constraint[index] = key
            comment = comments[oid].get(0) if oid in comments else None
            if key in objects:
                raise ValueError(f"duplicate catalog key {key!r}")
            schema = objects[table_key].schema
            objects[key] = DbObject("constraint", key, schema, name,
                                    {"type": contype, "definition": definition, "comment": comment}, table_key,
                                    self._base_deps(table_key, schema))

    def _indexes(self, indexes: list[list[Any]]) -> None:
        class_key, objects = self.class_key, self.objects
        comments = self._comments_of("pg_class")
        for oid, table, schema, name, definition, valid in _rows(indexes):
            table_key = class_key.get(table)
            if table_key is None:
                continue
            key = f"index:{quote_ident(schema)}.{quote_ident(name)}"
            class_key[oid] = key
            comment = comments[oid].get(0) if oid in comments else None
            if key in objects:
                raise ValueError(f"duplicate catalog key {key!r}")
            objects[key] = DbObject("index", key, schema, name,
                                    {"definition": definition, "comment": comment, "valid": valid}, table_key,
                                    self._base_deps(table_key, schema))

    def _policies(self, policies: list[list[Any]], policy_roles: list[list[Any]]) -> None:
        class_key, class_qname, objects, policy_key = self.class_key, self.class_qname, self.objects, self.policy_key
        comments = self._comments_of("pg_policy")
        role_names: dict[Oid, str] = {oid: name for oid, name in policy_roles}
        for oid, table, name, command, permissive, roles, using, check in _rows(policies):
            table_key = class_key.get(table)
            if table_key is None:
                continue
            key = f"policy:{class_qname[table]}.{quote_ident(name)}"
            policy_key[oid] = key
            comment = comments[oid].get(0) if oid in comments else None
            if key in objects:
                raise ValueError(f"duplicate catalog key {key!r}")
            schema = objects[table_key].schema
            objects[key] = DbObject("policy", key, schema, name, {
                "command": command, "permissive": permissive, "roles": [role_names[r] for r in roles] if roles else [],
                "using": using, "check": check, "comment": comment}, table_key, self._base_deps(table_key, schema))

    def _functions(self, functions: list[dict[str, Any]]) -> None:
        comments = self._comments_of("pg_proc")
        for f in functions:
            qname = _q(f["schema"], f["name"])
            signature = f"{qname}({f['identity_arguments']})"
            if f["kind"] not in {"f", "p"}:
                label = {"a": "aggregate", "w": "window function"}.get(f["kind"], "routine")
                self._not_handled(f"{label} {signature}")
                continue
            key = f"function:{signature}"
            self.proc_key[f["oid"]] = key
            attrs = {"kind": f["kind"], "definition": f["definition"], "arguments": f["arguments"],
                     "identity_arguments": f["identity_arguments"], "result": f["result"],
                     "comment": comments.get(f["oid"], {}).get(0)}
            self._add("function", key, f["schema"], f["name"], attrs)
            object_type = "FUNCTION" if f["kind"] == "f" else "PROCEDURE"
            self._add_grants(key, f["schema"], f["name"], self._grants(f["acl"]), object_type, signature)

    def _triggers(self, triggers: list[dict[str, Any]]) -> None:
        comments = self._comments_of("pg_trigger")
        for g in triggers:
            table_key = self.class_key.get(g["table"])
            if table_key is None:
                continue
            key = f"trigger:{self.class_qname[g['table']]}.{quote_ident(g['name'])}"
            self.trigger_key[g["oid"]] = key
            attrs = {"definition": g["definition"], "enabled": g["enabled"],
                     "comment": comments.get(g["oid"], {}).get(0)}
            self._add("trigger", key, self.objects[table_key].schema, g["name"], attrs, parent=table_key)

    def _publications(self, members: list[dict[str, Any]], names: list[dict[str, Any]]) -> None:
        for p in names:
            if p["name"] not in _SUPPORTED_PUBLICATIONS:
                self._not_handled(f"publication {quote_ident(p['name'])}")
            elif p["all_tables"]:
                self._not_handled(f"publication {quote_ident(p['name'])} FOR ALL TABLES")
        for m in members:
            table_key = self.class_key.get(m["table"])
            if table_key is None or m["publication"] not in _SUPPORTED_PUBLICATIONS:
                continue
            table = self.objects[table_key]
            if m["filtered"] or m["column_list"]:
                what = "a row filter" if m["filtered"] else "a column list"
                self._not_handled(f"publication {quote_ident(m['publication'])} publishes"
                                  f" {self.class_qname[m['table']]} with {what}, which Studio does not compare yet")
            key = f"publication_table:{quote_ident(m['publication'])}:{self.class_qname[m['table']]}"
            self._add("publication_table", key, table.schema, table.name,
                      {"publication": m["publication"], "table": self.class_qname[m["table"]]},
                      parent=table_key)

    def _default_grants(self, rows: list[list[Any]]) -> None:
        object_types = {"r": "TABLE", "S": "SEQUENCE", "f": "FUNCTION"}
        by_scope: dict[tuple[str, str], dict[str, list[str]]] = {}
        for schema, objtype, grantee, privilege, grantable in rows:
            in_scope = by_scope.setdefault((schema, object_types[objtype]), {})
            in_scope.setdefault(grantee, []).append(privilege + "*" if grantable else privilege)
        for scope, grants in by_scope.items():
            self.catalog.default_grants[scope] = {k: sorted(v) for k, v in grants.items()}

    # -- dependencies --------------------------------------------------------------------------------------

    def _dependencies(self, depends: list[list[Any]]) -> None:
        """Record each `pg_depend` row as a dependency between the keys of its two objects.

        Objects in pg_class are columns (a sub-object number), indexes that back a constraint (the
        constraint), or relations; other catalogs map oids to keys one to one.
        """
        class_oid = self.class_oid
        pg_class = class_oid.get("pg_class", -1)
        by_catalog = {
            class_oid.get(name, -1): keys for name, keys in (
                ("pg_type", self.type_key), ("pg_proc", self.proc_key), ("pg_constraint", self.constraint_key),
                ("pg_rewrite", self.rule_key), ("pg_trigger", self.trigger_key), ("pg_policy", self.policy_key))}
        column_key, index_constraint, class_key = self.column_key, self.index_constraint, self.class_key
        sequences = {oid for oid, key in class_key.items() if key.startswith("sequence:")}
        objects = self.objects
        for classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype in _rows(depends):
            if classid == pg_class:
                if objsubid > 0:
                    source = column_key.get((objid, objsubid))
                    if source is None:
                        source = index_constraint.get(objid) or class_key.get(objid)
                elif refclassid == pg_class and deptype == "a" and objid in sequences:
                    continue  # OWNED BY: modelled as a sequence_owner object, not as a dependency
                else:
                    source = index_constraint.get(objid) or class_key.get(objid)
            else:
                keys = by_catalog.get(classid)
                # (a pg_constraint row that maps to nothing is a domain's CHECK: the domain depends on what it uses)
                source = keys.get(objid) if keys is not None else None
            if source is None:
                continue
            if refclassid == pg_class:
                ref = column_key.get((refobjid, refobjsubid)) if refobjsubid > 0 else None
                if ref is None:
                    ref = index_constraint.get(refobjid) or class_key.get(refobjid)
            else:
                keys = by_catalog.get(refclassid)
                ref = keys.get(refobjid) if keys is not None else None
            if ref is None or source == ref:
                continue
            deps = objects[source].deps
            assert isinstance(deps, set)
            deps.add(ref)
