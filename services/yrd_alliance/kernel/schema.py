"""The kernel's own tables, in every service's database: the outbox, the events each consumer
applied, idempotency keys, the dead letters (events set aside with their reason), revoked
tokens (kernel.revocations) and the service's own generated keys."""

from __future__ import annotations

from yrd_alliance.kernel.tables import Migration

MIGRATIONS = [
    Migration(
        "kernel",
        1,
        """
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id TEXT NOT NULL UNIQUE,
            subject TEXT NOT NULL,
            headers TEXT NOT NULL,
            payload BLOB NOT NULL,
            created_at REAL NOT NULL,
            sent_at REAL
        );
        CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;
        CREATE TABLE applied_events (
            consumer TEXT NOT NULL,
            event_id TEXT NOT NULL,
            applied_at REAL NOT NULL,
            PRIMARY KEY (consumer, event_id)
        );
        CREATE TABLE idempotency_keys (
            request_id TEXT PRIMARY KEY,
            method TEXT NOT NULL,
            resource TEXT NOT NULL,
            created_at REAL NOT NULL
        )
        """,
    ),
    Migration(
        "kernel",
        2,
        """
        CREATE TABLE dead_letters (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            origin TEXT NOT NULL,
            event_id TEXT NOT NULL,
            subject TEXT NOT NULL,
            headers TEXT NOT NULL,
            payload BLOB NOT NULL,
            error TEXT NOT NULL,
            deliveries INTEGER NOT NULL,
            created_at REAL NOT NULL,
            UNIQUE (origin, event_id)
        )
        """,
    ),
    Migration(
        "kernel",
        3,
        """
        CREATE TABLE revoked_tokens (
            token_id TEXT PRIMARY KEY,
            data BLOB NOT NULL,
            version INTEGER NOT NULL
        );
        CREATE TABLE service_keys (
            name TEXT PRIMARY KEY,
            value BLOB NOT NULL
        )
        """,
    ),
]
