"""An entity-relationship diagram of an `AppModel`: a box per entity with its fields, lines for its links.

Layout: entities that others link to stand on the left, the entities linking to them to their right (one
column per step of the longest chain of links), each box placed level with what it links to and never
over another box. Lines run at right angles through the gaps between columns (or above every box when
they skip a column), leave the linking entity at the row of its link and end at the linked entity's title.
A forked end means "many", a bar "one"; a dashed line is a link that may be left empty. Colours come from
the palette, so the diagram reads in light and dark themes alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QWidget,
)

from studio.core.model import Access, AppModel, Entity, FieldType, Link, LinkKind
from studio.ui.theme import colors

#: Field kinds in the diagram's few words.
KIND_SHORT: dict[FieldType, str] = {
    FieldType.TEXT: "text",
    FieldType.LONG_TEXT: "long text",
    FieldType.INTEGER: "number",
    FieldType.DECIMAL: "decimal",
    FieldType.BOOLEAN: "yes/no",
    FieldType.DATE: "date",
    FieldType.TIMESTAMP: "date & time",
    FieldType.UUID: "id",
    FieldType.JSON: "data",
    FieldType.ENUM: "choice",
    FieldType.FILE: "file",
    FieldType.TEXT_ARRAY: "list",
}

#: Who can see an entity, in the diagram's few words.
ACCESS_SHORT: dict[Access, str] = {
    Access.PRIVATE: "only the owner sees it",
    Access.TEAM: "its team sees it",
    Access.PUBLIC_READ_OWNER_WRITE: "everyone sees it · owner edits",
    Access.PUBLIC_READ_ADMIN_WRITE: "everyone sees it · admins edit",
    Access.CREATE_ONLY_ADMIN_READ: "anyone adds · admins see",
}

_PAD = 10.0
_ROW = 22.0
_HEADER = 26.0
_SUBHEADER = 18.0
_MIN_WIDTH = 170.0
_GAP = 72.0  # between columns: room for the lines' vertical runs
_VGAP = 36.0
_LANE = 9.0
_MARK = 12.0  # length of an end marker
_ENTITY = 0  # QGraphicsItem data key: index of the entity a box shows


_MIN_FIT_SCALE = 0.8  # text below about 80% of the UI font is hard to read


@dataclass(frozen=True)
class Edge:
    """A drawn link: the link, the indexes of the boxes it joins, and its line."""

    link: Link
    source: int
    target: int
    item: QGraphicsPathItem


def _mix(a: QColor, b: QColor, amount: float) -> QColor:
    """`a` moved `amount` (0..1) of the way to `b`."""
    return QColor.fromRgbF(a.redF() + (b.redF() - a.redF()) * amount, a.greenF() + (b.greenF() - a.greenF()) * amount,
                           a.blueF() + (b.blueF() - a.blueF()) * amount)


def columns_of(model: AppModel) -> list[list[int]]:
    """Entity indexes by column: entities nothing else is needed for first (what links point at), then each
    entity one column right of the furthest entity it links to. Cycles are cut where they close."""
    index: dict[str, int] = {}
    for number, entity in enumerate(model.entities):
        index.setdefault(entity.name, number)
    targets: dict[int, list[int]] = {i: [] for i in range(len(model.entities))}
    for link in model.links:
        source, target = index.get(link.source), index.get(link.target)
        if source is None or target is None or source == target or link.kind is LinkKind.MANY_TO_MANY:
            continue
        targets[source].append(target)
    rank: dict[int, int] = {}
    visiting: set[int] = set()

    def rank_of(node: int) -> int:
        """The column of `node`: one right of the furthest entity it links to."""
        if node in rank:
            return rank[node]
        if node in visiting:
            return -1  # closes a cycle: counts as nothing to its linker
        visiting.add(node)
        result = 1 + max((rank_of(t) for t in targets[node]), default=-1)
        visiting.discard(node)
        rank[node] = result
        return result

    for node in targets:
        rank_of(node)
    count = max(rank.values(), default=-1) + 1
    columns: list[list[int]] = [[] for _ in range(count)]
    for node in range(len(model.entities)):
        columns[rank[node]].append(node)
    return columns


class ErDiagram(QGraphicsView):
    """The diagram. `set_model` redraws it; clicking a box selects that entity.

    Signals:
        entity_clicked(str): the user clicked the box of this entity.
    """

    entity_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setAccessibleName("Entity-relationship diagram")
        self._model = AppModel(name="")
        self._flagged: set[str] = set()
        self._selected = ""
        self._zoomed = False
        #: Box of each entity, by the entity's index in the model.
        self.boxes: dict[int, QGraphicsRectItem] = {}
        #: Every link drawn.
        self.edges: list[Edge] = []
        #: The text of each box (title, who can see it, then its rows), by entity index: what a reader sees.
        self.box_text: dict[int, list[str]] = {}
        self._redraw()

    # -- public API ---------------------------------------------------------------------------------------------

    def set_model(self, model: AppModel, flagged: Iterable[str] = ()) -> None:
        """Draw `model`; entities named in `flagged` have problems and are outlined in the danger colour."""
        self._model = model
        self._flagged = set(flagged)
        self._redraw()

    def select(self, name: str) -> None:
        """Emphasise the box of entity `name` (and scroll to it)."""
        self._selected = name
        self._redraw()

    def box_of(self, name: str) -> QGraphicsRectItem | None:
        """The box of the (first) entity called `name`."""
        for index, entity in enumerate(self._model.entities):
            if entity.name == name:
                return self.boxes.get(index)
        return None

    def zoom_to_fit(self) -> None:
        """Show the whole diagram (never enlarged beyond its natural size)."""
        self._zoomed = False
        self._fit()

    # -- drawing ------------------------------------------------------------------------------------------------

    def _redraw(self) -> None:
        scene = self.scene()
        scene.clear()
        self.boxes.clear()
        self.edges.clear()
        self.box_text.clear()
        palette = self.palette()
        self.setBackgroundBrush(palette.color(QPalette.ColorRole.Window))
        if not self._model.entities:
            hint = scene.addSimpleText("The entities you add appear here, joined by lines for their links.")
            hint.setBrush(QBrush(colors().muted))
            scene.setSceneRect(hint.boundingRect().adjusted(-20, -20, 20, 20))
            self._fit()
            return
        columns = columns_of(self._model)
        sizes = {i: self._box_size(e) for i, e in enumerate(self._model.entities)}
        widths = [max(sizes[i][0] for i in column) for column in columns]
        lefts: list[float] = []
        x = 0.0
        for width in widths:
            lefts.append(x)
            x += width + _GAP
        where: dict[int, QRectF] = {}
        column_of: dict[int, int] = {}
        links = self._drawable_links()
        neighbours: dict[int, list[int]] = {i: [] for i in sizes}
        for source, target, _link in links:
            neighbours[source].append(target)
            neighbours[target].append(source)
        for number, column in enumerate(columns):
            desired: list[tuple[float, int, int]] = []
            for order, node in enumerate(column):
                placed = [where[n].center().y() for n in neighbours[node] if n in where]
                centre = sum(placed) / len(placed) if placed else float("inf")
                desired.append((centre, order, node))
            desired.sort()
            bottom = 0.0
            for centre, _order, node in desired:
                width, height = sizes[node]
                top = bottom if centre == float("inf") else max(bottom, centre - height / 2)
                where[node] = QRectF(lefts[number], top, width, height)
                column_of[node] = number
                bottom = top + height + _VGAP
        for index, entity in enumerate(self._model.entities):
            self._draw_box(index, entity, where[index])
        self._draw_edges(links, where, column_of, lefts, widths)
        self._draw_legend(scene.itemsBoundingRect())
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-16, -16, 16, 16))
        self._fit()

    def _fonts(self) -> tuple[QFont, QFont, QFont]:
        base = QFont(self.font())
        title = QFont(base)
        title.setBold(True)
        small = QFont(base)
        small.setPointSizeF(max(base.pointSizeF() * 0.85, 7.0))
        small.setItalic(True)
        return base, title, small

    def _rows(self, entity: Entity) -> list[tuple[str, str, str]]:
        """The rows of a box: (left text, right text, role) with role "field", "link" or "muted"."""
        rows = [(f.name + (" *" if f.required else ""), KIND_SHORT[f.type], "field") for f in entity.fields]
        for link in self._model.links_from(entity.name):
            many = " (many)" if link.kind is LinkKind.MANY_TO_MANY else ""
            rows.append((link.name + (" *" if link.required else ""), f"→ {link.target}{many}", "link"))
        if not rows:
            rows.append(("no fields yet", "", "muted"))
        if entity.name in self._flagged:
            rows.append(("needs fixing: see the editor", "", "problem"))
        return rows

    def _box_size(self, entity: Entity) -> tuple[float, float]:
        base, title, small = self._fonts()
        metrics, title_metrics, small_metrics = QFontMetricsF(base), QFontMetricsF(title), QFontMetricsF(small)
        width = max(title_metrics.horizontalAdvance(entity.name or "(no name)"),
                    small_metrics.horizontalAdvance(ACCESS_SHORT[entity.access]))
        for left, right, _role in self._rows(entity):
            width = max(width, metrics.horizontalAdvance(left) + metrics.horizontalAdvance(right) + 24)
        rows = len(self._rows(entity))
        return max(_MIN_WIDTH, width + 2 * _PAD), _HEADER + _SUBHEADER + rows * _ROW + 6

    def _draw_box(self, index: int, entity: Entity, rect: QRectF) -> None:
        palette = self.palette()
        text_color = palette.color(QPalette.ColorRole.Text)
        base = palette.color(QPalette.ColorRole.Base)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        flagged = entity.name in self._flagged
        chosen = bool(entity.name) and entity.name == self._selected
        border = colors().danger if flagged else (highlight if chosen else _mix(text_color, base, 0.55))
        box = QGraphicsRectItem(rect)
        box.setBrush(QBrush(base))
        box.setPen(QPen(border, 2.5 if flagged or chosen else 1.2))
        box.setData(_ENTITY, index)
        box.setZValue(1)
        box.setToolTip(entity.label or entity.name)
        self.scene().addItem(box)
        self.boxes[index] = box
        header = QGraphicsRectItem(QRectF(rect.left(), rect.top(), rect.width(), _HEADER + _SUBHEADER), box)
        header.setBrush(QBrush(_mix(base, highlight, 0.22 if chosen else 0.12)))
        header.setPen(QPen(Qt.PenStyle.NoPen))
        base_font, title_font, small_font = self._fonts()
        lines = [entity.name or "(no name)"]
        title = QGraphicsSimpleTextItem(lines[0], box)
        title.setFont(title_font)
        title.setBrush(QBrush(colors().danger if flagged else text_color))
        title.setPos(rect.left() + _PAD, rect.top() + 5)
        lines.append(ACCESS_SHORT[entity.access])
        access = QGraphicsSimpleTextItem(ACCESS_SHORT[entity.access], box)
        access.setFont(small_font)
        access.setBrush(QBrush(colors().muted))
        access.setPos(rect.left() + _PAD, rect.top() + _HEADER - 2)
        metrics = QFontMetricsF(base_font)
        link_color = palette.color(QPalette.ColorRole.Link)
        y = rect.top() + _HEADER + _SUBHEADER + 3
        for left, right, role in self._rows(entity):
            color = {"field": text_color, "link": link_color, "muted": colors().muted,
                     "problem": colors().danger}[role]
            name = QGraphicsSimpleTextItem(left, box)
            name.setFont(base_font)
            name.setBrush(QBrush(color))
            name.setPos(rect.left() + _PAD, y + (_ROW - metrics.height()) / 2)
            if right:
                kind = QGraphicsSimpleTextItem(right, box)
                kind.setFont(base_font)
                kind.setBrush(QBrush(link_color if role == "link" else colors().muted))
                kind.setPos(rect.right() - _PAD - metrics.horizontalAdvance(right), y + (_ROW - metrics.height()) / 2)
            lines.append(f"{left}  {right}".rstrip())
            y += _ROW
        self.box_text[index] = lines

    def _drawable_links(self) -> list[tuple[int, int, Link]]:
        index: dict[str, int] = {}
        for number, entity in enumerate(self._model.entities):
            index.setdefault(entity.name, number)
        return [(index[lk.source], index[lk.target], lk) for lk in self._model.links
                if lk.source in index and lk.target in index]

    def _row_y(self, rect: QRectF, entity: Entity, link: Link) -> float:
        own = self._model.links_from(entity.name)
        row = len(entity.fields) + next((i for i, lk in enumerate(own) if lk is link), 0)
        return rect.top() + _HEADER + _SUBHEADER + 3 + row * _ROW + _ROW / 2

    def _draw_edges(self, links: list[tuple[int, int, Link]], where: dict[int, QRectF], column_of: dict[int, int],
                    lefts: list[float], widths: list[float]) -> None:
        palette = self.palette()
        color = _mix(palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base), 0.3)
        lanes: dict[int, int] = {}  # gap number (right of column n) -> lines already through it
        top_lanes = 0
        top = min(r.top() for r in where.values())

        def lane(gap: int) -> float:
            """The x of the next free vertical run in the gap right of column `gap` (alternating around its
            middle, so lines through one gap never share a run)."""
            used = lanes.get(gap, 0)
            lanes[gap] = used + 1
            if gap >= len(lefts) - 1:  # right of the last column: lines go out and back
                return lefts[gap] + widths[gap] + 18 + used * _LANE
            centre = lefts[gap] + widths[gap] + _GAP / 2
            step = (used + 1) // 2 * _LANE
            return centre + (step if used % 2 else -step)

        for source, target, link in links:
            src, dst = where[source], where[target]
            source_entity = self._model.entities[source]
            sy = self._row_y(src, source_entity, link)
            ty = dst.top() + _HEADER / 2 + 2
            many_source = True
            many_target = link.kind is LinkKind.MANY_TO_MANY
            if link.kind is LinkKind.ONE_TO_ONE:
                many_source = False
            a, b = column_of[source], column_of[target]
            path = QPainterPath()
            if a == b:  # the same column (or the same box): out to the right and back in
                x = lane(a)
                path.moveTo(src.right(), sy)
                path.lineTo(x, sy)
                path.lineTo(x, ty)
                path.lineTo(dst.right(), ty)
                ends = ((QPointF(src.right(), sy), 1.0, many_source), (QPointF(dst.right(), ty), 1.0, many_target))
            else:
                # Left box leaves from its right side, right box from its left side.
                left_rect, left_y, right_rect, right_y = (dst, ty, src, sy) if b < a else (src, sy, dst, ty)
                low, high = min(a, b), max(a, b)
                path.moveTo(right_rect.left(), right_y)
                near = lane(high - 1)
                path.lineTo(near, right_y)
                if high - low == 1:
                    path.lineTo(near, left_y)
                else:  # skip the columns between, above every box
                    over = top - 18 - top_lanes * _LANE
                    top_lanes += 1
                    far = lane(low)
                    path.lineTo(near, over)
                    path.lineTo(far, over)
                    path.lineTo(far, left_y)
                path.lineTo(left_rect.right(), left_y)
                source_end = QPointF(src.left(), sy) if b < a else QPointF(src.right(), sy)
                target_end = QPointF(dst.right(), ty) if b < a else QPointF(dst.left(), ty)
                out_source = -1.0 if b < a else 1.0
                ends = ((source_end, out_source, many_source), (target_end, -out_source, many_target))
            for point, direction, many in ends:
                self._add_marker(path, point, direction, many)
            pen = QPen(color, 1.6)
            if not link.required or link.kind is LinkKind.MANY_TO_MANY:
                pen.setStyle(Qt.PenStyle.DashLine)
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            item = QGraphicsPathItem(path)
            item.setPen(pen)
            item.setZValue(0)
            item.setToolTip(f"{link.source}.{link.name} → {link.target}")
            self.scene().addItem(item)
            self.edges.append(Edge(link, source, target, item))

    @staticmethod
    def _add_marker(path: QPainterPath, point: QPointF, direction: float, many: bool) -> None:
        """A crow's foot (many) or a bar (one) where a line meets a box; `direction` is +1 when the line leaves
        to the right of `point`, -1 to the left."""
        if many:
            root = QPointF(point.x() + direction * _MARK, point.y())
            for dy in (-6.0, 0.0, 6.0):
                path.moveTo(root)
                path.lineTo(point.x(), point.y() + dy)
        else:
            x = point.x() + direction * (_MARK - 4)
            path.moveTo(x, point.y() - 6)
            path.lineTo(x, point.y() + 6)

    def _draw_legend(self, bounds: QRectF) -> None:
        palette = self.palette()
        color = _mix(palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base), 0.3)
        _, _, small = self._fonts()
        x, y = bounds.left(), bounds.bottom() + 26
        # (label, dashed line?, end marker: None, "one" or "many"); no line for the last.
        samples: tuple[tuple[str, bool | None, str | None], ...] = (
            ("link must be set", False, None), ("link may be empty", True, None), ("one", False, "one"),
            ("many", False, "many"), ("* required field", None, None))
        for label, dashed, marker in samples:
            if dashed is not None:
                path = QPainterPath()
                path.moveTo(x, y)
                path.lineTo(x + 34, y)
                if marker is not None:
                    self._add_marker(path, QPointF(x + 34, y), -1.0, marker == "many")
                pen = QPen(color, 1.4)
                if dashed:
                    pen.setStyle(Qt.PenStyle.DashLine)
                self.scene().addPath(path, pen)
                x += 42
            text = self.scene().addSimpleText(label, small)
            text.setBrush(QBrush(colors().muted))
            text.setPos(x, y - QFontMetricsF(small).height() / 2)
            x += text.boundingRect().width() + 26

    # -- view behaviour -----------------------------------------------------------------------------------------

    def _fit(self) -> None:
        if self._zoomed:
            return
        rect = self.sceneRect()
        view = self.viewport().rect()
        if rect.isEmpty() or view.isEmpty():
            return
        scale = min(1.0, view.width() / rect.width(), view.height() / rect.height())
        # Shrunk to fit, but never below a readable size: past that the view scrolls instead.
        scale = max(scale, _MIN_FIT_SCALE)
        self.resetTransform()
        self.scale(scale, scale)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the whole diagram in view (unless the user zoomed)."""
        super().resizeEvent(event)
        self._fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Ctrl + wheel zooms; the wheel alone scrolls."""
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self._zoomed = True
            factor = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
            self.scale(factor, factor)
            event.accept()
            return
        super().wheelEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """A click on a box selects its entity."""
        item: QGraphicsItem | None = self.itemAt(event.position().toPoint())
        while item is not None and item.data(_ENTITY) is None:
            item = item.parentItem()
        if item is not None:
            index = int(item.data(_ENTITY))
            if 0 <= index < len(self._model.entities):
                self.entity_clicked.emit(self._model.entities[index].name)
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """A double click on the background shows the whole diagram again."""
        if self.itemAt(event.position().toPoint()) is None:
            self.zoom_to_fit()
        super().mouseDoubleClickEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        """Redraw in the new colours when the theme changes."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self._redraw()

