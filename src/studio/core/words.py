"""Small helpers for writing to people: counts with the right word ("1 change", "3 changes")."""

from __future__ import annotations


def plural(count: int, word: str, words: str = "") -> str:
    """`count` and the word in the right number: plural(1, "change") -> "1 change"; plural(2, "query",
    "queries") -> "2 queries" (default plural: the word + "s")."""
    return f"{count:,} {word if count == 1 else words or word + 's'}"
