"""The history of applied migrations, with the SQL each ran, and the workspace's files compared with it.

The same report as `studio migrations`: every difference between `supabase/migrations` and the database's
`supabase_migrations.schema_migrations` is listed with what to do about it.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import WorkspaceError
from studio.core.migrations.files import VERSION_FORMAT, MigrationFile, version_key
from studio.core.migrations.history import HistoryRow
from studio.core.migrations.status import FindingKind, HistoryFinding
from studio.core.words import plural
from studio.services.deploy import DeployService, HistoryResult
from studio.services.jobs import JobRunner
from studio.services.projects import ProjectHandle
from studio.ui.theme import colors, heading_label
from studio.ui.widgets.code_view import CodeView

VERSION_COLUMN, NAME_COLUMN, WHEN_COLUMN, STATEMENTS_COLUMN, STATUS_COLUMN = range(5)
HEADERS = ["Version", "Name", "Applied", "Statements", "Local file"]

_STATUS_WORDS = {
    FindingKind.NOT_APPLIED: "not applied",
    FindingKind.MISSING_LOCALLY: "no local file",
    FindingKind.NAME_MISMATCH: "different name",
    FindingKind.CONTENT_MISMATCH: "changed after it was applied",
    FindingKind.DUPLICATE_VERSION: "version used twice",
    FindingKind.UNREADABLE: "cannot be read",
}


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def version_moment(version: str) -> datetime | None:
    """The UTC time a 14-digit version (`yyyymmddhhmmss`) stands for; None for versions that are not one."""
    if len(version) != 14 or not (version.isascii() and version.isdigit()):
        return None
    try:
        return datetime.strptime(version, VERSION_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def version_time(version: str) -> str:
    """The time a version stands for, in local time, as people read it ("6 Dec 2026, 14:02"); "" for versions
    that are not timestamps."""
    moment = version_moment(version)
    if moment is None:
        return ""
    local = moment.astimezone()
    return f"{local.day} {_MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"


def statements_sql(statements: tuple[str, ...]) -> str:
    """Recorded statements as one script."""
    return "\n\n".join(s.rstrip().rstrip(";") + ";" for s in statements if s.strip())


class HistoryPage(QWidget):
    """Applied migrations of the open project (newest first) with their SQL, and the local files' findings.

    Signals:
        history_shown(object): a `HistoryResult` is on screen.
        history_failed(str): the history could not be read; the message shown.
    """

    history_shown = Signal(object)
    history_failed = Signal(str)

    def __init__(self, runner: JobRunner, service: DeployService | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.service = service or DeployService(runner, parent=self)
        self.handle: ProjectHandle | None = None
        self.result: HistoryResult | None = None
        self._stale = False
        self._entries: list[tuple[HistoryRow | None, MigrationFile | None, list[HistoryFinding]]] = []

        heading = heading_label("Migration history")
        self.where = QLabel("No project open.")
        self.where.setWordWrap(True)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        titles = QVBoxLayout()
        titles.addWidget(heading)
        titles.addWidget(self.where)
        top.addLayout(titles, 1)
        top.addWidget(self.refresh_button)

        self.report = QLabel()
        self.report.setObjectName("historyReport")
        self.report.setWordWrap(True)
        self.report.setTextFormat(Qt.TextFormat.RichText)
        self.report.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NAME_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._show_selected)

        self.sql_title = QLabel()
        self.sql_title.setStyleSheet("font-weight: 600;")
        self.sql_note = QLabel()
        self.sql_note.setWordWrap(True)
        self.sql = CodeView()
        sql_box = QWidget()
        sql_layout = QVBoxLayout(sql_box)
        sql_layout.setContentsMargins(0, 0, 0, 0)
        sql_layout.addWidget(self.sql_title)
        sql_layout.addWidget(self.sql_note)
        sql_layout.addWidget(self.sql, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(sql_box)
        splitter.setSizes([660, 540])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addLayout(top)
        layout.addWidget(self.report)
        layout.addWidget(splitter, 1)

        self.service.history_ready.connect(self.show_history)
        self.service.history_failed.connect(self._failed)

    def set_project(self, handle: ProjectHandle | None) -> None:
        """Work on this project (None: no project). The history is read when the page is shown or refreshed."""
        self.handle = handle
        self.result = None
        self._entries = []
        self.table.setRowCount(0)
        self.sql.show_code("")
        self.sql_title.setText("")
        self.sql_note.setText("")
        self.report.setText("")
        self.where.setText(f"{handle.title} · {handle.workspace}" if handle else "No project open.")
        self._stale = handle is not None
        if self._stale and self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        """Read the history the first time the page is shown for a project."""
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        """Read the history again."""
        if self.handle is None:
            return
        self._stale = False
        self.report.setText("Reading the history…")
        self.service.read_history(self.handle)

    def _failed(self, message: str) -> None:
        self._report_box(colors().danger.name())
        self.report.setText(html.escape(f"The history could not be read. {message}").replace("\n", "<br>"))
        self.history_failed.emit(message)

    def _report_box(self, border: str) -> None:
        self.report.setStyleSheet(f"#historyReport {{ border: 1px solid {border}; border-radius: 6px; padding: 8px; }}")

    def show_history(self, result: HistoryResult) -> None:
        """Show a history and its findings."""
        self.result = result
        self.where.setText(f"{result.target_description} · {result.workspace}")
        report = result.report
        palette = colors()
        findings_by_version: dict[str, list[HistoryFinding]] = {}
        for finding in report.findings:
            findings_by_version.setdefault(finding.version, []).append(finding)
        local_by_version: dict[str, MigrationFile] = {}
        for local in report.local:
            local_by_version.setdefault(local.version, local)
        entries: list[tuple[HistoryRow | None, MigrationFile | None, list[HistoryFinding]]] = []
        remote_versions = {row.version for row in result.rows}
        for row in result.rows:
            entries.append((row, local_by_version.get(row.version), findings_by_version.get(row.version, [])))
        for version, local in local_by_version.items():
            if version not in remote_versions:
                entries.append((None, local, findings_by_version.get(version, [])))
        entries.sort(key=lambda e: version_key(e[0].version if e[0] else e[1].version if e[1] else ""), reverse=True)
        self._entries = entries

        summary = (f"{plural(len(result.rows), 'migration')} applied in the database,"
                   f" {plural(len(report.local), 'file')} in supabase/migrations,"
                   f" {len(report.versions_in_sync):,} in sync.")
        if report.ok:
            self._report_box(palette.ok.name())
            text = f"<b style='color:{palette.ok.name()}'>Local files and the database's history agree.</b> {summary}"
        else:
            self._report_box(palette.warning.name())
            items = "".join(f"<li><b>{html.escape(f.message)}</b><br>{html.escape(f.action)}</li>"
                            for f in report.findings)
            differences = plural(len(report.findings), "difference")
            text = (f"<b style='color:{palette.warning.name()}'>{differences} between the"
                    f" local files and the database's history.</b> {summary}<ul style='margin:4px 0'>{items}</ul>")
        if report.ignored_notices:
            text += "".join(f"<br><span style='color:{palette.muted.name()}'>Note: {html.escape(n)}</span>"
                            for n in report.ignored_notices)
        self.report.setText(text)

        self.table.setRowCount(len(entries))
        for number, (recorded, file, findings) in enumerate(entries):
            version = recorded.version if recorded else file.version if file else ""
            name = (recorded.name if recorded and recorded.name else None) or (file.name if file else "")
            statements = "" if recorded is None or recorded.statements is None else str(len(recorded.statements))
            if findings:
                status = ", ".join(dict.fromkeys(_STATUS_WORDS[f.kind] for f in findings))
            else:
                status = "in sync" if recorded is not None and file is not None else ""
            cells = [version, name, version_time(version) if recorded else "", statements, status]
            for column, text_value in enumerate(cells):
                item = QTableWidgetItem(text_value)
                if column == WHEN_COLUMN and text_value:
                    moment = version_moment(version)
                    if moment is not None:
                        item.setToolTip(f"{moment:%Y-%m-%d %H:%M:%S} UTC: the time in the migration's version,"
                                        " shown in your time zone")
                if column == STATUS_COLUMN and findings:
                    item.setForeground(palette.warning)
                    item.setToolTip("\n".join(f"{f.message} {f.action}" for f in findings))
                if recorded is None:
                    item.setForeground(palette.muted)
                self.table.setItem(number, column, item)
        if entries:
            self.table.selectRow(0)
        else:
            self.sql_title.setText("No migrations yet")
            self.sql_note.setText("Deploy from the review to record the first one.")
            self.sql.show_code("")
        self.history_shown.emit(result)

    def _show_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self._entries):
            return
        row, local, findings = self._entries[rows[0].row()]
        notes = [f"{f.message} {f.action}" for f in findings]
        if row is not None:
            self.sql_title.setText(f"{row.version}_{row.name or ''} · SQL recorded in the database")
            if row.statements is not None:
                self.sql.show_code(statements_sql(row.statements))
            elif local is not None:
                notes.insert(0, "The database recorded no statements for it (written by an older CLI or by"
                                " `supabase migration repair`); this is the local file.")
                self.sql.show_code(self._read(local))
            else:
                notes.insert(0, "The database recorded no statements for it, and there is no local file.")
                self.sql.show_code("")
        elif local is not None:
            self.sql_title.setText(f"{local.file_name} · local file, not applied")
            self.sql.show_code(self._read(local))
        self.sql_note.setText("\n".join(notes))
        self.sql_note.setStyleSheet(f"color: {colors().warning.name()};")

    @staticmethod
    def _read(local: MigrationFile) -> str:
        try:
            return local.read()
        except WorkspaceError as exc:
            return f"-- {exc.message}"
