"""Background tasks of a service (relay, consumers, supervisor, NATS link)."""

from __future__ import annotations

import asyncio
import contextlib


async def cancel_and_wait(task: asyncio.Task[None] | None, *, within_s: float = 5.0) -> None:
    """Cancels a background task and waits (bounded) until it has stopped."""
    if task is None or task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, timeout=within_s)
