"""Wires sharing to the kernel: its settings, role policy and service definition."""

from __future__ import annotations

import asyncio
import logging
import time

from alliance.sharing.v1 import sharing_pb2 as pb
from alliance.sharing.v1 import sharing_pb2_grpc as pb_grpc
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from yrd_alliance.kernel.auth import ANY_ROLE, WRITERS, MethodPolicy
from yrd_alliance.kernel.runtime import Parts, Runtime, Servicer
from yrd_alliance.kernel.server import ServiceDefinition
from yrd_alliance.kernel.settings import ServiceSettings
from yrd_alliance.kernel.tasks import pause
from yrd_alliance.sharing import store
from yrd_alliance.sharing.capacity import Capacity
from yrd_alliance.sharing.catalogue import IndexedCatalogue
from yrd_alliance.sharing.decisions import Decisions
from yrd_alliance.sharing.projection import projection
from yrd_alliance.sharing.requests import Requests
from yrd_alliance.sharing.resources import Resources
from yrd_alliance.sharing.rules import SERVICE
from yrd_alliance.sharing.search_index import SearchIndex
from yrd_alliance.sharing.search_process import PROCESSES, SearchProcess
from yrd_alliance.sharing.servicer import SharingServicer

log = logging.getLogger(__name__)
INDEX_INTERVAL_S = 0.05


class SharingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHARING_", frozen=True, extra="ignore")

    expiry_interval_s: float = Field(
        default=30.0, gt=0, description="How often requests whose window has begun expire"
    )
    search_processes: int = Field(
        default=PROCESSES, ge=1, le=16, description="Processes that answer searches from the index"
    )


# The roles that may call each method at all; ownership (which region, which carrier) is
# checked by the use case itself. A method missing here is denied to everyone.
POLICY = MethodPolicy(
    {
        "CreateResource": WRITERS,
        "GetResource": ANY_ROLE,
        "ListResources": ANY_ROLE,
        "UpdateResource": WRITERS,
        "SearchResources": ANY_ROLE,
        "CreateRequest": WRITERS,
        "GetRequest": ANY_ROLE,
        "ListRequests": ANY_ROLE,
        "CancelRequest": WRITERS,
        "ListIncomingRequests": ANY_ROLE,
        "ApproveRequest": WRITERS,
        "DeclineRequest": WRITERS,
        "FulfillRequest": WRITERS,
        "GetSharingStats": ANY_ROLE,
    }
)


def _build(runtime: Runtime) -> Parts:
    settings = runtime.settings
    assert isinstance(settings, SharingSettings), "the sharing service runs on SharingSettings"
    ports = runtime.ports
    capacity = Capacity(ports.region, ports.events)
    db = runtime.db
    # Beside the database file; with PostgreSQL, beside where the file would be: each replica
    # keeps an index of its own.
    index_path = settings.db_path.with_name(f"{settings.db_path.stem}.search")
    index = SearchIndex(index_path, db.connect_reader(), db.service_key("search-index").hex())
    searches = SearchProcess(index_path, settings.search_processes)
    catalogue = IndexedCatalogue(db.reader, index, searches)
    servicer = SharingServicer(
        Resources(ports, catalogue),
        Requests(ports),
        Decisions(ports, capacity),
    )

    async def expire_requests() -> None:
        """Held or waitlisted requests whose window has begun become EXPIRED, units released."""
        while True:
            await pause(settings.expiry_interval_s)
            try:
                await capacity.expire_due(ports.storage)
            except Exception:  # a failed sweep is retried at the next interval
                log.exception("expiring requests failed")

    async def keep_index() -> None:
        """Brings the search index up to date at once (building it if it is missing: every
        other method answers meanwhile, and a search waits for it), then applies committed
        changes soon after they commit, so a search seldom waits."""
        started, wait_s, ready = time.perf_counter(), 0.0, False
        while True:
            await pause(wait_s)
            try:
                await catalogue.current()
            except Exception:  # retried, less often while it keeps failing; a search retries too
                log.exception("updating the search index failed")
                wait_s = min(max(wait_s, INDEX_INTERVAL_S) * 2, 5.0)
                continue
            if not ready:
                ready = True
                log.info("search index up to date in %.1f s", time.perf_counter() - started)
            wait_s = INDEX_INTERVAL_S

    async def background() -> None:
        try:
            await asyncio.gather(expire_requests(), keep_index())
        finally:
            await catalogue.close()

    return Parts(
        [Servicer.of(pb_grpc, pb.DESCRIPTOR, "SharingService", servicer)],
        projection=projection(capacity),
        background=background,
    )


DEFINITION = ServiceDefinition(
    name=SERVICE,
    settings=SharingSettings,
    migrations=store.MIGRATIONS,
    snapshots=store.SNAPSHOTS,
    policy=POLICY,
    build=_build,
)


main = DEFINITION.main
