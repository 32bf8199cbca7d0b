"""One hierarchy of errors, each carrying a message a user can act on.

`StudioError.message` says what happened; `StudioError.hint` says what to do about it. Errors are split
into those caused by the environment (network, disk, the database said no: tell the user) and those that
are our bug (`InternalError`: log with detail, apologise).
"""

from __future__ import annotations


def joined_lines(*parts: str) -> str:
    """The non-empty parts, one per line: how hints are built from optional pieces."""
    return "\n".join(part for part in parts if part)


class StudioError(Exception):
    """Base of every error Studio reports to a user."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class ConnectionFailed(StudioError):
    """The database or service could not be reached."""


class LocalServerError(StudioError):
    """The embedded PostgreSQL server on this computer could not be prepared or started."""


class SqlError(StudioError):
    """The server rejected a statement.

    `sqlstate` is the server's five-character code; `statement` the SQL that failed (never containing a
    secret: Studio does not put secrets into SQL text).
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        sqlstate: str | None = None,
        statement: str | None = None,
        position: int | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.sqlstate = sqlstate
        self.statement = statement
        self.position = position


class SchemaFileError(StudioError):
    """A desired-state SQL file failed to apply: carries the file, line and the server's message."""

    def __init__(self, message: str, *, hint: str = "", path: str, line: int, server_message: str) -> None:
        super().__init__(message, hint=hint)
        self.path = path
        self.line = line
        self.server_message = server_message


class DriftError(StudioError):
    """The live database changed since the plan was computed."""

    def __init__(self, message: str, *, hint: str = "", changes: list[str] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.changes = changes or []


class DeployLocked(StudioError):
    """Another deploy holds the database's deploy lock."""


class MigrationFailed(StudioError):
    """A statement of a migration failed; nothing was changed.

    `index` is the position of the failing statement in the migration (0-based).
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        statement: str,
        index: int,
        server_message: str,
        sqlstate: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.statement = statement
        self.index = index
        self.server_message = server_message
        self.sqlstate = sqlstate


class WorkspaceError(StudioError):
    """The workspace folder or one of its files is missing or unreadable."""


class InternalError(StudioError):
    """Our bug: something Studio should have handled did not go as designed."""


class PlatformError(StudioError):
    """Supabase's platform (the Management API, OAuth, a project's API) did not do what was asked.

    `status` is the HTTP status when there was a response.
    """

    def __init__(self, message: str, *, hint: str = "", status: int | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class NetworkDown(PlatformError):
    """No connection to Supabase could be made, or it broke before an answer came."""


class SignInRequired(PlatformError):
    """The account's token is missing, expired or revoked: the user has to sign in again."""


class AccessDenied(PlatformError):
    """The account is signed in but may not do this (HTTP 403)."""


class NotFoundOnPlatform(PlatformError):
    """The organization, project or resource does not exist or is not visible to this account."""


class RateLimited(PlatformError):
    """Supabase is rate limiting this account; `retry_after` is how long it asked us to wait (seconds)."""

    def __init__(self, message: str, *, hint: str = "", status: int | None = 429, retry_after: float) -> None:
        super().__init__(message, hint=hint, status=status)
        self.retry_after = retry_after


class PlatformUnavailable(PlatformError):
    """Supabase answered with a server error or too slowly."""


class RequestRejected(PlatformError):
    """Supabase refused the request as invalid (HTTP 400/409/422); the message carries its reason."""


class SignInFailed(PlatformError):
    """The browser sign-in did not complete: cancelled, timed out, denied or tampered with."""


class ProvisioningFailed(PlatformError):
    """A new project did not become ready (it failed to start or took too long)."""


class SecretStoreError(StudioError):
    """The credential store (the OS keyring) could not read, save or remove a secret, or an entry is damaged.

    The message names the store and the entry, never the secret itself.
    """


class ModelInvalid(StudioError):
    """The data model has problems that stop generation; `problems` lists them in the builder's words."""

    def __init__(self, message: str, *, hint: str = "", problems: list[str] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems or []
