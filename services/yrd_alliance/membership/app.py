"""Wires membership to the kernel: its settings, role policy and service definition."""

from __future__ import annotations

from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc
from pydantic_settings import SettingsConfigDict

from yrd_alliance.kernel.auth import ANY_ROLE, WRITERS, MethodPolicy, Role
from yrd_alliance.kernel.runtime import Parts, Runtime, Servicer
from yrd_alliance.kernel.server import ServiceDefinition
from yrd_alliance.kernel.settings import ServiceSettings
from yrd_alliance.membership import directory, store
from yrd_alliance.membership.rules import SERVICE
from yrd_alliance.membership.service import Membership
from yrd_alliance.membership.servicer import MembershipServicer


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


def _build(runtime: Runtime) -> Parts:
    servicer = MembershipServicer(Membership(runtime.ports))
    return Parts(
        [Servicer.of(pb_grpc, pb.DESCRIPTOR, "MembershipService", servicer)],
        projection=directory.PROJECTION,
    )


DEFINITION = ServiceDefinition(
    name=SERVICE,
    settings=MembershipSettings,
    migrations=store.MIGRATIONS,
    snapshots=store.SNAPSHOTS,
    policy=POLICY,
    build=_build,
)


main = DEFINITION.main
