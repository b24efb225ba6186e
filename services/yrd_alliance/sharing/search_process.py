"""Searches answered by a child process of the service, so that they run on a core the
service's event loop does not hold: half of a search's CPU is tantivy's, and the other half,
gRPC's, already keeps that loop busy.

The service writes each search to the child's stdin as it comes; the child answers them in
order on its stdout, each frame a 4-byte length and a `marshal`led tuple (plain values only:
nothing in a frame can make either side run code). A child that dies is started again and the
searches it held are asked again; it exits when its stdin closes, so it never outlives the
service, even a SIGKILLed one.
"""

from __future__ import annotations

import asyncio
import logging
import marshal
import signal
import subprocess
import sys
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from yrd_alliance.kernel.errors import Unavailable
from yrd_alliance.sharing.search import Query
from yrd_alliance.sharing.search_reader import Cursor, Found, IndexReader

log = logging.getLogger(__name__)
_LENGTH = 4
STOP_TIMEOUT_S = 5.0


class _Gone(Exception):
    """The child exited before it answered."""


class _Child:
    """One running child and the searches it has been sent, in the order it answers them."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        stdin: asyncio.WriteTransport,
        stdout: asyncio.StreamReader,
    ) -> None:
        self.process = process
        self._stdin = stdin
        self._waiting: deque[asyncio.Future[Found]] = deque()
        self._answers = asyncio.get_running_loop().create_task(self._read_answers(stdout))

    @classmethod
    async def start(cls, index: Path) -> _Child:
        # subprocess.Popen starts it with vfork(), which runs no fork handlers. asyncio's own
        # subprocesses under uvloop use fork(), which runs gRPC's: with gRPC's threads busy,
        # its child handler aborted the child before it ran (a CHECK failure in
        # ev_epoll1_linux.cc), and searches failed.
        process = subprocess.Popen(  # noqa: ASYNC220 - vfork and exec: returns at once
            [sys.executable, "-m", __name__, str(index)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert process.stdin is not None and process.stdout is not None, "started with pipes"
        loop = asyncio.get_running_loop()
        stdout = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdout), process.stdout)
        stdin, _ = await loop.connect_write_pipe(asyncio.Protocol, process.stdin)
        return cls(process, stdin, stdout)

    @property
    def answering(self) -> bool:
        """False once its output has closed (the exit itself may be noticed later)."""
        return not self._answers.done()

    def ask(self, request: tuple[Any, ...]) -> asyncio.Future[Found]:
        if not self.answering:
            raise _Gone()
        frame = marshal.dumps(request)
        try:
            self._stdin.write(len(frame).to_bytes(_LENGTH, "big") + frame)
        except (RuntimeError, OSError) as exc:  # its input closed: it is exiting or gone
            raise _Gone() from exc
        answer = asyncio.get_running_loop().create_future()
        self._waiting.append(answer)
        return answer

    async def _read_answers(self, stdout: asyncio.StreamReader) -> None:
        try:
            while True:
                length = int.from_bytes(await stdout.readexactly(_LENGTH), "big")
                ok, answer = marshal.loads(await stdout.readexactly(length))
                waiting = self._waiting.popleft()
                if waiting.done():  # its caller gave up (a deadline, a cancelled call)
                    continue
                if ok:
                    waiting.set_result(answer)
                else:
                    waiting.set_exception(RuntimeError(f"search failed: {answer}"))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            for waiting in self._waiting:
                if not waiting.done():
                    waiting.set_exception(_Gone())
            self._waiting.clear()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()

    async def stop(self) -> None:
        self._stdin.close()
        deadline = asyncio.get_running_loop().time() + STOP_TIMEOUT_S
        while self.process.poll() is None:  # it exits once its input closed
            if asyncio.get_running_loop().time() > deadline:
                self.process.kill()
                self.process.wait()
                break
            await asyncio.sleep(0.01)
        await self._answers


class SearchProcess:
    """The service's side: `search` as the child answers it, the child started on first use."""

    def __init__(self, index: Path) -> None:
        self._index = index
        self._child: _Child | None = None
        self._starting = asyncio.Lock()

    async def search(
        self, q: Query, excluded: Sequence[str], cursor: Cursor, limit: int, generation: int
    ) -> Found:
        request = (q.fields(), tuple(excluded), cursor, limit, generation)
        for _attempt in range(2):
            child = await self._running()
            try:
                return await child.ask(request)
            except _Gone:
                log.warning("the search process exited (code %s)", child.process.poll())
        raise Unavailable("search is restarting; try again")

    async def _running(self) -> _Child:
        async with self._starting:
            if self._child is None or not self._child.answering:
                if self._child is not None:
                    self._child.kill()  # alive but no longer answering, or gone already
                self._child = await _Child.start(self._index)
            return self._child

    @property
    def pid(self) -> int | None:
        """The running child's process id, if one was started."""
        return self._child.process.pid if self._child is not None else None

    async def close(self) -> None:
        if self._child is not None:
            await self._child.stop()
            self._child = None


def serve(index: Path, requests: BinaryIO, answers: BinaryIO) -> None:
    """The child's loop: answers each search until its input closes."""
    reader = IndexReader(index)
    while header := requests.read(_LENGTH):
        fields, excluded, cursor, limit, generation = marshal.loads(
            requests.read(int.from_bytes(header, "big"))
        )
        try:
            found = reader.search(Query(*fields), excluded, cursor, limit, generation)
            answer: tuple[bool, Any] = (True, found)
        except Exception as error:  # reported to the service, which logs it as INTERNAL
            answer = (False, f"{type(error).__name__}: {error}")
        out = marshal.dumps(answer)
        answers.write(len(out).to_bytes(_LENGTH, "big") + out)
        answers.flush()


if __name__ == "__main__":
    # Ctrl-C reaches the whole process group: the service decides when its child stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(Path(sys.argv[1]), sys.stdin.buffer, sys.stdout.buffer)
