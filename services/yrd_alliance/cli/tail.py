"""Follows a region's copy of every region's events (ALL_<R>) and prints each as a JSON line."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from datetime import datetime

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from yrd_alliance.kernel.events import Event, event_to_json


async def _ignore(_error: Exception) -> None:
    """Connection errors surface as the connect call's exception; no traceback on stderr."""


async def tail(
    url: str,
    stream: str,
    subjects: str,
    event_type: str,
    from_start: bool,
    since: datetime | None,
    limit: int,
    durable: str,
    emit: Callable[[str], None],
    tls: ssl.SSLContext | None = None,
) -> int:
    """Prints matching events until `limit` (0: forever). A durable consumer acks what it
    printed, so the next run with the same name goes on from there."""
    nc = await nats.connect(
        url, connect_timeout=3, allow_reconnect=False, error_cb=_ignore, tls=tls
    )
    try:
        js = nc.jetstream()
        policy = (
            DeliverPolicy.ALL
            if from_start
            else DeliverPolicy.BY_START_TIME
            if since
            else DeliverPolicy.NEW
        )
        config = ConsumerConfig(
            deliver_policy=policy,
            opt_start_time=since,
            filter_subject=subjects,
            ack_policy=AckPolicy.EXPLICIT if durable else AckPolicy.NONE,
        )
        if durable:
            subscription = await js.subscribe(
                subjects, stream=stream, durable=durable, config=config, manual_ack=True
            )
        else:
            subscription = await js.subscribe(
                subjects, stream=stream, ordered_consumer=True, config=config
            )
        shown = 0
        async for message in subscription.messages:
            try:
                event = Event.from_nats(message.subject, message.headers, message.data)
            except ValueError as exc:  # not a CloudEvent: shown, never fatal
                if not event_type:
                    emit(json.dumps({"nats_subject": message.subject, "error": str(exc)}))
                    shown += 1
            else:
                if not event_type or event.type == event_type:
                    emit(json.dumps(event_to_json(event), ensure_ascii=False))
                    shown += 1
            if durable:
                await message.ack()
            if limit and shown >= limit:
                break
        return shown
    finally:
        await nc.close()
