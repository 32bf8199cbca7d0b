"""A second, older PostgreSQL server for tests: Debian's PostgreSQL 15, the major version most Supabase
projects run. Started in a temporary folder on a unix socket, with the same Supabase base as the local
project's template, so the same schema can be created on both and compared."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
from pathlib import Path

import psycopg

from studio.core.targets.local import base_sql

PG15_BIN = Path("/usr/lib/postgresql/15/bin")
_SERVICE_USER = "embedded_postgres"  # the unprivileged user the embedded server also runs as under root


def available() -> bool:
    """Whether Debian's PostgreSQL 15 server binaries are installed."""
    return (PG15_BIN / "postgres").exists()


class OlderServer:
    """PostgreSQL 15 in `folder`, listening only on a unix socket inside it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            pwd.getpwnam(_SERVICE_USER)  # created by the embedded server on its first start
            shutil.chown(folder, user=_SERVICE_USER)
            os.chmod(folder, 0o755)
            self._as_user = ["runuser", "-u", _SERVICE_USER, "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as_user, *args], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        """initdb and start the server."""
        self._run(str(PG15_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "utf8")
        self._run(str(PG15_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"), "-w",
                  "-o", f"-k {self.folder} -h ''", "start")

    def stop(self) -> None:
        """Stop the server (its folder is left for the test framework to remove)."""
        self._run(str(PG15_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def uri(self, dbname: str = "postgres") -> str:
        """A connection URL for `dbname` on this server."""
        return f"postgresql://postgres@/{dbname}?host={self.folder}"

    def create_database(self) -> str:
        """A fresh database with the Supabase base installed; returns its name."""
        name = f"studio_{secrets.token_hex(6)}"
        with psycopg.connect(self.uri(), autocommit=True) as conn:
            conn.execute(f'create database "{name}"')
        with psycopg.connect(self.uri(name), autocommit=True) as conn:
            conn.execute("set client_min_messages = error")
            conn.execute(base_sql())
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database made by `create_database`."""
        with psycopg.connect(self.uri(), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
