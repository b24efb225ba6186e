"""Following the region's copy of every region's events (ALL_<R>) as the portal's partner
user, as any partner would: an ordered consumer of its own, started again after a failure
(NATS away at start, a link cut for longer than the client retries) until the portal stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import nats
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig

from yrd_alliance.kernel.events import Event
from yrd_alliance.kernel.nats_link import servers, tls_context
from yrd_alliance.portal.settings import PortalSettings

log = logging.getLogger(__name__)
RETRY_S = 2.0

Start = Callable[[JetStreamContext, str], Awaitable[ConsumerConfig]]  # where to start reading


async def follow(
    settings: PortalSettings,
    closing: asyncio.Event,
    subjects: str,
    start: Start,
    handle: Callable[[Event], None],
) -> None:
    while settings.nats_url and not closing.is_set():
        try:
            await _read(settings, subjects, start, handle)
        except Exception as exc:
            log.warning("reading %s interrupted, again in %.0f s: %s", subjects, RETRY_S, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(closing.wait(), RETRY_S)


async def _read(
    settings: PortalSettings, subjects: str, start: Start, handle: Callable[[Event], None]
) -> None:
    password = settings.nats_password.get_secret_value() if settings.nats_password else None
    nc = await nats.connect(
        servers(settings.nats_url),
        user=settings.nats_user,
        password=password,
        tls=tls_context(settings.nats_ca_file),
        max_reconnect_attempts=-1,
    )
    try:
        js = nc.jetstream()
        stream = f"ALL_{settings.region.upper()}"
        subscription = await js.subscribe(
            subjects, stream=stream, ordered_consumer=True, config=await start(js, stream)
        )
        async for message in subscription.messages:
            try:
                event = Event.from_nats(message.subject, message.headers, message.data)
                handle(event)
            except Exception as exc:  # one odd event costs only itself
                log.warning("event on %s skipped: %s", message.subject, exc)
    finally:
        await nc.close()
