"""Follows the event streams with ordered consumers and prints each event as one JSON line."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime

import alliance.membership.v1.events_pb2  # noqa: F401  (registers the payload types for decoding)
import nats
from kernel.events import Event, event_to_json
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy

EVENT_STREAM_PREFIX = "EVENTS_"


async def _ignore(_error: Exception) -> None:
    """Connection errors surface as the connect call's exception; no traceback on stderr."""


async def tail(
    url: str,
    subjects: str,
    event_type: str,
    from_start: bool,
    since: datetime | None,
    limit: int,
    emit: Callable[[str], None],
) -> int:
    """Prints matching events of every region's stream until `limit` (0: forever)."""
    nc = await nats.connect(url, connect_timeout=3, allow_reconnect=False, error_cb=_ignore)
    queue: asyncio.Queue[Event] = asyncio.Queue()
    try:
        js = nc.jetstream()
        policy = (
            DeliverPolicy.ALL
            if from_start
            else DeliverPolicy.BY_START_TIME
            if since
            else DeliverPolicy.NEW
        )
        streams = [
            info.config.name
            for info in await js.streams_info()
            if (info.config.name or "").startswith(EVENT_STREAM_PREFIX)
        ]

        async def forward(msg: Msg) -> None:
            await queue.put(Event.from_nats(msg.subject, msg.headers, msg.data))

        for stream in streams:
            config = ConsumerConfig(
                deliver_policy=policy, opt_start_time=since, filter_subject=subjects
            )
            await js.subscribe(
                subjects, stream=stream, cb=forward, ordered_consumer=True, config=config
            )
        shown = 0
        while not limit or shown < limit:
            event = await queue.get()
            if event_type and event.type != event_type:
                continue
            emit(json.dumps(event_to_json(event), ensure_ascii=False))
            shown += 1
        return shown
    finally:
        await nc.close()
