"""Linking a workspace to a Supabase project: fetch its URL and keys, prove they work, remember the link.

The keys go to the keyring (`project:<ref>:client-key`, `project:<ref>:server-key`); `studio.json` gets
only the ref, name, URL and account. The client key (publishable, or legacy anon) is what generated app
code receives; the server key (secret, or legacy service_role) bypasses Row Level Security and stays
with Studio.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.core.platform.api_check import ApiCheck, check_project_api
from studio.core.platform.management import ManagementClient, Project, ProjectKeys
from studio.core.platform.session import AccountSession
from studio.core.secrets import Secret, SecretStore
from studio.core.workspace_file import ProjectLink, write_link


def client_key_entry(ref: str) -> str:
    """Keyring entry of the project's client (publishable/anon) key."""
    return f"project:{ref}:client-key"


def server_key_entry(ref: str) -> str:
    """Keyring entry of the project's server (secret/service_role) key."""
    return f"project:{ref}:server-key"


@dataclass(frozen=True)
class LinkResult:
    """What linking found: the project, its keys (as secrets) and the checks made with the client key."""

    project: Project
    api_url: str
    keys: ProjectKeys
    checks: tuple[ApiCheck, ...]

    @property
    def api_works(self) -> bool:
        """Whether every check passed."""
        return all(check.ok for check in self.checks)


def store_keys(store: SecretStore, ref: str, keys: ProjectKeys) -> None:
    """Keep the project's keys in the keyring."""
    store.set(client_key_entry(ref), keys.client_key)
    if keys.server_key is not None:
        store.set(server_key_entry(ref), keys.server_key)


def stored_client_key(store: SecretStore, ref: str) -> Secret | None:
    """The project's client key from the keyring, if it was linked on this computer."""
    return store.get(client_key_entry(ref))


async def link_project(
    session: AccountSession,
    client: ManagementClient,
    ref: str,
    *,
    workspace: Path | None,
    check_api: bool = True,
) -> LinkResult:
    """Fetch project `ref` and its keys, store the keys, check them, and record the link in the workspace."""
    project = await client.project(ref)
    keys = await client.api_keys(ref)
    api_url = session.endpoints.project_url(ref)
    store_keys(session.store, ref, keys)
    checks = tuple(await check_project_api(api_url, keys.client_key)) if check_api else ()
    if workspace is not None:
        write_link(
            workspace,
            ProjectLink(
                ref=project.ref,
                name=project.name,
                api_url=api_url,
                account_id=session.account.id,
                organization_slug=project.organization_slug,
            ),
        )
    return LinkResult(project=project, api_url=api_url, keys=keys, checks=checks)
