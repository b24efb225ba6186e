"""A small TCP proxy for cutting a link between two real servers: `cut()` drops every open
connection and refuses new ones until `heal()`.

python -m tests.tcp_proxy TARGET_PORT   prints its port, then obeys `cut` / `heal` lines
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

import uvloop


class TcpProxy:
    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self._target = (host, target_port)
        self._host = host
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0
        self.is_cut = False

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self._host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def cut(self) -> None:
        self.is_cut = True
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def heal(self) -> None:
        self.is_cut = False

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._pipes):
            task.cancel()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_cut:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                if self.is_cut:
                    break
                sink.write(data)
                await sink.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            sink.transport.abort()
            self._writers.discard(sink)
            with contextlib.suppress(Exception):
                await asyncio.sleep(0)


class ProxyProcess:
    """The same proxy in a process of its own, so a link under measurement does not share an
    event loop with the client measuring it; driven by `cut` / `heal` lines on its stdin."""

    def __init__(self, target_port: int) -> None:
        self._target_port = target_port
        self._process: asyncio.subprocess.Process | None = None
        self.port = 0

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.tcp_proxy",
            str(self._target_port),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        self.port = int(await self._reply())

    async def cut(self) -> None:
        await self._command("cut")

    async def heal(self) -> None:
        await self._command("heal")

    async def close(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()

    async def _command(self, command: str) -> None:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(command.encode() + b"\n")
        await self._process.stdin.drain()
        if await self._reply() != command:
            raise RuntimeError(f"the proxy did not confirm {command}")

    async def _reply(self) -> str:
        assert self._process is not None and self._process.stdout is not None
        line = await asyncio.wait_for(self._process.stdout.readline(), timeout=10)
        if not line:
            raise RuntimeError("the proxy process exited")
        return line.decode().strip()


async def _serve(target_port: int) -> None:
    proxy = TcpProxy(target_port)
    await proxy.start()
    print(proxy.port, flush=True)
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command = line.strip()
        if command == "cut":
            proxy.cut()
        elif command == "heal":
            proxy.heal()
        print(command, flush=True)
    await proxy.close()


if __name__ == "__main__":
    uvloop.run(_serve(int(sys.argv[1])))
