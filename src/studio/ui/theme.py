"""Light and dark themes that follow the operating system's colour scheme.

Studio uses Qt's Fusion style with a palette of its own, so it looks the same on every platform and
switches when the OS switches (Qt 6.5+ reports the scheme through `QStyleHints.colorScheme`). Views that
need a colour beyond the palette (added/removed lines, hazards, staged edits) ask `colors()` when they
paint, so a theme switch reaches them without rebuilding anything.

Fusion draws check boxes and radio buttons with an outline taken from the window colour, which all but
vanishes on a dark base (an unticked change in the review tree could not be seen). `StudioStyle` draws
those indicators itself, with an outline that contrasts with the base in both themes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QApplication, QLabel, QProxyStyle, QStyle, QStyleOption, QWidget


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
_style: QStyle | None = None


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


def _mix(a: QColor, b: QColor, share_of_a: float) -> QColor:
    """`a` and `b` blended, `share_of_a` (0..1) of `a`."""
    share_of_b = 1.0 - share_of_a
    return QColor(round(a.red() * share_of_a + b.red() * share_of_b),
                  round(a.green() * share_of_a + b.green() * share_of_b),
                  round(a.blue() * share_of_a + b.blue() * share_of_b))


_CHECK_INDICATORS = (QStyle.PrimitiveElement.PE_IndicatorCheckBox,
                     QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck)


class StudioStyle(QProxyStyle):
    """Fusion, with check box and radio button indicators that stay visible on a dark base.

    The box is the base colour with an outline of 70 % text, 30 % base (at least 3:1 against the base in both
    themes; the highlight colour under the mouse); ticked, it is filled with the highlight colour and carries
    a check mark (a bar for "partly ticked") in the highlighted-text colour. Disabled ones are paler.
    """

    def __init__(self) -> None:
        super().__init__("Fusion")

    def drawPrimitive(self, element: QStyle.PrimitiveElement, option: QStyleOption, painter: QPainter,
                      widget: QWidget | None = None) -> None:
        """Draw check and radio indicators ourselves; everything else as Fusion does."""
        if element in _CHECK_INDICATORS:
            _draw_indicator(option, painter, round_=False)
        elif element == QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            _draw_indicator(option, painter, round_=True)
        else:
            super().drawPrimitive(element, option, painter, widget)


def _draw_indicator(option: QStyleOption, painter: QPainter, *, round_: bool) -> None:
    state = option.state
    flag = QStyle.StateFlag
    enabled = bool(state & flag.State_Enabled)
    group = QPalette.ColorGroup.Normal if enabled else QPalette.ColorGroup.Disabled
    palette = option.palette
    base = palette.color(group, QPalette.ColorRole.Base)
    # WindowText, not Text: item views put an item's own (often muted) foreground colour into Text.
    text = palette.color(group, QPalette.ColorRole.WindowText)
    accent = palette.color(QPalette.ColorGroup.Normal, QPalette.ColorRole.Highlight)
    mark = palette.color(QPalette.ColorGroup.Normal, QPalette.ColorRole.HighlightedText)
    on = bool(state & flag.State_On)
    partly = bool(state & flag.State_NoChange)
    rect = option.rect
    cells = min(rect.width(), rect.height(), 16) - 2  # whole pixels the box covers
    # On whole pixels (+0.5 for a 1 px pen): a line between two pixels would blur into half its colour.
    left = rect.x() + (rect.width() - cells) // 2
    top = rect.y() + (rect.height() - cells) // 2
    side = float(cells - 1)
    box = QRectF(left + 0.5, top + 0.5, side, side)
    if not enabled:
        accent = _mix(accent, base, 0.45)
        mark = _mix(mark, accent, 0.6)
    outline = accent if (on or partly or (enabled and state & flag.State_MouseOver)) else _mix(text, base, 0.7)

    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(outline, 1.0))
    painter.setBrush(accent if (on or partly) and not round_ else base)
    if round_:
        painter.drawEllipse(box)
        if on:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(accent)
            dot = side * 0.5
            painter.drawEllipse(QRectF(box.center().x() - dot / 2, box.center().y() - dot / 2, dot, dot))
    else:
        painter.drawRoundedRect(box, 2.5, 2.5)
        pen = QPen(mark, max(1.6, side / 7))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if partly:
            y = box.center().y()
            painter.drawLine(QPointF(box.left() + side * 0.25, y), QPointF(box.right() - side * 0.25, y))
        elif on:
            path = QPainterPath(QPointF(box.left() + side * 0.22, box.top() + side * 0.52))
            path.lineTo(QPointF(box.left() + side * 0.42, box.top() + side * 0.72))
            path.lineTo(QPointF(box.left() + side * 0.78, box.top() + side * 0.3))
            painter.drawPath(path)
    painter.restore()


def apply_theme(app: QApplication, scheme: Scheme = Scheme.SYSTEM) -> bool:
    """Style the app for `scheme` (SYSTEM follows the OS); returns True when the dark theme is in use."""
    global _current, _style
    if not isinstance(app.style(), StudioStyle):
        _style = StudioStyle()  # held here too: Python must not collect the app's style
        app.setStyle(_style)
    dark = system_prefers_dark() if scheme is Scheme.SYSTEM else scheme is Scheme.DARK
    previous = _current
    _current = _DARK if dark else _LIGHT
    app.setPalette(_dark_palette() if dark else _light_palette())
    if previous is not _current:
        _recolor_widgets(app, previous, _current)
        theme_signals().changed.emit()
    return dark


class ThemeSignals(QObject):
    """Tells widgets that drew with `colors()` once (highlighted code, marked lines) to draw again.

    Signals:
        changed(): the theme switched (light <-> dark).
    """

    changed = Signal()


_signals: ThemeSignals | None = None


def theme_signals() -> ThemeSignals:
    """The app's one `ThemeSignals`."""
    global _signals
    if _signals is None:
        _signals = ThemeSignals()
    return _signals


def _color_map(old: Colors, new: Colors) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for name in old.__dataclass_fields__:
        before, after = getattr(old, name), getattr(new, name)
        if isinstance(before, QColor) and isinstance(after, QColor):
            mapping.setdefault(before.name(), after.name())
    return mapping


def _recolor_widgets(app: QApplication, old: Colors, new: Colors) -> None:
    """Swap the old theme's meaning colours for the new one's in every style sheet and rich-text label.

    Views set those when they are built (banners, headings, hazard text); without this a live switch would
    leave light banners in a dark window, and dark text on it.
    """
    mapping = _color_map(old, new)
    pattern = re.compile("|".join(re.escape(color) for color in mapping), re.IGNORECASE)

    def swap(text: str) -> str:
        return pattern.sub(lambda match: mapping[match.group(0).lower()], text)

    for widget in app.allWidgets():
        sheet = widget.styleSheet()
        if sheet and pattern.search(sheet):
            widget.setStyleSheet(swap(sheet))
        if isinstance(widget, QLabel):
            text = widget.text()
            if "#" in text and pattern.search(text):
                widget.setText(swap(text))


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


def heading_label(text: str = "") -> QLabel:
    """A page's or a step's heading: the one size and weight every screen uses."""
    label = QLabel(text)
    label.setStyleSheet("font-size: 20px; font-weight: 600;")
    return label
