"""What a use case needs from the world, as small protocols: storage that hands out a table's
rows (to read committed data, or inside a unit of work that also emits events and remembers
idempotency keys), a factory for this service's events, and list pages. The SQL and NATS
adapters are built by kernel.server; kernel.memory has in-memory ones for use-case tests."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol

from google.protobuf.message import Message

from yrd_alliance.kernel.errors import FieldViolation, InvalidArgument
from yrd_alliance.kernel.events import Event, build_event, ensure_publishable
from yrd_alliance.kernel.paging import PageTokens
from yrd_alliance.kernel.tables import M, Rows, Table, Where


class Reader(Protocol):
    """Where rows come from: committed data (Storage), or a unit of work's own view."""

    def rows(self, table: Table[M]) -> Rows[M]: ...


class UnitOfWork(Reader, Protocol):
    """Changes, their events and idempotency keys, committed together or not at all."""

    def emit(self, event: Event) -> None: ...

    def earlier_result(self, request_id: str, method: str) -> str | None:
        """The resource a create with this request_id made before, if any."""
        ...

    def remember_result(self, request_id: str, method: str, resource: str) -> None: ...


class EmittingUnit:
    """What every adapter's unit of work does the same way: collects the emitted events (each
    checked to fit the streams) and answers a reused request_id. An adapter supplies
    `_used(request_id)`: the (method, resource) it was used for, or None."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        ensure_publishable(event)
        self.events.append(event)

    def _used(self, request_id: str) -> tuple[str, str] | None:
        raise NotImplementedError

    def earlier_result(self, request_id: str, method: str) -> str | None:
        """The resource a create with this request_id made before, if any; a request_id used
        for another method is INVALID_ARGUMENT."""
        used = self._used(request_id) if request_id else None
        if used is None:
            return None
        if used[0] != method:
            raise InvalidArgument([FieldViolation("request_id", f"was already used for {used[0]}")])
        return used[1]


class Storage(Reader, Protocol):
    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """Durable when it exits; its body must not await."""
        ...


@dataclass(frozen=True)
class EventFactory:
    region: str
    service: str

    def __call__(
        self, entity: str, verb: str, resource: str, version: int, payload: Message
    ) -> Event:
        """An event of this service in this region, ready for `uow.emit`."""
        return build_event(
            region=self.region,
            service=self.service,
            entity=entity,
            verb=verb,
            resource=resource,
            version=version,
            payload=payload,
        )


class ReplyCache(Protocol):
    """Finished replies of reads (kernel.read_cache): `reply` around a computation, or
    `lookup` and `keep` around one that awaits."""

    def reply(self, key: Hashable, compute: Callable[[], bytes]) -> bytes: ...

    def lookup(self, key: Hashable) -> tuple[bytes | None, int]: ...

    def keep(self, key: Hashable, reply: bytes, version: int) -> None: ...


class NoCache:
    def reply(self, key: Hashable, compute: Callable[[], bytes]) -> bytes:
        return compute()

    def lookup(self, key: Hashable) -> tuple[bytes | None, int]:
        return None, -1

    def keep(self, key: Hashable, reply: bytes, version: int) -> None:
        pass


class ListRequest(Protocol):
    @property
    def page_size(self) -> int: ...

    @property
    def page_token(self) -> str: ...


@dataclass(frozen=True)
class Pages:
    """List responses from a table's rows: keyset paging with signed tokens, cached replies."""

    storage: Storage
    tokens: PageTokens
    cache: ReplyCache = field(default_factory=NoCache)

    def of(
        self,
        response: type[Message],
        field: str,
        table: Table[M],
        query: Where,
        request: ListRequest,
        *,
        cached: bool = False,
        nothing_here: bool = False,
    ) -> bytes:
        """A serialized list response of `query`'s rows; `nothing_here` answers an empty
        list (with the request still checked) for entities that never leave their region."""

        def fetch(after: str | None, limit: int) -> Sequence[tuple[str, bytes]]:
            return [] if nothing_here else self.storage.rows(table).page(query, after, limit)

        def compute() -> bytes:
            return self.tokens.page(
                response, field, query.key(), request.page_size, request.page_token, fetch
            )

        if not cached:
            return compute()
        key = (response.__name__, query.key(), request.page_size, request.page_token)
        return self.cache.reply(key, compute)


@dataclass(frozen=True)
class Ports:
    """Everything a service's use cases are built from."""

    region: str
    storage: Storage
    events: EventFactory
    pages: Pages
