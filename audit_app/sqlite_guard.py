"""The SQLite append-only triggers, for migrations to restore.

SQLite cannot alter a column in place: Django rebuilds the table (create, copy, drop, rename),
and the table's triggers go with the old table. A migration that alters the audit tables on
SQLite must run `restore_sqlite_guard` after the change.
"""

SQLITE_GUARD = [
    """CREATE TRIGGER IF NOT EXISTS audit_record_no_update BEFORE UPDATE ON audit_app_auditrecord
       BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;""",
    """CREATE TRIGGER IF NOT EXISTS audit_pruned_no_update
       BEFORE UPDATE ON audit_app_auditprunedrange
       BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;""",
]


def restore_sqlite_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_GUARD:
            schema_editor.execute(statement)
