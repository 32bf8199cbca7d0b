"""A request as the handlers see it (`Call`) and what they answer (`Reply`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["BadBody", "Call", "Reply"]


class BadBody(Exception):
    """The body is not what its content type says (not JSON, not a form)."""


@dataclass
class Call:
    """One HTTP request: the path without its query, the query as (name, value) pairs, lowercase headers."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def media_type(self) -> str:
        return self.content_type.split(";", 1)[0].strip().lower()

    def arg(self, name: str) -> str | None:
        """The first value of query parameter `name`, or None."""
        return next((value for key, value in self.query if key == name), None)

    def args(self, name: str) -> list[str]:
        """Every value of query parameter `name`."""
        return [value for key, value in self.query if key == name]

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise BadBody(f"The body is not valid JSON: {exc}") from exc

    def form(self) -> dict[str, str]:
        try:
            return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(self.body)))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadBody(f"The body is not a valid form: {exc}") from exc

    def parsed_body(self) -> Any:
        """The body as recorded: JSON, a form dict, text, or None when empty."""
        if not self.body:
            return None
        try:
            if self.media_type == "application/json":
                return self.json()
            if self.media_type == "application/x-www-form-urlencoded":
                return self.form()
        except BadBody:
            pass
        return self.body.decode("utf-8", "replace")


@dataclass
class Reply:
    """An answer: a status, a body (JSON-able, raw bytes or None) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bool = False
    content_type: str = "application/json; charset=utf-8"

    @classmethod
    def json(cls, status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, body, dict(headers or {}))

    @classmethod
    def message(cls, status: int, message: str) -> Reply:
        return cls(status, {"message": message})

    @classmethod
    def empty(cls, status: int, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, None, dict(headers or {}))

    @classmethod
    def text(cls, status: int, text: str | bytes, content_type: str, headers: dict[str, str] | None = None) -> Reply:
        data = text.encode() if isinstance(text, str) else text
        return cls(status, data, dict(headers or {}), raw=True, content_type=content_type)

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if self.raw:
            return bytes(self.body)
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def wire_content_type(self) -> str | None:
        """The Content-Type header to send (None when there is no body)."""
        return None if self.body is None else self.content_type
