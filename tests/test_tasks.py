"""How background tasks stop (kernel.tasks), Python 3.11's lost cancel among the cases."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from yrd_alliance.kernel.tasks import cancel_and_wait, pause


async def _loop_that_loses_its_cancel(answer: asyncio.Future[int], turns: list[int]) -> None:
    """A background loop whose first wait gets its answer in the turn its cancel comes."""
    await asyncio.wait_for(answer, timeout=1)
    while True:
        turns.append(1)
        await pause(0.01)


async def test_a_loop_that_lost_its_cancel_ends_at_its_next_pause() -> None:
    answer = asyncio.get_running_loop().create_future()
    turns: list[int] = []
    task = asyncio.create_task(_loop_that_loses_its_cancel(answer, turns))
    await asyncio.sleep(0.01)
    answer.set_result(1)
    task.cancel()  # the same turn: wait_for returns the answer and drops the cancel
    began = time.monotonic()
    await cancel_and_wait(task, within_s=5)
    assert time.monotonic() - began < 1, "stopped at its next pause, not after 5 s"
    assert task.cancelled()
    assert turns == [1], "the turn under way ended at its pause, and no other began"


@pytest.mark.timeout(30)  # an unbounded wait hangs here
async def test_a_task_that_outlives_both_cancels_is_logged_and_left(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()
    cancels = []

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                cancels.append(1)

    task = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    began = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="yrd_alliance.kernel.tasks"):
        await cancel_and_wait(task, within_s=0.2)
    took = time.monotonic() - began
    try:
        assert 0.4 <= took < 1.5, f"two bounded waits: {took:.2f} s"
        assert len(cancels) == 2, "cancelled once more after the first wait"
        assert not task.done()
        messages = [r.getMessage() for r in caplog.records]
        assert any("stubborn still runs 0.2 s after its cancel, at" in m for m in messages)
        assert any("stubborn did not stop; left running" in m for m in messages)
    finally:
        release.set()
        await asyncio.wait({task})


async def test_a_caller_cancelled_meanwhile_sees_the_stop_through_then_gets_its_cancel() -> None:
    async def slow_to_stop() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.shield(asyncio.sleep(0.3))  # its clean-up, which a cancel cannot cut

    background = asyncio.create_task(slow_to_stop())
    await asyncio.sleep(0)
    stopping = asyncio.create_task(cancel_and_wait(background))
    await asyncio.sleep(0.05)
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping
    assert background.cancelled(), "stopped before the caller's cancel went on"


async def test_a_task_that_failed_as_it_stopped_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def fails_on_cancel() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise RuntimeError("the connection was already gone") from None

    task = asyncio.create_task(fails_on_cancel(), name="failing")
    await asyncio.sleep(0)
    with caplog.at_level(logging.ERROR, logger="yrd_alliance.kernel.tasks"):
        await cancel_and_wait(task)
    assert task.done() and isinstance(task.exception(), RuntimeError)
    assert [r.getMessage() for r in caplog.records] == ["failing stopped with an error"]
