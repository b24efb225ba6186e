"""The database's group commit when a service stops: a unit whose waiting task is cancelled
while its COMMIT runs in a worker thread is still committed, and closing the database waits
for that COMMIT instead of pulling the connection from under it (which crashed the process)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from yrd_alliance.kernel.db import Database, Migration

TABLE = Migration("test", 1, "CREATE TABLE items (id INTEGER PRIMARY KEY)")


async def test_closing_during_a_commit_waits_for_it_and_keeps_the_unit(tmp_path: Path) -> None:
    for attempt in range(50):
        path = tmp_path / f"{attempt}.db"
        db = Database(path)
        db.migrate([TABLE])

        async def write(db: Database = db) -> None:
            async with db.write() as tx:
                tx.execute("INSERT INTO items (id) VALUES (1)")

        task = asyncio.create_task(write())
        for _ in range(attempt % 4):  # let the commit reach its worker thread, or not yet
            await asyncio.sleep(0)
        task.cancel()
        db.close()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(0.01)  # a commit thread still pending finds the database closed
        with sqlite3.connect(path) as conn:
            rows = conn.execute("SELECT count(*) FROM items").fetchone()[0]
        assert rows == (0 if attempt % 4 == 0 else 1), "a unit that ran must be kept"
        db.close()  # closing twice is harmless
