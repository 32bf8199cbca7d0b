"""`FakePlatform`: a local HTTP server that plays Supabase's hosted platform for tests.

It serves the Management API under `/v1` (checked against the published OpenAPI spec, both ways) and
each project's own API under `/project/{ref}`, keeps its state in memory, runs SQL on real databases
of the test session's embedded PostgreSQL server, and can be told to misbehave (`inject`).

The server runs in a daemon thread (`ThreadingHTTPServer`, one thread per connection, HTTP/1.1 with
keep-alive), so synchronous and asynchronous clients in the test and other processes (the `studio`
command run as a subprocess) can all use it.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import struct
import sys
import threading
import traceback
import uuid
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

import psycopg

from studio.core.targets.local import LocalServer
from tests.support.fake_platform.gateway import ProjectGateway
from tests.support.fake_platform.management import ManagementAPI
from tests.support.fake_platform.messages import Call, Reply
from tests.support.fake_platform.oauth import OAuthServer
from tests.support.fake_platform.spec import SpecChecker
from tests.support.fake_platform.sql_runner import Database
from tests.support.fake_platform.state import (
    ACTIVE_HEALTHY,
    FakeAccount,
    FakeOAuthApp,
    FakeOrganization,
    FakeProject,
    Fault,
    RecordedRequest,
    iso_now,
    make_legacy_key,
    new_personal_access_token,
    random_key_chars,
    random_letters,
)

__all__ = ["FakePlatform"]

_REDACTED = "<redacted>"
_SECRET_HEADERS = {"authorization", "apikey"}
_DEFAULTS: dict[str, Any] = {
    "polls_to_healthy": 2,
    "fail_next_create": False,
    "oauth_access_token_ttl": 3600,
    "deny_next_authorization": False,
}


class FakePlatform:
    """Supabase's platform (Management API, OAuth, per-project auth and REST) on 127.0.0.1.

    Settings (plain attributes, back to their defaults on `reset()`):

    * `polls_to_healthy` (2): a project created through the API answers COMING_UP to this many status
      polls (`GET /v1/projects/{ref}` or `/health`) and takes its final status (ACTIVE_HEALTHY, or
      INIT_FAILED) right after the last of them: the next poll, and its own API, see it;
    * `fail_next_create` (False): the next project created through the API ends INIT_FAILED;
    * `oauth_access_token_ttl` (3600): lifetime of OAuth access tokens, in seconds;
    * `deny_next_authorization` (False): the next `/v1/oauth/authorize` is denied by the user.

    What happened: `requests` (every request, in order) and `spec_violations` (requests and answers
    that do not conform to the Management API spec, things the fake does not serve, and errors of
    the fake itself).
    """

    def __init__(self, local_server: LocalServer) -> None:
        self.local_server = local_server
        self.spec = SpecChecker()
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._management = ManagementAPI(self)
        self._gateway = ProjectGateway(self)
        self._postgres_version = "0"
        self.requests: list[RecordedRequest] = []
        self.spec_violations: list[str] = []
        self._clear_state()

    def _clear_state(self) -> None:
        self._accounts: list[FakeAccount] = []
        self._tokens: dict[str, FakeAccount] = {}
        self._organizations: dict[str, FakeOrganization] = {}
        self._projects: dict[str, FakeProject] = {}
        self._databases: dict[str, Database] = {}
        self._oauth = OAuthServer()
        self._faults: list[Fault] = []
        self._browser_account: FakeAccount | None = None
        self.requests.clear()
        self.spec_violations.clear()
        self.polls_to_healthy: int = _DEFAULTS["polls_to_healthy"]
        self.fail_next_create: bool = _DEFAULTS["fail_next_create"]
        self.oauth_access_token_ttl: int = _DEFAULTS["oauth_access_token_ttl"]
        self.deny_next_authorization: bool = _DEFAULTS["deny_next_authorization"]

    # -- lifetime ----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start serving on a free port of 127.0.0.1 (idempotent)."""
        if self._server is not None:
            return
        with psycopg.connect(self.local_server.uri(), autocommit=True) as conn:
            row = conn.execute("show server_version").fetchone()
        self._postgres_version = str(row[0]).split()[0] if row else "0"
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-platform", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, end open connections and running queries, drop the databases of the projects."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._drop_projects()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget everything (accounts, projects and their databases, OAuth, faults, records, settings)."""
        self._drop_projects()
        with self._lock:
            self._clear_state()

    def _drop_projects(self) -> None:
        with self._lock:
            databases = list(self._databases.values())
            projects = list(self._projects.values())
            self._databases = {}
            self._projects = {}
        for database in databases:
            database.close()
        for project in projects:
            if project.db_name:
                self.local_server.drop_database(project.db_name)

    @property
    def url(self) -> str:
        """The base URL of the platform, e.g. `http://127.0.0.1:41234` (the Management API is under /v1)."""
        if self._server is None:
            raise RuntimeError("The fake platform is not running: call start() first.")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def project_url_template(self) -> str:
        """Where a project's own API lives: `<url>/project/{ref}` (instead of `https://{ref}.supabase.co`)."""
        return self.url + "/project/{ref}"

    def project_url(self, ref: str) -> str:
        return self.project_url_template.format(ref=ref)

    # -- state ------------------------------------------------------------------------------------------

    def add_account(self, email: str = "ada@example.com", username: str = "ada") -> FakeAccount:
        """A new account with one personal access token (`account.token`)."""
        token = new_personal_access_token()
        account = FakeAccount(str(uuid.uuid4()), email, username, token, [token], self)
        with self._lock:
            self._accounts.append(account)
            self._tokens[token] = account
        return account

    def _add_token(self, account: FakeAccount, token: str) -> None:
        with self._lock:
            account.tokens.append(token)
            self._tokens[token] = account

    def revoke_token(self, token: str) -> None:
        """Revoke a personal access token: requests made with it are answered 401 from now on."""
        with self._lock:
            self._tokens.pop(token, None)

    def accounts(self) -> list[FakeAccount]:
        """Every account, in the order they were added."""
        with self._lock:
            return list(self._accounts)

    def add_organization(self, account: FakeAccount, name: str, slug: str | None = None) -> FakeOrganization:
        """A new organization with `account` as its member (slug: 20 random lowercase letters)."""
        with self._lock:
            slug = slug if slug is not None else random_letters(20)
            if slug in self._organizations:
                raise ValueError(f"The organization {slug!r} exists already.")
            org = FakeOrganization(slug, name, [account])
            self._organizations[slug] = org
        return org

    def add_member(self, organization: FakeOrganization | str, account: FakeAccount) -> None:
        """Let `account` see `organization` and its projects too."""
        with self._lock:
            org = self._organization(organization)
            if account not in org.members:
                org.members.append(account)

    def _organizations_of(self, account: FakeAccount) -> list[FakeOrganization]:
        with self._lock:
            return [org for org in self._organizations.values() if account in org.members]

    def _projects_of(self, account: FakeAccount) -> list[FakeProject]:
        with self._lock:
            slugs = {org.slug for org in self._organizations.values() if account in org.members}
            return [project for project in self._projects.values() if project.organization_slug in slugs]

    def organization(self, slug: str) -> FakeOrganization:
        with self._lock:
            return self._organization(slug)

    def _organization(self, organization: FakeOrganization | str) -> FakeOrganization:
        slug = organization.slug if isinstance(organization, FakeOrganization) else organization
        org = self._organizations.get(slug)
        if org is None:
            raise KeyError(f"No organization {slug!r}.")
        return org

    def add_project(
        self,
        organization: FakeOrganization | str,
        name: str,
        *,
        region: str = "eu-central-1",
        status: str = ACTIVE_HEALTHY,
        create_database: bool = True,
    ) -> FakeProject:
        """A project of `organization` (given or by slug), in `status` at once, with a real database.

        `create_database=False` saves the clone (50-300 ms) for projects that are only listed; SQL and
        REST requests to such a project are answered with an error and recorded as a gap.
        """
        with self._lock:
            slug = self._organization(organization).slug
        return self._create_project(
            slug,
            name,
            region=region,
            status=status,
            db_pass=random_key_chars(24),
            polls_left=0,
            final_status=status,
            create_database=create_database,
        )

    def _create_project(
        self,
        slug: str,
        name: str,
        *,
        region: str,
        status: str,
        db_pass: str,
        polls_left: int,
        final_status: str,
        create_database: bool = True,
    ) -> FakeProject:
        with self._lock:
            ref = random_letters(20)
            while ref in self._projects:
                ref = random_letters(20)
            api_url = self.project_url(ref) if self._server is not None else f"http://127.0.0.1/project/{ref}"
        db_name = self.local_server.create_database(f"fake_{ref}") if create_database else ""
        jwt_secret = random_key_chars(64)
        project = FakeProject(
            ref=ref,
            name=name,
            organization_slug=slug,
            region=region,
            status=status,
            created_at=iso_now(),
            db_name=db_name,
            db_uri=self.local_server.uri(db_name) if db_name else "",
            db_pass=db_pass,
            jwt_secret=jwt_secret,
            anon_key=make_legacy_key(ref, "anon", jwt_secret),
            service_role_key=make_legacy_key(ref, "service_role", jwt_secret),
            publishable_key="sb_publishable_" + random_key_chars(22),
            secret_key="sb_secret_" + random_key_chars(22),
            api_url=api_url,
            polls_left=polls_left,
            final_status=final_status,
        )
        with self._lock:
            self._projects[ref] = project
        return project

    def project(self, ref: str) -> FakeProject:
        with self._lock:
            return self._projects[ref]

    def projects(self) -> list[FakeProject]:
        """Every project, in the order they were created."""
        with self._lock:
            return list(self._projects.values())

    def _database(self, project: FakeProject) -> Database:
        if not project.db_name:
            raise NoDatabase(project.ref)
        with self._lock:
            database = self._databases.get(project.ref)
            if database is None:
                database = self._databases[project.ref] = Database(project.db_uri)
            return database

    def _account_for_token(self, token: str) -> FakeAccount | None:
        with self._lock:
            account = self._tokens.get(token)
            if account is not None:
                return account
            return self._oauth.account_for(token)

    # -- OAuth -----------------------------------------------------------------------------------------

    def register_oauth_app(self, name: str = "Studio", redirect_uris: list[str] | None = None) -> FakeOAuthApp:
        """Register an OAuth app; with `redirect_uris` only those are accepted, without, any is."""
        app = FakeOAuthApp(str(uuid.uuid4()), "sb_secret_" + random_key_chars(32), name, list(redirect_uris or []))
        with self._lock:
            self._oauth.apps[app.client_id] = app
        return app

    @property
    def browser_account(self) -> FakeAccount | None:
        """The account signed in to the platform in the simulated browser (default: the first account)."""
        with self._lock:
            if self._browser_account is not None:
                return self._browser_account
            return self._accounts[0] if self._accounts else None

    @browser_account.setter
    def browser_account(self, account: FakeAccount | None) -> None:
        with self._lock:
            self._browser_account = account

    def expire_oauth_access_tokens(self) -> None:
        """Make every OAuth access token issued so far expired (their refresh tokens still work)."""
        with self._lock:
            self._oauth.expire_access_tokens()

    # -- faults and records ------------------------------------------------------------------------------

    def inject(
        self,
        method: str,
        path_pattern: str,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
        delay: float = 0.0,
        drop: bool = False,
        drop_after_handling: bool = False,
        times: int | None = 1,
    ) -> Fault:
        """Make the next `times` requests (None: all) of `method` ("*": any) whose path (without the query)
        fully matches the regex `path_pattern` misbehave:

        * `delay`: wait that many seconds first (cut short by `stop()`), then go on;
        * `drop`: close the connection with a reset and answer nothing, without handling the request;
        * `status` (+ `headers`, `body`): answer that instead of handling the request (body default:
          `{"message": <reason phrase>}`; a dict or list is sent as JSON, str or bytes as is);
        * `drop_after_handling`: handle the request (its effects happen) and then reset the connection
          instead of answering.

        Faults are tried in the order they were injected; the first that matches applies.
        """
        if sum(bool(x) for x in (status is not None, drop, drop_after_handling)) > 1:
            raise ValueError("Choose one of status, drop and drop_after_handling.")
        fault = Fault(method, path_pattern, status, dict(headers or {}), body, delay, drop, drop_after_handling, times)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def matching_requests(self, method: str, path_pattern: str) -> list[RecordedRequest]:
        """The recorded requests of `method` ("*": any) whose path fully matches the regex `path_pattern`."""
        return [
            r
            for r in list(self.requests)
            if (method == "*" or r.method == method.upper()) and re.fullmatch(path_pattern, r.path)
        ]

    def _record_gap(self, text: str) -> None:
        self.spec_violations.append(f"not served by the fake platform: {text}")

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault
        return None

    # -- serving ------------------------------------------------------------------------------------------

    def _serve(self, call: Call, handler: _Handler) -> None:
        """Handle one request on `handler`'s connection: record it, apply faults, answer or drop."""
        headers = {name: (_REDACTED if name in _SECRET_HEADERS else value) for name, value in call.headers.items()}
        query: dict[str, list[str]] = {}
        for name, value in call.query:
            query.setdefault(name, []).append(_REDACTED if name == "apikey" else value)
        record = RecordedRequest(call.method, call.path, query, call.parsed_body(), headers)
        self.requests.append(record)
        fault = self._take_fault(call.method, call.path)
        record.fault = fault

        template: str | None = None
        problems: list[str] = []
        if call.path.startswith("/v1/"):
            checked = self.spec.check_request(
                call.method, call.path, call.query, call.headers, call.body or None, call.content_type
            )
            template, problems = checked.template, checked.problems
            for problem in problems:
                self.spec_violations.append(f"request {call.method} {call.path}: {problem}")

        if fault is not None:
            # The record is complete before the client can see anything: a test reads it right after.
            if (fault.delay and self._stopping.wait(fault.delay)) or fault.drop:
                record.dropped = True
                handler.drop()
                return
            if fault.status is not None:
                reply = _fault_reply(fault)
                record.status = reply.status
                handler.send(reply, call.method)
                return

        reply = self._dispatch(call, template, problems)
        if template is not None:
            for problem in self.spec.check_response(
                call.method,
                call.path,
                call.query,
                reply.status,
                reply.encode() or None,
                reply.wire_content_type() or "",
                template,
            ):
                self.spec_violations.append(f"response {reply.status} to {call.method} {call.path}: {problem}")
        if fault is not None and fault.drop_after_handling:
            record.dropped = True
            handler.drop()
            return
        record.status = reply.status
        handler.send(reply, call.method)

    def _dispatch(self, call: Call, template: str | None, problems: list[str]) -> Reply:
        try:
            project_api = re.fullmatch(r"/project/([^/]+)(/.*)?", call.path)
            if project_api is not None:
                return self._gateway.handle(call, project_api.group(1), project_api.group(2) or "/")
            if not call.path.startswith("/v1/"):
                return Reply.message(404, f"Cannot {call.method} {call.path}")
            routed = self._management.route(call.method, call.path)
            if routed is None:
                if template is None:
                    return Reply.json(
                        404, {"message": f"Cannot {call.method} {call.path}", "error": "Not Found", "statusCode": 404}
                    )
                self._record_gap(f"{call.method} {template} (in the spec, not implemented by the fake)")
                return Reply.message(501, f"The fake platform does not implement {call.method} {template}.")
            handler, params, needs_token = routed
            if needs_token and self._management._account(call) is None:
                return Reply.json(401, {"message": "Unauthorized"})
            if problems:
                # The innermost cause of each problem, e.g. "'db_pass' is a required property".
                causes = (re.sub(r"^\w+: ", "", problem.split(" <- ")[-1]) for problem in problems)
                return Reply.message(400, "; ".join(causes))
            return self._management.handle(call, handler, params, needs_token)
        except NoDatabase as missing:
            self._record_gap(f"{call.method} {call.path}: project {missing} was added with create_database=False")
            return Reply.message(500, "The fake project has no database (add_project(create_database=False)).")
        except Exception:
            self.spec_violations.append(
                f"internal error of the fake platform on {call.method} {call.path}:\n{traceback.format_exc()}"
            )
            return Reply.message(500, "Internal error of the fake platform.")

    @contextlib.contextmanager
    def _tracked(self, connection: socket.socket) -> Iterator[None]:
        with self._lock:
            self._connections.add(connection)
        try:
            yield
        finally:
            with self._lock:
                self._connections.discard(connection)


def _fault_reply(fault: Fault) -> Reply:
    headers = dict(fault.headers)
    status = int(fault.status or 500)
    body = fault.body
    if body is None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        return Reply.json(status, {"message": phrase}, headers)
    if isinstance(body, (str, bytes)):
        content_type = headers.pop("Content-Type", headers.pop("content-type", "text/plain; charset=utf-8"))
        return Reply.text(status, body, content_type, headers)
    return Reply.json(status, body, headers)


class NoDatabase(Exception):
    """The project was added with `create_database=False`."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], platform: FakePlatform) -> None:
        self.platform = platform
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away mid-request is normal here (timeouts, dropped connections).
        if isinstance(sys.exc_info()[1], (OSError, ValueError)):
            return
        self.platform.spec_violations.append(f"internal error of the fake platform's server:\n{traceback.format_exc()}")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def handle(self) -> None:
        with self.server.platform._tracked(self.connection), contextlib.suppress(OSError, ValueError):
            super().handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        split = urlsplit(self.path)
        query = parse_qsl(split.query, keep_blank_values=True)
        headers = {name.lower(): value for name, value in self.headers.items()}
        body = self._read_body(headers)
        call = Call(self.command.upper(), split.path or "/", query, headers, body)
        try:
            self.server.platform._serve(call, self)
        except OSError:
            raise  # the client went away: nothing to answer
        except Exception:
            self.server.platform.spec_violations.append(
                f"internal error of the fake platform on {call.method} {call.path}:\n{traceback.format_exc()}"
            )
            self.close_connection = True
            with contextlib.suppress(OSError, ValueError):
                self.send(Reply.message(500, "Internal error of the fake platform."), call.method)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _read_body(self, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send(self, reply: Reply, method: str) -> None:
        data = reply.encode()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        content_type = reply.wire_content_type()
        if content_type is not None and not any(name.lower() == "content-type" for name in reply.headers):
            self.send_header("Content-Type", content_type)
        if reply.status not in (204, 304):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if method != "HEAD" and reply.status not in (204, 304) and data:
            self.wfile.write(data)
        self.wfile.flush()

    def drop(self) -> None:
        """Reset the connection without answering (SO_LINGER 0: the close sends RST)."""
        self.close_connection = True
        connection = self.connection
        with contextlib.suppress(OSError):
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # Detach the descriptor and close it at once: the request's file objects keep the socket object
        # alive (a plain close() would wait for them), and they stay usable as no-ops afterwards.
        with self.server.platform._lock:
            self.server.platform._connections.discard(connection)
        with contextlib.suppress(OSError):
            os.close(connection.detach())
