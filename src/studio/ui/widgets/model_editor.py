"""The data-model editor: entities, their fields, links and access rules, in a builder's words.

The editor holds an `AppModel` (immutable; every edit makes a new one), shows each problem `validate` finds
next to the entity, field or link it concerns, and emits `model_changed` after every edit. Names are shown
and stored exactly as typed (never interpreted as markup); whether they are usable is validation's call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QBrush, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.generate.sql import name_clashes
from studio.core.model import Access, AppModel, Entity, Field, FieldType, Link, LinkKind, OnDelete, validate
from studio.core.model.appmodel import singularize
from studio.core.words import plural
from studio.ui.theme import colors

#: Field kinds as a builder would name them.
FIELD_TYPE_WORDS: dict[FieldType, str] = {
    FieldType.TEXT: "Short text",
    FieldType.LONG_TEXT: "Long text",
    FieldType.INTEGER: "Whole number",
    FieldType.DECIMAL: "Decimal number",
    FieldType.BOOLEAN: "Yes / no",
    FieldType.DATE: "Date",
    FieldType.TIMESTAMP: "Date and time",
    FieldType.UUID: "ID (user or record)",
    FieldType.JSON: "Data (JSON)",
    FieldType.ENUM: "Choice from a list",
    FieldType.FILE: "File (Storage)",
    FieldType.TEXT_ARRAY: "List of texts",
}

#: Who can see an entity's rows: the answer to "Who can see it?".
ACCESS_WORDS: dict[Access, str] = {
    Access.PRIVATE: "Only the signed-in owner",
    Access.TEAM: "The members of its team",
    Access.PUBLIC_READ_OWNER_WRITE: "Everyone (only its owner can change it)",
    Access.PUBLIC_READ_ADMIN_WRITE: "Everyone (only admins can change it)",
    Access.CREATE_ONLY_ADMIN_READ: "Only admins (anyone can add one)",
}

#: Each access rule explained in a sentence or two.
ACCESS_EXPLAINED: dict[Access, str] = {
    Access.PRIVATE: "Each signed-in user sees and changes only what they created. Nobody else can see it.",
    Access.TEAM: "Each one belongs to a team; every member of that team can see and change it. Studio adds"
                 " teams and team members for you.",
    Access.PUBLIC_READ_OWNER_WRITE: "Anyone, signed in or not, can see them. Only the signed-in user who created"
                                    " one can change or delete it.",
    Access.PUBLIC_READ_ADMIN_WRITE: "Anyone, signed in or not, can see them. Only admins (users with the admin"
                                    " role) can add, change or delete them.",
    Access.CREATE_ONLY_ADMIN_READ: "Anyone can add one, like sending a contact form. Only admins can see,"
                                   " change or delete them.",
}

#: What happens to linking rows when the row they link to is deleted.
ON_DELETE_WORDS: dict[OnDelete, str] = {
    OnDelete.SET_NULL: "clear the link",
    OnDelete.RESTRICT: "prevent deleting",
    OnDelete.CASCADE: "delete these too",
}

# Field table columns.
FIELD_NAME, FIELD_KIND, FIELD_REQUIRED, FIELD_UNIQUE, FIELD_DEFAULT, FIELD_CHOICES, FIELD_LABEL = range(7)
# Link table columns.
LINK_NAME, LINK_TARGET, LINK_KIND, LINK_REQUIRED, LINK_ON_DELETE = range(5)

_DATA = Qt.ItemDataRole.UserRole
#: Kinds whose fields cannot have a default.
_NO_DEFAULT = (FieldType.JSON, FieldType.FILE, FieldType.TEXT_ARRAY)
_INTEGER = re.compile(r"[+-]?\d+\Z")
_HISTORY = 100


def link_kind_words(kind: LinkKind) -> str:
    """How many of the linked entity one row has, in words (the sentence under the table says the rest)."""
    return {
        LinkKind.MANY_TO_ONE: "one (shared)",
        LinkKind.ONE_TO_ONE: "one of its own",
        LinkKind.MANY_TO_MANY: "many",
    }[kind]


def link_sentence(model: AppModel, link: Link) -> str:
    """The link in a sentence a builder reads: what it means, and what deleting does."""
    source = model.entity(link.source)
    target = model.entity(link.target)
    one = source.one if source else singularize(link.source)
    other = target.one if target else singularize(link.target)
    if link.kind is LinkKind.MANY_TO_MANY:
        return f"Each {one} can have many {link.target}, and each {other} many {link.source}."
    need = "must" if link.required else "can"
    if link.kind is LinkKind.ONE_TO_ONE:
        text = f"Each {one} {need} have its own {other} (as “{link.name}”); no two {link.source} share one."
    else:
        text = f"Each {one} {need} belong to one {other} (as “{link.name}”); a {other} can have many {link.source}."
    deleting = {
        OnDelete.CASCADE: f"Deleting a {other} deletes its {link.source} too.",
        OnDelete.RESTRICT: f"A {other} cannot be deleted while {link.source} link to it.",
        OnDelete.SET_NULL: f"Deleting a {other} leaves its {link.source} without one.",
    }[link.on_delete]
    return f"{text} {deleting}"


@dataclass(frozen=True)
class PlacedProblem:
    """A problem of the model with the entity (and field or link of it) it concerns, when it concerns one.

    `text` is the whole problem for lists ("entity todos, field title: ..."); `message` the part that says
    what is wrong, for showing next to the place itself.
    """

    text: str
    message: str
    entity: str | None = None
    field: str | None = None
    link: str | None = None


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def _place(model: AppModel, where: str, message: str) -> list[PlacedProblem]:
    """Where `where` (validate's wording) points, matched against the model's real names (so odd names that
    contain commas or dots still land on the right entity)."""
    text = f"{where}: {message}"
    placed: list[PlacedProblem] = []
    for entity in model.entities:
        prefix = f"entity {entity.name}"
        if where == prefix:
            placed.append(PlacedProblem(text, message, entity.name))
        elif where.startswith(prefix + ", field "):
            name = where[len(prefix + ", field "):]
            if entity.field(name) is not None:
                placed.append(PlacedProblem(text, message, entity.name, field=name))
        for link in model.links_from(entity.name):
            if where == f"link {entity.name}.{link.name}":
                placed.append(PlacedProblem(text, message, entity.name, link=link.name))
        if where.startswith("links ") and entity.name in where[len("links "):].split(" → "):
            placed.append(PlacedProblem(text, where[len("links "):] + ": " + message, entity.name))
        if where == f"table {entity.name}":
            placed.append(PlacedProblem(text, message, entity.name))
    # The same place can match twice (two entities of one name): keep one of each.
    unique = list(dict.fromkeys(placed))
    return unique or [PlacedProblem(text, message)]


def _place_clash(model: AppModel, text: str) -> list[PlacedProblem]:
    """Where a `name_clashes` problem ("table t, column c (index): ...") points."""
    for entity in sorted(model.entities, key=lambda e: -len(e.name)):
        prefix = f"table {entity.name}"
        if not text.startswith(prefix) or text[len(prefix):len(prefix) + 1] not in (":", ","):
            continue
        rest = text[len(prefix):]
        message = text.split(": ", 1)[-1]
        if rest.startswith(", column "):
            column = rest[len(", column "):]
            for field in entity.fields:
                if column.startswith(field.name) and column[len(field.name):][:1] in (":", " "):
                    return [PlacedProblem(text, message, entity.name, field=field.name)]
            for link in model.links_from(entity.name):
                if column.startswith(f"{link.name}_id") and column[len(link.name) + 3:][:1] in (":", " "):
                    return [PlacedProblem(text, message, entity.name, link=link.name)]
        return [PlacedProblem(text, message, entity.name)]
    return [PlacedProblem(text, text)]


def model_problems(model: AppModel) -> list[PlacedProblem]:
    """Every problem that stops `model` from being generated, placed on what it concerns.

    The same checks as generation: `validate`, then (when it finds nothing) the generated names that would
    clash in the database.
    """
    problems = validate(model)
    if problems:
        return [placed for p in problems for placed in _place(model, p.where, p.message)]
    return [placed for text in name_clashes(model) for placed in _place_clash(model, text)]


def _parse_default(kind: FieldType, text: str) -> str | int | float | bool | None:
    """A default typed as text, as the value the model keeps (left as text when it does not fit the kind,
    so validation can say so)."""
    text = text.strip()
    if not text:
        return None
    if kind is FieldType.BOOLEAN:
        lowered = text.lower()
        if lowered in ("yes", "true", "on", "1"):
            return True
        if lowered in ("no", "false", "off", "0"):
            return False
        return text
    if kind in (FieldType.INTEGER, FieldType.DECIMAL) and _INTEGER.match(text):
        return int(text)
    if kind is FieldType.DECIMAL:
        try:
            return float(text)
        except ValueError:
            return text
    return text


def _show_default(value: str | int | float | bool | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _unique_name(base: str, taken: Iterable[str]) -> str:
    used = set(taken)
    if base not in used:
        return base
    number = 2
    while f"{base}_{number}" in used:
        number += 1
    return f"{base}_{number}"


class ModelEditor(QWidget):
    """Edit an `AppModel`: entities on the left; the selected entity's name, who can see it, its fields and
    its links on the right; problems shown beside what they concern.

    Signals:
        model_changed(object): the user changed the model; the new `AppModel`.
        entity_selected(str): the entity shown on the right changed (its name; "" when none).
    """

    model_changed = Signal(object)
    entity_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = AppModel(name="")
        self._current: int = -1
        self._updating = False
        self._history: list[AppModel] = []
        self._problems: list[PlacedProblem] = []
        self._notes: dict[str, list[str]] = {}

        # -- the entity list
        self.entity_list = QListWidget()
        self.entity_list.setAccessibleName("Entities")
        self.entity_list.setMinimumWidth(150)
        self.add_entity_button = QPushButton("Add entity")
        self.remove_entity_button = QPushButton("Remove")
        self.remove_entity_button.setToolTip("Remove the selected entity and its links")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Undo the last change (Ctrl+Z)")
        self.model_problems_label = self._problem_label()
        self.status_label = QLabel()
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setWordWrap(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.app_name_edit = QLineEdit()
        self.app_name_edit.setAccessibleName("App name")
        self.app_name_edit.setPlaceholderText("My app")
        self.app_name_edit.setToolTip("Your app's name, used in the generated client code")
        left_layout.addWidget(QLabel("App name"))
        left_layout.addWidget(self.app_name_edit)
        heading = QLabel("Entities")
        heading.setToolTip("The kinds of things your app stores, like posts or orders (each one becomes a table)")
        left_layout.addWidget(heading)
        left_layout.addWidget(self.entity_list, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_entity_button)
        buttons.addWidget(self.remove_entity_button)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.undo_button)
        left_layout.addWidget(self.model_problems_label)
        left_layout.addWidget(self.status_label)

        # -- the selected entity
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName("Entity name")
        self.name_edit.setPlaceholderText("e.g. blog_posts")
        self.name_edit.setToolTip("Lower-case letters, digits and underscores; usually plural (posts, orders)")
        self.name_message = self._problem_label()
        self.label_edit = QLineEdit()
        self.label_edit.setAccessibleName("Entity shown as")
        self.label_edit.setPlaceholderText("e.g. Blog posts")
        self.access_combo = QComboBox()
        self.access_combo.setAccessibleName("Who can see it")
        for access, words in ACCESS_WORDS.items():
            self.access_combo.addItem(words, access.value)
        self.access_hint = QLabel()
        self.access_hint.setWordWrap(True)
        self.access_hint.setTextFormat(Qt.TextFormat.PlainText)
        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("", self.name_message)
        form.addRow("Shown as", self.label_edit)
        form.addRow("Who can see it", self.access_combo)
        form.addRow("", self.access_hint)

        self.fields_table = QTableWidget(0, 7)
        self.fields_table.setAccessibleName("Fields")
        self.fields_table.setHorizontalHeaderLabels(
            ["Name", "Kind", "Required", "Unique", "Default", "Choices", "Shown as"])
        for column, tip in ((FIELD_REQUIRED, "Every one must have a value for this field"),
                            (FIELD_UNIQUE, "No two can have the same value"),
                            (FIELD_DEFAULT, "The value when none is given (for a date or time: “now”)"),
                            (FIELD_CHOICES, "For a choice from a list: the choices, separated by commas"),
                            (FIELD_LABEL, "How your app shows the field's name")):
            header_item = self.fields_table.horizontalHeaderItem(column)
            if header_item is not None:
                header_item.setToolTip(tip)
        self._setup_table(self.fields_table)
        self.add_field_button = QPushButton("Add field")
        self.remove_field_button = QPushButton("Remove field")
        fields_box = QGroupBox("Fields")
        fields_layout = QVBoxLayout(fields_box)
        fields_layout.addWidget(self.fields_table)
        row = QHBoxLayout()
        row.addWidget(self.add_field_button)
        row.addWidget(self.remove_field_button)
        row.addStretch(1)
        fields_layout.addLayout(row)

        self.links_table = QTableWidget(0, 5)
        self.links_table.setAccessibleName("Links")
        self.links_table.setHorizontalHeaderLabels(
            ["Name", "Links to", "How many", "Required", "If that one is deleted"])
        self._setup_table(self.links_table)
        self.add_link_button = QPushButton("Add link")
        self.remove_link_button = QPushButton("Remove link")
        self.link_sentences = QLabel()
        self.link_sentences.setWordWrap(True)
        self.link_sentences.setTextFormat(Qt.TextFormat.PlainText)
        self.incoming_label = QLabel()
        self.incoming_label.setWordWrap(True)
        self.incoming_label.setTextFormat(Qt.TextFormat.PlainText)
        links_box = QGroupBox("Links to other entities")
        links_layout = QVBoxLayout(links_box)
        links_layout.addWidget(self.links_table)
        row = QHBoxLayout()
        row.addWidget(self.add_link_button)
        row.addWidget(self.remove_link_button)
        row.addStretch(1)
        links_layout.addLayout(row)
        links_layout.addWidget(self.link_sentences)
        links_layout.addWidget(self.incoming_label)

        self.entity_problems_label = self._problem_label()
        self.notes_label = QLabel()
        self.notes_label.setWordWrap(True)
        self.notes_label.setTextFormat(Qt.TextFormat.PlainText)
        self.notes_label.setStyleSheet(f"color: {colors().warning.name()}")
        self.notes_label.hide()

        self.detail = QWidget()
        detail_layout = QVBoxLayout(self.detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addLayout(form)
        detail_layout.addWidget(self.entity_problems_label)
        detail_layout.addWidget(self.notes_label)
        # At least a few fields and a link stay in sight however small the window is.
        self.fields_table.setMinimumHeight(self.fields_table.verticalHeader().defaultSectionSize() * 2 + 30)
        self.links_table.setMinimumHeight(self.links_table.verticalHeader().defaultSectionSize() + 30)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(fields_box)
        splitter.addWidget(links_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        detail_layout.addWidget(splitter, 1)
        self.empty_hint = QLabel("Add an entity for each kind of thing your app stores, like posts, orders or"
                                 " bookings, or start from a template.")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.detail, 1)
        right_layout.addWidget(self.empty_hint, 1)
        outer = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(left)
        outer.addWidget(right)
        outer.setStretchFactor(0, 1)
        outer.setStretchFactor(1, 4)
        outer.setChildrenCollapsible(False)
        outer.setSizes([170, 600])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(outer)

        self.entity_list.currentRowChanged.connect(self._on_entity_row)
        self.add_entity_button.clicked.connect(lambda: self.add_entity())
        self.remove_entity_button.clicked.connect(self.remove_entity)
        self.undo_button.clicked.connect(self.undo)
        QShortcut(QKeySequence.StandardKey.Undo, self).activated.connect(self.undo)
        self.app_name_edit.editingFinished.connect(self._on_app_name_edited)
        self.name_edit.editingFinished.connect(self._on_name_edited)
        self.label_edit.editingFinished.connect(self._on_label_edited)
        self.access_combo.currentIndexChanged.connect(self._on_access)
        self.fields_table.itemChanged.connect(lambda _item: self._read_fields())
        self.add_field_button.clicked.connect(lambda: self.add_field())
        self.remove_field_button.clicked.connect(self.remove_field)
        self.links_table.itemChanged.connect(lambda _item: self._read_links())
        self.add_link_button.clicked.connect(lambda: self.add_link())
        self.remove_link_button.clicked.connect(self.remove_link)
        self._rebuild()

    # -- public API ---------------------------------------------------------------------------------------------

    def model(self) -> AppModel:
        """The model as edited so far."""
        return self._model

    def set_model(self, model: AppModel, *, select: str | None = None) -> None:
        """Show `model` (replacing what was edited, without undo history and without `model_changed`).

        `select` names the entity to show; otherwise the one shown stays if it still exists, else the first.
        """
        keep = select or self.selected_entity()
        self._model = model
        self._history.clear()
        names = [e.name for e in model.entities]
        self._current = names.index(keep) if keep in names else (0 if names else -1)
        self._rebuild()

    def replace_model(self, model: AppModel, *, status: str = "") -> None:
        """Replace the whole model as an edit (Undo brings the old one back; `model_changed` is emitted)."""
        names = [e.name for e in model.entities]
        self._current = 0 if names else -1
        self._commit(model, rebuild=True, status=status)

    def problems(self) -> list[PlacedProblem]:
        """The model's problems, placed on what they concern (empty when it can be generated)."""
        return list(self._problems)

    def selected_entity(self) -> str:
        """The name of the entity shown on the right ("" when none)."""
        entity = self._entity()
        return entity.name if entity else ""

    def select_entity(self, name: str) -> bool:
        """Show the entity called `name`; False when there is none."""
        for index, entity in enumerate(self._model.entities):
            if entity.name == name:
                self.entity_list.setCurrentRow(index)
                return True
        return False

    def set_notes(self, notes: dict[str, list[str]]) -> None:
        """Notes to show under each entity (e.g. findings of the schema checks), by entity name."""
        self._notes = {k: list(v) for k, v in notes.items()}
        self._show_entity_problems()

    def can_undo(self) -> bool:
        """Whether there is an edit to undo."""
        return bool(self._history)

    def undo(self) -> None:
        """Go back to the model before the last edit."""
        if not self._history:
            return
        keep = self.selected_entity()
        self._model = self._history.pop()
        names = [e.name for e in self._model.entities]
        self._current = names.index(keep) if keep in names else min(self._current, len(names) - 1)
        self._rebuild()
        self.status_label.setText("Undid the last change.")
        self.model_changed.emit(self._model)

    def add_entity(self, name: str | None = None) -> str:
        """Add an entity (named `name`, or a placeholder to rename) and show it; returns its name."""
        chosen = name if name is not None else _unique_name("new_entity", (e.name for e in self._model.entities))
        entity = Entity(chosen, access=Access.PRIVATE)
        model = replace(self._model, entities=(*self._model.entities, entity))
        self._current = len(model.entities) - 1
        self._commit(model, rebuild=True, status=f"Added “{chosen}”. Give it a name and its fields.")
        if name is None:
            self.name_edit.setFocus()
            self.name_edit.selectAll()
        return chosen

    def remove_entity(self) -> None:
        """Remove the shown entity and every link to or from it (Undo brings them back)."""
        entity = self._entity()
        if entity is None:
            return
        links = tuple(lk for lk in self._model.links if entity.name not in (lk.source, lk.target))
        gone = len(self._model.links) - len(links)
        entities = tuple(e for i, e in enumerate(self._model.entities) if i != self._current)
        self._current = min(self._current, len(entities) - 1)
        detail = f" and {plural(gone, 'link')}" if gone else ""
        self._commit(replace(self._model, entities=entities, links=links), rebuild=True,
                     status=f"Removed “{entity.name}”{detail}. Undo brings it back.")

    def add_field(self, name: str | None = None, kind: FieldType = FieldType.TEXT) -> None:
        """Add a field to the shown entity (a placeholder name when `name` is None) and start editing its name."""
        entity = self._entity()
        if entity is None:
            return
        chosen = name or _unique_name("new_field", (f.name for f in entity.fields))
        self._replace_entity(replace(entity, fields=(*entity.fields, Field(chosen, kind))), rebuild=True)
        row = self.fields_table.rowCount() - 1
        self.fields_table.setCurrentCell(row, FIELD_NAME)
        item = self.fields_table.item(row, FIELD_NAME)
        if name is None and item is not None and self.isVisible():
            self.fields_table.editItem(item)

    def remove_field(self) -> None:
        """Remove the selected field of the shown entity."""
        entity = self._entity()
        row = self.fields_table.currentRow()
        if entity is None or not 0 <= row < len(entity.fields):
            return
        fields = tuple(f for i, f in enumerate(entity.fields) if i != row)
        self._replace_entity(replace(entity, fields=fields), rebuild=True,
                             status=f"Removed the field “{entity.fields[row].name}”.")

    def add_link(self, target: str | None = None, kind: LinkKind = LinkKind.MANY_TO_ONE) -> None:
        """Link the shown entity to `target` (by default the first other entity)."""
        entity = self._entity()
        if entity is None:
            return
        others = [e.name for e in self._model.entities if e.name != entity.name]
        chosen = target or (others[0] if others else entity.name)
        taken = [lk.name for lk in self._model.links_from(entity.name)] + [f.name for f in entity.fields]
        name = _unique_name(self._default_link_name(chosen, kind), taken)
        link = Link(name, entity.name, chosen, kind, on_delete=OnDelete.SET_NULL)
        self._commit(replace(self._model, links=(*self._model.links, link)), rebuild=True,
                     status=f"Linked “{entity.name}” to “{chosen}”.")
        self.links_table.setCurrentCell(self.links_table.rowCount() - 1, LINK_TARGET)

    def remove_link(self) -> None:
        """Remove the selected link of the shown entity."""
        entity = self._entity()
        row = self.links_table.currentRow()
        if entity is None:
            return
        own = self._model.links_from(entity.name)
        if not 0 <= row < len(own):
            return
        gone = own[row]
        links = tuple(lk for lk in self._model.links if lk is not gone)
        self._commit(replace(self._model, links=links), rebuild=True, status=f"Removed the link “{gone.name}”.")

    def rename_entity(self, new: str) -> bool:
        """Rename the shown entity (links to and from it follow); False, with a message, when another entity
        already has that name."""
        entity = self._entity()
        if entity is None:
            return False
        new = new.strip()
        if new == entity.name:
            self.name_message.hide()
            return True
        if any(e.name == new for i, e in enumerate(self._model.entities) if i != self._current):
            self.name_message.setText(f"Another entity is already called “{new}”; choose a different name.")
            self.name_message.show()
            with QSignalBlocker(self.name_edit):
                self.name_edit.setText(entity.name)
            return False
        self.name_message.hide()
        old = entity.name
        entities = tuple(replace(e, name=new) if i == self._current else e
                         for i, e in enumerate(self._model.entities))
        links = tuple(replace(lk, source=new if lk.source == old else lk.source,
                              target=new if lk.target == old else lk.target) for lk in self._model.links)
        self._commit(replace(self._model, entities=entities, links=links), rebuild=True)
        return True

    # -- building the widgets ---------------------------------------------------------------------------------

    @staticmethod
    def _problem_label() -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setStyleSheet(f"color: {colors().danger.name()}")
        label.hide()
        return label

    @staticmethod
    def _fit_columns(table: QTableWidget) -> None:
        """Size each column to its header, texts and pickers (Qt's own sizing ignores cell widgets)."""
        header = table.horizontalHeader()
        for column in range(table.columnCount()):
            width = header.sectionSizeHint(column)
            for row in range(table.rowCount()):
                widget = table.cellWidget(row, column)
                if widget is not None:
                    width = max(width, widget.sizeHint().width())
                else:
                    width = max(width, table.sizeHintForColumn(column))
            table.setColumnWidth(column, width + 4)

    @staticmethod
    def _setup_table(table: QTableWidget) -> None:
        table.verticalHeader().hide()
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                              | QAbstractItemView.EditTrigger.EditKeyPressed
                              | QAbstractItemView.EditTrigger.AnyKeyPressed)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)

    def _entity(self) -> Entity | None:
        if 0 <= self._current < len(self._model.entities):
            return self._model.entities[self._current]
        return None

    def _rebuild(self) -> None:
        """Refill every widget from the model (after a structural change or a new model)."""
        self._updating = True
        try:
            self.app_name_edit.setText(self._model.name)
            self.entity_list.clear()
            for entity in self._model.entities:
                item = QListWidgetItem(entity.name or "(no name)")
                self.entity_list.addItem(item)
            self.entity_list.setCurrentRow(self._current)
            self._fill_entity()
        finally:
            self._updating = False
        self._refresh_problems()
        self.undo_button.setEnabled(self.can_undo())

    def _fill_entity(self) -> None:
        entity = self._entity()
        has = entity is not None
        self.detail.setVisible(has)
        self.empty_hint.setVisible(not has)
        self.remove_entity_button.setEnabled(has)
        self.name_message.hide()
        self.fields_table.setRowCount(0)
        self.links_table.setRowCount(0)
        if entity is None:
            self.name_edit.clear()
            self.label_edit.clear()
            self.link_sentences.clear()
            self.incoming_label.clear()
            return
        self.name_edit.setText(entity.name)
        self.label_edit.setText(entity.label)
        self.access_combo.setCurrentIndex(self.access_combo.findData(entity.access.value))
        self.access_hint.setText(ACCESS_EXPLAINED[entity.access])
        for row, field in enumerate(entity.fields):
            self.fields_table.insertRow(row)
            self._fill_field_row(row, field)
        own = self._model.links_from(entity.name)
        for row, link in enumerate(own):
            self.links_table.insertRow(row)
            self._fill_link_row(row, link, entity)
        self._describe_links()
        self._fit_columns(self.fields_table)
        self._fit_columns(self.links_table)
        self.remove_field_button.setEnabled(bool(entity.fields))
        self.remove_link_button.setEnabled(bool(own))

    def _fill_field_row(self, row: int, field: Field) -> None:
        table = self.fields_table
        table.setItem(row, FIELD_NAME, QTableWidgetItem(field.name))
        kind = QComboBox()
        for value, words in FIELD_TYPE_WORDS.items():
            kind.addItem(words, value.value)
        kind.setCurrentIndex(kind.findData(field.type.value))
        kind.currentIndexChanged.connect(lambda _i: self._read_fields())
        table.setCellWidget(row, FIELD_KIND, kind)
        for column, on in ((FIELD_REQUIRED, field.required), (FIELD_UNIQUE, field.unique)):
            check = QTableWidgetItem()
            check.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable)
            check.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            table.setItem(row, column, check)
        default = QTableWidgetItem(_show_default(field.default))
        if field.type in _NO_DEFAULT and field.default is None:
            default.setFlags(default.flags() & ~Qt.ItemFlag.ItemIsEditable)
            default.setToolTip("This kind of field has no default")
        elif field.type is FieldType.BOOLEAN:
            default.setToolTip("yes or no")
        elif field.type in (FieldType.DATE, FieldType.TIMESTAMP):
            default.setToolTip("“now”, or leave empty")
        table.setItem(row, FIELD_DEFAULT, default)
        choices = QTableWidgetItem(", ".join(field.values))
        if field.type is not FieldType.ENUM:
            choices.setFlags(choices.flags() & ~Qt.ItemFlag.ItemIsEditable)
            choices.setToolTip("Only for fields that are one of a list of choices")
        table.setItem(row, FIELD_CHOICES, choices)
        table.setItem(row, FIELD_LABEL, QTableWidgetItem(field.label))

    def _fill_link_row(self, row: int, link: Link, entity: Entity) -> None:
        table = self.links_table
        name = QTableWidgetItem(link.name)
        name.setData(_DATA, link.label)
        table.setItem(row, LINK_NAME, name)
        target = QComboBox()
        names = [e.name for e in self._model.entities]
        for other in names:
            target.addItem(other, other)
        if link.target not in names:
            target.addItem(f"{link.target} (missing)", link.target)
        target.setCurrentIndex(target.findData(link.target))
        target.currentIndexChanged.connect(lambda _i, r=row: self._on_link_target(r))
        table.setCellWidget(row, LINK_TARGET, target)
        kind = QComboBox()
        for value in LinkKind:
            kind.addItem(link_kind_words(value), value.value)
        kind.setCurrentIndex(kind.findData(link.kind.value))
        kind.currentIndexChanged.connect(lambda _i, r=row: self._on_link_kind(r))
        table.setCellWidget(row, LINK_KIND, kind)
        many = link.kind is LinkKind.MANY_TO_MANY
        required = QTableWidgetItem()
        flags = Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable
        required.setFlags(flags if many else flags | Qt.ItemFlag.ItemIsEnabled)
        required.setCheckState(Qt.CheckState.Checked if link.required and not many else Qt.CheckState.Unchecked)
        table.setItem(row, LINK_REQUIRED, required)
        on_delete = QComboBox()
        for rule, words in ON_DELETE_WORDS.items():
            on_delete.addItem(words, rule.value)
        on_delete.setCurrentIndex(on_delete.findData(link.on_delete.value))
        on_delete.setEnabled(not many)
        if many:
            on_delete.setToolTip("The links themselves go when either end is deleted")
        on_delete.currentIndexChanged.connect(lambda _i: self._read_links())
        table.setCellWidget(row, LINK_ON_DELETE, on_delete)

    def _describe_links(self) -> None:
        entity = self._entity()
        if entity is None:
            return
        own = self._model.links_from(entity.name)
        self.link_sentences.setText("\n".join(link_sentence(self._model, lk) for lk in own))
        self.link_sentences.setVisible(bool(own))
        incoming = [lk for lk in self._model.links if lk.target == entity.name and lk.source != entity.name]
        listed = ", ".join(f"{lk.source} (as “{lk.name}”)" for lk in incoming)
        self.incoming_label.setText(f"Linked from: {listed}" if incoming else "")
        self.incoming_label.setVisible(bool(incoming))

    # -- reading edits back -------------------------------------------------------------------------------------

    def _combo_value(self, table: QTableWidget, row: int, column: int) -> str:
        widget = table.cellWidget(row, column)
        assert isinstance(widget, QComboBox)
        return str(widget.currentData())

    def _text(self, table: QTableWidget, row: int, column: int) -> str:
        item = table.item(row, column)
        return item.text() if item is not None else ""

    def _checked(self, table: QTableWidget, row: int, column: int) -> bool:
        item = table.item(row, column)
        return item is not None and item.checkState() == Qt.CheckState.Checked

    def _read_fields(self) -> None:
        entity = self._entity()
        if self._updating or entity is None:
            return
        fields = []
        structural = False
        for row in range(self.fields_table.rowCount()):
            kind = FieldType(self._combo_value(self.fields_table, row, FIELD_KIND))
            old = entity.fields[row] if row < len(entity.fields) else None
            values: tuple[str, ...] = ()
            if kind is FieldType.ENUM:
                values = tuple(v.strip() for v in self._text(self.fields_table, row, FIELD_CHOICES).split(",")
                               if v.strip())
            default = _parse_default(kind, self._text(self.fields_table, row, FIELD_DEFAULT))
            if old is not None and old.type is not kind:
                structural = True  # which cells can be edited depends on the kind
                if kind in _NO_DEFAULT:
                    default = None
            fields.append(Field(
                name=self._text(self.fields_table, row, FIELD_NAME).strip(),
                type=kind,
                required=self._checked(self.fields_table, row, FIELD_REQUIRED),
                unique=self._checked(self.fields_table, row, FIELD_UNIQUE),
                default=default,
                values=values,
                label=self._text(self.fields_table, row, FIELD_LABEL).strip(),
            ))
        updated = replace(entity, fields=tuple(fields))
        if updated != entity:
            self._replace_entity(updated, rebuild=structural)

    def _read_links(self) -> None:
        entity = self._entity()
        if self._updating or entity is None:
            return
        rows = []
        for row in range(self.links_table.rowCount()):
            name_item = self.links_table.item(row, LINK_NAME)
            kind = LinkKind(self._combo_value(self.links_table, row, LINK_KIND))
            many = kind is LinkKind.MANY_TO_MANY
            rows.append(Link(
                name=self._text(self.links_table, row, LINK_NAME).strip(),
                source=entity.name,
                target=self._combo_value(self.links_table, row, LINK_TARGET),
                kind=kind,
                required=False if many else self._checked(self.links_table, row, LINK_REQUIRED),
                on_delete=OnDelete(self._combo_value(self.links_table, row, LINK_ON_DELETE)),
                label=str(name_item.data(_DATA) or "") if name_item is not None else "",
            ))
        self._set_own_links(entity, rows)

    def _set_own_links(self, entity: Entity, rows: list[Link], rebuild: bool = False) -> None:
        """Put `rows` in place of the entity's links, keeping every link's position in the model."""
        pending = iter(rows)
        links: list[Link] = []
        for link in self._model.links:
            if link.source == entity.name:
                nxt = next(pending, None)
                if nxt is not None:
                    links.append(nxt)
            else:
                links.append(link)
        links.extend(pending)
        if tuple(links) != self._model.links:
            self._commit(replace(self._model, links=tuple(links)), rebuild=rebuild)

    def _default_link_name(self, target: str, kind: LinkKind) -> str:
        if kind is LinkKind.MANY_TO_MANY:
            return target
        found = self._model.entity(target)
        return found.one if found else singularize(target)

    def _on_link_target(self, row: int) -> None:
        """A new target: a name that was the old target's default follows the new one."""
        entity = self._entity()
        if self._updating or entity is None:
            return
        own = self._model.links_from(entity.name)
        if row >= len(own):
            return
        old = own[row]
        target = self._combo_value(self.links_table, row, LINK_TARGET)
        name = old.name
        if name == self._default_link_name(old.target, old.kind):
            taken = [lk.name for i, lk in enumerate(own) if i != row] + [f.name for f in entity.fields]
            name = _unique_name(self._default_link_name(target, old.kind), taken)
        rows = [replace(lk, target=target, name=name) if i == row else lk for i, lk in enumerate(own)]
        self._set_own_links(entity, rows, rebuild=True)

    def _on_link_kind(self, row: int) -> None:
        """A new kind: required and on-delete only mean something for one-ended links; a default name follows
        the kind (one `category`, many `tags`)."""
        entity = self._entity()
        if self._updating or entity is None:
            return
        own = self._model.links_from(entity.name)
        if row >= len(own):
            return
        old = own[row]
        kind = LinkKind(self._combo_value(self.links_table, row, LINK_KIND))
        name = old.name
        if name == self._default_link_name(old.target, old.kind):
            taken = [lk.name for i, lk in enumerate(own) if i != row] + [f.name for f in entity.fields]
            name = _unique_name(self._default_link_name(old.target, kind), taken)
        required = False if kind is LinkKind.MANY_TO_MANY else old.required
        rows = [replace(lk, kind=kind, name=name, required=required) if i == row else lk
                for i, lk in enumerate(own)]
        self._set_own_links(entity, rows, rebuild=True)

    def _on_entity_row(self, row: int) -> None:
        if self._updating:
            return
        self._current = row
        self._updating = True
        try:
            self._fill_entity()
        finally:
            self._updating = False
        self._refresh_problems()
        self.entity_selected.emit(self.selected_entity())

    def _on_app_name_edited(self) -> None:
        name = self.app_name_edit.text().strip()
        if not self._updating and name != self._model.name:
            self._commit(replace(self._model, name=name))

    def _on_name_edited(self) -> None:
        if not self._updating:
            self.rename_entity(self.name_edit.text())

    def _on_label_edited(self) -> None:
        entity = self._entity()
        if self._updating or entity is None:
            return
        label = self.label_edit.text().strip()
        if label != entity.label:
            self._replace_entity(replace(entity, label=label))

    def _on_access(self, _index: int) -> None:
        entity = self._entity()
        if self._updating or entity is None:
            return
        access = Access(str(self.access_combo.currentData()))
        self.access_hint.setText(ACCESS_EXPLAINED[access])
        if access is not entity.access:
            self._replace_entity(replace(entity, access=access))

    def _replace_entity(self, entity: Entity, *, rebuild: bool = False, status: str = "") -> None:
        entities = tuple(entity if i == self._current else e for i, e in enumerate(self._model.entities))
        self._commit(replace(self._model, entities=entities), rebuild=rebuild, status=status)

    def _commit(self, model: AppModel, *, rebuild: bool = False, status: str = "") -> None:
        """Make `model` the edited model: remember the old one for Undo, refresh, tell listeners."""
        self._history.append(self._model)
        del self._history[:-_HISTORY]
        self._model = model
        if rebuild:
            self._rebuild()
        else:
            self._updating = True
            try:
                self._describe_links()
            finally:
                self._updating = False
            self._refresh_problems()
            self.undo_button.setEnabled(True)
        self.status_label.setText(status)
        self.model_changed.emit(model)

    # -- problems ---------------------------------------------------------------------------------------------

    def _refresh_problems(self) -> None:
        self._problems = model_problems(self._model)
        danger = colors().danger
        warning_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        by_entity: dict[str, list[PlacedProblem]] = {}
        for problem in self._problems:
            if problem.entity is not None:
                by_entity.setdefault(problem.entity, []).append(problem)
        self._updating = True
        try:
            for index, entity in enumerate(self._model.entities):
                item = self.entity_list.item(index)
                if item is None:
                    continue
                item.setText(entity.name or "(no name)")
                mine = by_entity.get(entity.name, [])
                if mine:
                    item.setIcon(warning_icon)
                    item.setForeground(QBrush(danger))
                    item.setToolTip("\n".join(_sentence(p.text) for p in mine))
                else:
                    item.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon))
                    item.setForeground(QBrush())
                    item.setToolTip(entity.label)
            self._mark_rows()
        finally:
            self._updating = False
        general = [p for p in self._problems if p.entity is None]
        self.model_problems_label.setText("\n".join(_sentence(p.text) for p in general))
        self.model_problems_label.setVisible(bool(general))
        self._show_entity_problems()

    def _mark_rows(self) -> None:
        entity = self._entity()
        if entity is None:
            return
        tint = QBrush(colors().removed)
        mine = [p for p in self._problems if p.entity == entity.name]
        for row, field in enumerate(entity.fields):
            said = [_sentence(p.message) for p in mine if p.field == field.name]
            self._tint_row(self.fields_table, row, tint if said else QBrush(), "\n".join(said))
        for row, link in enumerate(self._model.links_from(entity.name)):
            said = [_sentence(p.message) for p in mine if p.link == link.name]
            self._tint_row(self.links_table, row, tint if said else QBrush(), "\n".join(said))

    @staticmethod
    def _tint_row(table: QTableWidget, row: int, brush: QBrush, tip: str) -> None:
        for column in range(table.columnCount()):
            item = table.item(row, column)
            if item is not None:
                item.setBackground(brush)
                item.setToolTip(tip)

    def _show_entity_problems(self) -> None:
        entity = self._entity()
        lines: list[str] = []
        notes: list[str] = []
        if entity is not None:
            for problem in self._problems:
                if problem.entity != entity.name:
                    continue
                if problem.field is not None:
                    lines.append(f"Field “{problem.field}”: {problem.message}")
                elif problem.link is not None:
                    lines.append(f"Link “{problem.link}”: {problem.message}")
                else:
                    lines.append(_sentence(problem.message))
            notes = self._notes.get(entity.name, [])
        self.entity_problems_label.setText("\n".join(f"• {line}" for line in lines))
        self.entity_problems_label.setVisible(bool(lines))
        self.notes_label.setText("\n".join(f"• {note}" for note in notes))
        self.notes_label.setVisible(bool(notes))

    def problem_texts(self, entity: str) -> list[str]:
        """The problems shown next to `entity` (what the user reads under it)."""
        return [_sentence(p.message) for p in self._problems if p.entity == entity]
