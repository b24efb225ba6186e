"""The alliance-wide carrier directory: other regions' carriers, kept read-only in this region's
database from their events, so `ListCarriers(regions/-)` and `GetCarrier` of any region are
answered locally. Startups stay in their home region."""

from __future__ import annotations

from yrd_alliance.kernel.members import CARRIER_EVENTS
from yrd_alliance.kernel.projection import Projection, keeping
from yrd_alliance.membership.store import CARRIERS

PROJECTION = Projection(
    subjects=["alliance.{region}.membership.carrier.>"],
    handlers=keeping(CARRIER_EVENTS, CARRIERS, "carrier"),
)
