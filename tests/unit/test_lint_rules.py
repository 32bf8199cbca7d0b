"""Lint rules on hand-built catalogs: wording that depends on grants, quoting, ordering, skipped schemas."""

from __future__ import annotations

from typing import Any

from studio.core.lint import RULES, Finding, Level, lint_catalog
from studio.core.schema.catalog import Catalog, DbObject


def _catalog(*objects: DbObject) -> Catalog:
    catalog = Catalog()
    for obj in objects:
        catalog.add(obj)
    return catalog


def _table(schema: str, name: str, key: str, *, rls: bool = False) -> DbObject:
    return DbObject("table", key, schema, name, {"rls": rls, "force_rls": False, "comment": None})


def _pkey(table: DbObject) -> DbObject:
    return DbObject("constraint", f"constraint:{table.key.removeprefix('table:')}.pkey", table.schema, "pkey",
                    {"type": "p", "definition": "PRIMARY KEY (id)", "comment": None}, parent=table.key)


def _grant(table: DbObject, grantee: str, *privileges: str) -> DbObject:
    return DbObject("grant", f"grant:{table.key}:{grantee}", table.schema, table.name,
                    {"grantee": grantee, "privileges": list(privileges), "object_type": "TABLE"}, parent=table.key)


def _policy(table: DbObject, name: str, **attrs: Any) -> DbObject:
    base = {"command": "r", "permissive": True, "roles": ["authenticated"], "using": "true", "check": None,
            "comment": None}
    return DbObject("policy", f"policy:{table.key.removeprefix('table:')}.{name}", table.schema, name,
                    {**base, **attrs}, parent=table.key)


def test_an_empty_catalog_has_no_findings() -> None:
    assert lint_catalog(Catalog()) == []


def test_every_rule_is_described() -> None:
    assert len(RULES) == 15
    assert all(r.summary and r.category in {"security", "performance"} for r in RULES.values())
    assert RULES["rls_disabled_in_public"].level is Level.ERROR and RULES["no_primary_key"].level is Level.INFO


def test_rls_disabled_says_who_can_do_what_from_the_grants() -> None:
    table = _table("public", "todos", "table:public.todos")
    [reader] = lint_catalog(_catalog(table, _pkey(table), _grant(table, "anon", "SELECT"),
                                     _grant(table, "service_role", "DELETE")))
    assert "anyone with your app's public (anon) key can read every row of public.todos" in reader.explanation
    [signed_in] = lint_catalog(_catalog(table, _pkey(table), _grant(table, "authenticated", "INSERT*", "UPDATE")))
    assert "any signed-in user of your app can add and change every row" in signed_in.explanation
    [nobody] = lint_catalog(_catalog(table, _pkey(table)))
    assert "hold no privileges on it today" in nobody.explanation
    assert nobody.level is Level.ERROR and nobody.fix_sql == "alter table public.todos enable row level security;"


def test_names_in_fixes_are_quoted() -> None:
    table = _table("My Schema", 'to"do', 'table:"My Schema"."to""do"')
    findings = lint_catalog(_catalog(table), exposed_schemas=["My Schema"])
    assert [f.rule for f in findings] == ["rls_disabled_in_public", "no_primary_key"]
    assert findings[0].fix_sql == 'alter table "My Schema"."to""do" enable row level security;'
    assert findings[1].fix_sql == ('alter table "My Schema"."to""do" add column id bigint generated always as identity'
                                   " primary key;")


def test_a_policy_for_everyone_overlaps_with_each_role() -> None:
    table = _table("public", "todos", "table:public.todos", rls=True)
    everyone = _policy(table, "everyone", command="*", roles=["public"], using="(id > 0)", check="(id > 0)")
    readers = _policy(table, "readers", roles=["anon", "authenticated"], using="(id < 10)")
    [finding] = lint_catalog(_catalog(table, _pkey(table), everyone, readers))
    assert finding.rule == "multiple_permissive_policies" and finding.object_key == table.key
    assert "(read as anon; read as authenticated)" in finding.explanation
    assert finding.fix_sql is None
    restrictive = _policy(table, "readers", roles=["anon", "authenticated"], using="(id < 10)", permissive=False)
    assert lint_catalog(_catalog(table, _pkey(table), everyone, restrictive)) == []


def test_managed_schemas_are_skipped() -> None:
    users = _table("auth", "users", "table:auth.users")
    assert lint_catalog(_catalog(users), exposed_schemas=["public", "auth"]) == []


def test_findings_sort_by_level_then_object_then_rule() -> None:
    def finding(rule: str, level: Level, key: str) -> Finding:
        return Finding(rule, level, key, "t", "e", "f")

    findings = [finding("b", Level.INFO, "a"), finding("b", Level.ERROR, "z"), finding("a", Level.ERROR, "z"),
                finding("c", Level.WARNING, "a"), finding("a", Level.ERROR, "b")]
    assert [(f.level.value, f.object_key, f.rule) for f in sorted(findings, key=Finding.sort_key)] == [
        ("error", "b", "a"), ("error", "z", "a"), ("error", "z", "b"), ("warning", "a", "c"), ("info", "a", "b")]
