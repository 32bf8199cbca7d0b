"""Identifier and literal quoting: the one place names and values become SQL."""

import pytest

from studio.core.sqltext import qualified, quote_ident, quote_literal, quote_text_array


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("todos", "todos"),
        ("Todos", '"Todos"'),
        ("my table", '"my table"'),
        ('a"b', '"a""b"'),
        ("café ☕", '"café ☕"'),
        ("select", '"select"'),
        ("user", '"user"'),
        ("order", '"order"'),
        ("time", '"time"'),  # a column-name keyword: PostgreSQL quotes it too
        ("name", "name"),  # unreserved keywords stay plain
        ("1st", '"1st"'),
        ("a$b", "a$b"),
    ],
)
def test_quote_ident_matches_postgres(name: str, quoted: str) -> None:
    assert quote_ident(name) == quoted


def test_qualified_quotes_each_part() -> None:
    assert qualified("My Schema", "t") == '"My Schema".t'


def test_literals_escape_quotes_and_refuse_nul() -> None:
    assert quote_literal("it's") == "'it''s'"
    assert quote_literal("back\\slash") == "'back\\slash'"
    assert quote_text_array(["a", "b'c"]) == "ARRAY['a', 'b''c']::text[]"
    with pytest.raises(ValueError):
        quote_literal("a\x00b")
    with pytest.raises(ValueError):
        quote_ident("a\x00b")
