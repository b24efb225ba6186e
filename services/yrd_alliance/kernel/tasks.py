"""Background tasks of a service (relay, consumers, supervisor, NATS link), and how they stop.

On Python 3.11 a task can outlive its cancel: `asyncio.wait_for`, which nats-py's requests
use, returns a result that comes in the same turn as the cancel and drops the cancel. The task
goes on as if it had never been cancelled; only `Task.cancelling()` still counts the request.
So a background loop waits between its turns with `pause`, which ends the loop when such a
request is pending, and `cancel_and_wait` cancels a task once more when it did not stop.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


async def pause(seconds: float) -> None:
    """`asyncio.sleep` between a background loop's turns; raises CancelledError at once when
    the task was cancelled and a wait lost the cancel."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
    await asyncio.sleep(seconds)


async def cancel_and_wait(task: asyncio.Task[None] | None, *, within_s: float = 5.0) -> None:
    """Cancels a background task and waits until it has stopped: `within_s` at most, and as
    long again after a second cancel when it outlived the first. A task still running after
    that is logged and left. A caller cancelled meanwhile still sees the stop through, then
    gets its cancel: it is never swallowed."""
    if task is None or task.done():
        return
    stopping = asyncio.ensure_future(_stop(task, within_s))
    try:
        await asyncio.shield(stopping)
    except asyncio.CancelledError:
        await asyncio.wait({stopping})
        raise


async def _stop(task: asyncio.Task[None], within_s: float) -> None:
    for _attempt in range(2):
        task.cancel()
        await asyncio.wait({task}, timeout=within_s)
        if task.done():
            if not task.cancelled() and task.exception() is not None:
                log.error("%s stopped with an error", task.get_name(), exc_info=task.exception())
            return
        log.warning(
            "%s still runs %.1f s after its cancel, at %s", task.get_name(), within_s, _at(task)
        )
    log.error("%s did not stop; left running", task.get_name())


def _at(task: asyncio.Task[None]) -> str:
    """Where a task waits: its innermost frame."""
    frames = task.get_stack()
    if not frames:
        return "an unknown place"
    frame = frames[-1]
    return f"{frame.f_code.co_filename}:{frame.f_lineno} ({frame.f_code.co_name})"
