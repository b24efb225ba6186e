"""The alliance's members as every service names them and hears of them: membership registers
carriers and their startups; the other services keep copies from these events."""

from __future__ import annotations

from alliance.membership.v1 import events_pb2 as ev
from alliance.membership.v1 import membership_pb2 as pb

from yrd_alliance.kernel.auth import Principal
from yrd_alliance.kernel.errors import PermissionDenied
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


def ensure_may_act(who: Principal, carrier: str, active: bool | None) -> None:
    """A carrier's own token writes only while the carrier is an active member, as this
    service's copy says (so it holds while the home region is cut off); None: not known here."""
    if who.acts_for(carrier) and active is False:
        raise PermissionDenied(f"{carrier} is no longer an active member; its token cannot act")
