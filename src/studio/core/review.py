"""The state of a migration review: which changes of a plan are ticked, and why the others are not.

A `Review` wraps a `Plan` (and, when known, the desired catalog and the lint findings on it) and answers
what the review screen shows:

* which changes are ticked: all of them at first, except destructive ones (they lose data) and what
  needs them;
* unticking a change unticks everything that needs it, and each of those says why ("Unticked because it
  needs: Create table public.orders"); ticking a change ticks what it needs, and brings back the changes
  that were unticked only because of it;
* the changes grouped by the table (or other top-level object) they belong to, for the tree;
* hazards and lint findings attached to the changes (or tables) they concern, in plain words;
* the text a person must type to confirm the ticked destructive changes;
* the live and desired DDL of the object a change touches, for the side-by-side view.

Pure data and logic: no Qt, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from studio.core.lint.finding import Finding
from studio.core.lint.finding import Level as LintLevel
from studio.core.lint.rules import RULES
from studio.core.schema import ddl
from studio.core.schema.catalog import KIND_ORDER, Catalog, DbObject
from studio.core.schema.plan import Change, Hazard, HazardKind, Plan
from studio.core.words import plural

#: Shown in a hazard's message when its rows could not be counted (the side being changed is a file).
UNCOUNTED = "?"

_KIND_RANK = {kind: index for index, kind in enumerate(KIND_ORDER)}


class NoteLevel(StrEnum):
    """How much a note matters (the colour it is shown in)."""

    DANGER = "danger"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Note:
    """A hazard or a lint finding in plain words, attached to a change or to a group.

    `source` is "hazard" or "check"; `label` a short heading ("Deletes data", "Security check"); `text`
    the sentence itself; `detail` explains it further, `fix` says what to do (checks only) and `fix_sql` is
    a complete statement that would fix it, if any. `rows` is the number of rows at risk when counted.
    """

    level: NoteLevel
    source: str
    label: str
    text: str
    detail: str = ""
    fix: str = ""
    fix_sql: str | None = None
    rows: int | None = None

    def __str__(self) -> str:
        return f"{self.label}: {self.text}"


@dataclass(frozen=True)
class Group:
    """Changes that concern one top-level object (a table with its columns, keys, policies...).

    `key` is that object's catalog key (or the change's own key when the object is unknown), `kind` its
    kind and `title` its name as people read it (`public.customers`). `notes` are lint findings about the
    object or its parts that no change of the group carries.
    """

    key: str
    kind: str
    title: str
    change_ids: tuple[int, ...]
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True)
class Toggle:
    """What one tick or untick did: every id whose state changed, and a sentence saying why."""

    ticked: tuple[int, ...] = ()
    unticked: tuple[int, ...] = ()
    message: str = ""

    @property
    def changed(self) -> bool:
        """True when any change was ticked or unticked."""
        return bool(self.ticked or self.unticked)


_HAZARD_NOTES: dict[HazardKind, tuple[NoteLevel, str]] = {
    HazardKind.DATA_LOSS: (NoteLevel.DANGER, "Deletes data"),
    HazardKind.SECURITY: (NoteLevel.WARNING, "Security"),
    HazardKind.FAILURE: (NoteLevel.WARNING, "May fail"),
    HazardKind.LOCK: (NoteLevel.WARNING, "Blocks the table"),
    HazardKind.NON_TRANSACTIONAL: (NoteLevel.INFO, "Outside the transaction"),
}
_LINT_LEVELS = {LintLevel.ERROR: NoteLevel.DANGER, LintLevel.WARNING: NoteLevel.WARNING, LintLevel.INFO: NoteLevel.INFO}


def hazard_note(hazard: Hazard) -> Note:
    """A hazard as a note. A row count that was never filled in reads as `?`."""
    level, label = _HAZARD_NOTES.get(hazard.kind, (NoteLevel.WARNING, "Hazard"))
    return Note(level, "hazard", label, hazard.message.replace("{rows}", UNCOUNTED), rows=hazard.rows)


def finding_note(finding: Finding) -> Note:
    """A lint finding as a note: its title and explanation, and how to fix it."""
    rule = RULES.get(finding.rule)
    label = f"{rule.category.capitalize()} check" if rule else "Check"
    return Note(_LINT_LEVELS[finding.level], "check", label, finding.title.rstrip(".") + ".",
                detail=finding.explanation, fix=finding.fix, fix_sql=finding.fix_sql)


def short_title(change: Change, group: Group) -> str:
    """The change's title without its group's name where it repeats it (`Drop column email`)."""
    if change.key == group.key:
        return change.title
    return change.title.replace(f" {group.title}.", " ", 1)


class Review:
    """Ticks, reasons, groups, notes and confirmation over one plan.

    `desired` is the catalog the plan leads to (needed to group and show new objects); `findings` are
    lint findings on it. Without them, groups fall back to one per change and notes hold hazards only.
    """

    def __init__(self, plan: Plan, *, desired: Catalog | None = None, findings: Sequence[Finding] = ()) -> None:
        self.plan = plan
        self.desired = desired
        self.findings = list(findings)
        self._by_id = {c.id: c for c in plan.changes}
        self._needed_by: dict[int, list[int]] = {c.id: [] for c in plan.changes}
        for change in plan.changes:
            for required in change.requires:
                if required in self._needed_by:
                    self._needed_by[required].append(change.id)
        destructive = {c.id for c in plan.changes if c.destructive}
        left_out = plan.closure_without(destructive)
        self._ticked = {c.id for c in plan.changes} - left_out
        # unticked only because something they need is: they come back when it is ticked again
        self._auto = left_out - destructive
        self._default_out = set(destructive)
        self._touched: set[int] = set()
        self._groups, self._group_of = self._make_groups()
        self._change_notes, self._group_notes, self._other_notes = self._attach_findings()
        self._groups = [
            Group(g.key, g.kind, g.title, g.change_ids, tuple(self._group_notes.get(g.key, ()))) for g in self._groups]
        self._group_by_key = {g.key: g for g in self._groups}

    # -- ticks -------------------------------------------------------------------------------------------

    @property
    def ticked(self) -> frozenset[int]:
        """Ids of the ticked changes."""
        return frozenset(self._ticked)

    def ticked_ids(self) -> list[int]:
        """Ids of the ticked changes, in plan order (what `apply_plan(ids=...)` takes)."""
        return [c.id for c in self.plan.changes if c.id in self._ticked]

    def is_ticked(self, change_id: int) -> bool:
        """True when the change is ticked."""
        return change_id in self._ticked

    def change(self, change_id: int) -> Change:
        """The change with this id."""
        return self._by_id[change_id]

    def set_ticked(self, change_id: int, ticked: bool) -> Toggle:
        """Tick or untick one change (see `tick` and `untick`)."""
        return self.tick(change_id) if ticked else self.untick(change_id)

    def untick(self, change_id: int) -> Toggle:
        """Leave a change out, and with it every change that needs it (directly or not)."""
        self._touched.add(change_id)
        if change_id not in self._ticked:
            self._auto.discard(change_id)  # the person confirmed they want it out
            return Toggle()
        out = self.plan.closure_without([change_id]) & self._ticked
        self._ticked -= out
        self._auto.discard(change_id)
        others = [c for c in self.plan.changes if c.id in out and c.id != change_id]
        self._auto.update(c.id for c in others)
        message = ""
        if others:
            message = (f"Also unticked {plural(len(others), 'change')} that need “{self._by_id[change_id].title}”: "
                       + "; ".join(c.title for c in others) + ".")
        return Toggle(unticked=tuple(c.id for c in self.plan.changes if c.id in out), message=message)

    def tick(self, change_id: int) -> Toggle:
        """Include a change, with every change it needs, and bring back what was left out only for its sake."""
        self._touched.add(change_id)
        if change_id in self._ticked:
            return Toggle()
        needed = self._requirements(change_id) - self._ticked
        self._ticked |= needed | {change_id}
        self._auto -= needed | {change_id}
        restored: list[int] = []
        grew = True
        while grew:
            grew = False
            for change in self.plan.changes:
                if change.id in self._auto and all(r in self._ticked for r in change.requires if r in self._by_id):
                    self._auto.discard(change.id)
                    self._ticked.add(change.id)
                    restored.append(change.id)
                    grew = True
        parts = []
        if needed:
            parts.append(f"Also ticked {plural(len(needed), 'change')} it needs: "
                         + "; ".join(c.title for c in self.plan.changes if c.id in needed) + ".")
        if restored:
            parts.append("Ticked again: " + "; ".join(c.title for c in self.plan.changes if c.id in restored) + ".")
        changed = needed | {change_id} | set(restored)
        return Toggle(ticked=tuple(c.id for c in self.plan.changes if c.id in changed), message=" ".join(parts))

    def _requirements(self, change_id: int) -> set[int]:
        """Every change `change_id` needs, directly or through others."""
        out: set[int] = set()
        stack = list(self._by_id[change_id].requires)
        while stack:
            current = stack.pop()
            if current in out or current not in self._by_id:
                continue
            out.add(current)
            stack.extend(self._by_id[current].requires)
        return out

    def dependents(self, change_id: int) -> list[int]:
        """Ids of the changes that need this one directly, in plan order."""
        return list(self._needed_by.get(change_id, []))

    def left_out_by_default(self, change_id: int) -> bool:
        """True for a destructive change that is unticked because nobody has ticked it yet."""
        return (change_id not in self._ticked and change_id in self._default_out and change_id not in self._touched
                and all(r in self._ticked for r in self._by_id[change_id].requires if r in self._by_id))

    def reason(self, change_id: int) -> str:
        """Why a change is unticked, in plain words ("" when it is ticked)."""
        if change_id in self._ticked:
            return ""
        change = self._by_id[change_id]
        missing = [self._by_id[r].title for r in change.requires if r in self._by_id and r not in self._ticked]
        if missing:
            return "Unticked because it needs: " + "; ".join(missing) + "."
        if self.left_out_by_default(change_id):
            return ("Unticked by default because it deletes data. Tick it to include it; you will be asked to type"
                    " a confirmation before applying.")
        return "You left this change out."

    # -- confirmation ------------------------------------------------------------------------------------

    def destructive_ticked(self) -> list[Change]:
        """The ticked changes that lose data, in plan order."""
        return [c for c in self.plan.changes if c.id in self._ticked and c.destructive]

    def confirmation_phrase(self) -> str:
        """What a person must type before the ticked destructive changes may run ("" when none is ticked).

        One destructive change: the name of what it destroys (`email`); several: `delete data in N places`.
        The phrase changes when the ticked destructive changes do, so an earlier confirmation does not carry
        over to a different set.
        """
        chosen = self.destructive_ticked()
        if not chosen:
            return ""
        if len(chosen) == 1:
            return self.object_name(chosen[0])
        return f"delete data in {len(chosen)} places"

    def confirmed(self, typed: str) -> bool:
        """True when `typed` confirms the ticked destructive changes (always True when there are none)."""
        phrase = self.confirmation_phrase()
        return not phrase or typed.strip() == phrase

    def blocker(self, typed: str = "") -> str:
        """Why the ticked changes cannot be applied yet ("" when they can)."""
        if self.plan.empty:
            return "Nothing to apply: the database already matches the desired schema."
        if not self._ticked:
            return "Tick at least one change to apply."
        if not self.confirmed(typed):
            return f"Type “{self.confirmation_phrase()}” to confirm the changes that delete data."
        return ""

    def object_name(self, change: Change) -> str:
        """The bare name of the object a change touches (`email` for a column of public.customers)."""
        obj = self._object(change.key)
        if obj is not None:
            return obj.name
        tail = change.key.split(":", 1)[-1]
        return tail.rsplit(".", 1)[-1].strip('"')

    # -- groups and notes --------------------------------------------------------------------------------

    @property
    def groups(self) -> list[Group]:
        """The changes grouped by top-level object, groups in the order their first change runs."""
        return list(self._groups)

    def group_of(self, change_id: int) -> Group:
        """The group a change is shown in."""
        return self._group_by_key[self._group_of[change_id]]

    def notes(self, change_id: int) -> list[Note]:
        """The change's hazards (most serious first) and the lint findings about what it creates or changes."""
        change = self._by_id[change_id]
        hazards = sorted((hazard_note(h) for h in change.hazards), key=lambda n: _LEVEL_RANK[n.level])
        return [*hazards, *self._change_notes.get(change_id, [])]

    @property
    def other_notes(self) -> list[Note]:
        """Lint findings about objects no change of this plan touches."""
        return list(self._other_notes)

    def summary(self) -> str:
        """One line: how many changes, ticked, destructive, and checks."""
        total = len(self.plan.changes)
        if not total:
            return "No changes: the database already matches the desired schema."
        destructive = sum(1 for c in self.plan.changes if c.destructive)
        checks = len(self.findings)
        parts = [plural(total, "change"), f"{len(self._ticked):,} ticked"]
        if destructive:
            parts.append(f"{plural(destructive, 'deletes', 'delete')} data")
        if checks:
            parts.append(plural(checks, "check finding"))
        return " · ".join(parts)

    def _object(self, key: str) -> DbObject | None:
        for catalog in (self.desired, self.plan.live):
            if catalog is not None:
                obj = catalog.get(key)
                if obj is not None:
                    return obj
        return None

    def _top(self, key: str) -> DbObject | None:
        """The top-level object (no parent) that owns `key`, looked up in the desired then the live catalog."""
        for catalog in (self.desired, self.plan.live):
            if catalog is None:
                continue
            obj = catalog.get(key)
            seen = 0
            while obj is not None and obj.parent and seen < 16:
                parent = catalog.get(obj.parent)
                if parent is None:
                    break
                obj = parent
                seen += 1
            if obj is not None:
                return obj
        return None

    def _make_groups(self) -> tuple[list[Group], dict[int, str]]:
        members: dict[str, list[int]] = {}
        info: dict[str, tuple[str, str]] = {}
        group_of: dict[int, str] = {}
        for change in self.plan.changes:
            top = self._top(change.key)
            if top is not None:
                key, kind = top.key, top.kind
            else:
                key, kind = change.key, change.kind
            members.setdefault(key, []).append(change.id)
            info.setdefault(key, (kind, key.split(":", 1)[-1]))
            group_of[change.id] = key
        groups = [Group(key, info[key][0], info[key][1], tuple(ids)) for key, ids in members.items()]
        return groups, group_of

    def _attach_findings(self) -> tuple[dict[int, list[Note]], dict[str, list[Note]], list[Note]]:
        by_key = {c.key: c for c in self.plan.changes}
        on_change: dict[int, list[Note]] = {}
        on_group: dict[str, list[Note]] = {}
        other: list[Note] = []
        group_keys = {g.key for g in self._groups}
        for finding in sorted(self.findings, key=Finding.sort_key):
            note = finding_note(finding)
            change = self._change_carrying(finding.object_key, by_key)
            if change is not None:
                on_change.setdefault(change.id, []).append(note)
                continue
            top = self._top(finding.object_key)
            if top is not None and top.key in group_keys:
                on_group.setdefault(top.key, []).append(note)
            else:
                other.append(note)
        return on_change, on_group, other

    def _change_carrying(self, key: str, by_key: dict[str, Change]) -> Change | None:
        """The change that makes the object `key` as it will be: its own, or the create of an ancestor."""
        if key in by_key and by_key[key].action != "drop":
            return by_key[key]
        catalog = self.desired
        obj = catalog.get(key) if catalog is not None else None
        while catalog is not None and obj is not None and obj.parent:
            owner = by_key.get(obj.parent)
            if owner is not None and owner.action in {"create", "replace"}:
                return owner
            obj = catalog.get(obj.parent)
        return None

    # -- DDL -------------------------------------------------------------------------------------------

    def ddl_pair(self, change_id: int) -> tuple[str, str]:
        """The live and the desired DDL of the top-level object the change touches ("" where it is absent)."""
        change = self._by_id[change_id]
        top = self._top(change.key)
        key = top.key if top is not None else change.key
        live = object_ddl(self.plan.live, key) if self.plan.live is not None else ""
        desired = object_ddl(self.desired, key) if self.desired is not None else ""
        return live, desired

    def sql(self, change_id: int) -> str:
        """The statements one change runs, each ending in `;`."""
        return "\n".join(s.rstrip().rstrip(";") + ";" for s in self._by_id[change_id].statements)


_LEVEL_RANK = {NoteLevel.DANGER: 0, NoteLevel.WARNING: 1, NoteLevel.INFO: 2}


def _descendants(catalog: Catalog, key: str) -> list[DbObject]:
    children: dict[str, list[DbObject]] = {}
    for obj in catalog:
        if obj.parent:
            children.setdefault(obj.parent, []).append(obj)
    out: list[DbObject] = []
    stack = [key]
    while stack:
        for child in children.get(stack.pop(), []):
            out.append(child)
            stack.append(child.key)
    return out


def _statements_text(statements: Iterable[str]) -> list[str]:
    return [s.rstrip().rstrip(";") + ";" for s in statements]


def object_ddl(catalog: Catalog | None, key: str) -> str:
    """The DDL that creates object `key` as `catalog` has it, with everything it owns ("" if absent).

    A table comes with its columns (in one CREATE TABLE), then its constraints, indexes, row level
    security, policies, triggers, privileges and comments, in a fixed order, so two versions of one table
    can be compared line by line.
    """
    if catalog is None:
        return ""
    obj = catalog.get(key)
    if obj is None:
        return ""
    try:
        parts: list[str] = []
        owned = _descendants(catalog, key)
        columns = [o for o in owned if o.kind == "column" and o.parent == key]
        parts.extend(_statements_text(ddl.create(catalog, obj, catalog, columns=columns).statements))
        rest = [o for o in owned if not (o.kind == "column" and o.parent == key)]
        rest.sort(key=lambda o: (_KIND_RANK.get(o.kind, len(KIND_ORDER)), o.key))
        for child in rest:
            if child.kind == "column":
                continue
            parts.extend(_statements_text(ddl.create(catalog, child, catalog).statements))
    except (KeyError, TypeError, ValueError):
        return f"-- Studio cannot show the definition of {key.split(':', 1)[-1]}."
    return "\n".join(parts)


def suggested_migration_name(titles: Sequence[str]) -> str:
    """A migration name that says what it does, from its changes' titles (lower case and underscores):
    one change names itself ("drop_column_posts_cover_image"), more name the most common kind of change
    ("create_policies_and_more"); "" when there is none."""
    if not titles:
        return ""

    def slug(text: str) -> str:
        text = re.sub(r"\bpublic\.", "", text.lower())
        return re.sub(r"[^a-z0-9]+", "_", text).strip("_")

    if len(titles) == 1:
        return slug(titles[0])[:80].rstrip("_")
    counts: dict[tuple[str, str], int] = {}
    for title in titles:
        action, _, rest = title.partition(" ")
        kind = rest.split(" ", 1)[0] if rest else ""
        counts[(action, kind)] = counts.get((action, kind), 0) + 1
    (action, kind), count = max(counts.items(), key=lambda item: item[1])
    kinds = {"index": "indexes", "policy": "policies"}
    named = slug(f"{action} {kinds.get(kind, kind + 's') if count > 1 else kind}")
    return named if len(counts) == 1 and count == len(titles) else f"{named}_and_more"
