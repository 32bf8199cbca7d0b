"""The fast paths of introspection and planning: the column-wise document, aclitem text, the heap order.

The integration round trips check these against real servers; here each piece is pinned down on its own,
with inputs a test can spell out (quoted role names, grant options, empty lists, ties in the plan order).
"""

from __future__ import annotations

import gc
import hashlib
import itertools
from typing import Any

from studio.core.schema.bulk import paused_gc
from studio.core.schema.diff import _priority, _sort_key
from studio.core.schema.introspect import _Builder, _rows, catalog_from_document, document_fingerprint
from studio.core.schema.plan import Change

_CLASSES = {"1259": "pg_class", "1247": "pg_type", "1255": "pg_proc", "2606": "pg_constraint",
            "2618": "pg_rewrite", "2620": "pg_trigger", "3256": "pg_policy", "2615": "pg_namespace"}


def _document(**sections: Any) -> dict[str, Any]:
    """A catalog document with every section empty unless given."""
    doc: dict[str, Any] = {
        "server_version": 180000, "acl_roles": ["PUBLIC", "anon", "authenticated", "service_role"],
        "comments": [None, None, None, None], "schemas": [], "extensions": [], "types": [],
        "relations": [None] * 17, "columns": [None] * 11, "constraints": [None] * 7, "indexes": [None] * 6,
        "policies": [None] * 8, "policy_roles": [], "functions": [], "triggers": [], "publications": [],
        "default_grants": [], "publication_names": [], "other_objects": [], "identity_sequences": [None] * 4,
        "catalog_classes": _CLASSES, "depends": [None] * 7,
    }
    doc.update(sections)
    return doc


def _columns(*rows: tuple[Any, ...]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


def test_rows_of_an_empty_list_are_none() -> None:
    assert list(_rows([None, None])) == []
    assert list(_rows([])) == []
    assert list(_rows([[1, 2], ["a", "b"]])) == [(1, "a"), (2, "b")]


def test_grants_read_from_aclitem_text() -> None:
    builder = _Builder(_document(), "", [[], []])
    acl = [
        "postgres=arwdDxtm/postgres",  # the owner: not compared
        "=r/postgres",  # PUBLIC
        "service_role=a*r*/postgres",
        "anon=r/\"we/ird\"",  # a grantor whose quoted name holds a slash
        "\"anon\"\"x\"=r/postgres",  # another role whose name only looks like anon
        "authenticated=rw/postgres",
        "authenticated=r/other",  # a second grantor: aclexplode() gives the privilege twice too
    ]
    assert builder._grants(acl) == {
        "PUBLIC": ["SELECT"], "anon": ["SELECT"], "authenticated": ["SELECT", "SELECT", "UPDATE"],
        "service_role": ["INSERT*", "SELECT*"]}
    assert list(builder._grants(acl)) == ["PUBLIC", "anon", "authenticated", "service_role"]
    assert builder._grants(None) == {}
    assert builder._grants(["postgres=X/postgres"]) == {}


def test_grantees_come_in_the_servers_order_of_names() -> None:
    builder = _Builder(_document(acl_roles=["anon", "PUBLIC"]), "", [[], []])
    assert list(builder._grants(["=U/postgres", "anon=UC/postgres"])) == ["anon", "PUBLIC"]


def test_a_small_catalog() -> None:
    doc = _document(
        comments=_columns((1259, 100, 0, "the table"), (1259, 100, 2, "the title"), (2615, 2200, 0, "public")),
        schemas=[{"oid": 2200, "name": "public", "acl": ["=U/postgres"]}],
        relations=_columns((100, "public", "todos", "r", 101, True, False, "p", False, None, None, None, None,
                            None, None, None, ["anon=r/postgres"])),
        columns=_columns((100, 1, "id", "integer", True, None, None, "d", None, None, None),
                         (100, 2, "title", "text", True, "''::text", None, None, None, None, "chosen")),
        constraints=_columns((300, 100, "todos_pkey", "p", "PRIMARY KEY (id)", 400, False)),
        indexes=_columns((500, 100, "public", "todos_title_idx",
                          "CREATE INDEX todos_title_idx ON public.todos USING btree (title)", True)),
        policies=_columns((600, 100, "read", "r", True, [0, 16400], "(id > 0)", None)),
        policy_roles=[[0, "public"], [16400, "anon"]],
        depends=_columns((1259, 500, 0, 1259, 100, 2, "a"), (2606, 300, 0, 1259, 100, 1, "a"),
                         (3256, 600, 0, 1259, 100, 1, "n"), (1259, 100, 2, 1259, 100, 2, "n")),
    )
    catalog = catalog_from_document(doc, "fp", [[100], [-1.0]])
    objects = catalog.objects
    assert list(objects) == [
        "schema:public", "grant:schema:public:PUBLIC", "table:public.todos", "grant:table:public.todos:anon",
        "column:public.todos.id", "column:public.todos.title", "constraint:public.todos.todos_pkey",
        "index:public.todos_title_idx", "policy:public.todos.read"]
    assert objects["schema:public"].attrs == {"comment": "public"}
    assert objects["table:public.todos"].attrs["comment"] == "the table"
    title = objects["column:public.todos.title"]
    assert title.attrs == {"type": "text", "not_null": True, "default": "''::text", "generated": None,
                           "identity": None, "collation": None, "comment": "the title", "position": 2,
                           "not_null_name": "chosen"}
    assert title.deps == frozenset({"table:public.todos", "schema:public"})
    assert objects["index:public.todos_title_idx"].deps == frozenset(
        {"table:public.todos", "schema:public", "column:public.todos.title"})
    assert objects["constraint:public.todos.todos_pkey"].deps == frozenset(
        {"table:public.todos", "schema:public", "column:public.todos.id"})
    assert objects["policy:public.todos.read"].attrs["roles"] == ["public", "anon"]
    assert objects["grant:table:public.todos:anon"].attrs == {
        "grantee": "anon", "privileges": ["SELECT"], "object_type": "TABLE", "object": "public.todos"}
    assert all(isinstance(o.deps, frozenset) for o in objects.values())
    assert catalog.row_estimates == {"table:public.todos": -1}


def test_not_null_names_the_server_would_choose_are_left_out() -> None:
    doc = _document(
        schemas=[{"oid": 2200, "name": "public", "acl": None}],
        relations=_columns((100, "public", "t", "r", 101, False, False, "p", False, None, None, None, None,
                            None, None, None, None)),
        columns=_columns((100, 1, "a", "integer", True, None, None, None, None, None, "t_a_not_null")))
    assert catalog_from_document(doc, "", [[], []]).objects["column:public.t.a"].attrs["not_null_name"] is None


def test_fingerprint_is_the_sha256_of_the_utf8_text() -> None:
    text = '{"name" : "Café ☕"}'
    assert document_fingerprint(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()


def _change(action: str, kind: str, key: str, transactional: bool = True) -> Change:
    return Change(0, action, kind, key, "", [], [], transactional)


def test_sort_key_orders_changes_as_their_priority() -> None:
    kinds = ["schema", "table", "column", "index", "policy", "grant", "publication_table", "unknown"]
    keys = ["a", "b", "table:public.x", "table:public.x.y", "é", "\u0100", ""]
    changes = [_change(action, kind, key, transactional)
               for action, kind, key, transactional in itertools.product(
                   ["create", "drop", "alter"], kinds, keys, [True, False])]
    by_priority = sorted(changes, key=_priority)
    by_sort_key = sorted(changes, key=_sort_key)
    assert [_priority(c) for c in by_priority] == [_priority(c) for c in by_sort_key]
    for first, second in itertools.pairwise(by_sort_key):
        assert (_sort_key(first) == _sort_key(second)) == (_priority(first) == _priority(second))


def test_paused_gc_restores_the_collector() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
