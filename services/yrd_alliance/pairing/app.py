"""Wires pairing to the kernel: its settings, role policy and service definition."""

from __future__ import annotations

from alliance.pairing.v1 import pairing_pb2 as pb
from alliance.pairing.v1 import pairing_pb2_grpc as pb_grpc
from pydantic_settings import SettingsConfigDict

from yrd_alliance.kernel.auth import ANY_ROLE, MethodPolicy, Role
from yrd_alliance.kernel.runtime import Parts, Runtime, Servicer
from yrd_alliance.kernel.server import ServiceDefinition
from yrd_alliance.kernel.settings import ServiceSettings
from yrd_alliance.pairing import directory, store
from yrd_alliance.pairing.checkups import Checkups
from yrd_alliance.pairing.lawyers import Lawyers
from yrd_alliance.pairing.rounds import Rounds
from yrd_alliance.pairing.rules import SERVICE
from yrd_alliance.pairing.servicer import PairingServicer


class PairingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PAIRING_", frozen=True, extra="ignore")


OPERATOR = frozenset({Role.OPERATOR})

# The roles that may call each method at all; ownership (which region, which carrier, which
# lawyer) is checked by the use case itself. A method missing here is denied to everyone.
POLICY = MethodPolicy(
    {
        "CreateLawyer": OPERATOR,
        "GetLawyer": ANY_ROLE,
        "ListLawyers": ANY_ROLE,
        "UpdateLawyer": frozenset({Role.OPERATOR, Role.LAWYER}),
        "CreateRound": OPERATOR,
        "GetRound": ANY_ROLE,
        "ListRounds": ANY_ROLE,
        "PublishRound": OPERATOR,
        "ReplanRound": OPERATOR,
        "ListAssignments": ANY_ROLE,
        "BookCheckup": frozenset({Role.OPERATOR, Role.CARRIER}),
        "RecordCheckupOutcome": frozenset({Role.LAWYER}),
        "GetCheckup": ANY_ROLE,
        "ListCheckups": ANY_ROLE,
        "GetPairingStats": ANY_ROLE,
    }
)


def _build(runtime: Runtime) -> Parts:
    ports = runtime.ports
    servicer = PairingServicer(Lawyers(ports), Rounds(ports), Checkups(ports))
    return Parts(
        [Servicer.of(pb_grpc, pb.DESCRIPTOR, "PairingService", servicer)],
        projection=directory.PROJECTION,
    )


DEFINITION = ServiceDefinition(
    name=SERVICE,
    settings=PairingSettings,
    migrations=store.MIGRATIONS,
    snapshots=store.SNAPSHOTS,
    policy=POLICY,
    build=_build,
)


main = DEFINITION.main
