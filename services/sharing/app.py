"""Wires sharing to the kernel: its settings, role policy and service definition."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import grpc
from alliance.sharing.v1 import sharing_pb2 as pb
from alliance.sharing.v1 import sharing_pb2_grpc as pb_grpc
from kernel.auth import ANY_ROLE, WRITERS, MethodPolicy
from kernel.projection import Projection
from kernel.server import Runtime, ServiceDefinition, run_service
from kernel.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from sharing import store
from sharing.flow import Workflow
from sharing.service import SERVICE, Sharing
from sharing.servicer import SharingServicer

log = logging.getLogger(__name__)


class SharingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHARING_", frozen=True, extra="ignore")

    expiry_interval_s: float = Field(
        default=30.0, gt=0, description="How often requests whose window has begun expire"
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


def _add_servicers(server: grpc.aio.Server, runtime: Runtime) -> Sequence[str]:
    sharing = Sharing(runtime, Workflow(runtime))
    pb_grpc.add_SharingServiceServicer_to_server(SharingServicer(sharing), server)
    return [pb.DESCRIPTOR.services_by_name["SharingService"].full_name]


def _projection(runtime: Runtime) -> Projection:
    return Workflow(runtime).projection()


async def _expire_requests(runtime: Runtime) -> None:
    """Held or waitlisted requests whose window has begun become EXPIRED, units released."""
    settings = runtime.settings
    assert isinstance(settings, SharingSettings), "the sharing service runs on SharingSettings"
    workflow = Workflow(runtime)
    while True:
        await asyncio.sleep(settings.expiry_interval_s)
        try:
            await workflow.expire_due()
        except Exception:  # a failed sweep is retried at the next interval
            log.exception("expiring requests failed")


DEFINITION = ServiceDefinition(
    name=SERVICE,
    migrations=store.MIGRATIONS,
    snapshots=store.SNAPSHOTS,
    policy=POLICY,
    add_servicers=_add_servicers,
    projection=_projection,
    background=_expire_requests,
)


def main() -> None:
    run_service(DEFINITION, SharingSettings)
