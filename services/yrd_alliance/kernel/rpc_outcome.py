"""The status code a guarded RPC ended with, for what observes calls (metrics, traces)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc


async def observed(
    behaviour: Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]],
    request: Any,
    context: grpc.aio.ServicerContext,
    ended: Callable[[grpc.StatusCode], None],
) -> Any:
    """Runs the call and tells `ended` its code: OK, the code it aborted with, or INTERNAL."""
    code = grpc.StatusCode.INTERNAL
    try:
        reply = await behaviour(request, context)
        code = grpc.StatusCode.OK
        return reply
    except grpc.aio.AbortError:
        code = context.code() or grpc.StatusCode.UNKNOWN  # type: ignore[attr-defined]
        raise
    finally:
        ended(code)
