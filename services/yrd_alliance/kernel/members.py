"""The alliance's members as every service names them and hears of them: membership registers
carriers and their startups; the other services keep copies from these events."""

from __future__ import annotations

from alliance.membership.v1 import events_pb2 as ev
from alliance.membership.v1 import membership_pb2 as pb

from yrd_alliance.kernel.names import NamePattern

CARRIER = NamePattern("regions/{region}/carriers/{carrier}")
STARTUP = NamePattern("regions/{region}/carriers/{carrier}/startups/{startup}")

CARRIER_EVENTS = (
    ev.CarrierRegistered,
    ev.CarrierUpdated,
    ev.CarrierSuspended,
    ev.CarrierLeft,
    ev.CarrierSnapshot,
)
STARTUP_EVENTS = (ev.StartupRegistered, ev.StartupUpdated, ev.StartupSnapshot)


def is_active(carrier: pb.Carrier) -> bool:
    return carrier.state == pb.CARRIER_STATE_ACTIVE
