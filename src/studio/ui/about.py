"""The About dialog: which Studio, Qt, Python and PostgreSQL this is, and where Studio keeps its files."""

from __future__ import annotations

import platform
import sys

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from studio import __version__
from studio.core.paths import cache_dir, config_dir, data_dir
from studio.ui.theme import heading_label


def about_lines(postgres_version: str = "") -> list[tuple[str, str]]:
    """What the About dialog lists, as (what, value) pairs."""
    return [
        ("Studio", __version__),
        ("Qt", f"{qVersion()} (PySide6 {PySide6.__version__})"),
        ("Python", f"{platform.python_version()} on {platform.system()} {platform.machine()}"),
        ("PostgreSQL (local project)", postgres_version or "not started yet"),
        ("Settings", str(config_dir())),
        ("Local project's data", str(data_dir())),
        ("Cache", str(cache_dir())),
    ]


class AboutDialog(QDialog):
    """Versions and folders, selectable so they can be pasted into a bug report."""

    def __init__(self, postgres_version: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Studio")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        title = heading_label("Studio")
        blurb = QLabel("Build and run the backend of your app on Supabase: describe your data, review every"
                       " change, deploy it safely.")
        blurb.setWordWrap(True)
        rows = "".join(f"<tr><td style='padding-right:12px'><b>{what}</b></td><td>{value}</td></tr>"
                       for what, value in about_lines(postgres_version))
        self.details = QLabel(f"<table>{rows}</table>")
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(title)
        layout.addWidget(blurb)
        layout.addWidget(self.details)
        layout.addWidget(buttons)
        if sys.platform == "darwin":
            self.setWindowModality(Qt.WindowModality.ApplicationModal)
