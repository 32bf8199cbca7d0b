"""Helpers the client generators share: names, comments, the project URL, and what a table's services offer."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from studio.core.generate.tables import TableShape
from studio.core.model.appmodel import Access


def words(text: str) -> list[str]:
    """The ASCII letter-and-digit runs of `text` (accents dropped, everything else a separator)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return [word for word in re.split(r"[^A-Za-z0-9]+", plain) if word]


def upper_camel(text: str) -> str:
    """`contact_message` -> `ContactMessage`; empty when `text` has no ASCII letters or digits."""
    return "".join(word[:1].upper() + word[1:].lower() for word in words(text))


def unique_name(name: str, taken: set[str], separator: str = "") -> str:
    """`name`, or `name2`, `name3`... whichever is not in `taken`; the result is added to `taken`."""
    candidate, number = name, 2
    while candidate in taken:
        candidate = f"{name}{separator}{number}"
        number += 1
    taken.add(candidate)
    return candidate


def comment_text(text: str) -> str:
    """`text` made safe for a one-line comment: line breaks and other control characters become spaces."""
    cleaned = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") else c for c in text)
    return " ".join(cleaned.split())


def check_project_url(project_url: str | None) -> str | None:
    """The project URL without a trailing slash; `ValueError` unless it is a plain http(s) URL with no credentials."""
    if project_url is None:
        return None
    parts = urlsplit(project_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"the project URL {project_url!r} is not an http(s) URL")
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise ValueError("the project URL must not carry credentials, a query or a fragment")
    return project_url.strip().rstrip("/")


def updatable(shape: TableShape) -> bool:
    """Whether a table has columns worth updating (join tables have none): the services offer `update`."""
    return any(c.name not in shape.primary_key and c.role not in ("created_at", "updated_at") for c in shape.columns)


def create_only(shape: TableShape) -> bool:
    """Whether inserting users may not read rows back (a contact form): `create` returns nothing."""
    return shape.access is Access.CREATE_ONLY_ADMIN_READ
