"""The proxy that partition tests and the federation benchmark cut links with: it must pass
bytes both ways, really cut, and pass again after the heal, in-process and as a process."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator

import pytest

from tests.tcp_proxy import ProxyProcess, TcpProxy


@pytest.fixture
async def echo_port() -> AsyncIterator[int]:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


async def round_trip(port: int, payload: bytes) -> bytes:
    """What comes back through the proxy; b"" when the link is refused or dropped."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        return await asyncio.wait_for(reader.read(1024), timeout=5)
    except ConnectionError:
        return b""
    finally:
        writer.close()


async def settle(result: object) -> None:
    """The in-process proxy cuts at once; the process one is awaited until it confirms."""
    if inspect.isawaitable(result):
        await result


@pytest.mark.parametrize("kind", [TcpProxy, ProxyProcess])
async def test_the_proxy_passes_cuts_and_heals(
    echo_port: int, kind: type[TcpProxy] | type[ProxyProcess]
) -> None:
    proxy = kind(echo_port)
    await proxy.start()
    try:
        assert await round_trip(proxy.port, b"before") == b"before"
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"open")
        assert await asyncio.wait_for(reader.read(1024), timeout=5) == b"open"
        await settle(proxy.cut())
        assert await asyncio.wait_for(reader.read(1024), timeout=5) == b"", "open link survived"
        assert await round_trip(proxy.port, b"during") == b"", "a new link got through"
        await settle(proxy.heal())
        assert await round_trip(proxy.port, b"after") == b"after"
        writer.close()
    finally:
        await proxy.close()
