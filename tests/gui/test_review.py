"""The review page, driven as a person would, against a real database and a workspace on disk.

Each test writes `supabase/schemas/*.sql` into a workspace in tmp_path, points the page at a fresh database
of the embedded server (a project by connection string), makes the plan through the real shadow database,
and ticks, types and applies through the widgets.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from studio.core.migrations.apply import AppliedMigration
from studio.core.review import Review
from studio.core.schema.plan import Change, Hazard, HazardKind, Plan
from studio.core.targets.local import LocalServer
from studio.services.deploy import ApplyError, Outcome, PlanResult
from studio.services.jobs import JobRunner
from studio.services.messages import UserMessages
from studio.services.projects import ProjectHandle, database_project
from studio.ui.pages.review import PlanView, ReviewPage
from studio.ui.theme import Scheme, apply_theme
from studio.ui.widgets.ddl_diff import RowKind
from tests.gui.conftest import run_until_signal
from tests.support.pgdump import dump_schema, normalise

CUSTOMERS = """
create table public.customers (
    id bigint generated always as identity primary key,
    name text not null
);
alter table public.customers enable row level security;
"""

ORDERS = """
create table public.orders (
    id bigint generated always as identity primary key,
    customer_id bigint not null references public.customers (id),
    total numeric not null
);
create index orders_customer_id_idx on public.orders (customer_id);
alter table public.orders enable row level security;
create policy "orders are readable when signed in" on public.orders
    for select to authenticated using ((select auth.uid()) is not null);
"""


def workspace_with(tmp_path: Path, **files: str) -> Path:
    """A workspace folder whose supabase/schemas holds `files` (name without .sql -> SQL)."""
    schemas = tmp_path / "app" / "supabase" / "schemas"
    schemas.mkdir(parents=True)
    for name, sql in files.items():
        (schemas / f"{name}.sql").write_text(sql, encoding="utf-8")
    return tmp_path / "app"


def execute(db_url: str, sql: str) -> None:
    """Run SQL on the database as another tool would."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(sql)


def query(db_url: str, sql: str) -> list[tuple[object, ...]]:
    """Rows of a query read on its own connection."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        return conn.execute(sql).fetchall()


def history(db_url: str) -> list[tuple[object, ...]]:
    """The migration history rows, read without Studio's code ([] when the table does not exist)."""
    if not query(db_url, "select to_regclass('supabase_migrations.schema_migrations') is not null")[0][0]:
        return []
    return query(db_url, "select version, name, statements from supabase_migrations.schema_migrations order by 1")


def planned(qtbot: QtBot, qloop: qasync.QEventLoop, handle: ProjectHandle) -> tuple[ReviewPage, PlanResult]:
    """A review page on `handle`, shown, with its plan made."""
    page = ReviewPage(JobRunner())
    qtbot.addWidget(page)
    page.resize(1280, 860)
    page.set_project(handle)
    page.show()  # showing the page makes the plan
    (result,) = run_until_signal(qloop, page.plan_shown, timeout=60)
    return page, result


def change_id(result: PlanResult, title: str) -> int:
    """The id of the change with this title."""
    matches = [c.id for c in result.review.plan.changes if c.title == title]
    assert matches, f"no change titled {title!r} in {[c.title for c in result.review.plan.changes]}"
    return matches[0]


def sql_shown(page: ReviewPage) -> str:
    """The text of the "SQL that will run" pane."""
    return page.plan_view.sql.toPlainText()


def test_unticking_a_table_unticks_what_needs_it_with_the_reason_and_ticking_back_restores_it(
        qtbot: QtBot, qloop: qasync.QEventLoop, local_server: LocalServer, db_url: str, tmp_path: Path) -> None:
    workspace = workspace_with(tmp_path, customers=CUSTOMERS, orders=ORDERS)
    page, result = planned(qtbot, qloop, database_project(local_server, workspace, db_url))
    view = page.plan_view

    # the tree groups changes by table, everything ticked (nothing destructive), and the plan file is written
    groups = [view.tree.topLevelItem(i).text(0) for i in range(view.tree.topLevelItemCount())]
    assert groups == ["public.customers", "public.orders"]
    orders_group = view.group_item("table:public.orders")
    children = [orders_group.child(i).text(0) for i in range(orders_group.childCount())]
    assert "Create table public.orders" in children
    assert 'Create policy "orders are readable when signed in"' in children
    assert all(orders_group.child(i).checkState(0) == Qt.CheckState.Checked for i in range(orders_group.childCount()))
    assert (workspace / "pending_migrations.sql").read_text(encoding="utf-8").count("CREATE TABLE public.orders") == 1
    assert "CREATE TABLE public.orders" in sql_shown(page)

    table = change_id(result, "Create table public.orders")
    fkey = change_id(result, "Create constraint public.orders.orders_customer_id_fkey")
    policy = change_id(result, 'Create policy public.orders."orders are readable when signed in"')
    customers = change_id(result, "Create table public.customers")

    # the person unticks the orders table's checkbox
    view.item_of(table).setCheckState(0, Qt.CheckState.Unchecked)

    for dependent in (fkey, policy):
        item = view.item_of(dependent)
        assert item.checkState(0) == Qt.CheckState.Unchecked
        assert item.text(1) == "needs: Create table public.orders"
    assert view.item_of(customers).checkState(0) == Qt.CheckState.Checked
    assert "Also unticked" in view.toggle_note.text() and "orders_customer_id_fkey" in view.toggle_note.text()
    assert orders_group.checkState(0) == Qt.CheckState.Unchecked
    view.select_change(fkey)
    assert view.reason.text() == "Unticked because it needs: Create table public.orders."
    shown = sql_shown(page)
    assert "CREATE TABLE public.orders" not in shown and "orders_customer_id_fkey" not in shown
    assert "CREATE TABLE public.customers" in shown
    assert page.apply_button.isEnabled()
    customers_group = view.group_item("table:public.customers")
    assert page.apply_button.text() == f"Apply {customers_group.childCount()} changes"

    # ticking the foreign key again ticks the table it needs, and brings back the rest left out with it
    view.item_of(fkey).setCheckState(0, Qt.CheckState.Checked)
    assert view.item_of(table).checkState(0) == Qt.CheckState.Checked
    assert view.item_of(policy).checkState(0) == Qt.CheckState.Checked
    assert "Also ticked 1 change it needs: Create table public.orders." in view.toggle_note.text()
    assert "CREATE TABLE public.orders" in sql_shown(page)

    # unticking the customers table takes the orders' foreign key with it, not the orders table
    view.item_of(customers).setCheckState(0, Qt.CheckState.Unchecked)
    assert view.item_of(fkey).checkState(0) == Qt.CheckState.Unchecked
    assert view.item_of(table).checkState(0) == Qt.CheckState.Checked
    assert view.item_of(fkey).text(1).startswith("needs: Create table public.customers")


def test_a_destructive_change_is_left_out_until_ticked_and_confirmed_then_applies_and_is_recorded(
        qtbot: QtBot, qloop: qasync.QEventLoop, local_server: LocalServer, db_url: str, tmp_path: Path,
        messages: UserMessages) -> None:
    execute(db_url, CUSTOMERS.replace("name text not null", "name text not null, email text") + """
        insert into public.customers (name, email)
        select 'customer ' || g, case when g % 4 = 0 then null else 'c' || g || '@example.com' end
        from generate_series(1, 1000) g;""")
    workspace = workspace_with(tmp_path, customers=CUSTOMERS, orders=ORDERS)
    page, result = planned(qtbot, qloop, database_project(local_server, workspace, db_url))
    view = page.plan_view
    drop = change_id(result, "Drop column public.customers.email")

    # unticked by default, with the real number of rows that would lose their value
    item = view.item_of(drop)
    assert item.text(0) == "Drop column email"
    assert item.checkState(0) == Qt.CheckState.Unchecked
    assert item.text(1) == "deletes data: tick to include"
    view.select_change(drop)
    assert "Drops column email of public.customers: 750 rows have a value there." in view.notes.text()
    assert view.ddl.marked(RowKind.REMOVED) == [("    email text", None)]
    assert "DROP COLUMN email" not in sql_shown(page)
    assert page.confirm_box.isHidden() and page.apply_button.isEnabled()

    # ticking it asks for the typed confirmation; Apply waits for the exact name
    item.setCheckState(0, Qt.CheckState.Checked)
    assert "ALTER TABLE public.customers DROP COLUMN email;" in sql_shown(page)
    assert page.confirm_box.isVisible()
    assert "750 rows have a value there" in page.confirm_text.text()
    assert not page.apply_button.isEnabled()
    assert "email" in page.blocker.text()
    qtbot.keyClicks(page.confirm_edit, "emai")
    assert not page.apply_button.isEnabled()
    qtbot.keyClicks(page.confirm_edit, "l")
    assert page.apply_button.isEnabled()

    steps: list[str] = []
    page.service.progress.connect(lambda _done, _total, message: steps.append(message))
    page.name_edit.setText("drop email")
    qtbot.mouseClick(page.apply_button, Qt.MouseButton.LeftButton)
    assert not page.apply_button.isEnabled()  # one apply at a time
    (applied,) = run_until_signal(qloop, page.applied, timeout=60)
    assert isinstance(applied, AppliedMigration)

    # progress named each change as its statement ran
    assert "Drop column public.customers.email" in steps and "Create table public.orders" in steps
    assert page.outcome_title.text() == "Applied"
    assert "drop 1 column; create 1 table" in page.outcome_text.text()
    listed = [page.changed_list.item(i).text() for i in range(page.changed_list.count())]
    assert "Drop column public.customers.email" in listed
    assert page.open_tables_button.isVisible()
    with qtbot.waitSignal(page.open_tables_requested, timeout=1000):
        qtbot.mouseClick(page.open_tables_button, Qt.MouseButton.LeftButton)

    # the database, its history and the workspace all say the same
    columns = {r[0] for r in query(db_url, "select column_name from information_schema.columns"
                                           " where table_schema = 'public' and table_name = 'customers'")}
    assert columns == {"id", "name"}
    assert query(db_url, "select count(*) from public.customers")[0][0] == 1000
    rows = history(db_url)
    assert [(r[0], r[1]) for r in rows] == [(applied.version, "drop_email")]
    assert "ALTER TABLE public.customers DROP COLUMN email" in rows[0][2]
    migration = workspace / "supabase" / "migrations" / f"{applied.version}_drop_email.sql"
    assert migration.is_file() and "DROP COLUMN email" in migration.read_text(encoding="utf-8")
    assert not (workspace / "pending_migrations.sql").exists()
    assert [m.level for m in messages.history] == []


def test_a_failing_apply_shows_the_statement_and_the_server_message_and_changes_nothing(
        qtbot: QtBot, qloop: qasync.QEventLoop, local_server: LocalServer, db_url: str, tmp_path: Path) -> None:
    execute(db_url, """
        create table public.products (id bigint primary key, price numeric not null);
        alter table public.products enable row level security;
        insert into public.products values (1, 10), (2, -5);""")
    products = """
create table public.products (
    id bigint primary key,
    price numeric not null,
    constraint price_is_positive check (price > 0)
);
alter table public.products enable row level security;
"""
    workspace = workspace_with(tmp_path, customers=CUSTOMERS, products=products)
    page, _ = planned(qtbot, qloop, database_project(local_server, workspace, db_url))
    schema_before = normalise(dump_schema(db_url))
    pending_before = (workspace / "pending_migrations.sql").read_text(encoding="utf-8")
    assert "price_is_positive" in pending_before

    failures: list[object] = []
    page.apply_failed.connect(failures.append)
    page.apply()
    (error,) = run_until_signal(qloop, page.apply_failed, timeout=60)

    assert isinstance(error, ApplyError) and error.outcome is Outcome.NOTHING_CHANGED
    assert page.outcome_title.text() == "Nothing was changed"
    shown = page.outcome_text.text()
    assert "Create constraint public.products.price_is_positive" in shown
    assert 'check constraint "price_is_positive" of relation "products" is violated by some row' in shown
    assert page.failed_statement.isVisible()
    assert page.failed_statement.toPlainText() == "ALTER TABLE public.products VALIDATE CONSTRAINT price_is_positive"
    assert "Rows already in the table" in page.outcome_hint.text()
    assert not page.open_tables_button.isVisible()

    # schema, history and files exactly as before; the plan stays on screen to change and retry
    assert normalise(dump_schema(db_url)) == schema_before
    assert query(db_url, "select to_regclass('public.customers')")[0][0] is None
    assert history(db_url) == []
    assert not (workspace / "supabase" / "migrations").exists() or \
        list((workspace / "supabase" / "migrations").iterdir()) == []
    assert (workspace / "pending_migrations.sql").read_text(encoding="utf-8") == pending_before
    assert page.apply_button.isEnabled()
    assert len(failures) == 1


def test_a_schema_file_with_an_error_is_shown_with_its_line(
        qtbot: QtBot, qloop: qasync.QEventLoop, local_server: LocalServer, db_url: str, tmp_path: Path) -> None:
    workspace = workspace_with(tmp_path, customers=CUSTOMERS + "\ncreate table public.broken (id bigint references"
                                                              " public.nowhere (id));\n")
    page = ReviewPage(JobRunner())
    qtbot.addWidget(page)
    page.set_project(database_project(local_server, workspace, db_url))
    page.refresh()
    (message,) = run_until_signal(qloop, page.plan_failed, timeout=60)
    assert "supabase/schemas/customers.sql, line 8" in message
    assert 'relation "public.nowhere" does not exist' in message
    assert page.banner.isVisibleTo(page) and "line 8" in page.banner.text()
    assert not page.apply_button.isEnabled()


SHOP_LIVE = """
create table public.shop (id bigint primary key, name text not null, old_col int);
create policy "read all" on public.shop for select to authenticated using (true);
create policy "gone" on public.shop for select to anon using (true);
create index shop_name_idx on public.shop (name);
create index shop_old_idx on public.shop (old_col);
create table public.legacy (id bigint primary key);
"""

SHOP_DESIRED = """
create table public.shop (id bigint primary key, name text, new_col int);
alter table public.shop enable row level security;
create policy "read all" on public.shop for select to authenticated using ((select auth.uid()) is not null);
create policy "fresh" on public.shop for insert to authenticated with check ((select auth.uid()) is not null);
create index shop_name_idx on public.shop (lower(name));
create index shop_new_idx on public.shop (new_col);
create table public.fresh (id bigint primary key, label text);
alter table public.fresh enable row level security;
"""


#: (a change, the line marked on the live side, the line marked on the desired side; None: no such line)
DDL_CASES = [
    ("Create table public.fresh", None, "CREATE TABLE public.fresh ("),
    ("Drop table public.legacy", "CREATE TABLE public.legacy (", None),
    ("Change table public.shop", None, "ALTER TABLE public.shop ENABLE ROW LEVEL SECURITY;"),
    ("Create column public.shop.new_col", None, "    new_col integer"),
    ("Drop column public.shop.old_col", "    old_col integer", None),
    ("Change column public.shop.name", "    name text NOT NULL,", "    name text,"),
    ("Create policy public.shop.fresh", None, "CREATE POLICY fresh ON public.shop"),
    ("Drop policy public.shop.gone", "CREATE POLICY gone ON public.shop", None),
    ('Change policy public.shop."read all"', "    USING (true);",
     "    USING ((( SELECT auth.uid() AS uid) IS NOT NULL));"),
    ("Create index public.shop_new_idx", None, "CREATE INDEX shop_new_idx ON public.shop USING btree (new_col);"),
    ("Drop index public.shop_old_idx", "CREATE INDEX shop_old_idx ON public.shop USING btree (old_col);", None),
    ("Re-create index public.shop_name_idx", "CREATE INDEX shop_name_idx ON public.shop USING btree (name);",
     "CREATE INDEX shop_name_idx ON public.shop USING btree (lower(name));"),
]


def test_the_definitions_side_by_side_show_real_ddl_for_each_kind_of_change(
        qtbot: QtBot, qloop: qasync.QEventLoop, local_server: LocalServer, db_url: str, tmp_path: Path) -> None:
    execute(db_url, SHOP_LIVE)
    workspace = workspace_with(tmp_path, shop=SHOP_DESIRED)
    page, result = planned(qtbot, qloop, database_project(local_server, workspace, db_url))
    view = page.plan_view
    for title, live_line, desired_line in DDL_CASES:
        view.select_change(change_id(result, title))
        left, right = view.ddl.left.toPlainText(), view.ddl.right.toPlainText()
        if title.startswith("Create table"):
            assert left.startswith("-- Not in the live database yet")
        else:
            assert "CREATE TABLE public." in left, f"no live definition for {title}:\n{left}"
        if title.startswith("Drop table"):
            assert right.startswith("-- Not in the desired schema: it will be dropped.")
        else:
            assert "CREATE TABLE public." in right, f"no desired definition for {title}:\n{right}"
        marked = {line for kind in RowKind if kind is not RowKind.SAME
                  for pair in view.ddl.marked(kind) for line in pair if line is not None}
        for line, side in ((live_line, left), (desired_line, right)):
            if line is not None:
                assert line in side.splitlines(), f"{title}: {line!r} is not shown"
                assert line in marked, f"{title}: {line!r} is not marked as different"


# -- the tree's checkboxes in both themes -------------------------------------------------------------------


def _luminance(color: QColor) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(color.red()) + 0.7152 * channel(color.green()) + 0.0722 * channel(color.blue())


def _contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.fixture
def light_theme_after(qapp: QApplication) -> Iterator[None]:
    yield
    apply_theme(qapp, Scheme.LIGHT)


@pytest.mark.parametrize("scheme", [Scheme.LIGHT, Scheme.DARK])
def test_an_unticked_change_has_a_clearly_visible_checkbox_in_either_theme(
        qtbot: QtBot, qapp: QApplication, tmp_path: Path, scheme: Scheme, light_theme_after: None) -> None:
    apply_theme(qapp, scheme)
    drop = Change(1, "drop", "column", "column:public.t.email", "Drop column public.t.email",
                  ["ALTER TABLE public.t DROP COLUMN email"], hazards=[Hazard(HazardKind.DATA_LOSS, "Drops column.")])
    view = PlanView()
    qtbot.addWidget(view)
    view.resize(900, 400)
    view.show_review(Review(Plan([drop], live_fingerprint="0" * 64)))
    view.show()
    item = view.item_of(1)
    assert item.checkState(0) == Qt.CheckState.Unchecked
    view.tree.setCurrentItem(None)  # the selection's colour is not what is measured
    item.setText(0, "")  # only the checkbox (and the icon) in the cell
    item.setIcon(0, QIcon())
    image = view.tree.viewport().grab().toImage()
    image.save(str(tmp_path / f"review-tree-{scheme.value}.png"))
    base = view.tree.palette().color(QPalette.ColorRole.Base)
    cell = view.tree.visualItemRect(item)
    ratios = [_contrast(image.pixelColor(x, y), base)
              for x in range(cell.left(), min(cell.left() + 40, cell.right()))
              for y in range(cell.top(), cell.bottom())]
    # WCAG asks 3:1 for the parts of a control people must see; the box's outline is what shows it is there
    assert max(ratios) >= 3.0, f"the unticked checkbox is barely visible ({max(ratios):.2f}:1 against the base)"
