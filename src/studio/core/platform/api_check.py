"""Proving a linked project's keys work from the app's side, with the `supabase` client package.

The builder's app will talk to `https://<ref>.supabase.co` with the publishable (or anon) key through
Supabase's own client, so Studio checks exactly that: the auth service's health endpoint and one REST
request. A REST request for a table that does not exist is enough: a right key gets "no such table"
(PGRST205) from the API, a wrong key gets 401 before the API looks at the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from studio.core.secrets import Secret

if TYPE_CHECKING:
    from supabase import AsyncClient

# The supabase client and its parts are imported when a check runs: importing them takes about 120 ms,
# which would otherwise be paid by every start of the app.

#: A table name no project has: the REST check only needs the API's verdict on the key.
PROBE_TABLE = "studio_key_check"
_NOT_READY = frozenset({502, 503, 504, 520, 521, 522, 523, 524})


@dataclass(frozen=True)
class ApiCheck:
    """The result of one check: which part (`Auth`, `REST API`), whether it passed, and in plain words."""

    part: str
    ok: bool
    message: str


class _StatusRecorder:
    """Remembers the HTTP status of the last response the client received (its errors do not carry it)."""

    def __init__(self) -> None:
        self.last: int | None = None

    async def __call__(self, response: httpx.Response) -> None:
        self.last = response.status_code


async def check_project_api(url: str, client_key: Secret, *, timeout: float = 15.0) -> list[ApiCheck]:
    """Check the project's auth health and a REST request with `client_key`; never raises for API answers."""
    from supabase import AsyncClientOptions, acreate_client

    recorder = _StatusRecorder()
    async with httpx.AsyncClient(timeout=timeout, event_hooks={"response": [recorder]}) as http:
        try:
            client = await acreate_client(
                url,
                client_key.reveal(),
                options=AsyncClientOptions(auto_refresh_token=False, persist_session=False, httpx_client=http),
            )
        except Exception as exc:  # the client rejects malformed URLs and keys with assorted errors
            problem = f"The Supabase client could not be set up for {url}: {type(exc).__name__}."
            return [ApiCheck("Client", False, problem)]
        return [await _check_auth(client, recorder), await _check_rest(client, recorder)]


async def _check_auth(client: AsyncClient, recorder: _StatusRecorder) -> ApiCheck:
    from supabase_auth.errors import AuthError

    recorder.last = None
    try:
        # The auth client has no public health call; its request helper sends the same headers an app would.
        await client.auth._request("GET", "health")
    except (AuthError, httpx.HTTPError):
        return ApiCheck("Auth", False, _verdict(recorder.last, "auth service"))
    return ApiCheck("Auth", True, "The auth service is up.")


async def _check_rest(client: AsyncClient, recorder: _StatusRecorder) -> ApiCheck:
    from postgrest.exceptions import APIError

    recorder.last = None
    try:
        await client.table(PROBE_TABLE).select("*").limit(1).execute()
    except APIError as exc:
        if str(exc.code or "") in ("PGRST205", "42P01"):
            return ApiCheck("REST API", True, "The REST API accepts the key.")
        return ApiCheck("REST API", False, _verdict(recorder.last, "REST API", exc.message))
    except httpx.HTTPError:
        return ApiCheck("REST API", False, _verdict(None, "REST API"))
    return ApiCheck("REST API", True, "The REST API accepts the key.")


def _verdict(status: int | None, part: str, said: str | None = None) -> str:
    if status in (401, 403):
        return "The project refused the key: it is wrong or was rotated. Link the project again to fetch its keys."
    if status is None or status in _NOT_READY:
        extra = f" (HTTP {status})" if status else ""
        return f"The project's {part} is not reachable yet{extra}. A new project can take a few minutes; try again."
    return f"The project's {part} answered with an error (HTTP {status})" + (f": {said}" if said else ".")
