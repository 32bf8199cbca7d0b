"""The credential store: `Secret` never shows itself, the probe refuses anything but a working OS store,
entries of several accounts and projects coexist, and backend failures become `SecretStoreError` without
the secret in them. No real keyring is touched here (see tests/integration/test_secret_service.py).
"""

from __future__ import annotations

import copy
import json
import logging
import pickle
import string
import sys
import urllib.parse

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import SecretService, chainer, fail, null
from keyring.compat import properties
from keyring.errors import KeyringError, KeyringLocked, PasswordDeleteError

from studio.core import secrets
from studio.core.errors import SecretStoreError, StudioError
from studio.core.secrets import (
    SERVICE,
    AccountTokens,
    BackendReport,
    MemoryKeyring,
    Secret,
    SecretStore,
    generate_db_password,
    probe_backend,
)

PAT = "sbp_0123456789abcdef0123456789abcdef01234567"
SECRET_KEY = "sb_secret_Zq3vP9xY2mW8kL4nR7tB1c"
PLAIN = "hunter2-correct-horse-battery-staple"
TEST_SERVICE = "studio-unit-test"


# -- fake backends (none of them is ever viable, so keyring can never pick one by itself) ------------------


class FakeSecretService(SecretService.Keyring):
    """Pretends to be keyring's Secret Service backend, keeping entries in a dict."""

    viable = False
    priority = 5

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.calls: list[str] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.calls.append("get")
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls.append("set")
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.calls.append("delete")
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise PasswordDeleteError("No such password!") from None


class LockedSecretService(FakeSecretService):
    """A Secret Service whose default collection is locked and stays locked."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")

    set_password = delete_password = get_password  # type: ignore[assignment]


class FakeDbusConnection:
    """Stands in for a jeepney connection (the module name is what Studio looks at)."""

    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


FakeDbusConnection.__module__ = "jeepney.io.blocking"


class LeakyLockedSecretService(FakeSecretService):
    """Like keyring's Secret Service backend on a locked collection: opens a connection and raises."""

    def __init__(self) -> None:
        super().__init__()
        self.connections: list[FakeDbusConnection] = []

    def _collection(self) -> None:
        bus = FakeDbusConnection()
        self.connections.append(bus)
        raise KeyringLocked("Failed to unlock the collection!")

    def get_password(self, service: str, username: str) -> str | None:
        self._collection()
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._collection()


class DbusFailingSecretService(FakeSecretService):
    """A Secret Service that fails with a D-Bus error (not a KeyringError)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown: The name is not activatable")


class UnavailableSecretService(FakeSecretService):
    """keyring's way of saying a backend cannot work here: reading `priority` raises."""

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("The Secret Service daemon is neither running nor activatable through D-Bus")


class PlaintextFileKeyring(KeyringBackend):
    """Pretends to be keyrings.alt's plaintext file backend: works perfectly, and must never be used."""

    viable = False
    priority = 0.5

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


PlaintextFileKeyring.__module__ = "keyrings.alt.file"
PlaintextFileKeyring.__qualname__ = "PlaintextKeyring"


class BrokenKeyring(MemoryKeyring):
    """Reads work; every write fails, quoting what it was given (as a careless backend might)."""

    viable = False

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringError(f"could not store {password!r} for {username}")

    def delete_password(self, service: str, username: str) -> None:
        raise PasswordDeleteError(f"cannot delete {username}")


class LockedKeyring(MemoryKeyring):
    """Every call fails: the keyring is locked."""

    viable = False

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")


def chain_of(*backends: KeyringBackend) -> KeyringBackend:
    """A keyring chainer over exactly these backends."""
    cls = type("FakeChainer", (chainer.ChainerBackend,), {"viable": False, "backends": list(backends)})
    backend: KeyringBackend = cls()
    return backend


@pytest.fixture(autouse=True)
def no_dbus(monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe asks D-Bus which program serves the Secret Service; unit tests never ask."""
    monkeypatch.setattr(secrets, "_secret_service_provider", lambda: None)


@pytest.fixture
def store() -> SecretStore:
    return SecretStore(MemoryKeyring(), service=TEST_SERVICE)


# -- Secret ----------------------------------------------------------------------------------------------


def test_secret_reveals_only_on_request() -> None:
    secret = Secret(PAT)
    assert secret.reveal() == PAT
    for shown in (
        repr(secret),
        str(secret),
        format(secret),
        format(secret, ">60"),
        f"{secret}",
        f"{secret!r}",
        f"{secret!s}",
        f"{secret:<70}",
        "%s" % secret,  # noqa: UP031 - the old way must not reveal either
        "%r" % secret,  # noqa: UP031
        "{}".format(secret),  # noqa: UP032
        str([secret]),
        str({"token": secret}),
        repr(AccountTokens(secret, Secret(PLAIN), 1.0, "oauth")),
    ):
        assert PAT not in shown
        assert PAT[4:12] not in shown
        assert PLAIN not in shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (PAT, "Secret('sbp_…', 44 chars)"),
        (SECRET_KEY, "Secret('sb_secret_…', 32 chars)"),
        ("sbp_oauth_abcdef", "Secret('sbp_oauth_…', 16 chars)"),
        (PLAIN, f"Secret({len(PLAIN)} chars)"),
        ("sbp_", "Secret(4 chars)"),  # the "prefix" would be the whole value
        ("sbpx_secret", "Secret(11 chars)"),
        ("x", "Secret(1 char)"),
        ("", "Secret(0 chars)"),
    ],
)
def test_secret_repr_shows_only_a_known_prefix_and_the_length(value: str, shown: str) -> None:
    assert repr(Secret(value)) == shown
    assert str(Secret(value)) == shown


def test_secret_cannot_be_pickled() -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret(PAT))
    with pytest.raises(TypeError):
        pickle.dumps(AccountTokens(Secret(PAT)))
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError):
            pickle.dumps(Secret(PAT), protocol=protocol)


def test_secret_copies_are_itself() -> None:
    secret = Secret(PAT)
    assert copy.copy(secret) is secret
    assert copy.deepcopy(secret) is secret


def test_secret_is_not_a_string() -> None:
    secret = Secret(PAT)
    assert not isinstance(secret, str)
    with pytest.raises(TypeError):
        _ = "token: " + secret  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = secret + "x"  # type: ignore[operator]
    with pytest.raises(TypeError):
        Secret(secret)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Secret(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        json.dumps({"token": secret})


def test_secret_equality_hash_and_truth() -> None:
    assert Secret(PAT) == Secret(PAT)
    assert Secret(PAT) != Secret(PLAIN)
    assert Secret(PAT) != PAT  # a Secret never equals a bare string
    assert hash(Secret(PAT)) == hash(Secret(PAT))
    assert len({Secret(PAT), Secret(PAT), Secret(PLAIN)}) == 2
    assert Secret("ünïcødé ☕") == Secret("ünïcødé ☕")
    assert Secret("x")
    assert not Secret("")


def test_secret_is_immutable() -> None:
    secret = Secret(PAT)
    with pytest.raises(AttributeError):
        secret._value = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del secret._value
    assert secret.reveal() == PAT


def test_account_tokens_check_their_fields() -> None:
    with pytest.raises(ValueError, match="kind"):
        AccountTokens(Secret(PAT), kind="password")
    with pytest.raises(TypeError):
        AccountTokens(PAT)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        AccountTokens(Secret(PAT), refresh_token=PLAIN)  # type: ignore[arg-type]


def test_account_tokens_expiry() -> None:
    assert not AccountTokens(Secret(PAT)).expired(now=1e12)
    tokens = AccountTokens(Secret(PAT), Secret(PLAIN), expires_at=1000.0, kind="oauth")
    assert not tokens.expired(now=900.0)
    assert tokens.expired(now=950.0)  # within the default minute of margin
    assert not tokens.expired(now=950.0, margin=0)
    assert tokens.expired(now=1000.0, margin=0)


# -- MemoryKeyring and entries ---------------------------------------------------------------------------


def test_memory_keyring_round_trip() -> None:
    backend = MemoryKeyring()
    assert backend.get_password("svc", "u") is None
    backend.set_password("svc", "u", PLAIN)
    assert backend.get_password("svc", "u") == PLAIN
    assert backend.get_password("other", "u") is None
    backend.set_password("svc", "u", PAT)
    assert backend.get_password("svc", "u") == PAT
    backend.delete_password("svc", "u")
    assert backend.get_password("svc", "u") is None
    with pytest.raises(PasswordDeleteError):
        backend.delete_password("svc", "u")
    assert MemoryKeyring().get_password("svc", "u") is None  # each instance has its own entries


def test_memory_keyring_is_never_chosen_by_keyring() -> None:
    assert MemoryKeyring.priority < fail.Keyring.priority
    assert MemoryKeyring.priority <= 0  # keyring's chainer only chains backends above 0
    assert not isinstance(keyring.get_keyring(), MemoryKeyring)


def test_generic_entries_round_trip(store: SecretStore) -> None:
    assert store.get("thing") is None
    store.set("thing", Secret(PLAIN))
    assert store.get("thing") == Secret(PLAIN)
    store.set("thing", Secret(PAT))
    assert store.get("thing") == Secret(PAT)
    store.delete("thing")
    assert store.get("thing") is None
    store.delete("thing")  # deleting a missing entry is fine
    store.delete("never-there")


def test_set_takes_only_a_non_empty_secret(store: SecretStore) -> None:
    with pytest.raises(TypeError):
        store.set("thing", PLAIN)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        store.set("thing", Secret(""))
    for bad in ("", "two words", "line\nbreak"):
        with pytest.raises(ValueError):
            store.set(bad, Secret(PLAIN))
        with pytest.raises(ValueError):
            store.get_db_password(bad)
    with pytest.raises(ValueError):
        SecretStore(MemoryKeyring(), service="")


def test_account_tokens_round_trip(store: SecretStore) -> None:
    oauth = AccountTokens(Secret("sbp_oauth_access"), Secret("refresh-1"), expires_at=1_700_000_000.5, kind="oauth")
    pat = AccountTokens(Secret(PAT))
    assert store.get_account_tokens("acct-1") is None
    store.set_account_tokens("acct-1", oauth)
    store.set_account_tokens("acct-2", pat)
    assert store.get_account_tokens("acct-1") == oauth
    assert store.get_account_tokens("acct-2") == pat
    got = store.get_account_tokens("acct-2")
    assert got is not None and got.kind == "token" and got.refresh_token is None and got.expires_at is None

    refreshed = AccountTokens(
        Secret("sbp_oauth_access2"), Secret("refresh-2"), expires_at=1_700_003_600.0, kind="oauth"
    )
    store.set_account_tokens("acct-1", refreshed)
    assert store.get_account_tokens("acct-1") == refreshed
    assert store.get_account_tokens("acct-2") == pat

    store.delete_account_tokens("acct-1")
    assert store.get_account_tokens("acct-1") is None
    assert store.get_account_tokens("acct-2") == pat
    store.delete_account_tokens("acct-1")


def test_account_tokens_are_one_json_entry(store: SecretStore) -> None:
    store.set_account_tokens("acct-1", AccountTokens(Secret("a"), Secret("r"), expires_at=5.0, kind="oauth"))
    raw = store.backend.get_password(TEST_SERVICE, "account:acct-1")
    assert raw is not None
    assert json.loads(raw) == {
        "format": 1,
        "kind": "oauth",
        "access_token": "a",
        "refresh_token": "r",
        "expires_at": 5.0,
    }
    assert isinstance(store.backend, MemoryKeyring)
    assert [username for _, username in store.backend._entries] == ["account:acct-1"]


def test_several_accounts_clients_and_projects_coexist(store: SecretStore) -> None:
    for n in range(3):
        store.set_account_tokens(f"acct-{n}", AccountTokens(Secret(f"token-{n}")))
        store.set_oauth_client_secret(f"client-{n}", Secret(f"client-secret-{n}"))
        store.set_db_password(f"ref{n}", Secret(f"db-password-{n}"))
    # The same id in different kinds of entry does not collide.
    store.set_account_tokens("same", AccountTokens(Secret("account")))
    store.set_oauth_client_secret("same", Secret("client"))
    store.set_db_password("same", Secret("db"))
    store.set("same", Secret("generic"))

    for n in range(3):
        assert store.get_account_tokens(f"acct-{n}") == AccountTokens(Secret(f"token-{n}"))
        assert store.get_oauth_client_secret(f"client-{n}") == Secret(f"client-secret-{n}")
        assert store.get_db_password(f"ref{n}") == Secret(f"db-password-{n}")
    assert store.get_account_tokens("same") == AccountTokens(Secret("account"))
    assert store.get_oauth_client_secret("same") == Secret("client")
    assert store.get_db_password("same") == Secret("db")
    assert store.get("same") == Secret("generic")

    store.delete_db_password("ref1")
    store.delete_oauth_client_secret("client-0")
    assert store.get_db_password("ref1") is None
    assert store.get_db_password("ref0") == Secret("db-password-0")
    assert store.get_oauth_client_secret("client-0") is None
    assert store.get_oauth_client_secret("client-1") == Secret("client-secret-1")
    store.delete_db_password("ref1")
    store.delete_oauth_client_secret("client-0")


def test_entry_names() -> None:
    assert SecretStore.account_entry("a1") == "account:a1"
    assert SecretStore.oauth_client_entry("c1") == "oauth-client:c1"
    assert SecretStore.db_password_entry("abcdefghijklmnopqrst") == "project:abcdefghijklmnopqrst:db-password"
    backend = MemoryKeyring()
    store = SecretStore(backend)
    assert store.service == SERVICE == "studio"
    store.set_db_password("ref", Secret(PLAIN))
    store.set_oauth_client_secret("cid", Secret(SECRET_KEY))
    assert backend.get_password("studio", "project:ref:db-password") == PLAIN
    assert backend.get_password("studio", "oauth-client:cid") == SECRET_KEY


def test_services_are_separate() -> None:
    backend = MemoryKeyring()
    mine, theirs = SecretStore(backend, service="studio-a"), SecretStore(backend, service="studio-b")
    mine.set_db_password("ref", Secret("a"))
    assert theirs.get_db_password("ref") is None
    theirs.set_db_password("ref", Secret("b"))
    assert mine.get_db_password("ref") == Secret("a")


@pytest.mark.parametrize(
    "stored",
    [
        "not json at all " + PLAIN,
        '{"format": 1, "kind": "oauth", "access_token": "' + PLAIN,  # cut short
        json.dumps([PLAIN]),
        json.dumps({"kind": "token", "access_token": PLAIN}),  # no format
        json.dumps({"format": 2, "kind": "token", "access_token": PLAIN}),
        json.dumps({"format": 1, "kind": "password", "access_token": PLAIN}),
        json.dumps({"format": 1, "kind": "token", "access_token": 42}),
        json.dumps({"format": 1, "kind": "token", "access_token": ""}),
        json.dumps({"format": 1, "kind": "oauth", "access_token": PLAIN, "refresh_token": 7}),
        json.dumps({"format": 1, "kind": "oauth", "access_token": PLAIN, "expires_at": "soon"}),
        json.dumps({"format": 1, "kind": "oauth", "access_token": PLAIN, "expires_at": True}),
    ],
)
def test_a_damaged_account_entry_is_an_error(store: SecretStore, stored: str) -> None:
    store.backend.set_password(TEST_SERVICE, "account:acct-1", stored)
    with pytest.raises(SecretStoreError) as raised:
        store.get_account_tokens("acct-1")
    assert isinstance(raised.value, StudioError)
    assert "acct-1" in raised.value.message and "damaged" in raised.value.message
    assert raised.value.hint
    assert PLAIN not in str(raised.value)
    assert _chain(raised.value) == [raised.value]
    store.set_account_tokens("acct-1", AccountTokens(Secret(PAT)))  # signing in again replaces it
    assert store.get_account_tokens("acct-1") == AccountTokens(Secret(PAT))


# -- failures become SecretStoreError, without the secret -------------------------------------------------


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def test_write_failures_never_carry_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = SecretStore(BrokenKeyring(), service=TEST_SERVICE)
    tokens = AccountTokens(Secret(PAT), Secret(PLAIN), expires_at=1.0, kind="oauth")
    attempts = [
        ("account acct-1", lambda: store.set_account_tokens("acct-1", tokens)),
        ("project ref1", lambda: store.set_db_password("ref1", Secret(PLAIN))),
        ("OAuth client cid", lambda: store.set_oauth_client_secret("cid", Secret(SECRET_KEY))),
        ("'thing'", lambda: store.set("thing", Secret(PLAIN))),
    ]
    for what, attempt in attempts:
        with pytest.raises(SecretStoreError) as raised:
            attempt()
        error = raised.value
        assert error.message.startswith("Studio could not save ")
        assert what in error.message
        assert "it reported an error" in error.message
        assert error.hint
        for exc in _chain(error):
            for shown in (str(exc), repr(exc), repr(exc.args)):
                for value in (PAT, PLAIN, SECRET_KEY):
                    assert value not in shown
        assert _chain(error) == [error]  # the backend's exception (which quoted the value) is not kept
    for value in (PAT, PLAIN, SECRET_KEY):
        assert value not in caplog.text


def test_a_locked_keyring_is_named_in_plain_words() -> None:
    backend = LockedKeyring()
    store = SecretStore(backend, service=TEST_SERVICE, report=BackendReport("GNOME Keyring (Secret Service)", True))
    with pytest.raises(SecretStoreError) as raised:
        store.get_db_password("ref1")
    assert raised.value.message == (
        "Studio could not read the database password of project ref1 from GNOME Keyring (Secret Service): it is locked."
    )
    assert raised.value.hint.startswith("Unlock GNOME Keyring (Secret Service)")
    with pytest.raises(SecretStoreError, match=r"could not save .* it is locked"):
        store.set_db_password("ref1", Secret(PLAIN))
    with pytest.raises(SecretStoreError, match=r"could not remove .* it is locked"):
        store.delete_db_password("ref1")
    with pytest.raises(SecretStoreError, match="could not read the sign-in of account a1"):
        store.get_account_tokens("a1")


def test_a_failed_delete_of_an_existing_entry_is_an_error() -> None:
    backend = BrokenKeyring()
    store = SecretStore(backend, service=TEST_SERVICE)
    store.delete_db_password("ref1")  # missing: the backend's complaint is not an error
    MemoryKeyring.set_password(backend, TEST_SERVICE, "project:ref1:db-password", PLAIN)
    with pytest.raises(SecretStoreError, match="could not remove the database password of project ref1"):
        store.delete_db_password("ref1")


def test_store_names_its_backend_in_errors() -> None:
    with pytest.raises(SecretStoreError, match="from Secret Service keyring: it is locked"):
        SecretStore(LockedSecretService(), service=TEST_SERVICE).get("x")


# -- the probe -------------------------------------------------------------------------------------------


def test_probe_accepts_a_working_os_backend() -> None:
    backend = FakeSecretService()
    report = probe_backend(backend, service=TEST_SERVICE)
    assert report == BackendReport("Secret Service keyring", persistent=True, problem="")
    assert backend.calls[:3] == ["set", "get", "delete"]  # a real round trip...
    assert backend.entries == {}  # ...that leaves nothing behind


def test_probe_names_the_secret_service_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "_secret_service_provider", lambda: "GNOME Keyring (Secret Service)")
    assert probe_backend(FakeSecretService()).name == "GNOME Keyring (Secret Service)"


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_probe_rejects_no_backend(backend: KeyringBackend) -> None:
    report = probe_backend(backend)
    assert not report.persistent
    assert report.name == "No password store"
    assert report.problem.startswith("Studio found no password store on this computer.")
    if sys.platform.startswith("linux"):
        assert "GNOME Keyring" in report.problem and "KWallet" in report.problem


def test_probe_rejects_a_plaintext_file_backend() -> None:
    backend = PlaintextFileKeyring()
    report = probe_backend(backend, service=TEST_SERVICE)
    assert not report.persistent
    assert "not the operating system's password store" in report.problem
    assert "files" in report.problem
    assert backend.entries == {}  # not even the probe entry was written to the file


def test_probe_rejects_an_empty_chain_and_unwraps_a_useful_one() -> None:
    report = probe_backend(chain_of())
    assert not report.persistent and "no password store" in report.problem
    assert not probe_backend(chain_of(fail.Keyring(), PlaintextFileKeyring())).persistent

    plaintext, os_store = PlaintextFileKeyring(), FakeSecretService()
    report = probe_backend(chain_of(plaintext, LockedSecretService(), os_store), service=TEST_SERVICE)
    assert report.persistent and report.name == "Secret Service keyring"
    assert os_store.calls and plaintext.entries == {}

    report = probe_backend(chain_of(plaintext, LockedSecretService(), DbusFailingSecretService()))
    assert not report.persistent and "it is locked" in report.problem  # the first OS store's problem


def test_probe_reports_a_locked_store() -> None:
    report = probe_backend(LockedSecretService())
    assert not report.persistent
    assert report.name == "Secret Service keyring"
    assert "it is locked" in report.problem and "Unlock it" in report.problem


def test_probe_reports_a_dbus_failure() -> None:
    backend = DbusFailingSecretService()
    report = probe_backend(backend)
    assert not report.persistent
    assert "Studio could not use Secret Service keyring: it reported an error (RuntimeError)" in report.problem
    assert "ServiceUnknown" in report.problem
    assert backend.entries == {}


def test_probe_reports_an_unavailable_os_backend() -> None:
    class NotHere(FakeSecretService):
        priority = 0

    report = probe_backend(NotHere())
    assert not report.persistent and "it is not available" in report.problem
    backend = UnavailableSecretService()
    report = probe_backend(backend)
    assert not report.persistent
    assert "it is not available (The Secret Service daemon is neither running nor activatable" in report.problem
    assert backend.calls == []


def test_open_default_refuses_keyrings_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyring, "get_keyring", fail.Keyring)
    store, report = SecretStore.open_default(service=TEST_SERVICE)
    assert store is None
    assert not report.persistent and report.problem
    assert probe_backend() == report

    monkeypatch.setattr(keyring, "get_keyring", PlaintextFileKeyring)
    store, report = SecretStore.open_default(service=TEST_SERVICE)
    assert store is None and "files" in report.problem


def test_open_default_uses_a_working_os_store(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = FakeSecretService()
    monkeypatch.setattr(keyring, "get_keyring", lambda: chain_of(PlaintextFileKeyring(), backend))
    store, report = SecretStore.open_default(service=TEST_SERVICE)
    assert store is not None and report.persistent
    assert store.backend is backend  # the chain is unwrapped: nothing can reach the plaintext file
    assert store.report is report
    store.set_db_password("ref", Secret(PLAIN))
    assert backend.entries == {(TEST_SERVICE, "project:ref:db-password"): PLAIN}


def test_open_default_when_keyring_itself_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> KeyringBackend:
        raise RuntimeError("bad keyringrc.cfg")

    monkeypatch.setattr(keyring, "get_keyring", broken)
    store, report = SecretStore.open_default()
    assert store is None and not report.persistent and "bad keyringrc.cfg" in report.problem


def test_session_only_store() -> None:
    store = SecretStore.session_only()
    assert store.report == BackendReport("Session only (forgotten when Studio quits)", persistent=False, problem="")
    assert isinstance(store.backend, MemoryKeyring)
    store.set_db_password("ref", Secret(PLAIN))
    assert store.get_db_password("ref") == Secret(PLAIN)
    assert SecretStore.session_only().get_db_password("ref") is None


def test_report_is_probed_when_not_given() -> None:
    backend = FakeSecretService()
    store = SecretStore(backend, service=TEST_SERVICE)
    assert backend.calls == []
    assert store.report.persistent
    assert store.report is store.report
    assert not SecretStore(fail.Keyring()).report.persistent


# -- database passwords ----------------------------------------------------------------------------------


def test_generated_db_passwords() -> None:
    alphabet = set(string.ascii_letters + string.digits)
    seen = set()
    for length in (12, 16, 32, 64):
        for _ in range(200):
            password = generate_db_password(length).reveal()
            assert len(password) == length
            assert set(password) <= alphabet
            assert any(c.islower() for c in password)
            assert any(c.isupper() for c in password)
            assert any(c.isdigit() for c in password)
            assert urllib.parse.quote(password, safe="") == password  # safe in URLs and connection strings
            seen.add(password)
    assert len(seen) == 800
    default = generate_db_password()
    assert isinstance(default, Secret) and len(default.reveal()) == 32
    assert SecretStore.generate_db_password().reveal() != default.reveal()
    with pytest.raises(ValueError):
        generate_db_password(11)


@pytest.mark.parametrize(
    "value",
    [
        'it\'s "quoted" \\ and ünïcødé ☕',  # repr and JSON escape it: still cut out
        "x" * 400,  # longer than the detail kept in a message: cut out before the detail is cut short
        "sbp_" + "0123456789abcdef" * 20,
    ],
)
def test_odd_secrets_are_cut_out_of_backend_messages(value: str) -> None:
    store = SecretStore(BrokenKeyring(), service=TEST_SERVICE)
    with pytest.raises(SecretStoreError) as raised:
        store.set_db_password("ref1", Secret(value))
    with pytest.raises(SecretStoreError) as raised_json:
        store.set_account_tokens("a1", AccountTokens(Secret(value), Secret(value[::-1]), kind="oauth"))
    for error in (raised.value, raised_json.value):
        text = str(error)
        assert "it reported an error" in text
        for piece in (value[:12], value[-12:], value[::-1][:12], repr(value)[1:13]):
            assert piece not in text


def test_connections_left_open_by_a_failed_call_are_closed() -> None:
    backend = LeakyLockedSecretService()
    assert "it is locked" in probe_backend(backend).problem
    with pytest.raises(SecretStoreError, match="it is locked"):
        SecretStore(backend, service=TEST_SERVICE).get("x")
    assert len(backend.connections) == 2
    assert all(connection.closed for connection in backend.connections)
