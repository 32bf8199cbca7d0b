"""The credential store against the real Secret Service (GNOME Keyring on the session bus).

Run inside a D-Bus session with an unlocked keyring, as CI does:

    dbus-run-session -- bash -c 'eval "$(printf pw | gnome-keyring-daemon --unlock --components=secrets)"; \
        STUDIO_REQUIRE_SECRET_SERVICE=1 .venv/bin/python -m pytest tests/integration/test_secret_service.py'

Without a working Secret Service the tests are skipped, unless STUDIO_REQUIRE_SECRET_SERVICE=1 (set by CI),
which makes them fail. Every test uses its own keyring service name and removes what it wrote, so no real
user entry is ever read or touched.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import closing

import pytest
from keyring.backends import SecretService

from studio.core.errors import SecretStoreError
from studio.core.secrets import AccountTokens, Secret, SecretStore, generate_db_password

REQUIRED = os.environ.get("STUDIO_REQUIRE_SECRET_SERVICE") == "1"


def _unique_service() -> str:
    return f"studio-test-{uuid.uuid4().hex}"


def _entries(service: str) -> list[str]:
    """The usernames of every entry stored under `service`, read straight from the Secret Service."""
    import secretstorage

    with closing(secretstorage.dbus_init()) as connection:
        collection = secretstorage.get_default_collection(connection)
        return sorted(
            item.get_attributes().get("username", "") for item in collection.search_items({"service": service})
        )


def _purge(service: str) -> None:
    import secretstorage

    with closing(secretstorage.dbus_init()) as connection:
        collection = secretstorage.get_default_collection(connection)
        for item in collection.search_items({"service": service}):
            item.delete()


def _open(service: str) -> SecretStore:
    """The default store, which must be the working Secret Service (else skip, or fail in CI)."""
    store, report = SecretStore.open_default(service=service)
    if store is None or not isinstance(store.backend, SecretService.Keyring):
        reason = f"no working Secret Service: {report.name}: {report.problem or 'not the Secret Service backend'}"
        if REQUIRED:
            pytest.fail(f"STUDIO_REQUIRE_SECRET_SERVICE=1 but there is {reason}")
        pytest.skip(reason)
    return store


@pytest.fixture
def store() -> Iterator[SecretStore]:
    service = _unique_service()
    store = _open(service)
    try:
        yield store
    finally:
        _purge(service)


def test_open_default_finds_the_secret_service() -> None:
    service = _unique_service()
    store = _open(service)
    try:
        report = store.report
        assert report.persistent
        assert report.problem == ""
        assert "Secret Service" in report.name or "GNOME Keyring" in report.name
        if REQUIRED:  # CI runs GNOME Keyring
            assert report.name == "GNOME Keyring (Secret Service)"
        assert _entries(service) == []  # the probe entry is gone
    finally:
        _purge(service)


def test_account_tokens_round_trip(store: SecretStore) -> None:
    oauth = AccountTokens(
        Secret("sbp_oauth_" + "a1" * 20), Secret("refresh-" + "b2" * 20), expires_at=1_900_000_000.25, kind="oauth"
    )
    pat = AccountTokens(Secret("sbp_" + "c3" * 20))
    assert store.get_account_tokens("acct-1") is None
    store.set_account_tokens("acct-1", oauth)
    store.set_account_tokens("acct-2", pat)
    assert store.get_account_tokens("acct-1") == oauth
    assert store.get_account_tokens("acct-2") == pat
    assert _entries(store.service) == ["account:acct-1", "account:acct-2"]

    refreshed = AccountTokens(Secret("sbp_oauth_new"), Secret("refresh-new"), expires_at=1_900_003_600.0, kind="oauth")
    store.set_account_tokens("acct-1", refreshed)  # replaces, never adds a second entry
    assert store.get_account_tokens("acct-1") == refreshed
    assert _entries(store.service) == ["account:acct-1", "account:acct-2"]

    store.delete_account_tokens("acct-1")
    store.delete_account_tokens("acct-1")  # a missing entry is fine
    assert store.get_account_tokens("acct-1") is None
    assert store.get_account_tokens("acct-2") == pat
    assert _entries(store.service) == ["account:acct-2"]


def test_clients_and_projects_coexist(store: SecretStore) -> None:
    passwords = {ref: generate_db_password() for ref in ("projectrefaaaaaaaaaa", "projectrefbbbbbbbbbb")}
    for ref, password in passwords.items():
        store.set_db_password(ref, password)
    store.set_oauth_client_secret("client-1", Secret("sb_secret_client_one"))
    store.set("same", Secret("generic"))
    store.set_db_password("same", Secret("db"))

    for ref, password in passwords.items():
        assert store.get_db_password(ref) == password
    assert store.get_oauth_client_secret("client-1") == Secret("sb_secret_client_one")
    assert store.get("same") == Secret("generic")
    assert store.get_db_password("same") == Secret("db")
    assert _entries(store.service) == sorted(
        [
            "oauth-client:client-1",
            "project:projectrefaaaaaaaaaa:db-password",
            "project:projectrefbbbbbbbbbb:db-password",
            "project:same:db-password",
            "same",
        ]
    )

    store.delete_db_password("projectrefaaaaaaaaaa")
    store.delete_oauth_client_secret("client-1")
    store.delete_oauth_client_secret("client-1")
    assert store.get_db_password("projectrefaaaaaaaaaa") is None
    assert store.get_db_password("projectrefbbbbbbbbbb") == passwords["projectrefbbbbbbbbbb"]
    assert store.get_oauth_client_secret("client-1") is None


def test_values_survive_exactly(store: SecretStore) -> None:
    for value in ("ünïcødé ☕ and 'quotes' \"too\" \\", "x" * 8192, " leading and trailing spaces "):
        store.set("odd", Secret(value))
        assert store.get("odd") == Secret(value)


def test_services_do_not_see_each_other(store: SecretStore) -> None:
    other = SecretStore(store.backend, service=_unique_service())
    try:
        store.set_db_password("ref", Secret("mine"))
        assert other.get_db_password("ref") is None
        other.set_db_password("ref", Secret("theirs"))
        assert store.get_db_password("ref") == Secret("mine")
    finally:
        _purge(other.service)


def test_a_damaged_account_entry_is_reported(store: SecretStore) -> None:
    store.backend.set_password(store.service, "account:acct-1", "{not json")
    with pytest.raises(SecretStoreError, match="damaged"):
        store.get_account_tokens("acct-1")
