"""Helpers shared by tests: independent oracles and round-trip assertions."""
