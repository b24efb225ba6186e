"""What a service is built from: the runtime the host makes (database, NATS link, relay, page
tokens, read cache; and the ports its use cases see) and the parts a service returns from it
(its gRPC servicers, the events it consumes, its housekeeping)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import grpc
from google.protobuf.descriptor import FileDescriptor, ServiceDescriptor

from yrd_alliance.kernel.db import Database
from yrd_alliance.kernel.nats_link import NatsLink
from yrd_alliance.kernel.outbox import OutboxRelay
from yrd_alliance.kernel.paging import PageTokens
from yrd_alliance.kernel.ports import EventFactory, Pages, Ports
from yrd_alliance.kernel.projection import Projection
from yrd_alliance.kernel.read_cache import ReadCache
from yrd_alliance.kernel.settings import ServiceSettings
from yrd_alliance.kernel.unit_of_work import SqlStorage, UnitOfWork, unit_of_work


@dataclass
class Runtime:
    """What a service's servicers and consumers are built from."""

    service: str
    settings: ServiceSettings
    db: Database
    link: NatsLink
    relay: OutboxRelay
    page_tokens: PageTokens
    read_cache: ReadCache

    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]:
        return unit_of_work(self.db, self.relay)

    @property
    def ports(self) -> Ports:
        """The use cases' view of this runtime."""
        storage = SqlStorage(self.db, self.relay)
        return Ports(
            self.settings.region,
            storage,
            self.event,
            Pages(storage, self.page_tokens, self.read_cache),
        )

    @property
    def event(self) -> EventFactory:
        return EventFactory(self.settings.region, self.service)


@dataclass(frozen=True)
class Servicer:
    """One gRPC service of a service: the generated `add_…_to_server` and its implementation."""

    add_to_server: Callable[[Any, grpc.aio.Server], None]
    implementation: object
    descriptor: ServiceDescriptor

    @classmethod
    def of(
        cls, grpc_module: ModuleType, file: FileDescriptor, name: str, implementation: object
    ) -> Servicer:
        """The service `name` of a generated file, e.g. ("MembershipService", its servicer)."""
        add = getattr(grpc_module, f"add_{name}Servicer_to_server")
        return cls(add, implementation, file.services_by_name[name])

    def add(self, server: grpc.aio.Server) -> str:
        self.add_to_server(self.implementation, server)
        return self.descriptor.full_name


@dataclass(frozen=True)
class Parts:
    """What a service runs, built once from the runtime."""

    servicers: Sequence[Servicer]
    # The events this service consumes, if any.
    projection: Projection | None = None
    # Periodic housekeeping, if any: run as a task from start to stop (e.g. expiring requests).
    background: Callable[[], Coroutine[Any, Any, None]] | None = None
