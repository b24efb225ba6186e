"""Dead letters: events set aside with their reason, so one bad event stops only itself.

Two origins share the table: `outbox` (an event of this service that NATS can never take, e.g.
larger than its max_payload) and `consumer` (an event of any region whose handler failed on
every delivery, or that is not a CloudEvent at all). An operator lists, shows, replays or
discards them (OperationsService, `alliance dead-letters`); a replay of a consumer's letter is
applied once, through the same idempotent path as live events.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from yrd_alliance.kernel.db import Connection


class Origin(StrEnum):
    OUTBOX = "outbox"
    CONSUMER = "consumer"


@dataclass(frozen=True)
class DeadLetter:
    id: int
    origin: Origin
    event_id: str
    subject: str
    headers: dict[str, str]
    payload: bytes
    error: str
    deliveries: int
    created_at: float


def record(
    tx: Connection,
    *,
    origin: Origin,
    event_id: str,
    subject: str,
    headers: dict[str, str],
    payload: bytes,
    error: str,
    deliveries: int,
) -> None:
    """Sets an event aside; the same event set aside again keeps the latest reason."""
    tx.execute(
        "INSERT INTO dead_letters (origin, event_id, subject, headers, payload, error, "
        "deliveries, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (origin, event_id) DO UPDATE SET error = excluded.error, "
        "deliveries = dead_letters.deliveries + excluded.deliveries",
        (origin.value, event_id, subject, json.dumps(headers), payload, error[:2000],
         deliveries, time.time()),
    )  # fmt: skip


def page(conn: Connection, *, after_id: int, limit: int) -> list[DeadLetter]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM dead_letters WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
    )
    return [_letter(row) for row in rows]


def get(conn: Connection, letter_id: int) -> DeadLetter | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM dead_letters WHERE id = ?", (letter_id,))
    found = row.fetchone()
    return None if found is None else _letter(found)


def remove(tx: Connection, letter_id: int) -> bool:
    return tx.execute("DELETE FROM dead_letters WHERE id = ?", (letter_id,)).rowcount == 1


def failed_again(tx: Connection, letter_id: int, error: str) -> None:
    tx.execute(
        "UPDATE dead_letters SET error = ?, deliveries = deliveries + 1 WHERE id = ?",
        (error, letter_id),
    )


def counts(conn: Connection) -> dict[Origin, int]:
    found = dict(conn.execute("SELECT origin, count(*) FROM dead_letters GROUP BY origin"))
    return {origin: int(found.get(origin.value, 0)) for origin in Origin}


_COLUMNS = "id, origin, event_id, subject, headers, payload, error, deliveries, created_at"


def _letter(row: Any) -> DeadLetter:
    return DeadLetter(
        id=row[0],
        origin=Origin(row[1]),
        event_id=row[2],
        subject=row[3],
        headers=json.loads(row[4]),
        payload=bytes(row[5]),
        error=row[6],
        deliveries=row[7],
        created_at=row[8],
    )
