"""Where Supabase's platform lives: the Management API and each project's own API.

Studio talks to `https://api.supabase.com` and `https://<ref>.supabase.co` unless told otherwise; the
environment variables `STUDIO_PLATFORM_URL` and `STUDIO_PROJECT_URL_TEMPLATE` point it elsewhere (tests
use them to reach the fake platform, and a self-hosted gateway could too).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_API_URL = "https://api.supabase.com"
DEFAULT_PROJECT_URL_TEMPLATE = "https://{ref}.supabase.co"


@dataclass(frozen=True)
class PlatformEndpoints:
    """Base URLs of the Management API and of projects' APIs (`{ref}` is replaced by the project ref)."""

    api_url: str = DEFAULT_API_URL
    project_url_template: str = DEFAULT_PROJECT_URL_TEMPLATE

    @classmethod
    def from_environment(cls) -> PlatformEndpoints:
        """The endpoints configured by `STUDIO_PLATFORM_URL` / `STUDIO_PROJECT_URL_TEMPLATE`, else Supabase's."""
        return cls(
            api_url=os.environ.get("STUDIO_PLATFORM_URL", DEFAULT_API_URL).rstrip("/"),
            project_url_template=os.environ.get("STUDIO_PROJECT_URL_TEMPLATE", DEFAULT_PROJECT_URL_TEMPLATE),
        )

    def project_url(self, ref: str) -> str:
        """The API URL of project `ref`, as the builder's app uses it (`https://<ref>.supabase.co`)."""
        return self.project_url_template.replace("{ref}", ref).rstrip("/")

    @property
    def api_host(self) -> str:
        """The Management API's host name, for messages ("Studio could not reach api.supabase.com")."""
        return urlsplit(self.api_url).hostname or self.api_url
