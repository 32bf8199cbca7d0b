"""Light and dark themes that follow the operating system's colour scheme.

Studio uses Qt's Fusion style with a palette of its own, so it looks the same on every platform and
switches when the OS switches (Qt 6.5+ reports the scheme through `QStyleHints.colorScheme`). Views that
need a colour beyond the palette (added/removed lines, hazards, staged edits) ask `colors()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


class Scheme(StrEnum):
    """The user's choice: follow the OS, or always light or dark."""

    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


@dataclass(frozen=True)
class Colors:
    """Colours views use for meaning, chosen per theme so text stays readable."""

    dark: bool
    added: QColor
    removed: QColor
    changed: QColor
    danger: QColor
    warning: QColor
    ok: QColor
    muted: QColor
    null_text: QColor
    banner_background: QColor
    banner_border: QColor
    keyword: QColor
    string: QColor
    comment: QColor
    number: QColor


_LIGHT = Colors(
    dark=False,
    added=QColor("#dff5e3"),
    removed=QColor("#fbe1e1"),
    changed=QColor("#fff3cd"),
    danger=QColor("#b42318"),
    warning=QColor("#9a6700"),
    ok=QColor("#1a7f37"),
    muted=QColor("#6b7280"),
    null_text=QColor("#9ca3af"),
    banner_background=QColor("#fff4e5"),
    banner_border=QColor("#f0b35b"),
    keyword=QColor("#7c3aed"),
    string=QColor("#0f7b3f"),
    comment=QColor("#6b7280"),
    number=QColor("#b45309"),
)

_DARK = Colors(
    dark=True,
    added=QColor("#1f3b2a"),
    removed=QColor("#4a2323"),
    changed=QColor("#4a3f1c"),
    danger=QColor("#ff8a80"),
    warning=QColor("#f5c26b"),
    ok=QColor("#7ee2a8"),
    muted=QColor("#9aa4b2"),
    null_text=QColor("#7b8494"),
    banner_background=QColor("#3b2f1a"),
    banner_border=QColor("#a8782e"),
    keyword=QColor("#c4a7ff"),
    string=QColor("#8fdca4"),
    comment=QColor("#8b95a5"),
    number=QColor("#f7b267"),
)

_current = _LIGHT


def colors() -> Colors:
    """The meaning colours of the theme in use."""
    return _current


def system_prefers_dark() -> bool:
    """True when the OS asks for a dark colour scheme."""
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    return scheme is not None and scheme() == Qt.ColorScheme.Dark


def _dark_palette() -> QPalette:
    palette = QPalette()
    base, window, text = QColor("#1e2127"), QColor("#272b33"), QColor("#e6e8eb")
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor("#252932"),
        QPalette.ColorRole.ToolTipBase: window,
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: QColor("#8b95a5"),
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: QColor("#2f343d"),
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor("#ff6b6b"),
        QPalette.ColorRole.Highlight: QColor("#3ecf8e"),
        QPalette.ColorRole.HighlightedText: QColor("#0b1f16"),
        QPalette.ColorRole.Link: QColor("#6cc4ff"),
    }
    for role, color in roles.items():
        palette.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b7280"))
    return palette


def _light_palette() -> QPalette:
    palette = QApplication.style().standardPalette()
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#249e6b"))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    return palette


def apply_theme(app: QApplication, scheme: Scheme = Scheme.SYSTEM) -> bool:
    """Style the app for `scheme` (SYSTEM follows the OS); returns True when the dark theme is in use."""
    global _current
    app.setStyle("Fusion")
    dark = system_prefers_dark() if scheme is Scheme.SYSTEM else scheme is Scheme.DARK
    _current = _DARK if dark else _LIGHT
    app.setPalette(_dark_palette() if dark else _light_palette())
    return dark


def follow_system(app: QApplication, scheme_of: object) -> None:
    """Re-apply the theme whenever the OS switches scheme, while `scheme_of()` returns SYSTEM."""
    hints = QGuiApplication.styleHints()
    changed = getattr(hints, "colorSchemeChanged", None)
    if changed is None:
        return

    def _on_change(*_: object) -> None:
        chosen = scheme_of() if callable(scheme_of) else Scheme.SYSTEM
        if chosen is Scheme.SYSTEM:
            apply_theme(app, Scheme.SYSTEM)

    changed.connect(_on_change)
