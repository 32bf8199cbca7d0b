"""Round trips of row level security policies (and of RLS itself around them)."""

from __future__ import annotations

import pytest

from studio.core.schema.plan import HazardKind, PlanOptions
from tests.support.roundtrip import Case, Outcomes, params

SECURITY = HazardKind.SECURITY

BASE = ("create table public.todos (id int primary key, owner uuid, title text, done boolean default false);"
        " alter table public.todos enable row level security;")
ROWS = ("insert into public.todos values (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'x', false),"
        " (2, null, 'y', true);")
OWN = "(select auth.uid()) = owner"


def todos(*policies: str) -> str:
    return BASE + "".join(f" {p};" for p in policies)


def policy(name: str, rest: str) -> str:
    return f"create policy {name} on public.todos {rest}"


P_SELECT = policy("own_select", f"for select to authenticated using ({OWN})")

CASES = [
    Case("policy-create-permissive-select", todos(), todos(P_SELECT), rows=ROWS, hazards=[SECURITY]),
    Case("policy-create-restrictive", todos(),
         todos(policy("only_open", "as restrictive for all to authenticated using (not done)")),
         rows=ROWS, hazards=[]),
    Case("policy-create-insert-with-check", todos(),
         todos(policy("own_insert", f"for insert to authenticated with check ({OWN})")),
         rows=ROWS, hazards=[SECURITY]),
    Case("policy-create-update-using-and-check", todos(),
         todos(policy("own_update", f"for update to authenticated using ({OWN}) with check ({OWN})")),
         rows=ROWS, hazards=[SECURITY]),
    Case("policy-create-delete", todos(), todos(policy("own_delete", f"for delete to authenticated using ({OWN})")),
         rows=ROWS, hazards=[SECURITY]),
    Case("policy-create-all-public", todos(), todos(policy("everyone_reads", "for select using (true)")),
         rows=ROWS, hazards=[SECURITY]),
    Case("policy-create-several-roles", todos(),
         todos(policy("staff", "for select to anon, authenticated, service_role using (done)")),
         rows=ROWS, hazards=[SECURITY]),
    Case("policy-create-with-table-and-rls", "",
         todos(P_SELECT), hazards=...),
    Case("policy-alter-roles-widen", todos(P_SELECT),
         todos(policy("own_select", f"for select to authenticated, anon using ({OWN})")),
         rows=ROWS, hazards=[SECURITY]),
    Case("policy-alter-roles-narrow", todos(policy("own_select", f"for select to authenticated, anon using ({OWN})")),
         todos(P_SELECT), rows=ROWS, hazards=[]),
    Case("policy-alter-roles-to-public", todos(P_SELECT),
         todos(policy("own_select", f"for select using ({OWN})")), rows=ROWS, hazards=[SECURITY]),
    Case("policy-alter-using", todos(P_SELECT),
         todos(policy("own_select", f"for select to authenticated using ({OWN} or done)")),
         rows=ROWS, hazards=[SECURITY]),
    Case("policy-alter-with-check", todos(policy("own_insert", f"for insert to authenticated with check ({OWN})")),
         todos(policy("own_insert", f"for insert to authenticated with check ({OWN} and not done)")),
         rows=ROWS, hazards=[SECURITY]),
    Case("policy-add-with-check-to-update",
         todos(policy("own_update", f"for update to authenticated using ({OWN})")),
         todos(policy("own_update", f"for update to authenticated using ({OWN}) with check ({OWN})")),
         rows=ROWS, hazards=[SECURITY]),
    Case("policy-remove-with-check-from-update",
         todos(policy("own_update", f"for update to authenticated using ({OWN}) with check ({OWN})")),
         todos(policy("own_update", f"for update to authenticated using ({OWN})")),
         rows=ROWS, hazards=[SECURITY]),
    Case("policy-change-command", todos(P_SELECT),
         todos(policy("own_select", f"for all to authenticated using ({OWN})")), rows=ROWS, hazards=[SECURITY]),
    Case("policy-change-permissive-to-restrictive", todos(P_SELECT),
         todos(policy("own_select", f"as restrictive for select to authenticated using ({OWN})")),
         rows=ROWS, hazards=...),
    Case("policy-change-restrictive-to-permissive",
         todos(policy("own_select", f"as restrictive for select to authenticated using ({OWN})")),
         todos(P_SELECT), rows=ROWS, hazards=[SECURITY]),
    Case("policy-drop-permissive", todos(P_SELECT), todos(), rows=ROWS, hazards=[]),
    Case("policy-drop-restrictive",
         todos(policy("only_open", "as restrictive for all to authenticated using (not done)")),
         todos(), rows=ROWS, hazards=[SECURITY]),
    Case("policy-drop-with-rls-disable", todos(P_SELECT),
         "create table public.todos (id int primary key, owner uuid, title text, done boolean default false);",
         rows=ROWS, hazards=[SECURITY]),
    Case("policy-comment", todos(P_SELECT),
         todos(P_SELECT, "comment on policy own_select on public.todos is 'Users see their own todos'"),
         rows=ROWS, hazards=[]),
    Case("policy-using-a-function",
         todos() + " create function public.is_admin() returns boolean language sql stable"
                   " set search_path = '' as $$ select false $$;",
         todos() + " create function public.is_admin() returns boolean language sql stable"
                   " set search_path = '' as $$ select false $$; "
         + policy("admins", "for all to authenticated using ((select public.is_admin()))") + ";",
         rows=ROWS, hazards=[SECURITY]),
    Case("policy-using-a-subquery-on-another-table",
         todos() + " create table public.members (user_id uuid, admin boolean);",
         todos() + " create table public.members (user_id uuid, admin boolean); "
         + policy("members_read", "for select to authenticated using (exists (select 1 from public.members m"
                  " where m.user_id = (select auth.uid()) and m.admin))") + ";",
         rows=ROWS + " insert into public.members values (null, false);", hazards=[SECURITY]),
    Case("policy-hostile-name", todos(),
         todos(policy('"Users can see ""their"" todos ☕"', f"for select to authenticated using ({OWN})")),
         rows=ROWS, hazards=[SECURITY]),
    Case("policy-storage-objects", "",
         "create policy \"avatar uploads\" on storage.objects for insert to authenticated"
         " with check (bucket_id = 'avatars');",
         hazards=[SECURITY], options=PlanOptions(include_schemas=("storage",))),
]


@pytest.mark.parametrize("case", params(CASES))
def test_round_trip(round_trips: Outcomes, case: Case) -> None:
    round_trips.check(case)
