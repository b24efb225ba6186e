"""Searches answered by child processes of the service, so that they run on cores the
service's event loop does not hold: half of a search's CPU is tantivy's, and the other half,
gRPC's, already keeps that loop busy. With more than one child, tantivy's half of many
searches runs on every core, and one slow search holds up only the searches queued behind it
in its own child.

The service writes each search to a child's stdin as it comes; the child answers them in
order on its stdout, each frame a 4-byte length and a `marshal`led tuple (plain values only:
nothing in a frame can make either side run code). A search goes to the child with the fewest
waiting (each in turn when several are as idle), except a relevance search: every page of one
goes to the same child, which keeps the snapshot its first page pinned. A child that dies is
started again and the searches it held are asked again; it exits when its stdin closes, so it
never outlives the service, even a SIGKILLed one.
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
from typing import Any, BinaryIO, cast

from yrd_alliance.kernel.errors import Unavailable
from yrd_alliance.sharing.search import Query
from yrd_alliance.sharing.search_reader import Cursor, Found, IndexReader

log = logging.getLogger(__name__)
_LENGTH = 4
STOP_TIMEOUT_S = 5.0
# One child by default: on 2 cores a second one raised the throughput of searches at 500,000
# resources by 7-43 % but made most kinds' p99 worse (the README's "How search works"). More
# cores are what more children are for.
PROCESSES = 1


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
    def waiting(self) -> int:
        """Searches sent and not yet answered."""
        return len(self._waiting)

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
    """The service's side: `search` as its children answer it, the children started on first
    use."""

    def __init__(self, index: Path, processes: int = PROCESSES) -> None:
        self._index = index
        self._children: list[_Child | None] = [None] * processes
        self._starting = asyncio.Lock()
        self._turn = 0

    async def search(
        self, q: Query, excluded: Sequence[str], cursor: Cursor, limit: int, generation: int
    ) -> Found:
        request = (q.fields(), tuple(excluded), cursor, limit, generation)
        for _attempt in range(len(self._children) + 1):  # every child may have died at once
            child = await self._child_for(q)
            try:
                return await child.ask(request)
            except _Gone:
                log.warning("a search process exited (code %s)", child.process.poll())
        raise Unavailable("search is restarting; try again")

    async def _child_for(self, q: Query) -> _Child:
        """The child that answers `q`: every child is (re)started first when one is not
        answering."""
        children = self._children
        if not all(child is not None and child.answering for child in children):
            async with self._starting:
                for slot, child in enumerate(children):
                    if child is None or not child.answering:
                        if child is not None:
                            child.kill()  # alive but no longer answering, or gone already
                        children[slot] = await _Child.start(self._index)
        running = cast(list[_Child], children)
        if q.words and q.relevance:  # the Query's hash is fixed for this process's life
            return running[hash(q) % len(running)]
        self._turn = (self._turn + 1) % len(running)  # of those as idle, each in turn
        return min(running[self._turn :] + running[: self._turn], key=lambda c: c.waiting)

    @property
    def pids(self) -> list[int]:
        """The process ids of the children started."""
        return [child.process.pid for child in self._children if child is not None]

    async def close(self) -> None:
        await asyncio.gather(*(child.stop() for child in self._children if child is not None))
        self._children = [None] * len(self._children)


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
