"""The service's one NATS connection, established in the background and kept alive.

A service starts and serves even when NATS is down: writes land in the outbox and the relay
publishes them once the link is up. After the first connect, nats-py reconnects by itself, to
any server of the region's cluster when `url` lists several (comma-separated).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext

from yrd_alliance.kernel.tasks import cancel_and_wait, pause

log = logging.getLogger(__name__)

OnConnect = Callable[[JetStreamContext], Awaitable[None]]


def servers(url: str) -> list[str]:
    """A region's NATS servers from one URL or several, comma-separated (a cluster)."""
    return [each.strip() for each in url.split(",") if each.strip()]


def tls_context(ca_file: Path | str | None) -> ssl.SSLContext | None:
    """Verifies the NATS server against the deployment's CA; None for a plaintext server."""
    return ssl.create_default_context(cafile=str(ca_file)) if ca_file else None


class NatsLink:
    def __init__(
        self,
        url: str,
        *,
        name: str,
        user: str | None = None,
        password: str | None = None,
        ca_file: Path | None = None,
        on_connect: list[OnConnect] | None = None,
    ) -> None:
        self._url = url
        self._name = name
        self._user = user
        self._password = password
        self._tls = tls_context(ca_file)
        self._on_connect = list(on_connect or [])
        self._client: Client | None = None
        self._js: JetStreamContext | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._resetup: asyncio.Task[None] | None = None
        self._closing = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._connect_forever(), name=f"nats-link-{self._name}")

    @property
    def is_connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def jetstream(self) -> JetStreamContext:
        """Waits until the first connection (and its set-up) has succeeded."""
        await self._ready.wait()
        assert self._js is not None
        return self._js

    async def client(self) -> Client:
        """The connection, once the first connect (and its set-up) has succeeded."""
        await self._ready.wait()
        assert self._client is not None
        return self._client

    async def request(self, subject: str, payload: bytes = b"", *, wait_s: float) -> bytes:
        """A plain request over the link (e.g. to another region's JetStream API)."""
        await self._ready.wait()
        assert self._client is not None
        reply = await self._client.request(subject, payload, timeout=wait_s)
        return bytes(reply.data)

    async def _connect_forever(self) -> None:
        delay = 0.1
        while True:
            try:
                client = await nats.connect(
                    servers(self._url),
                    name=self._name,
                    user=self._user,
                    password=self._password,
                    tls=self._tls,
                    connect_timeout=2,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.25,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                )
                js = await self._set_up(client)
            except Exception as exc:  # any failure: try again, the service keeps serving
                log.warning(  # not reachable, or JetStream not answering the set-up yet
                    "connecting to NATS at %s failed (%s); retrying in %.1fs", self._url, exc, delay
                )
                await pause(delay)
                delay = min(delay * 2, 2.0)
                continue
            self._client, self._js = client, js
            self._ready.set()
            log.info("connected to NATS at %s", self._url)
            return

    async def _set_up(self, client: Client) -> JetStreamContext:
        """Runs the set-up over a new connection; a set-up that fails or is cancelled closes
        the connection, which would otherwise stay open and reconnect for ever."""
        try:
            js = client.jetstream(timeout=5)
            for callback in self._on_connect:
                await callback(js)
            return js
        except BaseException:
            await _close_quietly(client)
            raise

    async def _on_error(self, exc: Exception) -> None:
        log.debug("NATS error: %s", exc)

    async def _on_disconnected(self) -> None:
        if not self._closing:
            log.warning("disconnected from NATS; reconnecting")

    async def _on_reconnected(self) -> None:
        log.info("reconnected to NATS")
        if self._js is not None:
            if self._resetup is not None:  # the last reconnect's, if still running: for naught
                self._resetup.cancel()
            # Not awaited here: JetStream API calls must not run inside the reconnect path.
            self._resetup = asyncio.create_task(self._run_setup(self._js))

    async def _run_setup(self, js: JetStreamContext) -> None:
        for callback in self._on_connect:
            try:
                await callback(js)
            except Exception as exc:
                log.warning("set-up after reconnect failed: %s", exc)

    async def close(self) -> None:
        self._closing = True
        await cancel_and_wait(self._task)
        await cancel_and_wait(self._resetup)
        if self._client is not None and not self._client.is_closed:
            try:
                await asyncio.wait_for(self._client.drain(), timeout=2)
            except Exception:
                await _close_quietly(self._client)


async def _close_quietly(client: Client) -> None:
    try:
        await asyncio.wait_for(client.close(), timeout=2)
    except Exception as exc:  # the server is gone; nothing is left to flush
        log.info("NATS connection closed uncleanly: %s", exc)
