"""What pairing knows of the rest of the alliance, from events: every region's carriers and
their startups' legal needs (membership events, this region's included, since membership keeps
them in its own database), and other regions' lawyers."""

from __future__ import annotations

from alliance.pairing.v1 import events_pb2 as ev

from yrd_alliance.kernel.members import CARRIER_EVENTS, STARTUP_EVENTS
from yrd_alliance.kernel.projection import Projection, keeping
from yrd_alliance.pairing.store import DIRECTORY_CARRIERS, DIRECTORY_STARTUPS, LAWYERS

LAWYER_EVENTS = (ev.LawyerRegistered, ev.LawyerUpdated, ev.LawyerSnapshot)

PROJECTION = Projection(
    subjects=["alliance.{region}.pairing.lawyer.>"],
    subjects_of_every_region=[
        "alliance.{region}.membership.carrier.>",
        "alliance.{region}.membership.startup.>",
    ],
    handlers={
        **keeping(CARRIER_EVENTS, DIRECTORY_CARRIERS, "carrier"),
        **keeping(STARTUP_EVENTS, DIRECTORY_STARTUPS, "startup"),
        **keeping(LAWYER_EVENTS, LAWYERS, "lawyer"),
    },
)
