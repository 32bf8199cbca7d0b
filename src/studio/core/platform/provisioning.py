"""Creating a project, and waiting until it can be used.

Creation is not idempotent on Supabase's side, so Studio makes it safe itself:

* a project of the same name in the organization is refused up front (it is most likely the one a
  previous, interrupted attempt created: link it instead);
* when the answer to the create request is lost, the organization's projects are listed again and the new
  project of that name is taken as ours, instead of sending the request a second time.

The database password is generated here and stored in the keyring under the project's ref as soon as the
ref is known; it is never shown or written anywhere else.

Waiting polls the project's status, then its services' health, with capped exponential backoff, until
everything is `ACTIVE_HEALTHY`; `INIT_FAILED` and a timeout end it with what to do next.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from studio.core.errors import NetworkDown, ProvisioningFailed, RequestRejected
from studio.core.platform.http import ResponseLost, Sleep
from studio.core.platform.management import HEALTH_SERVICES, ManagementClient, Project, ServiceHealth
from studio.core.secrets import SecretStore, generate_db_password

READY = "ACTIVE_HEALTHY"
FAILED_STATES = frozenset({"INIT_FAILED", "REMOVED", "RESTORE_FAILED", "PAUSE_FAILED"})
STOPPED_STATES = frozenset({"INACTIVE", "PAUSING", "GOING_DOWN"})

_STATUS_WORDS = {
    "COMING_UP": "Starting the database and services",
    "ACTIVE_UNHEALTHY": "Running, but some services are not healthy yet",
    "RESTARTING": "Restarting",
    "UNKNOWN": "Waiting for Supabase to report the project's state",
    READY: "Checking the project's services",
}


@dataclass(frozen=True)
class ProvisioningProgress:
    """One report while a project comes up: its status, a sentence for people, and time spent so far."""

    ref: str
    status: str
    message: str
    elapsed: float
    services: tuple[ServiceHealth, ...] = ()


ProgressCallback = Callable[[ProvisioningProgress], None]


@dataclass(frozen=True)
class PollPolicy:
    """How often to ask and for how long: waits grow from `first_wait` by `factor` up to `max_wait`."""

    first_wait: float = 2.0
    factor: float = 1.5
    max_wait: float = 15.0
    timeout: float = 900.0


async def create_project(
    client: ManagementClient,
    store: SecretStore,
    *,
    organization_slug: str,
    name: str,
    region: str,
) -> Project:
    """Create a project with a generated database password (stored in the keyring) and return it.

    Does not wait for it to be ready: see `wait_until_ready`.
    """
    name = name.strip()
    if not name:
        raise RequestRejected("A project needs a name.", hint="Choose a name, for example your app's.")
    existing = [p for p in await client.projects(organization_slug, search=name) if p.name == name]
    if existing:
        raise RequestRejected(
            f"The organization already has a project named “{name}” ({existing[0].ref}).",
            hint=f"Link it with `studio link {existing[0].ref}`, or choose another name.",
        )
    password = generate_db_password()
    try:
        project = await client.create_project(organization_slug, name, region, password)
    except ResponseLost:
        project = await _find_created(client, organization_slug, name)
    store.set_db_password(project.ref, password)
    return project


async def _find_created(client: ManagementClient, organization_slug: str, name: str) -> Project:
    """After a lost answer: the project the request created, if it did."""
    try:
        found = [p for p in await client.projects(organization_slug, search=name) if p.name == name]
    except NetworkDown as exc:
        raise NetworkDown(
            f"The connection dropped while Supabase was creating “{name}”, and Studio cannot check whether it was.",
            hint="When the network is back, run `studio projects`: if the project is listed, link it; else try again.",
        ) from exc
    if len(found) == 1:
        return found[0]
    if not found:
        raise NetworkDown(
            f"The connection dropped before Supabase confirmed “{name}”, and it was not created.",
            hint="Try again.",
        )
    raise ProvisioningFailed(
        f"The connection dropped while creating “{name}”, and the organization now has {len(found)} projects"
        " of that name.",
        hint="Keep one on supabase.com and delete the others, then link it with `studio link <ref>`.",
    )


async def wait_until_ready(
    client: ManagementClient,
    ref: str,
    *,
    on_progress: ProgressCallback | None = None,
    policy: PollPolicy | None = None,
    sleep: Sleep = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Project:
    """Poll until the project and its services are healthy; report each step through `on_progress`."""
    policy = policy or PollPolicy()
    started = clock()
    wait = policy.first_wait
    while True:
        project = await client.project(ref)
        services: tuple[ServiceHealth, ...] = ()
        if project.status in FAILED_STATES:
            raise ProvisioningFailed(
                f"Supabase could not start the project “{project.name}” ({ref}): its status is {project.status}.",
                hint="Delete it on supabase.com and create it again; if that fails too, contact Supabase support.",
            )
        if project.status in STOPPED_STATES:
            raise ProvisioningFailed(
                f"The project “{project.name}” ({ref}) is paused or shutting down ({project.status}).",
                hint="Restore it on supabase.com, then try again.",
            )
        if project.status == READY:
            services = tuple(await client.health(ref, HEALTH_SERVICES))
            if all(s.status == READY for s in services):
                _report(on_progress, ref, project.status, "Ready", clock() - started, services)
                return project
            waiting = ", ".join(s.name for s in services if s.status != READY)
            message = f"Waiting for {waiting} to be ready"
        else:
            message = _STATUS_WORDS.get(project.status, f"Supabase reports {project.status}")
        elapsed = clock() - started
        _report(on_progress, ref, project.status, message, elapsed, services)
        if elapsed + wait > policy.timeout:
            raise ProvisioningFailed(
                f"The project “{project.name}” ({ref}) was not ready after {round(policy.timeout / 60)} minutes"
                f" (status {project.status}).",
                hint=f"It may still finish: check with `studio projects`, then `studio link {ref}`.",
            )
        await sleep(wait)
        wait = min(policy.max_wait, wait * policy.factor)


def _report(
    on_progress: ProgressCallback | None,
    ref: str,
    status: str,
    message: str,
    elapsed: float,
    services: tuple[ServiceHealth, ...],
) -> None:
    if on_progress is not None:
        on_progress(ProvisioningProgress(ref=ref, status=status, message=message, elapsed=elapsed, services=services))
