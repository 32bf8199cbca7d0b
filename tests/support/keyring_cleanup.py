"""Removing a test's entries from the real OS keyring."""

from __future__ import annotations

import contextlib

from studio.core.secrets import SecretStore


def forget_keyring_service(store: SecretStore) -> None:
    """Delete every entry of `store.service` from the Secret Service (nothing to do for other backends)."""
    if type(store.backend).__module__ != "keyring.backends.SecretService":
        return
    import secretstorage

    with contextlib.closing(secretstorage.dbus_init()) as connection:
        for item in secretstorage.search_items(connection, {"service": store.service}):
            item.delete()
