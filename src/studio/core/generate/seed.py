"""Sample data for an AppModel: `supabase/seed.sql`.

Three sample users (Ada, Grace, Linus; Grace has the admin role in app_metadata), two teams when the model
uses teams, and three to five rows per entity with values that read like real data (chosen by the field's
name and type), links that point at existing rows (a private row at a row of the same owner where there is
one; a one-to-one link never at the same row twice), and every constraint and policy satisfied. The seed
runs as a superuser without a JWT, so `owner_id` and `team_id` are given explicitly.

Everything is derived from the model (ids are name-based UUIDs, choices come from a random generator seeded
with the model's name), so the same model always gives the same file.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

from studio.core.generate.sql import creation_order, require_valid
from studio.core.generate.tables import Column, TableShape
from studio.core.model import naming
from studio.core.model.appmodel import Access, AppModel, FieldType
from studio.core.sqltext import qualified, quote_ident, quote_literal, quote_text_array

_NAMESPACE = uuid.UUID("5e3d1c9a-7b2f-4c61-9a0e-2f6d8b4a1c37")


@dataclass(frozen=True)
class SampleUser:
    """A user the seed creates in auth.users."""

    id: str
    email: str
    name: str
    admin: bool = False


#: The seed's users, in order; rows are owned by them in turn.
SAMPLE_USERS = (
    SampleUser("a1ce0000-0000-4000-8000-000000000001", "ada@example.com", "Ada Lovelace"),
    SampleUser("a1ce0000-0000-4000-8000-000000000002", "grace@example.com", "Grace Hopper", admin=True),
    SampleUser("a1ce0000-0000-4000-8000-000000000003", "linus@example.com", "Linus Torvalds"),
)
ADA, GRACE, LINUS = SAMPLE_USERS


@dataclass(frozen=True)
class SampleTeam:
    """A team the seed creates: its owner (made a member by the teams trigger) and its other members."""

    id: str
    name: str
    owner: SampleUser
    members: tuple[SampleUser, ...]


#: The seed's teams when the model uses teams: Ada and Linus share one, Grace has her own.
SAMPLE_TEAMS = (
    SampleTeam("7ea70000-0000-4000-8000-000000000001", "Acme Design", ADA, (ADA, LINUS)),
    SampleTeam("7ea70000-0000-4000-8000-000000000002", "Blue Harbor Labs", GRACE, (GRACE,)),
)

_ROWS = (3, 4, 5)

# -- realistic values --------------------------------------------------------------------------------------------

_PEOPLE = ("Margaret Hamilton", "Alan Turing", "Katherine Johnson", "Edsger Dijkstra", "Barbara Liskov")
_NAMES_BY_ENTITY: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("categor", "genre", "topic", "section"), ("Books", "Electronics", "Garden", "Kitchen", "Toys")),
    (("tag", "label", "keyword"), ("urgent", "design", "backend", "research", "follow-up")),
    (("project", "board", "workspace"), ("Website redesign", "Mobile app", "Customer onboarding", "Q3 launch",
                                         "Data migration")),
    (("service", "treatment", "class", "course"), ("Haircut", "Deep tissue massage", "Consultation",
                                                   "Yoga class", "Career coaching")),
    (("product", "item", "listing"), ("Vintage road bike", "Oak dining table", "Noise-cancelling headphones",
                                      "Children's bookshelf", "Espresso machine")),
    (("team", "group", "club"), ("Design crew", "Night owls", "Platform team", "Book club", "Support heroes")),
    (("city", "place", "location", "venue"), ("Lisbon", "Edinburgh", "Kyoto", "Montréal", "Cape Town")),
    (("compan", "organi", "customer", "client", "vendor", "supplier"), ("Northwind Traders", "Globex",
                                                                         "Initech", "Umbrella Supplies",
                                                                         "Stark Industries")),
)
_TITLES_BY_ENTITY: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("listing", "product", "item", "offer"), ("Vintage road bike", "Oak dining table", "Noise-cancelling headphones",
                                               "Children's bookshelf", "Espresso machine")),
    (("list",), ("Groceries", "Work", "Holiday plans", "Reading list", "Home projects")),
    (("todo", "task", "chore", "ticket", "issue"), ("Buy oat milk", "Call the plumber", "Renew passport",
                                                   "Prepare slides for Monday", "Water the plants")),
    (("post", "article", "story", "entr", "page", "note"), ("Hello, world", "Ten tips for better sleep",
                                                           "What we learned shipping v2", "A walk through Lisbon",
                                                           "Why we moved to Postgres")),
    (("event", "meeting", "session", "booking"), ("Team lunch", "Quarterly planning", "Design review",
                                                  "Product demo", "Retrospective")),
    (("book", "film", "movie", "album"), ("The Left Hand of Darkness", "Middlemarch", "Kindred", "Dune",
                                          "The Remains of the Day")),
)
_TITLES = ("Getting started", "Weekly review", "Spring update", "Project kickoff", "Final notes")
_SENTENCES = (
    "Could you let me know whether the Saturday morning slot is still free? Thanks!",
    "Remember to bring the spare keys and the charger.",
    "We tried three approaches before settling on this one; the notes below explain why.",
    "Great write-up — the part about indexes finally made it click for me.",
    "Arrives in the original box, barely used, with all the accessories.",
)
_COLOURS = ("teal", "amber", "violet", "crimson", "olive")
_TEXT_HINTS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("colour", "color"), _COLOURS),
    (("city", "town"), ("Lisbon", "Edinburgh", "Kyoto", "Montréal", "Cape Town")),
    (("country",), ("Portugal", "Scotland", "Japan", "Canada", "South Africa")),
    (("address", "street"), ("12 Rose Street", "4 Harbour Road", "77 Maple Avenue", "9 Mill Lane",
                             "310 King Street")),
    (("phone", "mobile"), ("+44 20 7946 0018", "+1 202 555 0143", "+351 21 555 0199", "+81 3 5550 1234",
                           "+27 21 555 0110")),
    (("url", "website", "link", "homepage"), ("https://example.com", "https://example.org/about",
                                              "https://example.net/blog", "https://example.com/shop",
                                              "https://example.org/contact")),
    (("currency",), ("EUR", "USD", "GBP", "JPY", "CAD")),
    (("language", "locale"), ("en", "pt", "fr", "ja", "de")),
    (("author", "person", "contact", "customer"), _PEOPLE),
    (("subject", "headline", "summary"), ("Question about my order", "Opening hours", "Partnership idea",
                                          "Feedback on the new app", "Booking for a group")),
)
_COMMENTS = (
    "Great write-up — the part about indexes finally made it click for me.",
    "Thanks for sharing! Do you have the slides somewhere?",
    "I tried this at home and it worked first time.",
    "Small typo in the second paragraph, otherwise spot on.",
    "Bookmarked. Looking forward to part two!",
)
_NOTES = (
    "Remember to bring the spare keys and the charger.",
    "Ask for the window seat if there is one.",
    "Check the receipt before Friday.",
    "Running ten minutes late, sorry!",
    "Second floor, the door on the left.",
)
_LONG_HINTS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("comment", "review", "reply", "feedback"), _COMMENTS),
    (("note", "remark", "instruction"), _NOTES),
    (("body", "content", "text", "article"), (
        "Last spring we moved our whole stack to Postgres. Here is what went well, what surprised us, and "
        "what we would do differently next time.",
        "Sleep is a skill. Keep the room cool, put the phone in another room, and get up at the same time "
        "every day, even at weekends.",
        "Version two took eight months. The biggest lesson: ship the boring parts first.",
        "We started at the castle and wandered down through Alfama, stopping for pastéis de nata on the way.",
        "Thanks for reading! Comments are open below.",
    )),
    (("question", "message", "enquiry", "inquiry", "request"), (
        "Hello! Could you tell me whether you have availability next Tuesday afternoon?",
        "I would like to know more about group discounts for a team of eight.",
        "Is there parking near the studio, or should I come by tram?",
        "My order arrived damaged — what is the best way to return it?",
        "Do you offer gift vouchers? It is for my sister's birthday.",
    )),
)
_INT_HINTS: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...] = (
    (("minute", "duration"), (30, 45, 60, 90, 60)),
    (("quantity", "qty", "count", "amount", "number"), (1, 2, 1, 3, 2)),
    (("hour",), (1, 2, 4, 8, 3)),
    (("year",), (2019, 2021, 2022, 2023, 2024)),
    (("age",), (34, 27, 45, 19, 62)),
    (("rating", "stars", "score"), (5, 4, 3, 5, 4)),
    (("position", "order", "rank", "sort", "index"), (1, 2, 3, 4, 5)),
    (("stock", "capacity", "seats", "size"), (12, 5, 20, 8, 40)),
)
_DECIMAL_HINTS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("price", "cost", "amount", "total", "fee"), ("12.50", "24.00", "7.99", "149.00", "35.00")),
    (("hour", "estimate", "duration"), ("1.5", "3", "0.5", "8", "2")),
    (("weight", "kg"), ("0.75", "2.4", "12", "1.1", "5.5")),
    (("rating", "score"), ("4.5", "3.8", "5", "4.2", "2.9")),
    (("lat",), ("38.7223", "55.9533", "35.0116", "45.5019", "-33.9249")),
    (("lon", "lng"), ("-9.1393", "-3.1883", "135.7681", "-73.5674", "18.4241")),
)
_PERSON_UUID_HINTS = ("assign", "user", "owner", "author", "member", "customer", "reviewer", "created_by")
_EXTENSIONS = {"photo": "jpg", "image": "jpg", "picture": "jpg", "avatar": "png", "cover": "jpg", "logo": "png",
               "video": "mp4", "audio": "mp3", "pdf": "pdf", "document": "pdf", "invoice": "pdf", "receipt": "pdf"}
_ARRAYS = (("home", "weekend"), ("work",), ("urgent", "errands"), ("ideas", "later"), ("family",))
_JSON = ({"colour": "blue", "size": "M"}, {"colour": "black", "size": "L", "condition": "like new"},
         {"material": "oak"}, {"size": "S", "gift": True}, {"colour": "green", "tags": ["sale", "new"]})
_BASE_DAY = date(2025, 3, 14)
_BASE_TIME = datetime(2025, 3, 14, 9, 0, 0)


_T = TypeVar("_T")


def _pick(hints: Sequence[tuple[tuple[str, ...], Sequence[_T]]], *names: str) -> Sequence[_T] | None:
    """The values of the first hint whose keywords occur in one of `names` (tried in order)."""
    for name in names:
        for keys, values in hints:
            if any(k in name for k in keys):
                return values
    return None


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "item"


# -- the rows --------------------------------------------------------------------------------------------------


def _links_to(shape: TableShape, *, required_only: bool) -> set[str]:
    """The other entities `shape` links to (only through required links with `required_only`)."""
    return {c.references.table for c in shape.columns if c.role == "link" and c.references is not None
            and (not required_only or not c.nullable)} - {shape.name}


@dataclass
class _Row:
    """One sample row: its values as SQL literals (by column), the texts chosen, and who/what it belongs to."""

    values: dict[str, str]
    texts: dict[str, str] = field(default_factory=dict)
    owner: SampleUser | None = None
    team: SampleTeam | None = None
    id: str = ""


@dataclass
class _Table:
    shape: TableShape
    rows: list[_Row] = field(default_factory=list)
    updates: list[tuple[str, str, str]] = field(default_factory=list)  # (row id, column, value)


class _Seeder:
    """Builds the rows of every table of a model, in insertion order."""

    def __init__(self, model: AppModel) -> None:
        self.model = model
        self.rng = random.Random(f"studio-seed:{model.name}")
        shapes, _ = creation_order(model)
        self.shapes = {s.name: s for s in shapes}
        self.tables: dict[str, _Table] = {}
        self.order = self._insert_order(shapes)
        self.pending_links: list[tuple[_Table, Column]] = []

    def _insert_order(self, shapes: list[TableShape]) -> list[TableShape]:
        """Entities so that every required link's target is filled first (validation rules out circles)."""
        entities = [s for s in shapes if s.entity is not None]
        done: set[str] = set()
        ordered: list[TableShape] = []
        while entities:
            ready = next((s for s in entities if _links_to(s, required_only=False) <= done), None)
            if ready is None:
                ready = next(s for s in entities if _links_to(s, required_only=True) <= done)
            entities.remove(ready)
            ordered.append(ready)
            done.add(ready.name)
        return ordered

    def build(self) -> None:
        """Fill `tables` with every entity's rows, the links pointing forward, then the join tables' rows."""
        for shape in self.order:
            self._entity_rows(shape)
        for table, column in self.pending_links:
            assert column.references is not None
            self._point(table, column, self.tables[column.references.table], deferred=True)
        for shape in self.shapes.values():
            if shape.link is not None:
                self._join_rows(shape)

    # -- entity rows ----------------------------------------------------------------------------------------

    def _capacity(self, shape: TableShape) -> int:
        """How many rows the table can take: unique required columns with few possible values limit it."""
        limit = self.rng.choice(_ROWS)
        for column in shape.columns:
            if not column.unique or column.nullable:
                continue
            if column.kind is FieldType.BOOLEAN:
                limit = min(limit, 2)
            elif column.kind is FieldType.ENUM:
                limit = min(limit, len(column.enum_values))
            elif column.role == "link" and column.references is not None:
                target = self.tables.get(column.references.table)
                if target is not None:
                    limit = min(limit, len(target.rows))
        return max(limit, 1)

    def _entity_rows(self, shape: TableShape) -> None:
        table = _Table(shape)
        self.tables[shape.name] = table
        count = self._capacity(shape)
        for index in range(count):
            row = _Row(values={}, id=str(uuid.uuid5(_NAMESPACE, f"{self.model.name}/{shape.name}/{index}")))
            if shape.access is Access.TEAM:
                row.team = SAMPLE_TEAMS[index % len(SAMPLE_TEAMS)]
                row.owner = row.team.members[(index // len(SAMPLE_TEAMS)) % len(row.team.members)]
            elif shape.access is not None and shape.access.has_owner:
                row.owner = SAMPLE_USERS[index % len(SAMPLE_USERS)]
            table.rows.append(row)
        for column in shape.columns:
            if column.role == "link":
                self._link_values(table, column)
                continue
            seen: set[str] = set()
            for index, row in enumerate(table.rows):
                value = self._value(shape, column, index, row)
                if column.unique and value != "null":
                    value = self._distinct(shape, column, index, row, value, seen)
                    seen.add(value)
                row.values[column.name] = value

    def _distinct(self, shape: TableShape, column: Column, index: int, row: _Row, value: str,
                  seen: set[str]) -> str:
        attempt = index
        while value in seen:
            attempt += 5
            value = self._value(shape, column, attempt, row)
        return value

    def _link_values(self, table: _Table, column: Column) -> None:
        ref = column.references
        assert ref is not None
        target = self.tables.get(ref.table)
        if ref.table == table.shape.name:
            target = table
        later = target is None
        if later:
            # Target filled after this table (a circle of optional links): set by an UPDATE at the end.
            for row in table.rows:
                row.values[column.name] = "null"
            self.pending_links.append((table, column))
            return
        assert target is not None
        self._point(table, column, target, deferred=False)

    def _point(self, table: _Table, column: Column, target: _Table, *, deferred: bool) -> None:
        used: set[str] = set()
        for index, row in enumerate(table.rows):
            candidates = [t for t in target.rows if t is not row and not (column.unique and t.id in used)]
            if not candidates:
                value = "null"
            else:
                pool = [t for t in candidates if _belongs(row, t, target.shape)] or candidates
                chosen = pool[index % len(pool)] if not column.unique else pool[0]
                used.add(chosen.id)
                value = f"{quote_literal(chosen.id)}::uuid"
            if deferred:
                if value != "null":
                    table.updates.append((row.id, column.name, value))
            else:
                row.values[column.name] = value

    # -- join rows ------------------------------------------------------------------------------------------

    def _join_rows(self, shape: TableShape) -> None:
        link = shape.link
        assert link is not None
        table = _Table(shape)
        self.tables[shape.name] = table
        sources, targets = self.tables[link.source].rows, self.tables[link.target].rows
        for index, source in enumerate(sources):
            target_shape = self.tables[link.target].shape
            pool = targets
            if shape.access in (Access.PRIVATE, Access.PUBLIC_READ_OWNER_WRITE, Access.TEAM):
                # The join table's policies let its rows point only at rows the source's user can see.
                pool = [t for t in targets if _belongs(source, t, target_shape)]
            pool = [t for t in pool if t is not source]
            picks = 1 + (index % 2)
            chosen: list[_Row] = []
            for offset in range(len(pool)):
                candidate = pool[(index + offset) % len(pool)]
                if candidate not in chosen:
                    chosen.append(candidate)
                if len(chosen) == picks:
                    break
            for target in chosen:
                values = {shape.columns[0].name: f"{quote_literal(source.id)}::uuid",
                          shape.columns[1].name: f"{quote_literal(target.id)}::uuid"}
                table.rows.append(_Row(values=values))

    # -- values ---------------------------------------------------------------------------------------------

    def _value(self, shape: TableShape, column: Column, index: int, row: _Row) -> str:
        """A realistic value for `column` of the `index`-th row, as an SQL literal."""
        if column.role == "id":
            return f"{quote_literal(row.id)}::uuid"
        if column.role in ("created_at", "updated_at"):
            moment = _BASE_TIME - timedelta(days=30 - index * 2, hours=index)
            return f"{quote_literal(moment.isoformat() + '+00')}::timestamptz"
        if column.role == "owner":
            assert row.owner is not None
            return f"{quote_literal(row.owner.id)}::uuid"
        if column.role == "team":
            assert row.team is not None
            return f"{quote_literal(row.team.id)}::uuid"
        kind = column.kind
        entity = shape.name
        name = column.name
        if column.unique and column.nullable and kind in (FieldType.BOOLEAN, FieldType.ENUM):
            size = 2 if kind is FieldType.BOOLEAN else len(column.enum_values)
            if index >= size:
                return "null"
        if kind is FieldType.ENUM:
            values = column.enum_values
            return f"{quote_literal(values[index % len(values)])}::{column.sql_type}"
        if kind is FieldType.BOOLEAN:
            return "true" if index % 2 == 0 else "false"
        if kind is FieldType.INTEGER:
            ints = _pick(_INT_HINTS, name)
            base = ints[index % len(ints)] if ints else self.rng.randint(1, 100)
            return str(base + (index // 5) * 10)
        if kind is FieldType.DECIMAL:
            decimals = _pick(_DECIMAL_HINTS, name)
            if decimals:
                text = decimals[index % len(decimals)]
                return text if index < 5 else f"{text}{index}"
            return f"{self.rng.randint(100, 99999) / 100:.2f}"
        if kind is FieldType.DATE:
            day = _BASE_DAY + timedelta(days=index * 3 + 1)
            return f"{quote_literal(day.isoformat())}::date"
        if kind is FieldType.TIMESTAMP:
            moment = _BASE_TIME + timedelta(days=index * 2, hours=index * 3)
            return f"{quote_literal(moment.isoformat() + '+00')}::timestamptz"
        if kind is FieldType.UUID:
            if not column.unique and any(h in name for h in _PERSON_UUID_HINTS):
                return f"{quote_literal(SAMPLE_USERS[index % len(SAMPLE_USERS)].id)}::uuid"
            return f"{quote_literal(str(uuid.uuid5(_NAMESPACE, f'{entity}/{name}/{index}')))}::uuid"
        if kind is FieldType.JSON:
            doc = dict(_JSON[index % len(_JSON)])
            if index >= len(_JSON):
                doc["n"] = index
            return f"{quote_literal(json.dumps(doc, ensure_ascii=False, sort_keys=True))}::jsonb"
        if kind is FieldType.TEXT_ARRAY:
            items = list(_ARRAYS[index % len(_ARRAYS)])
            if index >= len(_ARRAYS):
                items.append(str(index))
            return quote_text_array(items)
        if kind is FieldType.FILE:
            extension = next((ext for key, ext in _EXTENSIONS.items() if key in name), "jpg")
            return quote_literal(f"{entity}/{_slug(name)}-{index + 1}.{extension}")
        text = self._text(shape, column, index, row)
        row.texts[column.name] = text
        return quote_literal(text)

    def _text(self, shape: TableShape, column: Column, index: int, row: _Row) -> str:
        entity, name = shape.name, column.name
        suffix = "" if index < 5 else f" {index // 5 + 1}"
        if column.kind is FieldType.LONG_TEXT:
            pool = _pick(_LONG_HINTS[:1], entity) or _pick(_LONG_HINTS, name) or _SENTENCES
            return f"{pool[index % len(pool)]}{suffix}"
        if "email" in name or "mail" in name:
            person = _PEOPLE[index % len(_PEOPLE)].lower().split()
            number = "" if index < 5 else str(index)
            return f"{person[0]}.{person[-1]}{number}@example.com"
        if name == "slug" or name.endswith("_slug"):
            source = next((row.texts[n] for n in ("name", "title") if n in row.texts), None)
            base = _slug(source) if source else f"{_slug(shape.name)}-{index + 1}"
            return base if index < 5 else f"{base}-{index}"
        if name in ("code", "sku") or name.endswith(("_code", "_sku", "_number", "_ref")):
            return f"{name[:3].upper()}-{1001 + index}"
        if "title" in name:
            pool = _pick(_TITLES_BY_ENTITY, entity) or _TITLES
            return f"{pool[index % len(pool)]}{suffix}"
        if name == "name" or name.endswith("_name"):
            pool = _pick(_NAMES_BY_ENTITY, entity) or _PEOPLE
            return f"{pool[index % len(pool)]}{suffix}"
        hinted = _pick(_TEXT_HINTS, name)
        if hinted:
            return f"{hinted[index % len(hinted)]}{suffix}"
        if any(word in name for word in ("note", "description", "comment", "bio", "message", "body")):
            return f"{_SENTENCES[index % len(_SENTENCES)]}{suffix}"
        words = name.replace("_", " ").strip().capitalize() or "Value"
        return f"{words} {index + 1}"


def _belongs(row: _Row, target: _Row, target_shape: TableShape) -> bool:
    """Whether `target` is a row the user (or team) of `row` can see, other than through an admin's rights."""
    access = target_shape.access
    if access is Access.TEAM:
        if row.team is not None:
            return target.team is row.team
        return row.owner is not None and target.team is not None and row.owner in target.team.members
    if access is Access.PRIVATE:
        return row.owner is not None and target.owner is row.owner
    return access in (Access.PUBLIC_READ_OWNER_WRITE, Access.PUBLIC_READ_ADMIN_WRITE)


# -- output ----------------------------------------------------------------------------------------------------


def _insert(table: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    names = ", ".join(quote_ident(c) for c in columns)
    lines = [f"insert into {table} ({names}) values"]
    for index, values in enumerate(rows):
        end = ";" if index == len(rows) - 1 else ","
        lines.append(f"    ({', '.join(values)}){end}")
    return lines


def _users() -> list[str]:
    columns = ["instance_id", "id", "aud", "role", "email", "encrypted_password", "email_confirmed_at",
               "raw_app_meta_data", "raw_user_meta_data", "created_at", "updated_at", "confirmation_token",
               "recovery_token", "email_change_token_new", "email_change"]
    rows = []
    for user in SAMPLE_USERS:
        app_meta: dict[str, object] = {"provider": "email", "providers": ["email"]}
        if user.admin:
            app_meta["role"] = "admin"
        rows.append([
            "'00000000-0000-0000-0000-000000000000'", f"{quote_literal(user.id)}::uuid", "'authenticated'",
            "'authenticated'", quote_literal(user.email), "''", "now()",
            f"{quote_literal(json.dumps(app_meta))}::jsonb",
            f"{quote_literal(json.dumps({'full_name': user.name}))}::jsonb",
            "now()", "now()", "''", "''", "''", "''",
        ])
    lines = _insert("auth.users", columns, rows)
    lines[-1] = lines[-1].removesuffix(";") + "\non conflict (id) do nothing;"
    return lines


def _teams(model: AppModel) -> list[str]:
    teams = qualified(model.schema, naming.TEAMS_TABLE)
    members = qualified(model.schema, naming.MEMBERS_TABLE)
    out = ["-- Teams; the teams trigger makes each owner a member, the others are added here.",
           *_insert(teams, ("id", "name", naming.OWNER),
                    [[f"{quote_literal(t.id)}::uuid", quote_literal(t.name), f"{quote_literal(t.owner.id)}::uuid"]
                     for t in SAMPLE_TEAMS])]
    others = [[f"{quote_literal(t.id)}::uuid", f"{quote_literal(u.id)}::uuid", "'member'"]
              for t in SAMPLE_TEAMS for u in t.members if u is not t.owner]
    if others:
        out += _insert(members, (naming.TEAM, naming.MEMBER_USER, naming.MEMBER_ROLE), others)
    out.append("")
    return out


def seed_sql(model: AppModel) -> str:
    """`supabase/seed.sql`: sample users, teams and rows for every table, satisfying every constraint."""
    require_valid(model)
    seeder = _Seeder(model)
    seeder.build()
    title = " ".join(model.name.split()) or "this app"
    out = [
        f"-- Sample data for {title}, generated by Studio. `supabase db reset` loads it into a local project.",
        "-- It runs as a superuser without a signed-in user, so owners and teams are given explicitly.",
        "-- The sample users have no password (they only own sample rows); grace@example.com is an admin",
        "-- (app_metadata.role = 'admin'). Do not load this file into a production project.",
        "",
        "-- Sample users",
        *_users(),
        "",
    ]
    if model.uses_teams:
        out += _teams(model)
    for shape in [*seeder.order, *(s for s in seeder.shapes.values() if s.link is not None)]:
        table = seeder.tables[shape.name]
        if not table.rows:
            continue
        columns = [c.name for c in shape.columns if c.name in table.rows[0].values]
        heading = f"-- {shape.name}" + (f": {' '.join(shape.entity.label.split())}"
                                         if shape.entity is not None and shape.entity.label.strip() else "")
        out.append(heading)
        out += _insert(qualified(shape.schema, shape.name), columns,
                       [[row.values[c] for c in columns] for row in table.rows])
        out.append("")
    updates = [(seeder.tables[name], u) for name in seeder.tables for u in seeder.tables[name].updates]
    if updates:
        out.append("-- Links to rows added after their source")
        for table, (row_id, column, value) in updates:
            out.append(f"update {qualified(table.shape.schema, table.shape.name)} set {quote_ident(column)} = {value}"
                       f" where id = {quote_literal(row_id)}::uuid;")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"

