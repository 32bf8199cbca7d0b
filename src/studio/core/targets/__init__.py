"""Where SQL runs: one async interface over a local embedded server, any connection string, and (later)
Supabase's platform API."""

from studio.core.targets.base import Target

__all__ = ["Target"]
