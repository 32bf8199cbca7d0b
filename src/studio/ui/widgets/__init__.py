"""Reusable widgets that know nothing of the app (code view, diff view, ...)."""
