"""Which column type changes can lose data, and which rewrite the table."""

import pytest

from studio.core.schema.ddl import type_change_is_widening, type_change_rewrites


@pytest.mark.parametrize(
    ("old", "new", "widening"),
    [
        ("integer", "bigint", True),
        ("bigint", "integer", False),
        ("smallint", "numeric", True),
        ("character varying(50)", "character varying(100)", True),
        ("character varying(100)", "character varying(50)", False),
        ("character varying(20)", "text", True),
        ("text", "character varying(20)", False),
        ("numeric(10,2)", "numeric(12,2)", True),
        ("numeric(10,2)", "numeric(10,0)", False),
        ("numeric(10,2)", "numeric", True),
        ("text", "integer", False),
        ("real", "double precision", True),
        ("double precision", "real", False),
        ("timestamp without time zone", "timestamp with time zone", True),
    ],
)
def test_widening(old: str, new: str, widening: bool) -> None:
    assert type_change_is_widening(old, new) is widening


@pytest.mark.parametrize(
    ("old", "new", "rewrites"),
    [
        ("character varying(50)", "character varying(100)", False),
        ("character varying(50)", "text", False),
        ("integer", "bigint", True),
        ("numeric(10,2)", "numeric", False),
        ("text", "integer", True),
    ],
)
def test_rewrites(old: str, new: str, rewrites: bool) -> None:
    assert type_change_rewrites(old, new) is rewrites
