"""The order schema files are applied in: supabase/config.toml's schema_paths, as the Supabase CLI reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.core.errors import WorkspaceError
from studio.core.generate.workspace import schema_order_config
from studio.core.schema.shadow import schema_files


def make(workspace: Path, *names: str) -> Path:
    schemas = workspace / "supabase" / "schemas"
    schemas.mkdir(parents=True, exist_ok=True)
    for name in names:
        (schemas / name).write_text("select 1;\n")
    return schemas


def test_without_a_setting_files_go_by_name(tmp_path: Path) -> None:
    schemas = make(tmp_path, "supabase_tables.sql", "supabase_policies.sql")
    assert [p.name for p in schema_files(schemas)] == ["supabase_policies.sql", "supabase_tables.sql"]


def test_the_setting_studio_writes_puts_tables_first_then_the_rest(tmp_path: Path) -> None:
    schemas = make(tmp_path, "supabase_tables.sql", "supabase_policies.sql", "extra.sql")
    config = schema_order_config(tmp_path)
    assert config is not None
    (tmp_path / "supabase" / "config.toml").write_text(config)
    assert [p.name for p in schema_files(schemas)] == ["supabase_tables.sql", "supabase_policies.sql", "extra.sql"]
    assert schema_order_config(tmp_path) is None, "once set, the setting is the user's"


@pytest.mark.parametrize("existing", [
    'project_id = "shop"\n\n[api]\nport = 54321\n',
    'project_id = "shop"\n[db.migrations]\nenabled = true\n[db.seed]\nenabled = true\n',
    'project_id = "shop"',
])
def test_an_existing_config_keeps_every_line(tmp_path: Path, existing: str) -> None:
    schemas = make(tmp_path, "supabase_tables.sql", "supabase_policies.sql")
    (tmp_path / "supabase" / "config.toml").write_text(existing)
    config = schema_order_config(tmp_path)
    assert config is not None
    assert all(line in config.splitlines() for line in existing.splitlines())
    (tmp_path / "supabase" / "config.toml").write_text(config)
    assert [p.name for p in schema_files(schemas)] == ["supabase_tables.sql", "supabase_policies.sql"]


def test_a_broken_config_is_reported(tmp_path: Path) -> None:
    schemas = make(tmp_path, "a.sql")
    (tmp_path / "supabase" / "config.toml").write_text("[db.migrations\n")
    with pytest.raises(WorkspaceError, match=r"config\.toml cannot be read"):
        schema_files(schemas)
