"""Fresh Supabase-template databases for round trips, reused after a reset that is checked.

Cloning the template costs 50-300 ms of server CPU (it copies every system catalog), more than a whole
round trip's own work. A `DatabasePool` clones a database once and, when a round trip is done with it,
puts it back in the template's state: it drops what a test can have added (schemas, extensions,
publications, event triggers, the `public` schema with its content, policies and triggers on the
managed tables, their rows) and rebuilds `public` and the `supabase_realtime` publication as the
template has them.

The reset is checked twice over:
* once, when the pool starts: a fresh clone's full `pg_dump --schema-only` (every schema, normalised)
  must be the same before and after a reset, so a reset database is as good as a fresh clone;
* after every use: a signature of the database (how many objects each system catalog holds past the
  built-in ones, plus privileges, comments, RLS flags and options of every object) must equal that of
  the reset fresh clone. Any leftover object or changed privilege shows; such a database is dropped,
  never reused.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import subprocess

import psycopg

from studio.core.targets.local import LocalServer
from tests.support.pgdump import PG_DUMP, DumpFailed, normalise

# Puts a database cloned from the Supabase template (see studio/core/targets/supabase_base.sql) back in
# the template's state. Objects are found by catalog queries, so whatever a test adds goes.
RESET_SQL = r"""
do $studio_reset$
declare
  r record;
begin
  for r in select evtname from pg_catalog.pg_event_trigger loop
    execute format('drop event trigger %I', r.evtname);
  end loop;
  for r in select pubname from pg_catalog.pg_publication loop
    execute format('drop publication %I', r.pubname);
  end loop;
  for r in select extname from pg_catalog.pg_extension where extname <> 'plpgsql' loop
    execute format('drop extension %I cascade', r.extname);
  end loop;
  for r in select nspname from pg_catalog.pg_namespace
           where nspname not in ('public', 'auth', 'storage', 'extensions', 'information_schema')
             and nspname not like 'pg\_%' loop
    execute format('drop schema %I cascade', r.nspname);
  end loop;
  for r in select schemaname, tablename, policyname from pg_catalog.pg_policies
           where schemaname in ('auth', 'storage', 'extensions') loop
    execute format('drop policy %I on %I.%I', r.policyname, r.schemaname, r.tablename);
  end loop;
  for r in select t.tgname, c.relname, n.nspname
           from pg_catalog.pg_trigger t join pg_catalog.pg_class c on c.oid = t.tgrelid
           join pg_catalog.pg_namespace n on n.oid = c.relnamespace
           where not t.tgisinternal and n.nspname in ('auth', 'storage', 'extensions') loop
    execute format('drop trigger %I on %I.%I', r.tgname, r.nspname, r.relname);
  end loop;
end
$studio_reset$;
truncate auth.users, storage.objects, storage.buckets cascade;
drop schema public cascade;
create schema public authorization pg_database_owner;
comment on schema public is 'standard public schema';
grant usage on schema public to public;
grant usage on schema public to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on sequences to anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on functions to anon, authenticated, service_role;
create publication supabase_realtime;
"""


_CATALOGS_WITH_OIDS = """
select c.relname from pg_catalog.pg_class c
join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attname = 'oid'
where c.relnamespace = 'pg_catalog'::pg_catalog.regnamespace and c.relkind = 'r' and not c.relisshared
order by 1
"""


def signature_sql(catalogs: list[str]) -> str:
    """A query returning one md5 that changes when any object is added to, or changed in, a database."""
    counts = " union all ".join(
        f"select '{name}' as k, count(*) as n from pg_catalog.{name} where oid >= 16384" for name in catalogs)
    return f"""
select pg_catalog.md5(concat_ws('|',
  (select string_agg(k || '=' || n, ',' order by k) from ({counts}) counts),
  (select count(*) from pg_catalog.pg_attribute where attrelid >= 16384 and not attisdropped),
  (select string_agg(description, ',' order by description) from pg_catalog.pg_description where objoid >= 16384),
  (select string_agg(format('%s.%s:%s:%s:%s:%s', n.nspname, c.relname, c.relacl, c.relrowsecurity,
                            c.relforcerowsecurity, c.reloptions), ',' order by n.nspname, c.relname)
     from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace where c.oid >= 16384),
  (select string_agg(format('%s.%s:%s:%s', n.nspname, p.proname, p.proacl, p.proconfig), ','
                     order by n.nspname, p.proname)
     from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace where p.oid >= 16384),
  (select string_agg(format('%s:%s', nspname, nspacl), ',' order by nspname) from pg_catalog.pg_namespace),
  (select string_agg(format('%s:%s', defaclobjtype, defaclacl), ',' order by defaclobjtype)
     from pg_catalog.pg_default_acl),
  (select string_agg(format('%s:%s%s%s%s%s', pubname, puballtables, pubinsert, pubupdate, pubdelete, pubtruncate), ',')
     from pg_catalog.pg_publication),
  (select count(*) from pg_catalog.pg_publication_rel)
))
"""


def full_schema(url: str) -> str:
    """The normalised `pg_dump --schema-only` of every schema of a database (managed ones included)."""
    done = subprocess.run([str(PG_DUMP), "--schema-only", "--no-sync", "--dbname", url],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DumpFailed(f"pg_dump failed ({done.returncode}): {done.stderr.strip()}")
    return normalise(done.stdout, include_schemas=("auth", "storage", "extensions"))


class ResetIsIncomplete(AssertionError):
    """A reset fresh clone differs from the template: RESET_SQL misses something the template has."""


class DatabasePool:
    """Databases cloned from the template of `server`, handed out clean and taken back after use.

    Holds only names, no connections, so one pool serves several event loops (`asyncio.run` calls) in
    turn. `close()` drops every database it made. `created`, `reused` and `discarded` count what happened.
    """

    def __init__(self, server: LocalServer) -> None:
        """Clone one database and check that RESET_SQL returns it to the template's state (blocks)."""
        self.server = server
        self._free: list[str] = []
        self._all: set[str] = set()
        self.created = 0
        self.reused = 0
        self.discarded = 0
        name = server.create_database()
        self._all.add(name)
        self.created += 1
        url = self.url(name)
        before = full_schema(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("set client_min_messages = error")
            conn.execute(RESET_SQL)
            catalogs = [str(row[0]) for row in conn.execute(_CATALOGS_WITH_OIDS).fetchall()]
            self._signature_sql = signature_sql(catalogs)
            row = conn.execute(self._signature_sql).fetchone()
        after = full_schema(url)
        if before != after:
            self.close()
            raise ResetIsIncomplete("a reset clone of the template differs from a fresh one (pg_dump):\n"
                                    + "\n".join(difflib.unified_diff(before.splitlines(), after.splitlines(),
                                                                     lineterm="")))
        self._baseline = str(row[0]) if row else ""
        self._free.append(name)

    def url(self, name: str) -> str:
        """The connection URL of one of the pool's databases."""
        return self.server.uri(name)

    async def acquire(self) -> str:
        """A database in the template's state (reused when one is free, else newly cloned)."""
        if self._free:
            self.reused += 1
            return self._free.pop()
        name = await asyncio.to_thread(self.server.create_database)
        self._all.add(name)
        self.created += 1
        return name

    async def release(self, name: str) -> None:
        """Take a database back: reset and verify it for reuse, or drop it if that fails."""
        clean = False
        with contextlib.suppress(psycopg.Error):
            async with await psycopg.AsyncConnection.connect(self.url(name), autocommit=True) as conn:
                await conn.execute("set client_min_messages = error")
                await conn.execute(RESET_SQL)
                cursor = await conn.execute(self._signature_sql)
                row = await cursor.fetchone()
                clean = row is not None and row[0] == self._baseline
        if clean:
            self._free.append(name)
        else:
            self.discarded += 1
            await asyncio.to_thread(self._drop, name)

    def _drop(self, name: str) -> None:
        self._all.discard(name)
        self.server.drop_database(name)

    def close(self) -> None:
        """Drop every database of the pool (blocking)."""
        for name in sorted(self._all):
            self._drop(name)
        self._free.clear()
