"""What the app is working on: a project (where SQL runs) and its workspace folder (where files live).

A `ProjectHandle` is what pages receive when the user picks a project on the left. It opens targets on
demand (each job opens its own and closes it), and carries the local embedded server every kind of
project needs for its scratch ("shadow") databases when plans are made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from studio.core.targets.base import Target
from studio.core.targets.local import LocalServer
from studio.core.targets.postgres import PostgresTarget, describe_conninfo


class ProjectKind(StrEnum):
    """Where a project's database is."""

    LOCAL = "local"  # the embedded server on this computer
    CLOUD = "cloud"  # a Supabase project, through the Management API
    DATABASE = "database"  # any PostgreSQL connection string


@dataclass
class ProjectHandle:
    """One project the app can open.

    `open_target()` returns a new target the caller must close. `title` names it for people,
    `detail` adds a line (ref and region, the server's address: never a password).
    """

    kind: ProjectKind
    title: str
    workspace: Path
    server: LocalServer
    opener: Callable[[], Awaitable[Target]] = field(repr=False)
    detail: str = ""
    ref: str | None = None
    account_id: str | None = None

    async def open_target(self) -> Target:
        """A fresh target on this project's database (close it when done)."""
        return await self.opener()

    async def ensure_server(self) -> LocalServer:
        """The local server, started, with Supabase's base installed (needed for shadow databases)."""
        await asyncio.to_thread(self.server.start)
        await asyncio.to_thread(self.server.ensure_supabase_base)
        return self.server


def local_project(server: LocalServer, workspace: Path) -> ProjectHandle:
    """The local embedded project on this computer."""

    async def _open() -> Target:
        await asyncio.to_thread(server.start)
        await asyncio.to_thread(server.ensure_supabase_base)
        return server.local_target()

    return ProjectHandle(ProjectKind.LOCAL, "This computer", workspace, server, _open,
                         detail="On this computer · no account needed")


def database_project(server: LocalServer, workspace: Path, conninfo: str, title: str = "") -> ProjectHandle:
    """Any PostgreSQL database given by a connection string (the password never shows in titles)."""
    shown = describe_conninfo(conninfo)

    async def _open() -> Target:
        return PostgresTarget(conninfo)

    return ProjectHandle(ProjectKind.DATABASE, title or shown, workspace, server, _open, detail=shown)
