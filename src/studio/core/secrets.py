"""Credentials over `keyring`: a probe for a real OS store, a memory backend, and typed entries.

Secrets live only in the operating system's password store (GNOME Keyring or KWallet through the Secret
Service, the macOS Keychain, the Windows Credential Manager). A backend counts as such a store only if it
is one of keyring's OS backends and a write/read/delete round trip of a probe entry succeeds; keyring's
`fail` and `null` backends and any file backend (keyrings.alt's plaintext or "encrypted" files) never do,
so Studio never falls back to a file on disk without saying so. When there is no OS store the caller asks
the user, and may keep secrets for the session only (`SecretStore.session_only()`).

Every value passes through `Secret`, which never shows its value in a repr, a message, a log line or a
pickle. Calls into a real store block (D-Bus round trips; an unlock prompt may wait for the user), so
services run them off the GUI thread.

Entries, all under one keyring service (`SERVICE`, "studio"), one entry per username:

* `account:<account_id>`: the account's tokens (`AccountTokens`) as one JSON document, so an access
  token and its refresh token are replaced together.
* `oauth-client:<client_id>`: an OAuth client secret.
* `project:<ref>:db-password`: the database password of a project.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import math
import secrets as _random
import string
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, NoReturn, TypeVar

from keyring import errors as keyring_errors
from keyring.backend import KeyringBackend

from studio.core.errors import SecretStoreError

log = logging.getLogger(__name__)

_T = TypeVar("_T")

SERVICE: Final = "studio"
"""The keyring service name every Studio entry is stored under."""

SESSION_ONLY_NAME: Final = "Session only (forgotten when Studio quits)"
"""The human name of the memory store (`SecretStore.session_only()`)."""

# Prefixes that say what kind of credential a value is without saying anything about the value itself.
# Longest first, so "sbp_oauth_" wins over "sbp_".
_KNOWN_PREFIXES: Final = ("sb_publishable_", "sb_secret_", "sbp_oauth_", "sbp_")

_TOKEN_KINDS: Final = frozenset({"token", "oauth"})
_ACCOUNT_FORMAT: Final = 1

_DB_PASSWORD_ALPHABET: Final = string.ascii_letters + string.digits

# keyring's backends that are the operating system's own store, by "module.ClassName" (matched along the
# class's MRO, so KWallet's KDE 4 variant counts too), with the name a user knows them by.
_OS_BACKENDS: Final = {
    "keyring.backends.SecretService.Keyring": "Secret Service keyring",
    "keyring.backends.libsecret.Keyring": "Secret Service keyring (libsecret)",
    "keyring.backends.macOS.Keyring": "macOS Keychain",
    "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Manager",
    "keyring.backends.kwallet.DBusKeyring": "KWallet",
}
_SECRET_SERVICE_BACKENDS: Final = frozenset(
    {"keyring.backends.SecretService.Keyring", "keyring.backends.libsecret.Keyring"}
)

# The program that owns the Secret Service name on D-Bus (from /proc/<pid>/comm, at most 15 characters).
_SECRET_SERVICE_PROVIDERS: Final = {
    "gnome-keyring-d": "GNOME Keyring (Secret Service)",
    "kwalletd5": "KWallet (Secret Service)",
    "kwalletd6": "KWallet (Secret Service)",
    "ksecretd": "KWallet (Secret Service)",
    "keepassxc": "KeePassXC (Secret Service)",
    "keepassxc-proxy": "KeePassXC (Secret Service)",
}


class Secret:
    """A secret string that does not show itself.

    `reveal()` returns the value; `repr`, `str`, `format` and f-strings give only a description such as
    `Secret('sbp_…', 44 chars)` (a known, non-secret prefix and the length). Not a `str`, so it cannot be
    pasted into a message by accident; cannot be pickled. Equal to another `Secret` with the same value
    (compared in constant time); true when non-empty.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Secret wraps a str, not {type(value).__name__}")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """The secret value itself: pass it straight to where it is needed, never into a message."""
        return self._value

    @property
    def prefix(self) -> str:
        """The value's known, non-secret prefix (such as `sbp_` or `sb_secret_`), or "" when it has none."""
        for prefix in _KNOWN_PREFIXES:
            if self._value.startswith(prefix) and len(self._value) > len(prefix):
                return prefix
        return ""

    def __repr__(self) -> str:
        size = f"{len(self._value)} char{'' if len(self._value) == 1 else 's'}"
        prefix = self.prefix
        return f"Secret('{prefix}…', {size})" if prefix else f"Secret({size})"

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return format(repr(self), format_spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Secret is immutable")

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled: store it with SecretStore instead")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        return self


@dataclass(frozen=True)
class AccountTokens:
    """The credentials of one signed-in account, stored together as one entry.

    `kind` is "token" for a personal access token (no refresh token, no expiry) or "oauth" for tokens from
    the OAuth sign-in; `expires_at` is the access token's expiry in unix time, None when it does not expire.
    """

    access_token: Secret
    refresh_token: Secret | None = None
    expires_at: float | None = None
    kind: str = "token"

    def __post_init__(self) -> None:
        if self.kind not in _TOKEN_KINDS:
            raise ValueError(f"unknown token kind {self.kind!r}: expected one of {sorted(_TOKEN_KINDS)}")
        if not isinstance(self.access_token, Secret):
            raise TypeError("access_token must be a Secret")
        if self.refresh_token is not None and not isinstance(self.refresh_token, Secret):
            raise TypeError("refresh_token must be a Secret or None")

    def expired(self, *, now: float | None = None, margin: float = 60.0) -> bool:
        """Whether the access token has expired, or will within `margin` seconds (never, without expiry)."""
        if self.expires_at is None:
            return False
        return (time.time() if now is None else now) + margin >= self.expires_at


@dataclass(frozen=True)
class BackendReport:
    """What a keyring backend is and whether Studio can keep secrets in it.

    `name` is a human name ("GNOME Keyring (Secret Service)", "macOS Keychain", "Session only (forgotten
    when Studio quits)"...); `persistent` is true only for a working OS store; `problem` is empty when the
    store works, else a sentence a user can act on.
    """

    name: str
    persistent: bool
    problem: str = ""


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps secrets in memory: the "session only" mode and unit tests.

    Its priority is below keyring's `fail` backend, so keyring never selects it by itself.
    """

    priority = -10.0  # a classproperty in the base class; a constant is enough here

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        """The stored value of `username` under `service`, or None."""
        return self._entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        """Store (or replace) the value of `username` under `service`."""
        self._entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        """Remove an entry; raises `PasswordDeleteError` when there is none, as the OS backends do."""
        try:
            del self._entries[(service, username)]
        except KeyError:
            raise keyring_errors.PasswordDeleteError("No such password!") from None


def _class_key(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _os_backend_key(backend: KeyringBackend) -> str | None:
    """The `_OS_BACKENDS` key of the backend's class or one of its bases, or None."""
    for cls in type(backend).__mro__:
        key = _class_key(cls)
        if key in _OS_BACKENDS:
            return key
    return None


def _is_chainer(backend: KeyringBackend) -> bool:
    return any(_class_key(cls) == "keyring.backends.chainer.ChainerBackend" for cls in type(backend).__mro__)


def _backend_name(backend: KeyringBackend) -> str:
    """The human name of a backend, from its class alone."""
    if isinstance(backend, MemoryKeyring):
        return SESSION_ONLY_NAME
    key = _os_backend_key(backend)
    if key is not None:
        return _OS_BACKENDS[key]
    module = type(backend).__module__
    if module in ("keyring.backends.fail", "keyring.backends.null"):
        return "No password store"
    if _is_chainer(backend):
        return "No password store"
    name = getattr(type(backend), "name", None)
    return name if isinstance(name, str) and name else _class_key(type(backend))


def _secret_service_provider() -> str | None:
    """The human name of the program serving the Secret Service on the session bus, or None if unknown.

    Best effort (Linux only): asks D-Bus for the process id of the `org.freedesktop.secrets` owner and
    reads its program name.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        with open_dbus_connection(bus="SESSION") as connection:
            reply = connection.send_and_get_reply(
                message_bus.GetConnectionUnixProcessID("org.freedesktop.secrets"), timeout=2
            )
        pid = int(reply.body[0])
        with open(f"/proc/{pid}/comm", encoding="utf-8") as comm:
            program = comm.read().strip()
    except Exception as exc:  # no jeepney, no bus, no owner, no /proc: the generic name will do
        log.debug("could not tell which program serves the Secret Service: %s", type(exc).__name__)
        return None
    return _SECRET_SERVICE_PROVIDERS.get(program)


def _no_store_advice() -> str:
    if sys.platform == "darwin":
        return "Check that your login keychain is available and unlocked, then restart Studio."
    if sys.platform == "win32":
        return "Check that the Windows Credential Manager service is running, then restart Studio."
    return (
        "Install GNOME Keyring (the gnome-keyring package) or KWallet, make sure it is running and unlocked, "
        "then restart Studio."
    )


def _first_line(text: str, limit: int = 160) -> str:
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _scrub(text: str, sensitive: Iterable[str]) -> str:
    """`text` with every sensitive value cut out, also as quoted by `repr` or JSON (longest first)."""
    forms = set()
    for value in sensitive:
        if value:
            forms.update(
                {value, repr(value)[1:-1], json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
            )
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "…")
    return text


def _close_leaked_connections(exc: BaseException) -> None:
    """Close the D-Bus connections a failed backend call left open.

    keyring's Secret Service backend opens a connection per call and closes it only once it has the
    collection: when the collection is locked (or cannot be created) the connection stays open until the
    garbage collector finds it, with a `ResourceWarning`. It is still referenced from the traceback's frames.
    """
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        for value in list(frame.f_locals.values()):
            if type(value).__module__.startswith("jeepney.io."):
                close = getattr(value, "close", None)
                if callable(close):
                    with contextlib.suppress(Exception):
                        close()


@dataclass(frozen=True)
class _Failure:
    """What went wrong in a backend call, in words safe to show (no secret, no exception object kept)."""

    locked: bool
    reason: str

    @classmethod
    def of(cls, exc: BaseException, sensitive: Iterable[str] = ()) -> _Failure:
        _close_leaked_connections(exc)
        detail = _first_line(_scrub(str(exc), sensitive))  # scrubbed before it is cut short
        if isinstance(exc, keyring_errors.KeyringLocked):
            return cls(True, "it is locked")
        if isinstance(exc, keyring_errors.NoKeyringError):
            return cls(False, "no password store is available")
        if isinstance(exc, keyring_errors.InitError):
            reason = "it could not be opened"
        elif isinstance(exc, keyring_errors.KeyringError):
            reason = "it reported an error"
        else:
            reason = f"it reported an error ({type(exc).__name__})"
        if "dismissed" in detail.lower() or "locked" in detail.lower():
            return cls(True, "it is locked")
        return cls(False, f"{reason}: {detail}" if detail else reason)


def _probe_failed(name: str, failure: _Failure) -> BackendReport:
    if failure.locked:
        problem = (
            f"Studio could not use {name}: it is locked and could not be unlocked. Unlock it (signing in to "
            "your desktop session again usually does), then restart Studio."
        )
    else:
        problem = f"Studio could not use {name}: {failure.reason}. {_no_store_advice()}"
    return BackendReport(name, persistent=False, problem=problem)


def _probe(backend: KeyringBackend, service: str) -> tuple[KeyringBackend | None, BackendReport]:
    """The backend Studio should write to (None when there is no working OS store) and its report."""
    name = _backend_name(backend)
    if isinstance(backend, MemoryKeyring):
        return backend, BackendReport(SESSION_ONLY_NAME, persistent=False)
    if _is_chainer(backend):
        # keyring chains when several backends are viable; writes would go to the first. Studio talks to the
        # best OS backend of the chain directly, so nothing ever reaches a file backend further down.
        chained: list[KeyringBackend] = list(getattr(backend, "backends", []))
        first_failure: BackendReport | None = None
        for candidate in chained:
            if _os_backend_key(candidate) is not None:
                usable, report = _probe(candidate, service)
                if usable is not None:
                    return usable, report
                first_failure = first_failure or report
        if first_failure is not None:
            return None, first_failure
        return None, BackendReport(
            name, persistent=False, problem=f"Studio found no password store on this computer. {_no_store_advice()}"
        )
    key = _os_backend_key(backend)
    if key is None:
        if type(backend).__module__ in ("keyring.backends.fail", "keyring.backends.null"):
            problem = f"Studio found no password store on this computer. {_no_store_advice()}"
        else:
            problem = (
                f"Studio found no password store on this computer: the configured keyring backend ({name}) is "
                f"not the operating system's password store, and Studio does not keep secrets in files. "
                f"{_no_store_advice()}"
            )
        return None, BackendReport(name, persistent=False, problem=problem)
    try:
        priority = float(type(backend).priority)
    except Exception as exc:  # keyring's backends say why they are unusable by raising from `priority`
        return None, _probe_failed(name, _Failure(False, f"it is not available ({_first_line(str(exc))})"))
    if not priority > 0:
        return None, _probe_failed(name, _Failure(False, "it is not available"))

    username = f"probe:{uuid.uuid4().hex}"
    value = _random.token_hex(16)
    failure: _Failure | None = None
    try:
        backend.set_password(service, username, value)
        try:
            if backend.get_password(service, username) != value:
                failure = _Failure(False, "a test entry did not read back as written")
        finally:
            backend.delete_password(service, username)
        if failure is None and backend.get_password(service, username) is not None:
            failure = _Failure(False, "a test entry could not be removed")
    except Exception as exc:  # KeyringError, D-Bus errors, OS errors: all mean "not usable"
        failure = _Failure.of(exc)
    if key in _SECRET_SERVICE_BACKENDS:
        name = _secret_service_provider() or name
    if failure is not None:
        log.info("keyring backend %s is not usable: %s", name, failure.reason)
        return None, _probe_failed(name, failure)
    return backend, BackendReport(name, persistent=True)


def probe_backend(backend: KeyringBackend | None = None, *, service: str = SERVICE) -> BackendReport:
    """Whether `backend` (default: keyring's current one) is a working OS password store.

    Writes, reads back and deletes a probe entry (a random username under `service`). Never raises: a
    backend that fails is reported with a `problem` sentence.
    """
    if backend is None:
        try:
            import keyring

            backend = keyring.get_keyring()
        except Exception as exc:  # a broken keyring configuration file, for one
            return BackendReport(
                "No password store",
                persistent=False,
                problem=f"Studio could not load a keyring backend ({_first_line(str(exc))}). {_no_store_advice()}",
            )
    return _probe(backend, service)[1]


def generate_db_password(length: int = 32) -> Secret:
    """A random database password of letters and digits (safe in connection strings and URLs).

    Has at least one lower-case letter, one upper-case letter and one digit.
    """
    if length < 12:
        raise ValueError("a database password needs at least 12 characters")
    while True:
        value = "".join(_random.choice(_DB_PASSWORD_ALPHABET) for _ in range(length))
        if any(c.islower() for c in value) and any(c.isupper() for c in value) and any(c.isdigit() for c in value):
            return Secret(value)


def _check_part(label: str, value: str) -> None:
    if not isinstance(value, str) or not value or any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError(f"{label} must be a non-empty string without spaces or control characters")


class SecretStore:
    """Studio's credentials in one keyring backend, under one service name.

    Methods block while the backend works (a D-Bus call, perhaps an unlock prompt): call them off the GUI
    thread. Every backend failure becomes `SecretStoreError`, whose message names the store and never
    contains a secret. Deleting an entry that does not exist is not an error.
    """

    generate_db_password = staticmethod(generate_db_password)

    def __init__(self, backend: KeyringBackend, *, service: str = SERVICE, report: BackendReport | None = None) -> None:
        _check_part("service", service)
        self._backend = backend
        self._service = service
        self._report = report

    @classmethod
    def open_default(cls, *, service: str = SERVICE) -> tuple[SecretStore | None, BackendReport]:
        """A store in keyring's default backend if that is a working OS store; else None and the reason.

        With None, the caller asks the user what to do (for example `session_only()`).
        """
        try:
            import keyring

            default = keyring.get_keyring()
        except Exception:
            return None, probe_backend(None, service=service)
        backend, report = _probe(default, service)
        if backend is None or not report.persistent:
            return None, report
        log.info("secrets are kept in %s", report.name)
        return cls(backend, service=service, report=report), report

    @classmethod
    def session_only(cls, *, service: str = SERVICE) -> SecretStore:
        """A store that keeps secrets in memory until Studio quits."""
        return cls(MemoryKeyring(), service=service, report=BackendReport(SESSION_ONLY_NAME, persistent=False))

    @property
    def service(self) -> str:
        """The keyring service name of every entry."""
        return self._service

    @property
    def backend(self) -> KeyringBackend:
        """The keyring backend the entries live in."""
        return self._backend

    @property
    def report(self) -> BackendReport:
        """The backend's report (probed on first use when the store was built without one)."""
        if self._report is None:
            self._report = _probe(self._backend, self._service)[1]
        return self._report

    @property
    def _name(self) -> str:
        return self._report.name if self._report is not None else _backend_name(self._backend)

    # -- errors -------------------------------------------------------------------------------------

    def _error(self, action: str, what: str, failure: _Failure) -> SecretStoreError:
        preposition = {"read": "from", "save": "in", "remove": "from"}[action]
        message = f"Studio could not {action} {what} {preposition} {self._name}: {failure.reason}."
        if failure.locked:
            hint = f"Unlock {self._name} (signing in to your desktop session again usually does), then try again."
        else:
            hint = f"Check that {self._name} is running and unlocked, then try again."
        return SecretStoreError(message, hint=hint)

    def _call(self, action: str, what: str, call: Callable[[], _T], sensitive: Iterable[str] = ()) -> _T:
        try:
            return call()
        except Exception as exc:
            failure = _Failure.of(exc, sensitive)
            log.debug("keyring %s of %s failed: %s (%s)", action, what, type(exc).__name__, failure.reason)
        # Raised outside the handler: the backend's exception (which may quote what it was given) is not kept.
        raise self._error(action, what, failure)

    # -- generic entries ----------------------------------------------------------------------------

    def get(self, name: str) -> Secret | None:
        """The secret stored as `name`, or None."""
        return self._get(name, f"'{name}'")

    def set(self, name: str, secret: Secret) -> None:
        """Store `secret` as `name`, replacing what was there."""
        self._set(name, secret, f"'{name}'")

    def delete(self, name: str) -> None:
        """Remove the entry `name`; nothing happens when there is none."""
        self._delete(name, f"'{name}'")

    def _get(self, name: str, what: str) -> Secret | None:
        _check_part("name", name)
        value = self._call("read", what, lambda: self._backend.get_password(self._service, name))
        return None if value is None else Secret(value)

    def _set(self, name: str, secret: Secret, what: str, sensitive: Iterable[str] = ()) -> None:
        _check_part("name", name)
        if not isinstance(secret, Secret):
            raise TypeError(f"store a Secret, not {type(secret).__name__}")
        if not secret:
            raise ValueError("an empty secret cannot be stored; delete the entry instead")
        value = secret.reveal()
        self._call("save", what, lambda: self._backend.set_password(self._service, name, value), [value, *sensitive])
        log.debug("stored %s in %s", what, self._name)

    def _delete(self, name: str, what: str) -> None:
        _check_part("name", name)
        try:
            self._backend.delete_password(self._service, name)
        except keyring_errors.PasswordDeleteError as exc:
            failure = _Failure.of(exc)
        except Exception as exc:
            raise self._error("remove", what, _Failure.of(exc)) from None
        else:
            log.debug("removed %s from %s", what, self._name)
            return
        # Backends report a missing entry as a failed delete: only an entry still there is an error.
        if self._get(name, what) is not None:
            raise self._error("remove", what, failure)

    # -- accounts -----------------------------------------------------------------------------------

    @staticmethod
    def account_entry(account_id: str) -> str:
        """The entry name of an account's tokens."""
        _check_part("account id", account_id)
        return f"account:{account_id}"

    def get_account_tokens(self, account_id: str) -> AccountTokens | None:
        """The stored tokens of an account, or None; `SecretStoreError` if the entry is damaged."""
        what = f"the sign-in of account {account_id}"
        stored = self._get(self.account_entry(account_id), what)
        if stored is None:
            return None
        tokens = _decode_tokens(stored.reveal())
        if tokens is None:
            raise SecretStoreError(
                f"The saved sign-in of account {account_id} in {self._name} is damaged, so Studio cannot use it.",
                hint="Sign in to this account again; Studio will replace the damaged entry.",
            )
        return tokens

    def set_account_tokens(self, account_id: str, tokens: AccountTokens) -> None:
        """Store an account's tokens (one entry, replaced as a whole)."""
        if not isinstance(tokens, AccountTokens):
            raise TypeError(f"store AccountTokens, not {type(tokens).__name__}")
        document = _encode_tokens(tokens)
        parts = [tokens.access_token.reveal()]
        if tokens.refresh_token is not None:
            parts.append(tokens.refresh_token.reveal())
        what = f"the sign-in of account {account_id}"
        self._set(self.account_entry(account_id), Secret(document), what, parts)

    def delete_account_tokens(self, account_id: str) -> None:
        """Forget an account's tokens."""
        self._delete(self.account_entry(account_id), f"the sign-in of account {account_id}")

    # -- OAuth clients ------------------------------------------------------------------------------

    @staticmethod
    def oauth_client_entry(client_id: str) -> str:
        """The entry name of an OAuth client's secret."""
        _check_part("client id", client_id)
        return f"oauth-client:{client_id}"

    def get_oauth_client_secret(self, client_id: str) -> Secret | None:
        """The stored secret of an OAuth client, or None."""
        return self._get(self.oauth_client_entry(client_id), f"the secret of OAuth client {client_id}")

    def set_oauth_client_secret(self, client_id: str, secret: Secret) -> None:
        """Store the secret of an OAuth client."""
        self._set(self.oauth_client_entry(client_id), secret, f"the secret of OAuth client {client_id}")

    def delete_oauth_client_secret(self, client_id: str) -> None:
        """Forget the secret of an OAuth client."""
        self._delete(self.oauth_client_entry(client_id), f"the secret of OAuth client {client_id}")

    # -- database passwords -------------------------------------------------------------------------

    @staticmethod
    def db_password_entry(project_ref: str) -> str:
        """The entry name of a project's database password."""
        _check_part("project ref", project_ref)
        return f"project:{project_ref}:db-password"

    def get_db_password(self, project_ref: str) -> Secret | None:
        """The stored database password of a project, or None."""
        return self._get(self.db_password_entry(project_ref), f"the database password of project {project_ref}")

    def set_db_password(self, project_ref: str, password: Secret) -> None:
        """Store the database password of a project."""
        self._set(self.db_password_entry(project_ref), password, f"the database password of project {project_ref}")

    def delete_db_password(self, project_ref: str) -> None:
        """Forget the database password of a project."""
        self._delete(self.db_password_entry(project_ref), f"the database password of project {project_ref}")


def _encode_tokens(tokens: AccountTokens) -> str:
    document: dict[str, Any] = {
        "format": _ACCOUNT_FORMAT,
        "kind": tokens.kind,
        "access_token": tokens.access_token.reveal(),
        "refresh_token": None if tokens.refresh_token is None else tokens.refresh_token.reveal(),
        "expires_at": tokens.expires_at,
    }
    return json.dumps(document, separators=(",", ":"))


def _decode_tokens(text: str) -> AccountTokens | None:
    """The tokens in an account entry, or None when it is not a document Studio wrote."""
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("format") != _ACCOUNT_FORMAT:
        return None
    access, refresh, expires, kind = (document.get(k) for k in ("access_token", "refresh_token", "expires_at", "kind"))
    if not isinstance(access, str) or not access or kind not in _TOKEN_KINDS:
        return None
    if refresh is not None and (not isinstance(refresh, str) or not refresh):
        return None
    if expires is not None and (
        isinstance(expires, bool) or not isinstance(expires, int | float) or not math.isfinite(expires)
    ):
        return None
    return AccountTokens(
        access_token=Secret(access),
        refresh_token=None if refresh is None else Secret(refresh),
        expires_at=None if expires is None else float(expires),
        kind=str(kind),
    )
