"""The review's state over a real plan (made by the differ from hand-built catalogs): ticks, reasons, groups,
notes, the typed confirmation and the definitions shown side by side."""

from __future__ import annotations

import dataclasses

from studio.core.lint import Finding, Level
from studio.core.review import NoteLevel, Review, hazard_note, object_ddl, short_title
from studio.core.schema.catalog import Catalog, DbObject
from studio.core.schema.diff import diff
from studio.core.schema.plan import Change, Hazard, HazardKind, Plan

SCHEMA = DbObject("schema", "schema:public", "", "public", {"comment": None})


def _catalog(*objects: DbObject) -> Catalog:
    catalog = Catalog(server_version=180000, fingerprint="0" * 64)
    for obj in (SCHEMA, *objects):
        catalog.add(obj)
    return catalog


def _table(name: str) -> DbObject:
    return DbObject("table", f"table:public.{name}", "public", name,
                    {"comment": None, "rls": True, "force_rls": False, "unlogged": False, "partition_key": None,
                     "options": []}, deps=frozenset({"schema:public"}))


def _column(table: str, name: str, position: int, type_: str = "bigint", not_null: bool = True) -> DbObject:
    return DbObject("column", f"column:public.{table}.{name}", "public", name,
                    {"type": type_, "not_null": not_null, "default": None, "generated": None, "identity": None,
                     "collation": None, "comment": None, "position": position, "not_null_name": None},
                    parent=f"table:public.{table}", deps=frozenset({f"table:public.{table}"}))


def _pkey(table: str) -> DbObject:
    return DbObject("constraint", f"constraint:public.{table}.{table}_pkey", "public", f"{table}_pkey",
                    {"type": "p", "definition": "PRIMARY KEY (id)", "comment": None},
                    parent=f"table:public.{table}", deps=frozenset({f"column:public.{table}.id"}))


def _fkey(table: str, column: str, parent: str) -> DbObject:
    name = f"{table}_{column}_fkey"
    return DbObject("constraint", f"constraint:public.{table}.{name}", "public", name,
                    {"type": "f", "definition": f"FOREIGN KEY ({column}) REFERENCES public.{parent}(id)",
                     "comment": None},
                    parent=f"table:public.{table}",
                    deps=frozenset({f"column:public.{table}.{column}", f"constraint:public.{parent}.{parent}_pkey"}))


def _policy(table: str, name: str) -> DbObject:
    return DbObject("policy", f'policy:public.{table}."{name}"', "public", name,
                    {"command": "r", "permissive": True, "roles": ["authenticated"], "using": "true", "check": None,
                     "comment": None},
                    parent=f"table:public.{table}", deps=frozenset({f"table:public.{table}"}))


CUSTOMERS = [_table("customers"), _column("customers", "id", 1), _column("customers", "name", 2, "text"),
             _pkey("customers")]
EMAIL = _column("customers", "email", 3, "text", not_null=False)
ORDERS = [_table("orders"), _column("orders", "id", 1), _column("orders", "customer_id", 2), _pkey("orders"),
          _fkey("orders", "customer_id", "customers"), _policy("orders", "signed in users read orders")]


def _counted(plan: Plan, rows: int) -> Plan:
    """Fill in row counts as the planner does against a live database."""
    for change in plan.changes:
        change.hazards = [dataclasses.replace(h, rows=rows, message=h.message.replace("{rows}", f"{rows:,}"),
                                              count_sql=None) if h.count_sql else h for h in change.hazards]
    return plan


def _shop(findings: list[Finding] | None = None) -> Review:
    """Live: customers with an email column (12,408 values). Desired: no email column, and a new orders table."""
    live = _catalog(*CUSTOMERS, EMAIL)
    desired = _catalog(*CUSTOMERS, *ORDERS)
    return Review(_counted(diff(live, desired), 12_408), desired=desired, findings=findings or [])


def _id(review: Review, title: str) -> int:
    return next(c.id for c in review.plan.changes if c.title == title)


def test_everything_starts_ticked_except_what_deletes_data_which_says_why() -> None:
    review = _shop()
    drop = _id(review, "Drop column public.customers.email")
    assert review.ticked == {c.id for c in review.plan.changes} - {drop}
    assert review.reason(drop).startswith("Unticked by default because it deletes data.")
    assert [str(n) for n in review.notes(drop)] == [
        "Deletes data: Drops column email of public.customers: 12,408 rows have a value there."]
    assert review.notes(drop)[0].rows == 12_408 and review.notes(drop)[0].level is NoteLevel.DANGER
    assert review.confirmation_phrase() == "" and review.blocker("") == ""
    assert review.left_out_by_default(drop)
    review.tick(drop)
    review.untick(drop)
    assert not review.left_out_by_default(drop) and review.reason(drop) == "You left this change out."


def test_unticking_a_table_unticks_everything_that_needs_it_with_the_reason() -> None:
    review = _shop()
    table = _id(review, "Create table public.orders")
    fkey = _id(review, "Create constraint public.orders.orders_customer_id_fkey")
    pkey = _id(review, "Create constraint public.orders.orders_pkey")
    policy = _id(review, 'Create policy public.orders."signed in users read orders"')

    toggle = review.untick(table)

    assert set(toggle.unticked) == {table, fkey, pkey, policy}
    assert toggle.message.startswith("Also unticked 3 changes that need “Create table public.orders”:")
    for dependent in (fkey, pkey, policy):
        assert review.reason(dependent) == "Unticked because it needs: Create table public.orders."
    assert review.reason(table) == "You left this change out."
    assert review.ticked_ids() == []  # the email drop stays out by default; nothing else is left
    assert review.blocker("") == "Tick at least one change to apply."


def test_a_change_left_out_for_two_reasons_names_both() -> None:
    desired = _catalog(*CUSTOMERS, *ORDERS)
    review = Review(diff(_catalog(), desired), desired=desired)
    fkey = _id(review, "Create constraint public.orders.orders_customer_id_fkey")
    review.untick(_id(review, "Create constraint public.customers.customers_pkey"))
    review.untick(_id(review, "Create table public.orders"))
    assert review.reason(fkey) == ("Unticked because it needs: Create table public.orders;"
                                   " Create constraint public.customers.customers_pkey.")


def test_ticking_a_change_ticks_what_it_needs_and_brings_back_only_what_was_left_out_for_its_sake() -> None:
    review = _shop()
    table = _id(review, "Create table public.orders")
    fkey = _id(review, "Create constraint public.orders.orders_customer_id_fkey")
    pkey = _id(review, "Create constraint public.orders.orders_pkey")
    policy = _id(review, 'Create policy public.orders."signed in users read orders"')
    review.untick(policy)  # the person's own choice
    review.untick(table)

    toggle = review.tick(fkey)

    assert review.is_ticked(table) and review.is_ticked(pkey) and review.is_ticked(fkey)
    assert not review.is_ticked(policy)
    assert review.reason(policy) == "You left this change out."
    assert toggle.message == ("Also ticked 1 change it needs: Create table public.orders."
                              " Ticked again: Create constraint public.orders.orders_pkey.")
    assert set(toggle.ticked) == {table, pkey, fkey}


def test_ticking_the_table_again_brings_back_its_dependents() -> None:
    review = _shop()
    table = _id(review, "Create table public.orders")
    review.untick(table)
    toggle = review.tick(table)
    assert toggle.message.startswith("Ticked again: ")
    assert review.ticked == {c.id for c in review.plan.changes} - {_id(review, "Drop column public.customers.email")}


def test_a_destructive_change_needs_its_name_typed_and_two_need_a_count() -> None:
    live = _catalog(*CUSTOMERS, EMAIL, _table("legacy"), _column("legacy", "id", 1))
    desired = _catalog(*CUSTOMERS)
    review = Review(_counted(diff(live, desired), 7), desired=desired)
    drop_email = _id(review, "Drop column public.customers.email")
    drop_legacy = _id(review, "Drop table public.legacy")
    assert review.ticked_ids() == []

    review.tick(drop_email)
    assert review.confirmation_phrase() == "email"
    assert review.blocker("") == "Type “email” to confirm the changes that delete data."
    assert not review.confirmed("Email") and not review.confirmed("emai")
    assert review.confirmed(" email ") and review.blocker("email") == ""

    review.tick(drop_legacy)  # a different set of destructive changes: the earlier confirmation is not enough
    assert review.confirmation_phrase() == "delete data in 2 places"
    assert not review.confirmed("email")
    assert review.confirmed("delete data in 2 places")
    assert [c.id for c in review.destructive_ticked()] == [c.id for c in review.plan.changes]


def test_changes_are_grouped_by_their_table_with_short_titles() -> None:
    review = _shop()
    assert [(g.key, g.kind, g.title) for g in review.groups] == [
        ("table:public.customers", "table", "public.customers"), ("table:public.orders", "table", "public.orders")]
    orders = review.groups[1]
    titles = [short_title(review.change(i), orders) for i in orders.change_ids]
    assert titles[0] == "Create table public.orders"
    assert 'Create policy "signed in users read orders"' in titles
    assert "Create constraint orders_customer_id_fkey" in titles
    drop = _id(review, "Drop column public.customers.email")
    assert short_title(review.change(drop), review.group_of(drop)) == "Drop column email"


def test_lint_findings_sit_beside_the_change_or_table_they_concern() -> None:
    findings = [
        Finding("rls_policy_always_true", Level.WARNING, 'policy:public.orders."signed in users read orders"',
                "Policy lets everyone read", "Any signed-in user reads every order.", "Narrow the policy."),
        Finding("unindexed_foreign_keys", Level.INFO, "constraint:public.orders.orders_customer_id_fkey",
                "Foreign key has no index", "Joins get slow.", "create index ...", "create index on public.orders"
                " (customer_id);"),
        Finding("no_primary_key", Level.INFO, "column:public.orders.customer_id", "About a new column",
                "Created with its table.", ""),
        Finding("rls_enabled_no_policy", Level.INFO, "column:public.customers.name", "About a kept column",
                "Nothing in the plan creates it.", ""),
        Finding("extension_in_public", Level.WARNING, "extension:vector", "Extension in public", "Move it.", ""),
    ]
    review = _shop(findings)
    policy = _id(review, 'Create policy public.orders."signed in users read orders"')
    fkey = _id(review, "Create constraint public.orders.orders_customer_id_fkey")
    table = _id(review, "Create table public.orders")

    policy_notes = review.notes(policy)
    assert [n.source for n in policy_notes] == ["hazard", "check"]  # its own security hazard first
    assert policy_notes[1].label == "Security check" and policy_notes[1].level is NoteLevel.WARNING
    assert policy_notes[1].text == "Policy lets everyone read." and policy_notes[1].detail.startswith("Any")
    assert [n.fix_sql for n in review.notes(fkey)] == ["create index on public.orders (customer_id);"]
    assert [n.text for n in review.notes(table)] == ["About a new column."]  # folded into CREATE TABLE
    assert [n.text for n in review.groups[0].notes] == ["About a kept column."]
    assert [n.text for n in review.other_notes] == ["Extension in public."]


def test_hazards_read_in_plain_words_even_when_rows_were_not_counted() -> None:
    note = hazard_note(Hazard(HazardKind.DATA_LOSS, "Drops table public.t and its {rows} rows.", count_sql="select 1"))
    assert str(note) == "Deletes data: Drops table public.t and its ? rows."
    assert hazard_note(Hazard(HazardKind.LOCK, "Rewrites public.t.")).label == "Blocks the table"
    assert hazard_note(Hazard(HazardKind.NON_TRANSACTIONAL, "Built concurrently.")).level is NoteLevel.INFO


def test_the_definitions_side_by_side_are_the_whole_table_before_and_after() -> None:
    review = _shop()
    live, desired = review.ddl_pair(_id(review, "Drop column public.customers.email"))
    assert live.splitlines()[:5] == ["CREATE TABLE public.customers (", "    id bigint NOT NULL,",
                                     "    name text NOT NULL,", "    email text", ");"]
    assert "email" not in desired
    assert "ALTER TABLE public.customers ADD CONSTRAINT customers_pkey PRIMARY KEY (id);" in desired
    live, desired = review.ddl_pair(_id(review, "Create constraint public.orders.orders_pkey"))
    assert live == ""
    assert desired.startswith("CREATE TABLE public.orders (") and "CREATE POLICY" in desired
    assert object_ddl(review.desired, "table:public.nowhere") == ""


def test_a_change_without_catalogs_is_its_own_group_and_confirms_with_its_key() -> None:
    change = Change(1, "drop", "column", 'column:public.t."Odd name"', 'Drop column public.t."Odd name"',
                    ['ALTER TABLE public.t DROP COLUMN "Odd name"'],
                    hazards=[Hazard(HazardKind.DATA_LOSS, "Drops column.", rows=3)])
    review = Review(Plan([change], live_fingerprint="0" * 64))
    assert [g.key for g in review.groups] == [change.key]
    review.tick(1)
    assert review.confirmation_phrase() == "Odd name"
    assert review.sql(1) == 'ALTER TABLE public.t DROP COLUMN "Odd name";'
    assert review.ddl_pair(1) == ("", "")


def test_an_empty_plan_has_nothing_to_apply() -> None:
    review = Review(Plan([], live_fingerprint="0" * 64))
    assert review.summary() == "No changes: the database already matches the desired schema."
    assert review.blocker("") == "Nothing to apply: the database already matches the desired schema."


def test_counts_are_written_with_the_right_word() -> None:
    from studio.core.words import plural
    from studio.ui.pages.review import changes_in_words

    assert (plural(1, "change"), plural(2, "change"), plural(1200, "row")) == ("1 change", "2 changes", "1,200 rows")
    assert changes_in_words(["Create table public.a", "Create table public.b", "Create policy public.a.\"x\"",
                             "Drop column public.a.c"]) == "create 2 tables, 1 policy; drop 1 column"


def test_a_migration_is_named_after_what_it_does() -> None:
    from studio.core.review import suggested_migration_name

    assert suggested_migration_name(["Drop column public.posts.cover_image"]) == "drop_column_posts_cover_image"
    assert suggested_migration_name(["Create table public.a", "Create table public.b"]) == "create_tables"
    assert suggested_migration_name(["Create policy public.a.\"x\"", "Create policy public.b.\"y\"",
                                     "Create table public.a"]) == "create_policies_and_more"
    assert suggested_migration_name([]) == ""
