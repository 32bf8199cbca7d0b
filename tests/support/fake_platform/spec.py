"""Checks requests and answers against Supabase's Management API spec (OpenAPI 3.0), with openapi-core.

The spec file (`/work/shared/reference/supabase-management-api.json`, or `$STUDIO_MANAGEMENT_API_SPEC`) is
used as published, with two repairs it needs before a validator can use it:

* it does not pass openapi-spec-validator (`hideDefinitions` is not an OpenAPI keyword), so the spec
  itself is not validated;
* `V1CreateProjectBody.region_selection` (and any alike) has a `discriminator` without a `mapping`
  over inline `oneOf` schemas: by OpenAPI's rules the implicit mapping points at
  `#/components/schemas/<value>` ("specific"), which does not exist, so every body would be refused.
  Such discriminators are removed; `oneOf` alone tells the alternatives apart.

Answers with a status of 400 or more that the spec does not list are accepted (the spec lists few of
the errors the API really returns); other unlisted statuses are violations, except `KNOWN_GAPS`.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.paths.finders import APICallPathFinder
from werkzeug.datastructures import Headers, ImmutableMultiDict

__all__ = ["KNOWN_GAPS", "SPEC_PATH", "Checked", "SpecChecker"]

SPEC_PATH = Path(os.environ.get("STUDIO_MANAGEMENT_API_SPEC", "/work/shared/reference/supabase-management-api.json"))

#: (method, path template, status) the real API answers although the spec does not list it.
KNOWN_GAPS = frozenset(
    {
        # The spec says 204; the real endpoint redirects the browser (to the consent page, and from there
        # to the app's redirect_uri). The fake approves at once and redirects straight to redirect_uri.
        ("get", "/v1/oauth/authorize", 302),
    }
)


@dataclass
class _Request:
    """A request in the shape openapi-core reads (its `Request` protocol)."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes | None
    content_type: str
    host_url: str = "http://127.0.0.1"
    parameters: RequestParameters = field(init=False)

    def __post_init__(self) -> None:
        self.method = self.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(self.query),
            header=Headers(list(self.headers.items())),
            cookie=ImmutableMultiDict(),
        )


@dataclass
class _Response:
    """An answer in the shape openapi-core reads (its `Response` protocol)."""

    status_code: int
    data: bytes | None
    content_type: str
    headers: Headers = field(default_factory=Headers)


@dataclass
class Checked:
    """The outcome of checking a request: `template` is the spec path it matched (None if none)."""

    template: str | None
    problems: list[str]


def _describe(error: BaseException) -> str:
    """A readable account of an openapi-core error: the chain of causes and every schema error."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current).strip() or type(current).__name__
        schema_errors = getattr(current, "schema_errors", None)
        if schema_errors:
            details = []
            for schema_error in schema_errors:
                where = "/".join(str(part) for part in schema_error.absolute_path)
                details.append(f"{schema_error.message}" + (f" (at {where})" if where else ""))
            text = f"{type(current).__name__}: " + "; ".join(details)
        elif not text.startswith(type(current).__name__):
            text = f"{type(current).__name__}: {text}"
        if not parts or text not in parts[-1]:
            parts.append(text)
        current = current.__cause__ or current.__context__
    return " <- ".join(parts)


def _repair(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with the discriminators no validator can follow removed (see the module docstring)."""
    spec = copy.deepcopy(spec)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            discriminator = node.get("discriminator")
            alternatives = node.get("oneOf") or node.get("anyOf")
            if (
                isinstance(discriminator, dict)
                and "mapping" not in discriminator
                and isinstance(alternatives, list)
                and any("$ref" not in alternative for alternative in alternatives)
            ):
                del node["discriminator"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return spec


@cache
def _load(path: Path) -> tuple[OpenAPI, dict[str, Any]]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    repaired = _repair(raw)
    return OpenAPI.from_dict(repaired, config=Config(spec_validator_cls=None)), repaired


class SpecChecker:
    """Validates requests and responses against the Management API spec. Thread-safe."""

    def __init__(self, path: Path = SPEC_PATH) -> None:
        self._api, self._spec = _load(path)
        self._finder = APICallPathFinder(self._api.spec)
        self._lock = threading.Lock()

    def operation(self, method: str, template: str) -> dict[str, Any] | None:
        """The spec's operation object for `method` on path `template`, if there is one."""
        item = self._spec["paths"].get(template)
        if item is None:
            return None
        operation = item.get(method.lower())
        return operation if isinstance(operation, dict) else None

    def check_request(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: dict[str, str],
        body: bytes | None,
        content_type: str,
    ) -> Checked:
        """Problems of a request against the spec (empty when it conforms), and the template it matched."""
        request = _Request(method, path, query, headers, body, content_type.lower())
        with self._lock:
            result = self._api.unmarshal_request(request)
            template = self._template(request)
        return Checked(template, [_describe(error) for error in result.errors])

    def check_response(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        status: int,
        body: bytes | None,
        content_type: str,
        template: str | None,
    ) -> list[str]:
        """Problems of an answer against the spec's responses of the operation (empty when it conforms)."""
        if template is not None and (method.lower(), template, status) in KNOWN_GAPS:
            return []
        operation = self.operation(method, template) if template is not None else None
        if operation is None:
            return []
        responses = operation.get("responses", {})
        if str(status) not in responses and "default" not in responses:
            if status >= 400:
                return []
            return [f"status {status} is not among the spec's responses ({', '.join(sorted(responses))})"]
        request = _Request(method, path, query, {}, None, "")
        response = _Response(status, body if body else None, content_type.lower())
        with self._lock:
            result = self._api.unmarshal_response(request, response)
        return [_describe(error) for error in result.errors]

    def _template(self, request: _Request) -> str | None:
        """The spec path template `request` matches, if any (openapi-core's own path finder)."""
        try:
            found = self._finder.find(request.method, f"{request.host_url}{request.path}")
        except PathError:
            return None
        return str(found.path_result.pattern)
