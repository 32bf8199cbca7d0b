"""Compare a live catalog with a desired one and produce an ordered Plan.

How it works:
1. Match objects by key: only desired -> create, only live -> drop, both but different -> alter.
2. Some alters cannot be done in place (a view's query, an index's definition): those objects are
   replaced (dropped and created), and so is everything in the live database that depends on them (a view
   on a view, a foreign key on a replaced primary key). Changing a column's type rebuilds the views,
   policies and triggers that use it, because PostgreSQL refuses to alter a column they reference.
3. Children go with their parent: the columns of a new table are part of its CREATE TABLE, grants on a
   new object follow its creation, and the children of a dropped table go with it.
4. Changes are ordered by dependencies: what an object needs in the desired catalog is created first;
   what depends on an object in the live catalog is dropped (or altered away) first. Ties are broken by
   a fixed kind order and the key, so the same inputs always give the same plan.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections import defaultdict
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from studio.core.schema import ddl
from studio.core.schema.bulk import paused_gc
from studio.core.schema.catalog import KIND_ORDER, Catalog, DbObject
from studio.core.schema.normalize import supported_privileges, view_definition_key
from studio.core.schema.plan import Change, Hazard, HazardKind, Plan, PlanOptions
from studio.core.sqltext import quote_ident
from studio.core.words import plural

# Kinds that can be dropped and created again without losing data, to rebuild what depends on a change.
_REBUILDABLE = frozenset({"view", "matview", "policy", "trigger", "index", "constraint", "function", "grant"})
# What must be rebuilt when a column's type changes (PostgreSQL rebuilds indexes and constraints itself).
_REBUILT_ON_TYPE_CHANGE = frozenset({"view", "matview", "policy", "trigger"})
# Children created together with their parent (folded into the parent's change).
_FOLDED_INTO_PARENT_CREATE = frozenset({"column", "grant"})
# Kinds whose new objects receive default privileges, and the privilege object type of each.
_GRANT_OBJECT_TYPES = {"table": "TABLE", "view": "TABLE", "matview": "TABLE", "sequence": "SEQUENCE",
                       "function": "FUNCTION", "schema": "SCHEMA"}
# Extensions every Supabase project has in its managed schemas: never mentioned when absent from the files.
_PLATFORM_EXTENSIONS = frozenset({"pg_graphql", "pg_stat_statements", "pgcrypto", "uuid-ossp", "supabase_vault",
                                  "pgsodium", "pgjwt", "pg_net", "pg_cron", "plpgsql"})
_KIND_RANK = {kind: index for index, kind in enumerate(KIND_ORDER)}
_VERBS = {"create": "Create", "drop": "Drop", "alter": "Change"}

_KIND_WORDS = {
    "schema": "schema", "extension": "extension", "enum": "enum type", "domain": "domain",
    "composite": "composite type", "sequence": "sequence", "sequence_owner": "sequence ownership",
    "function": "function", "table": "table", "column": "column", "constraint": "constraint",
    "index": "index", "view": "view", "matview": "materialized view", "trigger": "trigger",
    "policy": "policy", "grant": "privileges", "publication_table": "realtime publication of",
}


def describe(obj: DbObject) -> str:
    """A person's name for an object: `table public.todos`, `privileges on public.todos for anon`."""
    kind = obj.kind
    if kind == "grant":
        column = f" ({obj.attrs['column']})" if obj.attrs.get("column") else ""
        return f"privileges on {obj.attrs['object']}{column} for {obj.attrs['grantee']}"
    if kind == "publication_table":
        return f"{_KIND_WORDS[kind]} {obj.attrs['table']}"
    return f"{_KIND_WORDS.get(kind, kind)} {obj.key.split(':', 1)[1]}"


def diff(live: Catalog, desired: Catalog, options: PlanOptions | None = None) -> Plan:
    """The plan that turns `live` into `desired`. Pure: row counts of hazards are filled in by the planner."""
    with paused_gc():
        return _Differ(live, desired, options or PlanOptions()).run()


class _Differ:
    def __init__(self, live: Catalog, desired: Catalog, options: PlanOptions) -> None:
        self.live = live
        self.desired = desired
        self.options = options
        self.not_handled: list[str] = []
        self.changes: list[Change] = []
        self.create_change: dict[str, Change] = {}  # desired key -> change that creates/alters it
        self.drop_change: dict[str, Change] = {}  # live key -> change that drops it (explicitly or with parent)
        self.alter_change: dict[str, Change] = {}
        self.live_change: dict[str, Change] = {}  # live key -> any change that touches it
        self.before: dict[int, dict[int, Change]] = defaultdict(dict)  # id(change) -> changes that precede it
        self.extra_live_changes: list[tuple[str, Change]] = []  # more changes that release a live object's deps
        self.default_users: set[str] = set()  # live columns whose default uses a dropped or re-created object
        self.defaults_reset: set[str] = set()  # columns whose default is taken off by a change of its own

    # -- classification ------------------------------------------------------------------------------------

    def run(self) -> Plan:
        live, desired = self.live, self.desired
        created = [k for k in desired.objects if k not in live.objects]
        dropped = {k for k in live.objects if k not in desired.objects}
        altered: dict[str, ddl.Step] = {}
        replaced: set[str] = set()
        type_changed: set[str] = set()
        conc = self.options.concurrent_indexes
        live_objects, desired_objects = live.objects, desired.objects
        # the keys of both catalogs, found by walking the smaller one (the order does not matter: what is
        # collected here is sorted before it is used)
        if len(live_objects) <= len(desired_objects):
            common = [key for key in live_objects if key in desired_objects]
        else:
            common = [key for key in desired_objects if key in live_objects]
        for key in common:
            old, new = self._comparable(live_objects[key]), self._comparable(desired_objects[key])
            if _same(old, new):
                continue
            step = ddl.alter(live, desired, old, new, concurrent_indexes=conc)
            self.not_handled.extend(step.not_handled)
            if step.replace:
                replaced.add(key)
            elif step.statements:
                altered[key] = step
                if new.kind == "column" and (old.attrs["type"] != new.attrs["type"]
                                             or old.attrs["collation"] != new.attrs["collation"]):
                    type_changed.add(key)
        replaced |= self._rebuild_dependents(replaced, type_changed, dropped)
        # columns whose default uses something dropped or re-created: the default comes off first
        defaults_reset = {k for k in self.default_users if k in desired.objects and k not in replaced
                          and live.objects[k].attrs["default"] is not None}
        for key in replaced:
            altered.pop(key, None)

        # Objects that disappear with their parent need no statement of their own.
        implicit_drop: dict[str, str] = {}
        for key in sorted(dropped | replaced, key=lambda k: _depth(live, k)):
            for descendant in self._descendants(key):
                if descendant in dropped or descendant in replaced:
                    implicit_drop[descendant] = key
        # Children created with their parent (columns of new tables, grants of new objects).
        folded: dict[str, list[DbObject]] = defaultdict(list)
        created_set = set(created) | replaced
        to_create = created + sorted(replaced)
        for key in to_create:
            obj = desired_objects[key]
            if obj.kind in _FOLDED_INTO_PARENT_CREATE and obj.parent in created_set:
                folded[obj.parent].append(obj)

        folded_keys = {o.key for objs in folded.values() for o in objs}
        for key in sorted(dropped | replaced):
            if key in implicit_drop:
                continue
            obj = live.objects[key]
            if key in dropped and ddl.extension_is_managed(obj):
                if obj.name not in _PLATFORM_EXTENSIONS:
                    self.not_handled.append(
                        f"extension {obj.name} is not in the desired schema but stays installed: Studio never drops"
                        f" extensions in the Supabase-managed schema {obj.attrs['schema']}; drop it yourself if"
                        " you mean to")
                continue
            step = ddl.drop(live, obj, concurrent_indexes=conc)
            self.not_handled.extend(step.not_handled)
            change = self._add("drop", obj, step)
            self.drop_change[key] = change
            self.live_change[key] = change
        for gone, parent in implicit_drop.items():
            root = parent
            while root in implicit_drop:
                root = implicit_drop[root]
            if root in self.drop_change:
                self.drop_change[gone] = self.drop_change[root]
                self.live_change[gone] = self.drop_change[root]
        create_change = self.create_change
        no_children: list[DbObject] = []
        for key in to_create:
            if key in folded_keys:
                continue
            obj = desired_objects[key]
            children = folded.get(key, no_children)
            columns = [c for c in children if c.kind == "column"] if children else no_children
            step = ddl.create(desired, obj, live, concurrent_indexes=conc, columns=columns)
            for child in columns:
                for grandchild in folded.get(child.key, no_children):
                    step.statements.extend(ddl.create(desired, grandchild, live).statements)
            if obj.kind in _GRANT_OBJECT_TYPES:
                step.statements.extend(self._initial_grants(obj, [c for c in children if c.kind == "grant"]))
            elif obj.kind == "column":  # a new column of an existing table: columns get no default privileges
                for child in children:
                    grant = ddl.create(desired, child, live)
                    step.statements.extend(grant.statements)
                    step.hazards.extend(grant.hazards)  # the table exists: this opens data to the grantee
            if step.not_handled:
                self.not_handled.extend(step.not_handled)
            change = self._add("create", obj, step)
            create_change[key] = change
            for child in children:
                create_change[child.key] = change
                for grandchild in folded.get(child.key, no_children):
                    create_change[grandchild.key] = change
            if key in replaced:
                change.action = "replace"
                change.title = f"Re-create {describe(obj)}"
                change.hazards = [h for h in change.hazards if h.kind is not HazardKind.SECURITY]
                change.hazards.extend(ddl.replacement_hazards(desired, live.objects[key], obj))
                self._edge(self.drop_change.get(key), change)
        for key in sorted(altered):
            obj = desired.objects[key]
            change = self._add("alter", obj, altered[key])
            self.create_change[key] = change
            self.alter_change[key] = change
            self.live_change[key] = change

        for key in sorted(defaults_reset):
            self._reset_default(key)
        for key in created:
            if key in live.identity_sequences:
                self._free_identity_sequence_name(key, live.identity_sequences[key])
        self._link()
        self._flag_new_enum_values_in_use()
        ordered = self._order()
        self._keep_needed_changes_in_transaction(ordered)
        for index, change in enumerate(ordered, start=1):
            change.id = index
        before = self.before
        for change in ordered:
            firsts = before.get(id(change))
            change.requires = sorted([c.id for c in firsts.values()]) if firsts else []
        not_handled = sorted(set(live.not_handled) | set(desired.not_handled) | set(self.not_handled))
        return Plan(changes=ordered, live_fingerprint=live.fingerprint, options=self.options,
                    not_handled=not_handled, live=live)

    def _free_identity_sequence_name(self, sequence_key: str, column_key: str) -> None:
        """A new sequence takes the name of an identity column's own sequence: drop the identity first."""
        alter = self.alter_change.get(column_key)
        if alter is None:
            return
        drop_identity = [st for st in alter.statements if st.endswith(" DROP IDENTITY")]
        if not drop_identity:
            return
        alter.statements = [st for st in alter.statements if st not in drop_identity]
        column = self.live.objects[column_key]
        before = self._add("alter", column, ddl.Step(statements=drop_identity))
        before.title = f"Stop {describe(column)} being an identity column"
        self._edge(before, alter)
        self._edge(before, self.create_change.get(sequence_key))

    def _reset_default(self, key: str) -> None:
        """Take a column's default off before what it uses is dropped, and put the desired one back after."""
        old, new = self.live.objects[key], self.desired.objects[key]
        column = f"ALTER TABLE {ddl.table_sql_name(self.live, old)} ALTER COLUMN {quote_ident(old.name)}"
        before = self._add("alter", old, ddl.Step(statements=[f"{column} DROP DEFAULT"]))
        before.title = f"Remove the default of {describe(old)} for now"
        # the live default's dependencies are released by this change (and by the column's own change, if any)
        self.extra_live_changes.append((key, before))
        self.defaults_reset.add(key)
        after = self.alter_change.get(key)
        if after is not None:  # the default is already off when the column's own change runs
            after.statements = [st for st in after.statements if st != f"{column} DROP DEFAULT"]
        wanted = new.attrs["default"]
        if wanted is not None and (after is None or not any(" SET DEFAULT " in st for st in after.statements)):
            if after is None:
                after = self._add("alter", new, ddl.Step())
                after.title = f"Set the default of {describe(new)} again"
                self.create_change[key] = after
                self.alter_change[key] = after
            after.statements.append(f"{column} SET DEFAULT {wanted}")
        self._edge(before, after)

    def _comparable(self, obj: DbObject) -> DbObject:
        """`obj` with what differs only by server version evened out.

        Used to compare, and for ALTER statements (which then leave out what the live server cannot have,
        such as the MAINTAIN privilege before PostgreSQL 17); CREATE statements use the desired original.
        """
        if self.live.server_version // 10000 == self.desired.server_version // 10000:
            return obj
        if obj.kind in {"view", "matview"}:
            attrs = dict(obj.attrs, definition=view_definition_key(obj.attrs["definition"]))
        elif obj.kind == "grant":
            attrs = dict(obj.attrs, privileges=supported_privileges(obj.attrs["privileges"], self.live.server_version))
        elif obj.kind == "column" and min(self.live.server_version, self.desired.server_version) < 180000:
            attrs = dict(obj.attrs, not_null_name=None)  # NOT NULL constraints have names from PostgreSQL 18
        else:
            return obj
        return dataclasses.replace(obj, attrs=attrs)

    def _initial_grants(self, obj: DbObject, grants: list[DbObject]) -> list[str]:
        """GRANT/REVOKE that give a new object exactly its desired privileges.

        A new object starts with the live database's default privileges (ALTER DEFAULT PRIVILEGES), so only
        the difference is spelled out: Supabase's usual defaults produce no statement at all.
        """
        object_type = _GRANT_OBJECT_TYPES[obj.kind]
        schema_known = f"schema:{quote_ident(obj.schema)}" in self.live.objects
        defaults = self.live.default_grants.get((obj.schema if schema_known else "", object_type), {})
        if not defaults and not grants:
            return []  # nothing granted by default and nothing wanted
        wanted = {g.attrs["grantee"]: supported_privileges(g.attrs["privileges"], self.live.server_version)
                  for g in grants}
        if obj.kind == "function":
            target = {"object_type": "PROCEDURE" if obj.attrs["kind"] == "p" else "FUNCTION",
                      "object": ddl.function_signature(obj)}
        elif obj.kind == "schema":
            target = {"object_type": "SCHEMA", "object": quote_ident(obj.name)}
        else:
            target = {"object_type": "SEQUENCE" if obj.kind == "sequence" else "TABLE", "object": ddl.sql_name(obj)}
        statements: list[str] = []
        for grantee in sorted(set(defaults) | set(wanted)):
            have = set(defaults.get(grantee, []))
            want = set(wanted.get(grantee, []))
            spec = dict(target, grantee=grantee)
            statements.extend(ddl.grant_statements(spec, sorted(have - want), grant=False))
            statements.extend(ddl.grant_statements(spec, sorted(want - have), grant=True))
        return statements

    def _rebuild_dependents(self, replaced: set[str], type_changed: set[str], dropped: set[str]) -> set[str]:
        """Everything in the live catalog that must be re-created because something it uses is."""
        dependents: dict[str, set[str]] = defaultdict(set)
        for obj in self.live:
            for dep in obj.deps:
                dependents[dep].add(obj.key)
        out: set[str] = set()
        queue = list(replaced)
        # what still stands in the desired state but uses a dropped object must be re-created too
        for gone in dropped:
            for dep in dependents.get(gone, ()):
                if dep not in dropped and self.live.objects[dep].kind in _REBUILDABLE:
                    queue.append(dep)
                elif dep not in dropped and self.live.objects[dep].kind == "column" and \
                        self.live.objects[gone].kind != "table":
                    self.default_users.add(dep)
        for column in type_changed:
            for dep in dependents.get(column, ()):
                if self.live.objects[dep].kind in _REBUILT_ON_TYPE_CHANGE:
                    queue.append(dep)
        while queue:
            key = queue.pop()
            if key in out:
                continue
            out.add(key)
            for dep in dependents.get(key, ()):
                kind = self.live.objects[dep].kind
                if dep in out or dep in dropped:
                    continue
                if kind in _REBUILDABLE:
                    queue.append(dep)
                elif kind == "column" and self.live.objects[key].kind != "table":
                    self.default_users.add(dep)
        return out

    @cached_property
    def _live_children(self) -> dict[str, list[str]]:
        children: dict[str, list[str]] = defaultdict(list)
        for obj in self.live:
            if obj.parent:
                children[obj.parent].append(obj.key)
        return children

    def _descendants(self, key: str) -> list[str]:
        return self._live_children.get(key, [])

    def _add(self, action: str, obj: DbObject, step: ddl.Step) -> Change:
        change = Change(0, action, obj.kind, obj.key, f"{_VERBS[action]} {describe(obj)}", step.statements,
                        step.hazards, step.transactional)
        self.changes.append(change)
        return change

    def _edge(self, first: Change | None, then: Change | None) -> None:
        """`then` must run after `first`."""
        if first is not None and then is not None and first is not then:
            self.before[id(then)][id(first)] = first

    # -- ordering ------------------------------------------------------------------------------------------

    def _link(self) -> None:
        """Record which change must precede which (see the module docstring, step 4)."""
        live, desired = self.live, self.desired
        before, create_change, desired_objects = self.before, self.create_change, desired.objects
        for key, change in create_change.items():
            # what an object needs in the desired catalog is created or altered before it (`_edge`, inlined:
            # this runs for every dependency of every new object)
            into = None
            for dep in desired_objects[key].deps:
                first = create_change.get(dep)
                if first is not None and first is not change:
                    if into is None:
                        into = before[id(change)]
                    into[id(first)] = first
        for key, change in [*self.live_change.items(), *self.extra_live_changes]:
            is_drop = self.drop_change.get(key) is change
            for dep in live.objects[key].deps:
                drop = self.drop_change.get(dep)
                if drop is not None and key in self.defaults_reset and dep.startswith("sequence:") \
                        and any(" ADD GENERATED " in st for st in change.statements):
                    # serial to identity: the old sequence goes first, so the identity's own can take its name
                    self._edge(drop, change)
                    continue
                # what an object used in the live catalog is dropped only after it is dropped or altered
                self._edge(change, drop)
                if is_drop:
                    # and altered only after what depends on it is out of the way
                    self._edge(change, self.alter_change.get(dep))

    def _keep_needed_changes_in_transaction(self, ordered: list[Change]) -> None:
        """A change that runs after the commit (CONCURRENTLY) cannot be needed by one inside the transaction:
        such changes run inside it, in their plain form."""
        if all(change.transactional for change in ordered):
            return
        needed: set[int] = set()
        stack = [c for c in ordered if c.transactional]
        while stack:
            for first in self.before[id(stack.pop())].values():
                if id(first) not in needed:
                    needed.add(id(first))
                    stack.append(first)
        for change in ordered:
            if not change.transactional and id(change) in needed:
                change.transactional = True
                change.statements = [st.replace(" CONCURRENTLY ", " ", 1) for st in change.statements]
                change.hazards = [h for h in change.hazards if h.kind is not HazardKind.NON_TRANSACTIONAL]

    def _flag_new_enum_values_in_use(self) -> None:
        """PostgreSQL cannot use an enum value added in the same transaction: warn where the plan might."""
        for key, change in self.alter_change.items():
            if change.kind != "enum" or not any(" ADD VALUE " in s for s in change.statements):
                continue
            users = [c for c in self.changes if change in self.before[id(c)].values()]
            if users:
                change.hazards.append(Hazard(
                    HazardKind.FAILURE,
                    f"Adds values to {key.split(':', 1)[1]}, which {plural(len(users), 'other change')} use: if any of"
                    " them uses a new value, the migration fails (PostgreSQL cannot use a new enum value in the"
                    " transaction that adds it). Deploy this change alone first if that happens."))

    def _order(self) -> list[Change]:
        """Topological order; among ready changes drops come first, then by kind order and key."""
        changes = self.changes
        count = len(changes)
        # Changes by their place in `changes` (plain list indexing instead of dicts keyed by id()).
        place = {id(change): number for number, change in enumerate(changes)}
        pending = [0] * count
        followers: list[list[int]] = [[] for _ in range(count)]
        before = self.before
        for number, change in enumerate(changes):
            firsts = before.get(id(change))
            if firsts:
                pending[number] = len(firsts)
                for first in firsts:
                    followers[place[first]].append(number)
        # The heap holds plain integers, `rank << 32 | push number`, which pop in the order of (priority, push
        # number): `rank` is the change's priority's place among all priorities (equal priorities, equal rank),
        # found by sorting each priority spelled as one string that sorts as the priority tuple does.
        prefixes = _SORT_PREFIXES
        sort_keys = [(prefixes.get((change.action == "drop", change.transactional, change.kind))
                      or _sort_key(change)[:2]) + change.key for change in changes]
        rank_of = [0] * count
        rank = -1
        previous = None
        for number in sorted(range(count), key=sort_keys.__getitem__):
            sort_key = sort_keys[number]
            if sort_key != previous:
                rank += 1
                previous = sort_key
            rank_of[number] = rank << 32
        pushed: list[int] = []
        heap: list[int] = []
        heappush, heappop = heapq.heappush, heapq.heappop
        for number in range(count):
            if not pending[number]:
                heappush(heap, rank_of[number] | len(pushed))
                pushed.append(number)
        ordered: list[Change] = []
        while heap:
            number = pushed[heappop(heap) & 0xFFFFFFFF]
            ordered.append(changes[number])
            for follower in followers[number]:
                left = pending[follower] - 1
                pending[follower] = left
                if not left:
                    heappush(heap, rank_of[follower] | len(pushed))
                    pushed.append(follower)
        if len(ordered) < count:
            stuck = [changes[number] for number in range(count) if pending[number] > 0]
            self.not_handled.append("circular dependencies between: " + ", ".join(c.title for c in stuck[:5]))
            for change in sorted(stuck, key=_priority):
                ordered.append(change)
        return ordered


def _priority(change: Change) -> tuple[int, int, str, int]:
    rank = _KIND_RANK.get(change.kind, len(KIND_ORDER))
    if change.action == "drop":
        return (0, -rank, change.key, 0)
    return (1 if change.transactional else 2, rank, change.key, 0)


def _sort_key(change: Change) -> str:
    """`_priority` as one string that sorts the same way: its two numbers as two characters, then the key."""
    group, rank, key, _ = _priority(change)
    return f"{chr(0x30 + group)}{chr(0x100 + rank)}{key}"


# The first two characters of `_sort_key` for each (is a drop, transactional, kind) of a known kind.
_SORT_PREFIXES = {
    (drop, transactional, kind): f"{chr(0x30 + (0 if drop else 1 if transactional else 2))}"
                                 f"{chr(0x100 + (-rank if drop else rank))}"
    for drop in (True, False) for transactional in (True, False) for kind, rank in _KIND_RANK.items()}


def _depth(catalog: Catalog, key: str) -> int:
    depth = 0
    obj = catalog.objects.get(key)
    while obj is not None and obj.parent:
        depth += 1
        obj = catalog.objects.get(obj.parent)
    return depth


_IGNORED_ATTRS = frozenset({"position", "valid", "version"})


def _same(old: DbObject, new: DbObject) -> bool:
    """True when nothing that a migration could change differs."""
    if old.kind == "index" and old.attrs.get("valid") is False:
        return False  # left invalid by a failed CREATE INDEX CONCURRENTLY: build it again
    if old.kind == "constraint":
        return (ddl.constraint_definition(old) == ddl.constraint_definition(new)
                and old.attrs.get("comment") == new.attrs.get("comment"))
    return _compared(old.attrs) == _compared(new.attrs)


def _compared(attrs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if k not in _IGNORED_ATTRS}
