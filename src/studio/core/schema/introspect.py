"""Read a database's user schema into a Catalog with one query.

The query (`introspect.sql`) returns one JSON document, so a remote target pays one round trip. This
module turns the document into `DbObject`s with stable keys, and maps `pg_depend` rows (which speak in
oids) onto those keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from typing import Any

from studio.core.schema.catalog import MANAGED_SCHEMAS, Catalog, DbObject, default_not_null_name
from studio.core.sqltext import quote_ident, quote_literal
from studio.core.targets.base import Target

# An object id as the catalog document carries it: PostgreSQL's oid type comes out of JSON as a string.
Oid = str

# Key prefixes per object kind; keys are `<kind>:<quoted qualified name>`.
_RELKIND_TO_KIND = {"r": "table", "p": "table", "v": "view", "m": "matview", "S": "sequence", "f": "table"}
_TYPTYPE_TO_KIND = {"e": "enum", "d": "domain", "c": "composite"}
_SUPPORTED_PUBLICATIONS = ("supabase_realtime",)
# Read definitions with only pg_catalog on the search path, so every name in them is schema-qualified.
INTROSPECTION_SETTINGS = {"search_path": "pg_catalog"}


@cache
def _query_template() -> str:
    return resources.files("studio.core.schema").joinpath("introspect.sql").read_text(encoding="utf-8")


def excluded_schemas(include_schemas: Iterable[str] | None = None) -> list[str]:
    """Managed schemas left out of a catalog, less those the caller asked to include."""
    # The migration history belongs to the deploy machinery, never to a plan (it would plan to drop it).
    wanted = set(include_schemas or ()) - {"supabase_migrations"}
    return [s for s in MANAGED_SCHEMAS if s not in wanted]


def catalog_query(include_schemas: Iterable[str] | None = None) -> str:
    """The introspection query text with its schema filter filled in."""
    excluded = "ARRAY[" + ", ".join(quote_literal(s) for s in excluded_schemas(include_schemas)) + "]::name[]"
    return _query_template().replace(":excluded", excluded)


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
        f"  SELECT fingerprint INTO found FROM (\n{query}\n) AS studio_catalog;\n"
        "  PERFORM set_config('search_path', saved_path, true);\n"
        f"  IF found IS DISTINCT FROM '{expected}' THEN\n"
        "    RAISE EXCEPTION USING ERRCODE = 'SD001',\n"
        "      MESSAGE = 'The database schema changed since this plan was made.';\n"
        "  END IF;\nEND\n$studio_drift_check$"
    )


async def introspect(target: Target, *, include_schemas: Sequence[str] | None = None) -> Catalog:
    """Read the user schema of `target` (Supabase-managed schemas left out unless included)."""
    rows = await target.fetch(catalog_query(include_schemas), settings=INTROSPECTION_SETTINGS)
    document, fingerprint, estimates = rows[0]
    return catalog_from_document(json.loads(document), fingerprint, json.loads(estimates))


def catalog_from_document(doc: dict[str, Any], fingerprint: str, estimates: dict[str, float]) -> Catalog:
    """Build a Catalog from the introspection query's document."""
    return _Builder(doc, fingerprint, estimates).build()


def _q(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def _grants(rows: list[list[Any]] | None) -> dict[str, list[str]]:
    """grantee -> sorted privileges (`SELECT`, or `SELECT*` when grantable), from [grantee, privilege,
    grantable] rows."""
    out: dict[str, list[str]] = {}
    for grantee, privilege, grantable in rows or ():
        out.setdefault(grantee, []).append(privilege + "*" if grantable else privilege)
    return {k: sorted(v) for k, v in out.items()}


class _Builder:
    """Turns the document into objects; keeps the oid -> key maps that dependencies need."""

    def __init__(self, doc: dict[str, Any], fingerprint: str, estimates: dict[str, float]) -> None:
        self.doc = doc
        self.catalog = Catalog(server_version=int(doc["server_version"]), fingerprint=fingerprint)
        self.estimates = estimates
        self.class_key: dict[Oid, str] = {}  # pg_class oid -> key (tables, views, sequences, indexes, composites)
        self.class_qname: dict[Oid, str] = {}
        self.type_key: dict[Oid, str] = {}  # pg_type oid -> key (incl. array types and table row types)
        self.proc_key: dict[Oid, str] = {}
        self.constraint_key: dict[Oid, str] = {}
        self.index_constraint: dict[Oid, str] = {}  # index oid backing a constraint -> constraint key
        self.attrdef_key: dict[Oid, str] = {}
        self.rule_key: dict[Oid, str] = {}
        self.trigger_key: dict[Oid, str] = {}
        self.policy_key: dict[Oid, str] = {}
        self.column_key: dict[tuple[Oid, int], str] = {}
        self.column_by_name: dict[tuple[Oid, str], str] = {}

    # -- helpers -------------------------------------------------------------------------------------------

    def _add(self, kind: str, key: str, schema: str, name: str, attrs: dict[str, Any], *,
             parent: str | None = None, deps: Iterable[str] = ()) -> None:
        self.catalog.add(DbObject(kind, key, schema, name, attrs, parent, set(deps)))

    def _not_handled(self, what: str) -> None:
        self.catalog.not_handled.append(what)

    def _add_grants(self, target_key: str, schema: str, name: str, grants: dict[str, list[str]],
                    object_type: str, sql_name: str, column: str | None = None) -> None:
        for grantee, privileges in grants.items():
            self._add("grant", f"grant:{target_key}:{grantee}", schema, name,
                      {"grantee": grantee, "privileges": privileges, "object_type": object_type,
                       "object": sql_name, **({"column": column} if column else {})},
                      parent=target_key, deps=[target_key])

    # -- build ---------------------------------------------------------------------------------------------

    def build(self) -> Catalog:
        doc = self.doc
        for s in doc["schemas"]:
            key = f"schema:{quote_ident(s['name'])}"
            self._add("schema", key, "", s["name"], {"comment": s["comment"]})
            self._add_grants(key, "", s["name"], _grants(s["grants"]), "SCHEMA", quote_ident(s["name"]))
        for x in doc["extensions"]:
            self._add("extension", f"extension:{quote_ident(x['name'])}", x["schema"], x["name"],
                      {"schema": x["schema"], "version": x["version"]})
        self._types(doc["types"])
        self._relations(doc["relations"])
        self._columns(doc["columns"])
        self._sequence_owners(doc["relations"])
        self._constraints(doc["constraints"])
        self._indexes(doc["indexes"])
        self._policies(doc["policies"])
        self._functions(doc["functions"])
        self._triggers(doc["triggers"])
        self._publications(doc["publications"], doc["publication_names"])
        self._default_grants(doc["default_grants"])
        for schema, name, table, column in doc["identity_sequences"]:
            column_key = self.column_key.get((table, column))
            if column_key:
                self.catalog.identity_sequences[f"sequence:{_q(schema, name)}"] = column_key
        for other in doc["other_objects"]:
            self._not_handled(other)
        # oids arrive as JSON strings (json_build_array prints the oid type quoted); they are used as such
        self._dependencies(doc["depends"], doc["catalog_classes"])
        schema_keys = {o.name: o.key for o in self.catalog.objects.values() if o.kind == "schema"}
        for obj in self.catalog.objects.values():
            deps = obj.deps
            assert isinstance(deps, set)
            deps.discard(obj.key)
            if obj.parent:
                deps.add(obj.parent)
            if obj.kind != "schema" and obj.schema in schema_keys:
                deps.add(schema_keys[obj.schema])
            obj.deps = frozenset(deps)
        for oid, estimate in self.estimates.items():
            table_key = self.class_key.get(oid)
            if table_key:
                # -1 means the table was never analysed: its size is unknown
                self.catalog.row_estimates[table_key] = int(estimate)
        return self.catalog

    def _types(self, types: list[dict[str, Any]]) -> None:
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
            attrs: dict[str, Any] = {"comment": t["comment"]}
            if kind == "enum":
                attrs["labels"] = t["labels"] or []
            elif kind == "composite":
                attrs["attributes"] = t["attributes"] or []
            else:
                attrs.update(base_type=t["base_type"], not_null=t["not_null"], default=t["default"],
                             constraints=t["constraints"] or [])
            self._add(kind, key, t["schema"], t["name"], attrs)

    def _relations(self, relations: list[list[Any]]) -> None:
        table_grants = {"table": "TABLE", "view": "TABLE", "matview": "TABLE", "sequence": "SEQUENCE"}
        for (oid, schema, name, relkind, rowtype, rls, force_rls, persistence, partition, inherits, partition_key,
             options, view_definition, view_rule, sequence, _owned_by, comment, grants) in relations:
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
            attrs: dict[str, Any] = {"comment": comment}
            if kind == "table":
                if inherits:
                    self._not_handled(f"table inheritance of {qname} from {', '.join(inherits)}")
                attrs.update(rls=rls, force_rls=force_rls, unlogged=persistence == "u",
                             partition_key=partition_key, options=sorted(options or []))
            elif kind in {"view", "matview"}:
                attrs.update(definition=view_definition, options=sorted(options or []))
                if view_rule:
                    self.rule_key[view_rule] = key
            else:
                attrs.update(zip(("type", "start", "increment", "min", "max", "cache", "cycle"), sequence, strict=True))
            self._add(kind, key, schema, name, attrs)
            self._add_grants(key, schema, name, _grants(grants), table_grants[kind], qname)

    def _columns(self, columns: list[list[Any]]) -> None:
        for (table, num, name, type_, not_null, default, default_oid, generated_kind, generated_expression,
             identity, collation, comment, grants, not_null_name) in columns:
            table_key = self.class_key.get(table)
            if table_key is None:
                continue  # column of a relation that is not handled
            table_q = self.class_qname[table]
            key = f"column:{table_q}.{quote_ident(name)}"
            self.column_key[(table, num)] = key
            self.column_by_name[(table, name)] = key
            if default_oid:
                self.attrdef_key[default_oid] = key
            generated = {"kind": generated_kind, "expression": generated_expression} if generated_kind else None
            table_name = self.catalog.objects[table_key].name
            if not_null_name == default_not_null_name(table_name, name):
                not_null_name = None  # only a name someone chose is compared
            attrs = {"type": type_, "not_null": not_null, "default": default, "generated": generated,
                     "identity": identity, "collation": collation, "comment": comment, "position": num,
                     "not_null_name": not_null_name}
            schema = self.catalog.objects[table_key].schema
            self._add("column", key, schema, name, attrs, parent=table_key)
            if grants:
                self._add_grants(key, schema, name, _grants(grants), "COLUMN", table_q, quote_ident(name))

    def _sequence_owners(self, relations: list[list[Any]]) -> None:
        for row in relations:
            oid, schema, name, owned = row[0], row[1], row[2], row[15]
            seq_key = self.class_key.get(oid)
            if not owned or seq_key is None or not seq_key.startswith("sequence:"):
                continue
            column_key = self.column_by_name.get((owned[0], owned[1]))
            if column_key is None:
                continue
            # No parent: the ownership is released by a change of its own before the sequence or the column
            # goes (dropping the column would silently drop an owned sequence with it).
            self._add("sequence_owner", f"sequence_owner:{seq_key[len('sequence:'):]}", schema, name,
                      {"sequence": seq_key, "column": column_key}, deps=[seq_key, column_key])

    def _constraints(self, constraints: list[list[Any]]) -> None:
        for oid, table, name, contype, definition, index, inherited, comment in constraints:
            table_key = self.class_key.get(table)
            if table_key is None or inherited:
                continue
            key = f"constraint:{self.class_qname[table]}.{quote_ident(name)}"
            self.constraint_key[oid] = key
            if index and contype in {"p", "u", "x"}:
                self.index_constraint[index] = key
            schema = self.catalog.objects[table_key].schema
            self._add("constraint", key, schema, name, {"type": contype, "definition": definition, "comment": comment},
                      parent=table_key)

    def _indexes(self, indexes: list[list[Any]]) -> None:
        for oid, table, schema, name, definition, valid, comment in indexes:
            table_key = self.class_key.get(table)
            if table_key is None:
                continue
            key = f"index:{_q(schema, name)}"
            self.class_key[oid] = key
            self._add("index", key, schema, name, {"definition": definition, "comment": comment, "valid": valid},
                      parent=table_key)

    def _policies(self, policies: list[list[Any]]) -> None:
        for oid, table, name, command, permissive, roles, using, check, comment in policies:
            table_key = self.class_key.get(table)
            if table_key is None:
                continue
            key = f"policy:{self.class_qname[table]}.{quote_ident(name)}"
            self.policy_key[oid] = key
            attrs = {"command": command, "permissive": permissive, "roles": roles or [], "using": using,
                     "check": check, "comment": comment}
            self._add("policy", key, self.catalog.objects[table_key].schema, name, attrs, parent=table_key)

    def _functions(self, functions: list[dict[str, Any]]) -> None:
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
                     "comment": f["comment"]}
            self._add("function", key, f["schema"], f["name"], attrs)
            object_type = "FUNCTION" if f["kind"] == "f" else "PROCEDURE"
            self._add_grants(key, f["schema"], f["name"], _grants(f["grants"]), object_type, signature)

    def _triggers(self, triggers: list[dict[str, Any]]) -> None:
        for g in triggers:
            table_key = self.class_key.get(g["table"])
            if table_key is None:
                continue
            key = f"trigger:{self.class_qname[g['table']]}.{quote_ident(g['name'])}"
            self.trigger_key[g["oid"]] = key
            attrs = {"definition": g["definition"], "enabled": g["enabled"], "comment": g["comment"]}
            self._add("trigger", key, self.catalog.objects[table_key].schema, g["name"], attrs, parent=table_key)

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
            table = self.catalog.objects[table_key]
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
        by_scope: dict[tuple[str, str], list[list[Any]]] = {}
        for schema, objtype, grantee, privilege, grantable in rows:
            by_scope.setdefault((schema, object_types[objtype]), []).append([grantee, privilege, grantable])
        for scope, scope_rows in by_scope.items():
            self.catalog.default_grants[scope] = _grants(scope_rows)

    # -- dependencies --------------------------------------------------------------------------------------

    def _resolve(self, classname: str, oid: Oid, subid: int) -> str | None:
        if classname == "pg_class":
            if subid > 0 and (oid, subid) in self.column_key:
                return self.column_key[(oid, subid)]
            if oid in self.index_constraint:
                return self.index_constraint[oid]
            return self.class_key.get(oid)
        table = {
            "pg_type": self.type_key, "pg_proc": self.proc_key, "pg_constraint": self.constraint_key,
            "pg_attrdef": self.attrdef_key, "pg_rewrite": self.rule_key, "pg_trigger": self.trigger_key,
            "pg_policy": self.policy_key,
        }.get(classname)
        return table.get(oid) if table is not None else None

    def _dependencies(self, text: str, class_names: dict[str, str]) -> None:
        for line in text.splitlines():
            classid, objid, sub, refclassid, refobjid, refsub, deptype = line.split(" ")
            objsubid, refobjsubid = int(sub), int(refsub)
            classname = class_names.get(classid, "")
            refclass = class_names.get(refclassid, "")
            if classname == "pg_class" and refclass == "pg_class" and deptype == "a" and objsubid == 0 \
                    and objid in self.class_key and self.class_key[objid].startswith("sequence:"):
                continue  # OWNED BY: modelled as a sequence_owner object, not as a dependency
            source = self._resolve(classname, objid, objsubid)
            if source is None and classname == "pg_constraint":
                # a domain's CHECK constraint: the domain depends on what the check uses
                continue
            ref = self._resolve(refclass, refobjid, refobjsubid)
            if source is None or ref is None or source == ref:
                continue
            deps = self.catalog.objects[source].deps
            assert isinstance(deps, set)
            deps.add(ref)
