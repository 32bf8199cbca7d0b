"""Supabase's platform as Qt services: accounts, organizations, projects, creation with progress, links.

`PlatformService` runs the headless code of `studio.core.platform` as jobs (`studio.services.jobs`) and
reports through signals, so views never touch the network. The main window's sidebar listens to
`accounts_changed` and `projects_listed` (one account's projects, with their status); the wizard's
Connect step drives everything else.

`DatabaseCheckService` tests a PostgreSQL connection string for the "Existing database" choice, and
`cloud_project()` builds the `ProjectHandle` of a Supabase project.

Secrets: tokens, keys and database passwords go only to the credential store of the `PlatformContext`;
no signal carries one. Every write of a secret happens without an `await` between its parts, so a
cancelled job never leaves half of one behind. Creating a project is the one request whose answer must
not be lost (it carries the ref the new database password is stored under), so cancelling a creation
lets that request finish and only stops the waiting that follows.
"""

from __future__ import annotations

import asyncio
import logging
import math
import webbrowser
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.core.errors import SecretStoreError, SignInFailed
from studio.core.platform.accounts import Account, AccountRegistry
from studio.core.platform.context import PlatformContext
from studio.core.platform.endpoints import PlatformEndpoints
from studio.core.platform.http import RetryPolicy
from studio.core.platform.linking import LinkResult, link_project
from studio.core.platform.management import ManagementClient, Organization, Project, Region
from studio.core.platform.oauth import OAuthClient
from studio.core.platform.provisioning import (
    FAILED_STATES,
    READY,
    PollPolicy,
    ProvisioningProgress,
    create_project,
    wait_until_ready,
)
from studio.core.platform.session import sign_in_with_browser, sign_in_with_token, sign_out
from studio.core.secrets import Secret, SecretStore
from studio.core.targets.base import Target
from studio.core.targets.cloud import CloudTarget
from studio.core.targets.local import LocalServer
from studio.core.targets.postgres import PostgresTarget, describe_conninfo
from studio.services.jobs import JobRunner
from studio.services.projects import ProjectHandle, ProjectKind

log = logging.getLogger(__name__)

KIND_SIGN_IN = "platform.sign-in"
KIND_SIGN_OUT = "platform.sign-out"
KIND_LIST = "platform.list"  # one kind per account: "platform.list:<account id>"
KIND_REGIONS = "platform.regions"
KIND_CREATE = "platform.create"
KIND_LINK = "platform.link"
KIND_CHECK_DATABASE = "database.check"

BrowserOpener = Callable[[str], object]

_STATUS_WORDS = {
    READY: "Ready",
    "ACTIVE_UNHEALTHY": "Running, with problems",
    "COMING_UP": "Starting",
    "RESTARTING": "Restarting",
    "RESTORING": "Restoring",
    "UPGRADING": "Upgrading",
    "RESIZING": "Resizing",
    "PAUSING": "Pausing",
    "INACTIVE": "Paused",
    "GOING_DOWN": "Shutting down",
    "INIT_FAILED": "Failed to start",
    "REMOVED": "Deleted",
    "RESTORE_FAILED": "Restore failed",
    "PAUSE_FAILED": "Pause failed",
    "UNKNOWN": "Status unknown",
}

#: Statuses whose database takes SQL (a project "running, with problems" usually still does).
USABLE_STATES = frozenset({READY, "ACTIVE_UNHEALTHY"})


def describe_status(status: str) -> str:
    """A project's platform status in words for people ("Ready", "Starting", "Paused"...)."""
    return _STATUS_WORDS.get(status, status.replace("_", " ").capitalize() or "Status unknown")


def status_advice(project: Project) -> str:
    """Why a project that cannot be used now cannot, and what to do; "" when it can be used."""
    if project.status in USABLE_STATES:
        return ""
    name = f"“{project.name}”"
    if project.status in FAILED_STATES:
        return f"{name} did not start on Supabase ({describe_status(project.status).lower()}). Choose another project."
    if project.status in ("INACTIVE", "PAUSING", "GOING_DOWN"):
        return f"{name} is paused. Restore it on supabase.com, then press Refresh."
    return f"{name} is not ready yet ({describe_status(project.status).lower()}). Press Refresh in a minute."


async def _open_in_system_browser(url: str) -> bool:
    # webbrowser.open may block until a browser has started.
    return await asyncio.to_thread(webbrowser.open, url)


@dataclass(frozen=True)
class CreationProgress:
    """One report while a new project is created: how far (0-100, an estimate) and what is happening."""

    name: str
    percent: int
    message: str
    status: str = ""
    ref: str = ""
    elapsed: float = 0.0


@dataclass(frozen=True)
class CreationOutcome:
    """How a creation ended: ready, or stopped by the user (`message` says the project's state)."""

    project: Project
    ready: bool
    message: str


def creation_percent(update: ProvisioningProgress) -> int:
    """An estimate of how far a project is from ready, for a progress bar (Supabase gives no percentage).

    Projects usually take one to three minutes: the estimate grows with the time spent starting, then
    jumps when the database is up and the services are being checked.
    """
    if update.message == "Ready":
        return 100
    if update.status == READY:
        healthy = sum(1 for service in update.services if service.status == READY)
        total = len(update.services) or 1
        return 88 + int(10 * healthy / total)
    return 10 + int(75 * (1 - math.exp(-update.elapsed / 75)))


class ClientOwningCloudTarget(CloudTarget):
    """A `CloudTarget` that owns its Management API client: closing the target closes the client."""

    def __init__(self, client: ManagementClient, ref: str, *, name: str | None = None) -> None:
        super().__init__(client, ref, name=name)
        self.client = client

    async def close(self) -> None:
        """Close the client's connections; the target may not be used afterwards."""
        await self.client.aclose()


def cloud_project(
    context: PlatformContext,
    account: Account,
    project: Project,
    *,
    server: LocalServer,
    workspace: Path,
    policy: RetryPolicy | None = None,
) -> ProjectHandle:
    """The `ProjectHandle` (kind CLOUD) of a Supabase project reached as `account`.

    Each `open_target()` opens a Management API client from the account's session; closing the target
    closes that client.
    """

    async def _open() -> Target:
        session = context.session(account)
        return ClientOwningCloudTarget(session.client(policy=policy), project.ref, name=project.name)

    region = f" · {project.region}" if project.region else ""
    return ProjectHandle(
        ProjectKind.CLOUD,
        project.name or project.ref,
        workspace,
        server,
        _open,
        detail=f"Supabase project {project.ref}{region} · {account.label}",
        ref=project.ref,
        account_id=account.id,
    )


class PlatformService(QObject):
    """Supabase accounts and their projects, for the sidebar and the Connect step.

    Give it a `PlatformContext` at once, or call `use_store(store)` when the credential store is known
    (`CredentialStoreService.ready`). Every remote call runs as a job of the `JobRunner`; a newer call of
    the same kind replaces the older one (listing is per account). Failures are reported through the
    signals below in plain words, not posted to the user-message channel: the view that asked shows them.

    Signals:
        store_ready(str): secrets now go to the store named; signing in is possible.
        accounts_changed(list): the signed-in accounts (`Account`s), after a sign-in or sign-out.
        signed_in(object): an `Account` was signed in (and made active).
        signed_out(object, str): an `Account` was signed out; the second argument is a note ("" or why
            Supabase could not be told).
        browser_sign_in_started(str): the sign-in page's address, opened in the system browser.
        organizations_listed(object, list): an `Account` and its `Organization`s (by name).
        projects_listed(object, list): an `Account` and the `Project`s of all its organizations, with
            their status (`describe_status`) - the sidebar lists these under the account.
        listing_failed(object, str): listing an `Account`'s organizations or projects failed; what to do.
        regions_listed(str, list): an organization's slug and the `Region`s a project can be created in.
        creation_progress(object): a `CreationProgress` while a project is created.
        project_created(object, object): an `Account` and its new `Project`, ready to use.
        creation_stopped(object, object, str): the user cancelled: `Account`, the `Project` (or None when
            Supabase never confirmed it), and a sentence saying what state it is in.
        project_linked(object, object): an `Account` and the `LinkResult` of linking the workspace.
        retrying(str): a request is being retried ("Supabase is rate limiting this account, retrying
            in 20 s").
        failed(str, str): a job of kind (`KIND_*`) failed; the message says what happened and what to do.
    """

    store_ready = Signal(str)
    accounts_changed = Signal(list)
    signed_in = Signal(object)
    signed_out = Signal(object, str)
    browser_sign_in_started = Signal(str)
    organizations_listed = Signal(object, list)
    projects_listed = Signal(object, list)
    listing_failed = Signal(object, str)
    regions_listed = Signal(str, list)
    creation_progress = Signal(object)
    project_created = Signal(object, object)
    creation_stopped = Signal(object, object, str)
    project_linked = Signal(object, object)
    retrying = Signal(str)
    failed = Signal(str, str)

    def __init__(
        self,
        context: PlatformContext | None = None,
        *,
        jobs: JobRunner | None = None,
        open_browser: BrowserOpener | None = None,
        retry_policy: RetryPolicy | None = None,
        poll_policy: PollPolicy | None = None,
        sign_in_timeout: float = 300.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._context = context
        self.jobs = jobs or JobRunner(parent=self)
        self._open_browser = open_browser or _open_in_system_browser
        self._retry_policy = retry_policy
        self._poll_policy = poll_policy
        self._sign_in_timeout = sign_in_timeout
        self._cancel_sign_in: asyncio.Event | None = None
        self._cancel_creation: asyncio.Event | None = None
        # Creation requests run on even when their job is cancelled (see the module's notes): held here.
        self._creations: set[asyncio.Task[Project]] = set()

    # -- the context ------------------------------------------------------------------------------------

    def use_store(self, store: SecretStore, *, registry: AccountRegistry | None = None,
                  endpoints: PlatformEndpoints | None = None) -> None:
        """Keep secrets in `store` from now on (the list of accounts and endpoints stay, or are read)."""
        if self._context is not None:
            registry = registry or self._context.registry
            endpoints = endpoints or self._context.endpoints
        self._context = PlatformContext(
            endpoints=endpoints or PlatformEndpoints.from_environment(),
            registry=registry or AccountRegistry(),
            store=store,
        )
        self.store_ready.emit(store.report.name)
        self.accounts_changed.emit(self.accounts())

    @property
    def ready(self) -> bool:
        """True once Studio knows where to keep secrets (so signing in is possible)."""
        return self._context is not None

    @property
    def context(self) -> PlatformContext:
        """The context; `SecretStoreError` until a store is known."""
        if self._context is None:
            raise SecretStoreError(
                "Studio does not know yet where to keep your Supabase sign-in safely.",
                hint="Wait a moment; if Studio says there is no password store, choose to keep secrets for"
                " this session only.",
            )
        return self._context

    @property
    def store_name(self) -> str:
        """The name of the store secrets go to ("" while unknown)."""
        return self._context.store.report.name if self._context is not None else ""

    # -- accounts ---------------------------------------------------------------------------------------

    def accounts(self) -> list[Account]:
        """The signed-in accounts, in the order they signed in (none while no store is known)."""
        return self._context.registry.accounts() if self._context is not None else []

    def active_account(self) -> Account | None:
        """The account used unless another is chosen."""
        return self._context.registry.active() if self._context is not None else None

    def account(self, account_id: str) -> Account | None:
        """The signed-in account with this id."""
        return self._context.registry.get(account_id) if self._context is not None else None

    def set_active(self, account: Account) -> None:
        """Make `account` the one used by default (here and by the `studio` command)."""
        if self._context is not None and self._context.registry.active() != account:
            self._context.registry.set_active(account.id)

    def remembered_oauth_app(self) -> str | None:
        """The client id of the OAuth app used before, when its secret is still in the store."""
        if self._context is None:
            return None
        client_id = self._context.registry.oauth_client_id
        if not client_id:
            return None
        try:
            secret = self._context.store.get_oauth_client_secret(client_id)
        except SecretStoreError:
            log.info("the OAuth app's secret could not be read", exc_info=True)
            return None
        return client_id if secret is not None else None

    @property
    def signing_in(self) -> bool:
        """True while a sign-in runs."""
        return self.jobs.running(KIND_SIGN_IN)

    def sign_in_with_token(self, text: str) -> None:
        """Check a pasted personal access token with Supabase and keep it (`signed_in` or `failed`)."""
        self._start(KIND_SIGN_IN, self._sign_in_with_token(text), self._after_sign_in)

    async def _sign_in_with_token(self, text: str) -> Account:
        context = self.context
        return await sign_in_with_token(
            text, store=context.store, registry=context.registry, endpoints=context.endpoints,
            policy=self._retry_policy,
        )

    def sign_in_with_browser(self, client_id: str | None = None, client_secret: Secret | None = None) -> None:
        """Sign in through the system browser with an OAuth app (the one used before when not given).

        `cancel_sign_in()` stops waiting for the browser; nothing is stored then.
        """
        cancel = asyncio.Event()
        self._cancel_sign_in = cancel
        self._start(KIND_SIGN_IN, self._sign_in_with_browser(client_id, client_secret, cancel), self._after_sign_in)

    async def _sign_in_with_browser(self, client_id: str | None, client_secret: Secret | None,
                                    cancel: asyncio.Event) -> Account:
        context = self.context
        client_id = (client_id or "").strip() or context.registry.oauth_client_id
        if not client_id:
            raise SignInFailed(
                "Studio needs the client id and secret of your OAuth app to sign in with the browser.",
                hint="Copy them from supabase.com (Organization settings > OAuth Apps), or paste an access token.",
            )
        secret = client_secret if client_secret else context.store.get_oauth_client_secret(client_id)
        if secret is None:
            raise SignInFailed(
                "Studio needs the OAuth app's client secret to sign in with the browser.",
                hint="Copy it from supabase.com (Organization settings > OAuth Apps), or paste an access token.",
            )

        def opener(url: str) -> object:
            self.browser_sign_in_started.emit(url)
            return self._open_browser(url)

        return await sign_in_with_browser(
            OAuthClient(client_id=client_id, client_secret=secret),
            store=context.store, registry=context.registry, endpoints=context.endpoints,
            open_browser=opener, timeout=self._sign_in_timeout, cancel=cancel, policy=self._retry_policy,
        )

    def cancel_sign_in(self) -> None:
        """Stop waiting for the browser (the sign-in then fails with "Sign-in cancelled")."""
        if self._cancel_sign_in is not None:
            self._cancel_sign_in.set()

    def _after_sign_in(self, account: Account) -> None:
        self._cancel_sign_in = None
        self.signed_in.emit(account)
        self.accounts_changed.emit(self.accounts())

    def sign_out(self, account: Account) -> None:
        """Forget `account`: its tokens are revoked (best effort) and removed from the store."""
        def done(revoked: bool) -> None:
            note = "" if revoked else "Supabase could not be told; the account's tokens expire on their own."
            self.signed_out.emit(account, note)
            self.accounts_changed.emit(self.accounts())

        self._start(KIND_SIGN_OUT, self._sign_out(account), done)

    async def _sign_out(self, account: Account) -> bool:
        context = self.context
        return await sign_out(account, store=context.store, registry=context.registry, endpoints=context.endpoints)

    # -- organizations and projects ---------------------------------------------------------------------

    def listing(self, account: Account) -> bool:
        """True while the account's organizations and projects are being listed."""
        return self.jobs.running(f"{KIND_LIST}:{account.id}")

    def list_projects(self, account: Account) -> None:
        """List the account's organizations and all their projects (`organizations_listed`, then
        `projects_listed`; or `listing_failed`)."""

        def done(result: tuple[list[Organization], list[Project]]) -> None:
            organizations, projects = result
            self.organizations_listed.emit(account, organizations)
            self.projects_listed.emit(account, projects)

        def failed(exc: BaseException, message: str) -> None:
            self.listing_failed.emit(account, message)
            self.failed.emit(KIND_LIST, message)

        self.jobs.start(f"{KIND_LIST}:{account.id}", self._list(account), on_result=done, on_error=failed)

    def refresh_all(self) -> None:
        """List the projects of every signed-in account (for the sidebar)."""
        for account in self.accounts():
            self.list_projects(account)

    async def _list(self, account: Account) -> tuple[list[Organization], list[Project]]:
        async with self._client(account) as client:
            organizations = await client.organizations()
            projects: list[Project] = []
            for organization in organizations:
                projects.extend(await client.projects(organization.slug))
        return organizations, projects

    def list_regions(self, account: Account, organization_slug: str) -> None:
        """The regions a project of the organization can be created in (`regions_listed`)."""
        async def regions() -> list[Region]:
            async with self._client(account) as client:
                return await client.available_regions(organization_slug)

        self._start(KIND_REGIONS, regions(), lambda found: self.regions_listed.emit(organization_slug, found))

    # -- creating a project -----------------------------------------------------------------------------

    @property
    def creating(self) -> bool:
        """True while a project is being created or waited for."""
        return self.jobs.running(KIND_CREATE)

    def create_project(self, account: Account, organization_slug: str, name: str, region: str) -> None:
        """Create a project (its database password generated and kept in the store) and wait until it is
        ready, reporting `creation_progress`; then `project_created`, or `creation_stopped` after
        `cancel_creation()`, or `failed`."""
        cancel = asyncio.Event()
        self._cancel_creation = cancel

        def done(outcome: CreationOutcome) -> None:
            if outcome.ready:
                self.project_created.emit(account, outcome.project)
            else:
                self.creation_stopped.emit(account, outcome.project, outcome.message)

        self._start(KIND_CREATE, self._create(account, organization_slug, name, region, cancel), done)

    def cancel_creation(self) -> None:
        """Stop waiting for the project being created.

        If Supabase has not answered the request to create it yet, Studio waits for that answer first, so
        the database password is stored under the new project's ref; then it stops.
        """
        if self._cancel_creation is not None:
            self._cancel_creation.set()

    async def _create(self, account: Account, slug: str, name: str, region: str,
                      cancel: asyncio.Event) -> CreationOutcome:
        name = name.strip()
        session = self.context.session(account)
        self.creation_progress.emit(CreationProgress(name, 3, f"Asking Supabase to create “{name}”"))

        async def request() -> Project:
            async with session.client(policy=self._retry_policy, on_retry=self._on_retry) as client:
                return await create_project(client, session.store, organization_slug=slug, name=name, region=region)

        creation = asyncio.ensure_future(request())
        self._creations.add(creation)
        creation.add_done_callback(self._creation_ended)
        project = await asyncio.shield(creation)
        store_name = session.store.report.name
        percent = 8
        self.creation_progress.emit(CreationProgress(name, percent, "Supabase accepted the project; it is starting",
                                                     project.status, project.ref))
        last = project.status
        if cancel.is_set():
            return CreationOutcome(project, False, _stopped_message(project, last, store_name))

        def progress(update: ProvisioningProgress) -> None:
            nonlocal percent, last
            percent = max(percent, creation_percent(update))
            last = update.status
            self.creation_progress.emit(
                CreationProgress(name, percent, update.message, update.status, project.ref, update.elapsed)
            )

        async with session.client(policy=self._retry_policy, on_retry=self._on_retry) as client:
            waiting = asyncio.ensure_future(
                wait_until_ready(client, project.ref, on_progress=progress, policy=self._poll_policy)
            )
            stopped = asyncio.ensure_future(cancel.wait())
            try:
                await asyncio.wait({waiting, stopped}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (waiting, stopped):
                    if not task.done():
                        task.cancel()
                await asyncio.gather(waiting, stopped, return_exceptions=True)
            if waiting.done() and not waiting.cancelled():
                return CreationOutcome(waiting.result(), True, f"“{name}” is ready.")
        return CreationOutcome(project, False, _stopped_message(project, last, store_name))

    def _creation_ended(self, task: asyncio.Task[Project]) -> None:
        self._creations.discard(task)
        if not task.cancelled() and task.exception() is not None and not self.jobs.running(KIND_CREATE):
            # Its job was cancelled while the request ran on: nobody else will hear of this failure.
            log.warning("creating a project failed after its job was cancelled: %s", task.exception())

    # -- linking ----------------------------------------------------------------------------------------

    @property
    def linking(self) -> bool:
        """True while a project is being linked."""
        return self.jobs.running(KIND_LINK)

    def link(self, account: Account, ref: str, workspace: Path) -> None:
        """Link `workspace` to project `ref`: its API keys go to the store, the link to `studio.json`
        (`project_linked`, or `failed`)."""
        async def work() -> LinkResult:
            session = self.context.session(account)
            async with session.client(policy=self._retry_policy, on_retry=self._on_retry) as client:
                return await link_project(session, client, ref, workspace=workspace)

        self._start(KIND_LINK, work(), lambda result: self.project_linked.emit(account, result))

    def cancel_link(self) -> None:
        """Stop a link in progress (nothing is reported for it)."""
        self.jobs.cancel(KIND_LINK)

    def project_handle(
        self, account: Account, project: Project, *, server: LocalServer, workspace: Path
    ) -> ProjectHandle:
        """The `ProjectHandle` of `project`, reached as `account` (see `cloud_project`)."""
        return cloud_project(self.context, account, project, server=server, workspace=workspace,
                             policy=self._retry_policy)

    # -- helpers ----------------------------------------------------------------------------------------

    def _client(self, account: Account) -> ManagementClient:
        return self.context.session(account).client(policy=self._retry_policy, on_retry=self._on_retry)

    def _on_retry(self, message: str, seconds: float) -> None:
        self.retrying.emit(message)

    def _start(self, kind: str, work: Coroutine[Any, Any, Any], on_result: Callable[[Any], None]) -> None:
        def failed(exc: BaseException, message: str) -> None:
            self.failed.emit(kind, message)

        self.jobs.start(kind, work, on_result=on_result, on_error=failed)

    def shutdown(self) -> None:
        """Stop every platform job (called when the app quits)."""
        self.cancel_sign_in()
        for kind in (KIND_SIGN_IN, KIND_SIGN_OUT, KIND_REGIONS, KIND_CREATE, KIND_LINK):
            self.jobs.cancel(kind)
        for account in self.accounts():
            self.jobs.cancel(f"{KIND_LIST}:{account.id}")


def _stopped_message(project: Project, status: str, store_name: str) -> str:
    state = describe_status(status).lower()
    return (
        f"Studio stopped waiting. “{project.name}” was created on Supabase and is still starting ({state})."
        f" Its database password is stored in {store_name}. It stays in your project list: choose it when it"
        " says Ready."
    )


# -- existing databases -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseCheck:
    """What testing a connection string found (never the string itself: it may hold a password)."""

    description: str
    version: str
    has_supabase_auth: bool

    @property
    def message(self) -> str:
        """The result in plain words."""
        text = f"Connected to {self.description} (PostgreSQL {self.version})."
        if not self.has_supabase_auth:
            text += (
                " This database has no Supabase sign-in tables (the auth schema), so access rules for signed-in"
                " users will not work there."
            )
        return text


class DatabaseCheckService(QObject):
    """Tests connection strings for the "Existing database" choice, off the GUI's hands.

    Signals:
        checked(object): a `DatabaseCheck` - the latest test succeeded.
        check_failed(str): the latest test failed; what happened and what to do (no password in it).
    """

    checked = Signal(object)
    check_failed = Signal(str)

    def __init__(self, jobs: JobRunner | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs or JobRunner(parent=self)

    @property
    def checking(self) -> bool:
        """True while a test runs."""
        return self.jobs.running(KIND_CHECK_DATABASE)

    def check(self, conninfo: str) -> None:
        """Connect with `conninfo` and ask the server who it is (a newer test replaces an older one)."""
        self.jobs.start(
            KIND_CHECK_DATABASE,
            self._check(conninfo),
            on_result=self.checked.emit,
            on_error=lambda exc, message: self.check_failed.emit(message),
        )

    def cancel(self) -> None:
        """Forget the test in progress."""
        self.jobs.cancel(KIND_CHECK_DATABASE)

    @staticmethod
    async def _check(conninfo: str) -> DatabaseCheck:
        target = PostgresTarget(conninfo)  # raises ConnectionFailed for a malformed string
        try:
            rows = await target.fetch(
                "select current_setting('server_version'),"
                " exists(select 1 from pg_catalog.pg_namespace where nspname = 'auth')"
            )
        finally:
            await target.close()
        version = str(rows[0][0]).split()[0]
        return DatabaseCheck(describe_conninfo(conninfo), version, bool(rows[0][1]))

