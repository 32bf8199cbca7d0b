"""The Settings area: theme, the local project's workspace folder, how plans are made, where secrets go."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.schema.plan import PlanOptions
from studio.ui.theme import Scheme, colors, heading_label

_INTERVAL_HINT = "A PostgreSQL duration such as 5s, 2min or 1h; empty keeps the server's own setting."


def _valid_interval(text: str) -> bool:
    return not text or re.fullmatch(r"\d+\s*(ms|s|min|h|d)?", text.strip()) is not None


class SettingsPage(QWidget):
    """Settings, saved as soon as they change (in the app's settings file; never a secret).

    Signals:
        theme_chosen(str): "system", "light" or "dark".
        workspace_chosen(str): the local project's workspace folder.
        plan_options_changed(object): the `PlanOptions` deploys should use.
        session_only_chosen(): with no password store, the user chose to keep secrets for this session only.
    """

    theme_chosen = Signal(str)
    workspace_chosen = Signal(str)
    plan_options_changed = Signal(object)
    session_only_chosen = Signal()

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 24)
        heading = heading_label("Settings")
        saved = QLabel("Saved as soon as you change them. Tokens and passwords are never kept here.")
        saved.setWordWrap(True)
        layout.addWidget(heading)
        layout.addWidget(saved)

        look = QGroupBox("Appearance")
        look_layout = QHBoxLayout(look)
        self.theme_buttons = QButtonGroup(self)
        for scheme, label in ((Scheme.SYSTEM, "Follow the system"), (Scheme.LIGHT, "Light"), (Scheme.DARK, "Dark")):
            button = QRadioButton(label)
            button.setObjectName(f"theme_{scheme.value}")
            button.setProperty("scheme", scheme.value)
            self.theme_buttons.addButton(button)
            look_layout.addWidget(button)
        look_layout.addStretch(1)
        self.theme_buttons.buttonClicked.connect(self._theme_clicked)

        folder = QGroupBox("Local project")
        folder_layout = QHBoxLayout(folder)
        self.workspace = QLineEdit()
        self.workspace.setPlaceholderText("Folder for the local project's schema files and migrations")
        self.workspace.editingFinished.connect(self._workspace_edited)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_layout.addWidget(QLabel("Workspace folder"))
        folder_layout.addWidget(self.workspace, 1)
        folder_layout.addWidget(browse)

        deploys = QGroupBox("Deploys")
        form = QFormLayout(deploys)
        self.lock_timeout = QLineEdit()
        self.lock_timeout.setToolTip("How long each statement may wait for a lock before the deploy gives up. "
                                     + _INTERVAL_HINT)
        self.statement_timeout = QLineEdit()
        self.statement_timeout.setToolTip("How long the migration may run. " + _INTERVAL_HINT)
        for field in (self.lock_timeout, self.statement_timeout):
            field.setMaximumWidth(140)  # "5s", "15min": no need for the whole width
        self.concurrent = QCheckBox("Build new indexes without blocking writes (CREATE INDEX CONCURRENTLY)")
        self.concurrent.setToolTip("Slower, and runs after the migration's transaction; shown as such in the review.")
        self.timeout_problem = QLabel()
        self.timeout_problem.setStyleSheet(f"color: {colors().danger.name()};")
        self.timeout_problem.hide()
        form.addRow("Wait for locks at most", self.lock_timeout)
        form.addRow("Let a migration run at most", self.statement_timeout)
        form.addRow("", self.concurrent)
        form.addRow("", self.timeout_problem)
        for field in (self.lock_timeout, self.statement_timeout):
            field.editingFinished.connect(self._plan_edited)
        self.concurrent.toggled.connect(self._plan_edited)

        secrets = QGroupBox("Secrets")
        secrets_layout = QVBoxLayout(secrets)
        self.secrets_label = QLabel("Checking where tokens and passwords can be kept…")
        self.secrets_label.setWordWrap(True)
        self.session_only_button = QPushButton("Keep secrets for this session only")
        self.session_only_button.setToolTip("Tokens and passwords stay in memory and are forgotten when Studio quits.")
        self.session_only_button.clicked.connect(self.session_only_chosen)
        self.session_only_button.hide()
        secrets_layout.addWidget(self.secrets_label)
        secrets_layout.addWidget(self.session_only_button, 0, Qt.AlignmentFlag.AlignLeft)

        for group in (look, folder, deploys, secrets):
            layout.addWidget(group)
        layout.addStretch(1)
        self._load()

    def _value(self, key: str, default: str) -> str:
        value = self.settings.value(key, default) if self.settings is not None else default
        return str(value)

    def _store(self, key: str, value: object) -> None:
        if self.settings is not None:
            self.settings.setValue(key, value)
            self.settings.sync()

    def _load(self) -> None:
        scheme = self._value("appearance/theme", Scheme.SYSTEM.value)
        for button in self.theme_buttons.buttons():
            button.setChecked(button.property("scheme") == scheme)
        defaults = PlanOptions()
        self.lock_timeout.setText(self._value("deploy/lock_timeout", defaults.lock_timeout or ""))
        self.statement_timeout.setText(self._value("deploy/statement_timeout", defaults.statement_timeout or ""))
        self.concurrent.setChecked(self._value("deploy/concurrent_indexes", "false") == "true")

    def theme(self) -> Scheme:
        """The theme chosen."""
        checked = self.theme_buttons.checkedButton()
        return Scheme(checked.property("scheme")) if checked is not None else Scheme.SYSTEM

    def plan_options(self) -> PlanOptions:
        """The options deploys use (the defaults where a field is not a valid duration)."""
        defaults = PlanOptions()
        lock = self.lock_timeout.text().strip()
        statement = self.statement_timeout.text().strip()
        return PlanOptions(
            lock_timeout=(lock or None) if _valid_interval(lock) else defaults.lock_timeout,
            statement_timeout=(statement or None) if _valid_interval(statement) else defaults.statement_timeout,
            concurrent_indexes=self.concurrent.isChecked(),
        )

    def show_workspace(self, folder: Path) -> None:
        """Show the local project's workspace folder (without emitting a change)."""
        self.workspace.setText(str(folder))

    def show_secret_store(self, text: str, *, missing: bool = False) -> None:
        """Say where secrets are kept ("Stored in GNOME Keyring (Secret Service)"); with `missing` (no
        password store works here) offer to keep them in memory for this session."""
        self.secrets_label.setText(text)
        self.session_only_button.setVisible(missing)

    def _theme_clicked(self) -> None:
        scheme = self.theme()
        self._store("appearance/theme", scheme.value)
        self.theme_chosen.emit(scheme.value)

    def _workspace_edited(self) -> None:
        text = self.workspace.text().strip()
        if text:
            self._store("local/workspace", text)
            self.workspace_chosen.emit(text)

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Workspace folder", self.workspace.text())
        if chosen:
            self.workspace.setText(chosen)
            self._workspace_edited()

    def _plan_edited(self) -> None:
        bad = [name for name, field in (("lock wait", self.lock_timeout), ("migration time", self.statement_timeout))
               if not _valid_interval(field.text())]
        if bad:
            self.timeout_problem.setText(
                f"Not a duration: {', '.join(bad)}. Use a number with ms, s, min, h or d (for example 5s);"
                " until then the default is used.")
            self.timeout_problem.show()
        else:
            self.timeout_problem.hide()
        self._store("deploy/lock_timeout", self.lock_timeout.text().strip())
        self._store("deploy/statement_timeout", self.statement_timeout.text().strip())
        self._store("deploy/concurrent_indexes", "true" if self.concurrent.isChecked() else "false")
        self.plan_options_changed.emit(self.plan_options())
