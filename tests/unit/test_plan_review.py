"""What the review screen relies on: which changes need which, and what leaving one out takes with it."""

from studio.core.schema.catalog import Catalog, DbObject
from studio.core.schema.diff import diff


def _catalog(*objects: DbObject) -> Catalog:
    catalog = Catalog(server_version=180000, fingerprint="0" * 64)
    for obj in objects:
        catalog.add(obj)
    return catalog


def _table(name: str) -> DbObject:
    return DbObject("table", f"table:public.{name}", "public", name,
                    {"comment": None, "rls": False, "force_rls": False, "unlogged": False, "partition_key": None,
                     "options": []}, deps=frozenset({"schema:public"}))


def _column(table: str, name: str, position: int) -> DbObject:
    return DbObject("column", f"column:public.{table}.{name}", "public", name,
                    {"type": "bigint", "not_null": True, "default": None, "generated": None, "identity": None,
                     "collation": None, "comment": None, "position": position, "not_null_name": None},
                    parent=f"table:public.{table}", deps=frozenset({f"table:public.{table}"}))


SCHEMA = DbObject("schema", "schema:public", "", "public", {"comment": None})


def test_leaving_out_a_table_leaves_out_what_needs_it() -> None:
    pk = DbObject("constraint", "constraint:public.parents.parents_pkey", "public", "parents_pkey",
                  {"type": "p", "definition": "PRIMARY KEY (id)", "comment": None},
                  parent="table:public.parents", deps=frozenset({"column:public.parents.id"}))
    fk = DbObject("constraint", "constraint:public.children.children_parent_fkey", "public", "children_parent_fkey",
                  {"type": "f", "definition": "FOREIGN KEY (parent_id) REFERENCES public.parents(id)", "comment": None},
                  parent="table:public.children",
                  deps=frozenset({"column:public.children.parent_id", "constraint:public.parents.parents_pkey"}))
    desired = _catalog(SCHEMA, _table("parents"), _column("parents", "id", 1), pk,
                       _table("children"), _column("children", "parent_id", 1), fk)
    plan = diff(_catalog(SCHEMA), desired)
    by_key = {c.key: c for c in plan.changes}
    parents, children = by_key["table:public.parents"], by_key["table:public.children"]
    pk_change, fk_change = by_key[pk.key], by_key[fk.key]
    # order follows the dependencies, and `requires` names them for the review screen
    position = {c.id: i for i, c in enumerate(plan.changes)}
    assert position[parents.id] < position[pk_change.id] < position[fk_change.id]
    assert set(fk_change.requires) == {children.id, pk_change.id}
    # unticking the parent table unticks its key and the foreign key that needs it, not the child table
    assert plan.closure_without([parents.id]) == {parents.id, pk_change.id, fk_change.id}
    assert plan.transactional_statements(set(c.id for c in plan.changes) - plan.closure_without([parents.id])) == [
        "CREATE TABLE public.children (\n    parent_id bigint NOT NULL\n)"]
