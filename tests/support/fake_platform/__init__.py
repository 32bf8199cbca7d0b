"""A fake of Supabase's hosted platform for tests: Management API, OAuth, and each project's API.

Start one on the session's embedded PostgreSQL server (`FakePlatform(local_server)`), point Studio at
`platform.url` (the Management API) and `platform.project_url_template` (the projects' own APIs), set up
accounts, organizations and projects with `add_*`, make it misbehave with `inject`, and check
`requests` and `spec_violations` afterwards. See `server.FakePlatform` for the whole interface.
"""

from tests.support.fake_platform.oauth import s256_challenge
from tests.support.fake_platform.server import FakePlatform
from tests.support.fake_platform.state import (
    ACTIVE_HEALTHY,
    COMING_UP,
    INIT_FAILED,
    FakeAccount,
    FakeOAuthApp,
    FakeOrganization,
    FakeProject,
    Fault,
    RecordedRequest,
)

__all__ = [
    "ACTIVE_HEALTHY",
    "COMING_UP",
    "INIT_FAILED",
    "FakeAccount",
    "FakeOAuthApp",
    "FakeOrganization",
    "FakePlatform",
    "FakeProject",
    "Fault",
    "RecordedRequest",
    "s256_challenge",
]
