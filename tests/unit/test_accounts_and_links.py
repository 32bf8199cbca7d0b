"""The account list and the workspace's project link: what is remembered, and nothing secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.core.errors import RequestRejected, WorkspaceError
from studio.core.platform.accounts import Account, AccountRegistry
from studio.core.platform.session import check_token_format
from studio.core.workspace_file import ProjectLink, read_link, write_link

ADA = Account(id="0b5c2a8e-1111-4d6a-9b1e-6a5f3c2d1e0f", email="ada@example.com", username="ada", kind="token")
GRACE = Account(id="9e8d7c6b-2222-4a5b-8c9d-0e1f2a3b4c5d", email="grace@example.com", username="grace",
                kind="oauth", oauth_client_id="66666666-6666-4666-8666-666666666666")


def test_accounts_persist_and_the_user_can_switch(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    registry = AccountRegistry(path)
    registry.add(ADA)
    registry.add(GRACE, make_active=False)
    again = AccountRegistry(path)
    assert [a.email for a in again.accounts()] == ["ada@example.com", "grace@example.com"]
    assert again.active() == ADA
    again.set_active(GRACE.id)
    assert AccountRegistry(path).active() == GRACE
    assert again.find("grace") == GRACE and again.find(ADA.id) == ADA and again.find("nobody") is None


def test_removing_the_active_account_activates_another(tmp_path: Path) -> None:
    registry = AccountRegistry(tmp_path / "accounts.json")
    registry.add(ADA)
    registry.add(GRACE, make_active=False)
    registry.remove(ADA.id)
    assert registry.active() == GRACE
    registry.remove(GRACE.id)
    assert registry.active() is None and registry.accounts() == []


def test_a_damaged_account_list_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="damaged"):
        AccountRegistry(path)
    assert path.read_text(encoding="utf-8") == "{not json"


def test_an_account_list_from_a_newer_studio_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps({"version": 99, "accounts": []}), encoding="utf-8")
    with pytest.raises(WorkspaceError, match="newer Studio"):
        AccountRegistry(path)


@pytest.mark.parametrize("text", ["sbp_" + "0123456789abcdef" * 2 + "01234567", "  sbp_oauth_" + "a" * 40 + "\n"])
def test_access_tokens_in_the_cli_format_are_accepted(text: str) -> None:
    assert check_token_format(text).reveal() == text.strip()


@pytest.mark.parametrize("text", ["", "sbp_short", "sbp_" + "A" * 40, "eyJhbGciOi.x.y", "sbp_" + "a" * 41])
def test_other_text_is_refused_without_echoing_it(text: str) -> None:
    with pytest.raises(RequestRejected) as caught:
        check_token_format(text)
    if text:
        assert text not in str(caught.value)


def test_the_link_keeps_other_sections_of_studio_json(tmp_path: Path) -> None:
    (tmp_path / "studio.json").write_text(json.dumps({"version": 1, "model": {"entities": ["todo"]}}))
    link = ProjectLink(ref="abcdefghijklmnopqrst", name="shop", api_url="https://abcdefghijklmnopqrst.supabase.co",
                       account_id=ADA.id, organization_slug="acme")
    write_link(tmp_path, link)
    assert read_link(tmp_path) == link
    data = json.loads((tmp_path / "studio.json").read_text())
    assert data["model"] == {"entities": ["todo"]}
    write_link(tmp_path, None)
    assert read_link(tmp_path) is None
    assert json.loads((tmp_path / "studio.json").read_text())["model"] == {"entities": ["todo"]}


def test_a_broken_studio_json_is_reported_with_its_position(tmp_path: Path) -> None:
    (tmp_path / "studio.json").write_text('{"version": 1,\n "project": }')
    with pytest.raises(WorkspaceError, match="line 2"):
        read_link(tmp_path)
    with pytest.raises(WorkspaceError):
        write_link(tmp_path, None)
    assert (tmp_path / "studio.json").read_text() == '{"version": 1,\n "project": }'
