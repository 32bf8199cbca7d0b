"""Migrations the way the Supabase CLI keeps them, so `supabase db push` and Studio agree.

* `files` - the workspace's `supabase/migrations/<version>_<name>.sql` files, names, versions, atomic writes;
* `history` - the remote history table `supabase_migrations.schema_migrations`;
* `apply` - run a plan as one migration: lock, drift check, statements, history row, file;
* `status` - compare local files with the remote history and say what to do about each difference.
"""

from __future__ import annotations

from studio.core.migrations.apply import DEPLOY_LOCK_KEY, DEPLOY_LOCK_WAIT, AppliedMigration, apply_plan
from studio.core.migrations.files import (
    MIGRATIONS_DIR,
    MigrationFile,
    MigrationListing,
    MigrationName,
    list_migrations,
    migration_path,
    new_version,
    pending_migrations_path,
    read_migration,
    sanitise_name,
    write_atomic,
)
from studio.core.migrations.history import (
    HISTORY_SCHEMA,
    HISTORY_TABLE,
    HistoryRow,
    ensure_history_statements,
    insert_history_statement,
    read_history,
)
from studio.core.migrations.status import FindingKind, HistoryFinding, HistoryReport, compare_history

__all__ = [
    "DEPLOY_LOCK_KEY",
    "DEPLOY_LOCK_WAIT",
    "HISTORY_SCHEMA",
    "HISTORY_TABLE",
    "MIGRATIONS_DIR",
    "AppliedMigration",
    "FindingKind",
    "HistoryFinding",
    "HistoryReport",
    "HistoryRow",
    "MigrationFile",
    "MigrationListing",
    "MigrationName",
    "apply_plan",
    "compare_history",
    "ensure_history_statements",
    "insert_history_statement",
    "list_migrations",
    "migration_path",
    "new_version",
    "pending_migrations_path",
    "read_history",
    "read_migration",
    "sanitise_name",
    "write_atomic",
]
