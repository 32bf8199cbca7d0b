"""Quoting for SQL text: the one audited place where names and values become SQL.

Names are quoted exactly when PostgreSQL needs it (upper case, spaces, quotes, unicode, keywords), so
generated SQL stays readable: `public.todos`, `public."My Table"`, `public."user"`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pglast.keywords import UNRESERVED_KEYWORDS

_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*\Z")


@lru_cache(maxsize=65536)
def quote_ident(name: str) -> str:
    """Quote an identifier the way PostgreSQL's own `quote_ident` does."""
    if "\x00" in name:
        raise ValueError("identifiers cannot contain NUL characters")
    if _PLAIN.match(name) and (name not in _KEYWORDS or name in UNRESERVED_KEYWORDS):
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    """`schema.name`, each part quoted as needed."""
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def quote_literal(value: str) -> str:
    """A string constant (standard_conforming_strings on, as on every supported server)."""
    if "\x00" in value:
        raise ValueError("text values cannot contain NUL characters")
    return "'" + value.replace("'", "''") + "'"


def quote_text_array(values: list[str]) -> str:
    """A text[] constant: `ARRAY['a', 'b']::text[]`."""
    return "ARRAY[" + ", ".join(quote_literal(v) for v in values) + "]::text[]"


def _all_keywords() -> frozenset[str]:
    from pglast.keywords import COL_NAME_KEYWORDS, RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

    return frozenset(RESERVED_KEYWORDS | COL_NAME_KEYWORDS | TYPE_FUNC_NAME_KEYWORDS | UNRESERVED_KEYWORDS)


_KEYWORDS = _all_keywords()
