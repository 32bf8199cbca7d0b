"""The lint rules: Supabase's database advisor checks that apply to a schema, and a few of our own.

Each rule is a function from a `_Context` (the catalog with its objects grouped the way the rules need
them) to findings. Rules about what the API exposes look only at objects in the exposed schemas; the others
look at every user schema. Supabase-managed schemas are never linted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from studio.core.lint.finding import Finding, Level
from studio.core.lint.parsing import (
    ConstraintFacts,
    FunctionFacts,
    Name,
    called_functions,
    constraint_facts,
    function_facts,
    function_name,
    function_reads,
    has_subquery,
    index_shape,
    is_literal_true,
    parse_expression,
    per_row_calls,
    query_relations,
    relations,
    wrap_per_row_calls,
)
from studio.core.schema.catalog import MANAGED_SCHEMAS, Catalog, DbObject
from studio.core.sqltext import qualified, quote_ident


@dataclass(frozen=True)
class Rule:
    """A lint rule's identity: its id, usual level, what it is about, and whether it only looks at
    objects the API exposes."""

    id: str
    level: Level
    category: str  # "security" | "performance"
    summary: str
    exposed_only: bool = False


RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("rls_disabled_in_public", Level.ERROR, "security",
         "A table the API exposes has row level security turned off.", exposed_only=True),
    Rule("policy_exists_rls_disabled", Level.ERROR, "security",
         "A table has policies, but row level security is off, so they are ignored."),
    Rule("rls_enabled_no_policy", Level.INFO, "security",
         "Row level security is on but the table has no policy: the API cannot reach any row.", exposed_only=True),
    Rule("rls_policy_always_true", Level.WARNING, "security",
         "A policy lets API users write any row (its condition is `true`); an error when it is for anon."),
    Rule("auth_rls_initplan", Level.WARNING, "performance",
         "A policy calls auth.uid(), auth.jwt() or current_setting() once per row instead of once per query."),
    Rule("multiple_permissive_policies", Level.WARNING, "performance",
         "Several permissive policies apply to the same role and action: each is checked for every row."),
    Rule("unindexed_foreign_keys", Level.INFO, "performance",
         "A foreign key has no index starting with its columns."),
    Rule("duplicate_index", Level.WARNING, "performance",
         "Two indexes of a table are the same apart from their names."),
    Rule("no_primary_key", Level.INFO, "performance", "A table has no primary key."),
    Rule("security_definer_view", Level.ERROR, "security",
         "A view the API exposes runs with its owner's rights, bypassing the policies of what it reads.",
         exposed_only=True),
    Rule("function_search_path_mutable", Level.WARNING, "security",
         "A function the API exposes does not fix its search_path.", exposed_only=True),
    Rule("extension_in_public", Level.WARNING, "security", "An extension is installed in the public schema."),
    Rule("auth_users_exposed", Level.ERROR, "security",
         "A view the API exposes shows data from auth.users to API users.", exposed_only=True),
    Rule("rls_references_user_metadata", Level.ERROR, "security",
         "A policy trusts user_metadata, which users can change themselves."),
    Rule("policy_recursion", Level.ERROR, "security",
         "A policy reads its own table, so PostgreSQL stops with infinite recursion."),
)}

# The roles a Supabase API request runs as; `public` in a policy means every role.
_ANON_ROLES = frozenset({"anon", "public"})
_API_ROLES = frozenset({"anon", "authenticated", "public"})
_API_GRANTEES = ("PUBLIC", "anon", "authenticated")
_COMMANDS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}
_ACTIONS = {"r": ("r",), "a": ("a",), "w": ("w",), "d": ("d",), "*": ("r", "a", "w", "d")}
_ACTION_WORDS = {"r": "read", "a": "add", "w": "change", "d": "delete"}
_PRIVILEGE_ACTION = {"SELECT": "r", "INSERT": "a", "UPDATE": "w", "DELETE": "d"}
_OWNER_COLUMN_NAMES = ("user_id", "owner_id", "owner", "created_by", "profile_id", "author_id")
_TRUTHY = frozenset({"t", "tr", "tru", "true", "y", "ye", "yes", "on", "1"})


# -- wording helpers ---------------------------------------------------------------------------------------


def _sql_name(obj: DbObject) -> str:
    return qualified(obj.schema, obj.name)


def _listing(words: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _audience(roles: Iterable[str]) -> str:
    roles = {r.lower() if r == "PUBLIC" else r for r in roles}
    if roles & _ANON_ROLES:
        return "anyone with your app's public (anon) key"
    if "authenticated" in roles:
        return "any signed-in user of your app"
    return "the roles " + _listing(sorted(roles))


def _actions(codes: Iterable[str]) -> str:
    order = "rawd"
    return _listing([_ACTION_WORDS[c] for c in sorted(set(codes), key=order.index)])


def _call_label(name: Name) -> str:
    return f"{name[0]}.{name[1]}()" if name[0] and name[0] != "pg_catalog" else f"{name[1]}()"


def _short_name(name: str) -> str:
    """A name cut to the 63 bytes PostgreSQL keeps."""
    return name.encode()[:63].decode("utf-8", "ignore")


def _truthy_option(options: Iterable[str], option: str) -> bool:
    for item in options:
        key, _, value = item.partition("=")
        if key.strip().lower() == option:
            return value.strip().strip("'\"").lower() in _TRUTHY
    return False


# -- the catalog, grouped --------------------------------------------------------------------------------


class _Context:
    """The catalog's user objects grouped by kind and by table, computed once for all rules."""

    def __init__(self, catalog: Catalog, exposed_schemas: Iterable[str]) -> None:
        self.catalog = catalog
        self.exposed = frozenset(exposed_schemas)
        self.by_kind: dict[str, list[DbObject]] = defaultdict(list)
        self.by_parent: dict[str, list[DbObject]] = defaultdict(list)
        for obj in sorted(catalog, key=lambda o: o.key):
            if obj.schema in MANAGED_SCHEMAS or (obj.kind == "schema" and obj.name in MANAGED_SCHEMAS):
                continue
            self.by_kind[obj.kind].append(obj)
            if obj.parent:
                self.by_parent[obj.parent].append(obj)

    def is_exposed(self, obj: DbObject) -> bool:
        """Whether the API (PostgREST) serves the object's schema."""
        return obj.schema in self.exposed

    def children(self, parent: DbObject, kind: str) -> list[DbObject]:
        """Objects of one kind owned by `parent`, in key order."""
        return [o for o in self.by_parent.get(parent.key, ()) if o.kind == kind]

    def table_of(self, child: DbObject) -> DbObject | None:
        """The table that owns a policy, index or constraint."""
        return self.catalog.get(child.parent) if child.parent else None

    def api_privileges(self, obj: DbObject) -> dict[str, set[str]]:
        """grantee -> privileges held on `obj` by PUBLIC and the API roles (as the catalog's grants say)."""
        out: dict[str, set[str]] = {}
        for grantee in _API_GRANTEES:
            grant = self.catalog.get(f"grant:{obj.key}:{grantee}")
            if grant is not None and grant.attrs.get("privileges"):
                out[grantee] = {p.rstrip("*") for p in grant.attrs["privileges"]}
        return out

    @cached_property
    def functions(self) -> dict[Name, list[tuple[DbObject, FunctionFacts]]]:
        """Functions by (schema, name), each with the facts of its definition."""
        out: dict[Name, list[tuple[DbObject, FunctionFacts]]] = defaultdict(list)
        for fn in self.by_kind["function"]:
            facts = function_facts(fn.attrs.get("definition") or "")
            if facts is not None:
                out[(fn.schema, fn.name)].append((fn, facts))
        return out

    def constraints(self, table: DbObject, contype: str) -> list[tuple[DbObject, ConstraintFacts]]:
        """The table's constraints of one type ('p', 'u', 'f') with their parsed facts."""
        out = []
        for c in self.children(table, "constraint"):
            if c.attrs.get("type") == contype:
                facts = constraint_facts(c.attrs.get("definition") or "")
                if facts is not None:
                    out.append((c, facts))
        return out

    def owner_column(self, table: DbObject) -> tuple[str, bool]:
        """The column that most likely holds a row's owner (a user id), and whether it was found rather than
        made up: a single-column foreign key to auth.users, else a column with a usual owner name."""
        for _, facts in self.constraints(table, "f"):
            if facts.references == ("auth", "users") and len(facts.columns) == 1:
                return facts.columns[0], True
        names = {c.name for c in self.children(table, "column")}
        for name in _OWNER_COLUMN_NAMES:
            if name in names:
                return name, True
        return "user_id", False


def _owner_note(found: bool, column: str) -> str:
    return "" if found else f"\n(Replace {quote_ident(column)} with the column that holds the owner's user id.)"


def _policy_table(ctx: _Context, policy: DbObject) -> DbObject | None:
    table = ctx.table_of(policy)
    return table if table is not None and table.kind == "table" else None


def _expressions(policy: DbObject) -> list[str]:
    return [e for e in (policy.attrs.get("using"), policy.attrs.get("check")) if e]


# -- row level security ----------------------------------------------------------------------------------


def rls_disabled_in_public(ctx: _Context) -> Iterator[Finding]:
    """Tables in exposed schemas with row level security off."""
    for table in ctx.by_kind["table"]:
        if not ctx.is_exposed(table) or table.attrs.get("rls"):
            continue
        name = _sql_name(table)
        privileges = ctx.api_privileges(table)
        actions = {_PRIVILEGE_ACTION[p] for ps in privileges.values() for p in ps if p in _PRIVILEGE_ACTION}
        if actions:
            reach = f"{_audience(privileges)} can {_actions(actions)} every row of {name} through the API."
        else:
            reach = ("the API roles hold no privileges on it today, but one GRANT (or the default privileges "
                     f"Supabase gives new tables) would let anyone with your app's public key read and change "
                     f"every row of {name}.")
        sql = f"alter table {name} enable row level security;"
        yield Finding(
            "rls_disabled_in_public", Level.ERROR, table.key, f"Row level security is off for {name}",
            f"The table is in the {quote_ident(table.schema)} schema, which the API serves, and row level "
            f"security is off, so the database does not check who is asking: {reach}",
            f"Turn row level security on, then add a policy for each thing each role may do:\n{sql}", sql,
        )


def policy_exists_rls_disabled(ctx: _Context) -> Iterator[Finding]:
    """Tables with policies but row level security off: the policies do nothing."""
    for table in ctx.by_kind["table"]:
        policies = ctx.children(table, "policy")
        if table.attrs.get("rls") or not policies:
            continue
        name = _sql_name(table)
        names = _listing([quote_ident(p.name) for p in policies])
        yield Finding(
            "policy_exists_rls_disabled", Level.ERROR, table.key, f"Policies of {name} are not in force",
            f"{name} has the {'policy' if len(policies) == 1 else 'policies'} {names}, but row level security "
            "is off for the table, so the database ignores them: every role with privileges on the table "
            "can read and change every row.",
            f"Turn row level security on so the policies apply:\nalter table {name} enable row level security;",
            f"alter table {name} enable row level security;",
        )


def rls_enabled_no_policy(ctx: _Context) -> Iterator[Finding]:
    """Exposed tables with row level security on and no policy: unreachable through the API."""
    for table in ctx.by_kind["table"]:
        if not ctx.is_exposed(table) or not table.attrs.get("rls") or ctx.children(table, "policy"):
            continue
        name = _sql_name(table)
        column, found = ctx.owner_column(table)
        yield Finding(
            "rls_enabled_no_policy", Level.INFO, table.key, f"{name} has no policy",
            f"Row level security is on for {name} but no policy says who may do what, so your app (anon and "
            "signed-in users) can neither read nor change any of its rows. That is right for a table only "
            "your server uses; otherwise the app will find it empty.",
            "If the app should reach it, add a policy for each role and action, for example:\n"
            f"create policy {quote_ident('Users read their own rows')} on {name} for select to authenticated\n"
            f"  using ((select auth.uid()) = {quote_ident(column)});" + _owner_note(found, column),
        )


def rls_policy_always_true(ctx: _Context) -> Iterator[Finding]:
    """Permissive write policies for API roles whose USING or WITH CHECK is `true`."""
    for policy in ctx.by_kind["policy"]:
        table = _policy_table(ctx, policy)
        command = policy.attrs.get("command")
        roles = set(policy.attrs.get("roles") or ())
        if table is None or command not in ("a", "w", "d", "*") or not policy.attrs.get("permissive"):
            continue
        if not roles & _API_ROLES:
            continue
        using_true = is_literal_true(policy.attrs.get("using"))
        check_true = is_literal_true(policy.attrs.get("check"))
        if not (using_true or check_true):
            continue
        name, pname = _sql_name(table), quote_ident(policy.name)
        if command == "a":
            what = f"add rows to {name} with any content, in anyone's name"
        elif command == "d":
            what = f"delete every row of {name}"
        elif command == "w":
            what = f"change every row of {name}" if using_true else \
                f"change rows of {name} to anything, including handing them to another user"
        else:
            what = f"read, add, change and delete every row of {name}" if using_true else \
                f"write rows of {name} with any content, including rows in someone else's name"
        anon = bool(roles & _ANON_ROLES)
        column, found = ctx.owner_column(table)
        condition = f"((select auth.uid()) = {quote_ident(column)})"
        clauses = {"a": f"with check {condition}", "d": f"using {condition}"}.get(
            command, f"using {condition} with check {condition}")
        to = " to authenticated" if anon else ""
        sql = f"alter policy {pname} on {name}{to} {clauses};"
        fix = (f"Replace `true` with a condition that holds only for the user's own rows, for example:\n{sql}"
               + _owner_note(found, column))
        if anon:
            fix += ("\nIf writes without signing in are really wanted (a public form), keep the policy for "
                    "that one action and check the row's content in its condition.")
        yield Finding(
            "rls_policy_always_true", Level.ERROR if anon else Level.WARNING, policy.key,
            f"Policy {pname} on {name} allows any write",
            f"The condition of policy {pname} is `true`, which holds for every row, so it lets "
            f"{_audience(roles)} {what}.",
            fix, sql if found else None,
        )


def rls_references_user_metadata(ctx: _Context) -> Iterator[Finding]:
    """Policies that decide with user_metadata, which each user can edit."""
    for policy in ctx.by_kind["policy"]:
        table = _policy_table(ctx, policy)
        text = " ".join(_expressions(policy)).lower()
        if table is None or ("user_metadata" not in text and "raw_user_meta_data" not in text):
            continue
        pname, name = quote_ident(policy.name), _sql_name(table)
        yield Finding(
            "rls_references_user_metadata", Level.ERROR, policy.key,
            f"Policy {pname} on {name} trusts user_metadata",
            f"Policy {pname} decides who may see or change rows of {name} with the user's user_metadata. "
            "Every signed-in user can change their own user_metadata from the app (supabase.auth.updateUser), "
            "so anyone can give themselves whatever the policy checks for.",
            "Keep roles and permissions where users cannot write: in app_metadata, which only your server "
            "(the service role) can change, read as (select auth.jwt()) -> 'app_metadata'; or in a table of "
            "your own whose policies do not let users change it.",
        )


def _recursion_via_function(ctx: _Context, table: DbObject, expressions: list[str]) -> DbObject | None:
    """A function the expressions call that reads `table` with the caller's rights (so under its
    policies), if any."""
    for text in expressions:
        root = parse_expression(text)
        if root is None:
            continue
        for node_name in sorted(called_functions(root), key=lambda n: (n[0] or "", n[1])):
            for fn, facts in ctx.functions.get(node_name, ()):
                if not facts.security_definer and function_reads(facts, table.schema, table.name):
                    return fn
    return None


def _share_a_role(a: DbObject, b: DbObject) -> bool:
    roles_a, roles_b = set(a.attrs.get("roles") or ()), set(b.attrs.get("roles") or ())
    return bool("public" in roles_a or "public" in roles_b or roles_a & roles_b)


def _reads_itself(table: DbObject, expressions: list[str]) -> bool:
    for text in expressions:
        root = parse_expression(text)
        if root is not None and (table.schema, table.name) in relations(root):
            return True
    return False


def policy_recursion(ctx: _Context) -> Iterator[Finding]:
    """Policies that make PostgreSQL recurse: reading a table applies its read policies, so a read policy
    that reads its own table (itself or through a function running with the caller's rights) never ends."""
    for table in ctx.by_kind["table"]:
        policies = ctx.children(table, "policy")
        # read policies whose condition has a subquery (even `(select auth.uid())`): the server refuses to
        # expand such policies of a table while it is already expanding that table's policies
        nesting = [p for p in policies if p.attrs.get("command") in ("r", "*") and any(
            (root := parse_expression(e)) is not None and has_subquery(root) for e in _expressions(p))]
        name = _sql_name(table)
        for policy in policies:
            expressions = _expressions(policy)
            pname = quote_ident(policy.name)
            reads = policy.attrs.get("command") in ("r", "*")
            nested = any(_share_a_role(policy, p) for p in nesting)
            if _reads_itself(table, expressions) and (reads or nested):
                why = (f"Policy {pname} on {name} reads {name} itself. Reading {name} applies its read "
                       "policies again, so PostgreSQL stops every query on the table with \"infinite recursion "
                       "detected in policy\".")
                if not reads:
                    why = (f"Policy {pname} on {name} reads {name} itself, which applies the table's read "
                           "policies inside the check; as those contain a subquery too, PostgreSQL stops the "
                           "write with \"infinite recursion detected in policy\".")
                yield Finding(
                    "policy_recursion", Level.ERROR, policy.key, f"Policy {pname} on {name} recurses", why,
                    "Do the lookup in a function that runs with its owner's rights (security definer, so the "
                    "table's policies do not apply inside it) and a fixed, empty search_path, in a schema the "
                    f"API does not serve, then call it from the policy, for example:\n{_helper_sql(ctx, table)}",
                )
                continue
            fn = _recursion_via_function(ctx, table, expressions) if reads else None
            if fn is not None:
                signature = fn.key.removeprefix("function:")
                sql = f"alter function {signature} security definer set search_path = '';"
                yield Finding(
                    "policy_recursion", Level.ERROR, policy.key, f"Policy {pname} on {name} recurses",
                    f"Policy {pname} on {name} calls {signature}, which reads {name} with the caller's rights, "
                    f"so its query applies the policy again, which calls the function again: every query "
                    f"on {name} fails (\"stack depth limit exceeded\").",
                    "Let the function run with its owner's rights, so the table's policies do not apply inside "
                    f"it, and fix its search_path (names in its body must then be schema-qualified):\n{sql}\n"
                    "Move it to a schema the API does not serve if API users should not call it directly.",
                    sql if _all_qualified(ctx.functions, fn) else None,
                )


def _all_qualified(functions: dict[Name, list[tuple[DbObject, FunctionFacts]]], fn: DbObject) -> bool:
    """Whether every table a function's body reads is schema-qualified, so an empty search_path keeps it
    working (unknown for bodies that are not SQL)."""
    for obj, facts in functions.get((fn.schema, fn.name), ()):
        if obj.key == fn.key:
            return facts.body_relations is not None and all(s is not None for s, _ in facts.body_relations)
    return False


def _helper_sql(ctx: _Context, table: DbObject) -> str:
    """A security definer function that returns the ids of rows a policy may look up."""
    key_columns = next((f.columns for _, f in ctx.constraints(table, "p")), ())
    column, column_type = "id", "bigint"
    if len(key_columns) == 1:
        column = key_columns[0]
        col = ctx.catalog.get(f"column:{_sql_name(table)}.{quote_ident(column)}")
        column_type = str(col.attrs.get("type") or column_type) if col is not None else column_type
    function = f"private.{quote_ident(_short_name(table.name + '_visible_ids'))}"
    return (
        "create schema if not exists private;\n"
        f"create function {function}() returns setof {column_type}\n"
        "  language sql stable security definer set search_path = ''\n"
        f"  as $$ select {quote_ident(column)} from {_sql_name(table)} where <the condition of the lookup> $$;\n"
        f"-- and in the policy: {quote_ident(column)} in (select {function}())"
    )


def auth_rls_initplan(ctx: _Context) -> Iterator[Finding]:
    """Policies calling auth.uid() and friends per row instead of once per query."""
    for policy in ctx.by_kind["policy"]:
        table = _policy_table(ctx, policy)
        if table is None:
            continue
        calls: set[Name] = set()
        rewritten: dict[str, str] = {}
        for clause, attr in (("using", "using"), ("with check", "check")):
            text = policy.attrs.get(attr)
            root = parse_expression(text) if text else None
            if root is None or not text:
                continue
            found = [n for n in (function_name(c) for c in per_row_calls(root)) if n]
            if found:
                calls.update(found)
                wrapped = wrap_per_row_calls(text)
                if wrapped:
                    rewritten[clause] = wrapped
        if not calls:
            continue
        pname, name = quote_ident(policy.name), _sql_name(table)
        labels = _listing(sorted({_call_label(n) for n in calls}))
        clauses = " ".join(f"{clause} ({text})" for clause, text in rewritten.items())
        sql = f"alter policy {pname} on {name} {clauses};" if rewritten else None
        example = _call_label(min(calls, key=lambda n: (n[0] or "", n[1])))
        yield Finding(
            "auth_rls_initplan", Level.WARNING, policy.key, f"Policy {pname} on {name} calls {labels} per row",
            f"Policy {pname} calls {labels} again for every row it checks, although the answer is the same "
            f"for the whole query. On a large table this makes every request on {name} much slower. Written "
            f"as (select {example}), the database calls it once per query.",
            f"Wrap each call in (select ...):\n{sql}" if sql else "Wrap each call in (select ...).", sql,
        )


def multiple_permissive_policies(ctx: _Context) -> Iterator[Finding]:
    """Several permissive policies for one role and action on a table: all are evaluated for each row."""
    for table in ctx.by_kind["table"]:
        policies = [p for p in ctx.children(table, "policy") if p.attrs.get("permissive")]
        named = {r for p in policies for r in p.attrs.get("roles") or () if r != "public"}
        # service_role bypasses row level security: its policies never run
        universe = sorted(({"anon", "authenticated"} | named) - {"service_role"})
        overlap: dict[tuple[str, str], list[DbObject]] = defaultdict(list)
        for policy in policies:
            roles = set(policy.attrs.get("roles") or ())
            applies_to = universe if "public" in roles else sorted(roles & set(universe))
            for role in applies_to:
                for action in _ACTIONS.get(str(policy.attrs.get("command")), ()):
                    overlap[(role, action)].append(policy)
        groups: dict[tuple[str, ...], list[tuple[str, str]]] = defaultdict(list)
        for (role, action), members in overlap.items():
            if len(members) > 1:
                groups[tuple(p.key for p in members)].append((role, action))
        for keys, pairs in sorted(groups.items()):
            members = [ctx.catalog.objects[k] for k in keys]
            name = _sql_name(table)
            names = _listing([quote_ident(p.name) for p in members])
            by_role: dict[str, list[str]] = defaultdict(list)
            for role, action in pairs:
                by_role[role].append(action)
            where = "; ".join(f"{_actions(actions)} as {role}" for role, actions in sorted(by_role.items()))
            yield Finding(
                "multiple_permissive_policies", Level.WARNING, table.key,
                f"{name} has overlapping policies {names}",
                f"The permissive policies {names} on {name} all apply to the same requests ({where}). "
                "The database checks every one of them for every row, so each request costs more than one "
                "combined policy would, and the access rules are harder to read.",
                *_merge_fix(table, members),
            )


def _merge_fix(table: DbObject, members: list[DbObject]) -> tuple[str, str | None]:
    """The advice, and the SQL that merges the policies when they differ only in their condition."""
    advice = "Combine them into one policy per role and action whose condition joins theirs with OR."
    commands = {m.attrs.get("command") for m in members}
    roles = {tuple(sorted(m.attrs.get("roles") or ())) for m in members}
    if len(commands) != 1 or len(roles) != 1 or commands & {"w", "*"}:
        return advice, None
    command = str(next(iter(commands)))
    attr, clause = ("check", "with check") if command == "a" else ("using", "using")
    parts = [m.attrs.get(attr) for m in members]
    if not all(parts):
        return advice, None
    name = _sql_name(table)
    statements = [f"drop policy {quote_ident(m.name)} on {name};" for m in members]
    role_list = ", ".join(quote_ident(r) for r in next(iter(roles)))
    joined = " or ".join(f"({p})" for p in parts)
    statements.append(f"create policy {quote_ident(members[0].name)} on {name} for {_COMMANDS[command].lower()} "
                      f"to {role_list} {clause} ({joined});")
    sql = "\n".join(statements)
    return f"{advice}\n{sql}", sql


# -- indexes and keys ------------------------------------------------------------------------------------


def unindexed_foreign_keys(ctx: _Context) -> Iterator[Finding]:
    """Foreign keys with no index that starts with their columns."""
    for table in ctx.by_kind["table"]:
        leading: list[tuple[str, ...]] = []
        for index in ctx.children(table, "index"):
            shape = index_shape(index.attrs.get("definition") or "")
            if shape is not None and not shape.partial:
                leading.append(shape.leading_columns)
        for contype in ("p", "u"):
            leading.extend(f.columns for _, f in ctx.constraints(table, contype))
        name = _sql_name(table)
        for constraint, facts in ctx.constraints(table, "f"):
            columns = facts.columns
            if not columns or any(set(lead[:len(columns)]) == set(columns) for lead in leading):
                continue
            cols = ", ".join(quote_ident(c) for c in columns)
            target = qualified(facts.references[0] or "public", facts.references[1]) if facts.references else "it"
            those = "that column" if len(columns) == 1 else "those columns"
            index_name = quote_ident(_short_name("_".join((table.name, *columns, "idx"))))
            sql = f"create index {index_name} on {name} ({cols});"
            yield Finding(
                "unindexed_foreign_keys", Level.INFO, constraint.key,
                f"Foreign key {quote_ident(constraint.name)} of {name} has no index",
                f"{name}({cols}) refers to {target}, but no index starts with {those}. "
                f"Deleting or changing a row of {target} then makes the database read all of {name} to check "
                "the link, and queries that join the two tables slow down as the table grows.",
                f"Add an index on the foreign key's columns:\n{sql}", sql,
            )


def duplicate_index(ctx: _Context) -> Iterator[Finding]:
    """Indexes identical to another index of the same table (apart from the name)."""
    for table in ctx.by_kind["table"]:
        # (rank, key, object): constraint-backed indexes rank first (they cannot be dropped alone), then
        # unique ones; within a group of equal indexes the first is kept and the others are reported.
        groups: dict[str, list[tuple[int, str, DbObject]]] = defaultdict(list)
        for contype, rank in (("p", 0), ("u", 1)):
            for constraint, facts in ctx.constraints(table, contype):
                if facts.index is not None:
                    groups[facts.index.signature].append((rank, constraint.key, constraint))
        for index in ctx.children(table, "index"):
            shape = index_shape(index.attrs.get("definition") or "")
            if shape is not None:
                groups[shape.signature].append((2 if shape.unique else 3, index.key, index))
        name = _sql_name(table)
        for members in groups.values():
            if len(members) < 2:
                continue
            members.sort(key=lambda m: (m[0], m[1]))
            kept = members[0][2]
            kept_label = f"{'constraint' if kept.kind == 'constraint' else 'index'} {quote_ident(kept.name)}"
            for _, _, extra in members[1:]:
                if extra.kind == "constraint":
                    drop = f"alter table {name} drop constraint {quote_ident(extra.name)};"
                else:
                    drop = f"drop index {_sql_name(extra)};"
                yield Finding(
                    "duplicate_index", Level.WARNING, extra.key,
                    f"{'Constraint' if extra.kind == 'constraint' else 'Index'} {quote_ident(extra.name)} "
                    f"duplicates {kept_label}",
                    f"{quote_ident(extra.name)} indexes the same columns of {name} in the same way as "
                    f"{kept_label}. Every insert and update on {name} writes both, and both take disk space, "
                    "for no gain.",
                    f"Drop the duplicate:\n{drop}", drop,
                )


def no_primary_key(ctx: _Context) -> Iterator[Finding]:
    """Tables without a primary key."""
    for table in ctx.by_kind["table"]:
        if any(c.attrs.get("type") == "p" for c in ctx.children(table, "constraint")):
            continue
        name = _sql_name(table)
        columns = {c.name for c in ctx.children(table, "column")}
        fix = (f"alter table {name} add primary key (id);" if "id" in columns else
               f"alter table {name} add column id bigint generated always as identity primary key;")
        yield Finding(
            "no_primary_key", Level.INFO, table.key, f"{name} has no primary key",
            f"Nothing identifies a single row of {name}, so the app cannot reliably update or delete one row, "
            "duplicate rows can creep in, and realtime and replication cannot tell rows apart.",
            f"Give the table a primary key:\n{fix}", fix,
        )


# -- views, functions, extensions ----------------------------------------------------------------------------


def security_definer_view(ctx: _Context) -> Iterator[Finding]:
    """Exposed views that run with their owner's rights."""
    for view in ctx.by_kind["view"]:
        if not ctx.is_exposed(view) or _truthy_option(view.attrs.get("options") or (), "security_invoker"):
            continue
        name = _sql_name(view)
        sql = f"alter view {name} set (security_invoker = true);"
        yield Finding(
            "security_definer_view", Level.ERROR, view.key, f"View {name} bypasses row level security",
            f"{name} runs with the rights of its owner (usually postgres), not of the user who asks, so the "
            "policies of the tables it reads are not applied: whoever may read the view through the API sees "
            "every row it shows, including other users' rows.",
            f"Make the view apply the asking user's rights and policies:\n{sql}", sql,
        )


def function_search_path_mutable(ctx: _Context) -> Iterator[Finding]:
    """Exposed functions that do not fix their search_path."""
    for fn in ctx.by_kind["function"]:
        if not ctx.is_exposed(fn):
            continue
        facts = function_facts(fn.attrs.get("definition") or "")
        if facts is None or facts.search_path is not None:
            continue
        signature = fn.key.removeprefix("function:")
        routine = "procedure" if fn.attrs.get("kind") == "p" else "function"
        sql = f"alter {routine} {signature} set search_path = '';"
        definer = (" As it runs with its owner's rights (security definer), that would let the caller act "
                   "with those rights.") if facts.security_definer else ""
        yield Finding(
            "function_search_path_mutable", Level.WARNING, fn.key, f"{signature} has no fixed search_path",
            f"{signature} looks up the names in its body through whatever search_path the caller has set. A "
            "caller can put a table or function of the same name in a schema that comes first, and the "
            f"{routine} will use it instead of yours.{definer}",
            f"Fix the search_path to nothing, and write every name in the body with its schema "
            f"(public.todos, not todos):\n{sql}",
            sql if _all_qualified(ctx.functions, fn) else None,
        )


def extension_in_public(ctx: _Context) -> Iterator[Finding]:
    """Extensions installed in the public schema."""
    for extension in ctx.by_kind["extension"]:
        if extension.attrs.get("schema") != "public":
            continue
        name = quote_ident(extension.name)
        sql = f"create schema if not exists extensions;\nalter extension {name} set schema extensions;"
        yield Finding(
            "extension_in_public", Level.WARNING, extension.key, f"Extension {name} is in the public schema",
            f"The functions, types and tables of extension {name} sit in public beside your own tables, so the "
            "API serves them too and their names can clash with yours.",
            f"Move it to the extensions schema:\n{sql}\n"
            "(An extension that cannot be moved must be dropped and created again with `schema extensions`.)",
            sql,
        )


def auth_users_exposed(ctx: _Context) -> Iterator[Finding]:
    """Exposed views over auth.users that API users may read, with the owner's rights."""
    for view in ctx.by_kind["view"] + ctx.by_kind["matview"]:
        if not ctx.is_exposed(view):
            continue
        invoker = view.kind == "view" and _truthy_option(view.attrs.get("options") or (), "security_invoker")
        reads_users = "table:auth.users" in view.deps or (
            ("auth", "users") in query_relations(view.attrs.get("definition") or ""))
        privileges = ctx.api_privileges(view)
        readers = sorted(g for g, ps in privileges.items() if "SELECT" in ps)
        if invoker or not reads_users or not readers:
            continue
        name = _sql_name(view)
        kind = "materialized view" if view.kind == "matview" else "view"
        sql = f"revoke select on {name} from {', '.join(readers)};"
        yield Finding(
            "auth_users_exposed", Level.ERROR, view.key, f"{name} exposes auth.users",
            f"The {kind} {name} shows data from auth.users (your users' email addresses, phone numbers and "
            f"sign-in details) with its owner's rights, and {_audience(readers)} may read it through the API.",
            f"Stop API users from reading it (or move it to a schema the API does not serve):\n{sql}\n"
            "To show users their own details, use a profiles table of your own with row level security.",
            sql,
        )


ALL_RULES: tuple[Callable[[_Context], Iterable[Finding]], ...] = (
    rls_disabled_in_public,
    policy_exists_rls_disabled,
    rls_enabled_no_policy,
    rls_policy_always_true,
    auth_rls_initplan,
    multiple_permissive_policies,
    unindexed_foreign_keys,
    duplicate_index,
    no_primary_key,
    security_definer_view,
    function_search_path_mutable,
    extension_in_public,
    auth_users_exposed,
    rls_references_user_metadata,
    policy_recursion,
)


def lint_catalog(catalog: Catalog, *, exposed_schemas: Iterable[str] = ("public",)) -> list[Finding]:
    """Every finding of every rule on `catalog`, most serious first, then by object key and rule.

    `exposed_schemas` are the schemas the API serves (Supabase's "Exposed schemas" setting).
    """
    ctx = _Context(catalog, exposed_schemas)
    findings = {finding for rule in ALL_RULES for finding in rule(ctx)}
    return sorted(findings, key=Finding.sort_key)
