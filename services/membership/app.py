"""Wires membership to the kernel: its settings, role policy and service definition."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc
from kernel.auth import ANY_ROLE, WRITERS, MethodPolicy, Role
from kernel.server import Runtime, ServiceDefinition, run_service
from kernel.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict

from membership import directory, store
from membership.service import SERVICE, Membership
from membership.servicer import MembershipServicer


class MembershipSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MEMBERSHIP_", frozen=True, extra="ignore")


# The roles that may call each method at all; ownership (which region, which carrier) is
# checked by the use case itself. A method missing here is denied to everyone.
POLICY = MethodPolicy(
    {
        "CreateCarrier": frozenset({Role.OPERATOR}),
        "GetCarrier": ANY_ROLE,
        "ListCarriers": ANY_ROLE,
        "UpdateCarrier": WRITERS,
        "SuspendCarrier": frozenset({Role.OPERATOR}),
        "LeaveAlliance": WRITERS,
        "CreateStartup": WRITERS,
        "GetStartup": ANY_ROLE,
        "ListStartups": ANY_ROLE,
        "UpdateStartup": WRITERS,
    }
)


def _add_servicers(server: grpc.aio.Server, runtime: Runtime) -> Sequence[str]:
    pb_grpc.add_MembershipServiceServicer_to_server(
        MembershipServicer(Membership(runtime.ports)), server
    )
    return [pb.DESCRIPTOR.services_by_name["MembershipService"].full_name]


DEFINITION = ServiceDefinition(
    name=SERVICE,
    migrations=store.MIGRATIONS,
    snapshots=store.SNAPSHOTS,
    policy=POLICY,
    add_servicers=_add_servicers,
    projection=directory.PROJECTION,
)


def main() -> None:
    run_service(DEFINITION, MembershipSettings)
