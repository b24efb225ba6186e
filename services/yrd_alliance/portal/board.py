"""What partners learn of the alliance from its events alone: the pairing board (a round
lives in its home region, and events are how the others learn of it, so each region's portal
shows the whole alliance's pairs), the check-ups booked and completed per carrier, and each
carrier's startups (they stay in their home region's database). Findings are never kept:
events carry no notes, and the board shows no findings at all."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from alliance.pairing.v1 import pairing_pb2 as pb
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from yrd_alliance.kernel.events import Event


@dataclass
class Board:
    rounds: dict[str, pb.Round] = field(default_factory=dict)  # published, by name
    lawyers: dict[str, pb.Lawyer] = field(default_factory=dict)
    active: dict[str, pb.Assignment] = field(default_factory=dict)  # by assignment name
    booked: Counter[str] = field(default_factory=Counter)  # carrier → check-ups booked
    completed: Counter[str] = field(default_factory=Counter)
    _checkups: dict[str, bool] = field(default_factory=dict)  # check-up → completed
    startups: dict[str, set[str]] = field(default_factory=dict)  # carrier → its startups

    def apply(self, event: Event) -> None:
        kind = event.type.rsplit(".", 1)[-1]
        payload = event.decode()
        if kind in ("StartupRegistered", "StartupSnapshot"):
            startup = payload.startup.name  # type: ignore[attr-defined]
            self.startups.setdefault(startup.split("/startups/")[0], set()).add(startup)
        elif kind in ("LawyerRegistered", "LawyerUpdated", "LawyerSnapshot"):
            self.lawyers[payload.lawyer.name] = payload.lawyer  # type: ignore[attr-defined]
        elif kind in ("RoundPublished", "RoundReplanned"):
            self.rounds[payload.round.name] = payload.round  # type: ignore[attr-defined]
        elif kind == "AssignmentStarted":
            self.active[payload.assignment.name] = payload.assignment  # type: ignore[attr-defined]
        elif kind == "AssignmentEnded":
            self.active.pop(payload.assignment.name, None)  # type: ignore[attr-defined]
        elif kind in ("CheckupBooked", "CheckupCompleted"):
            checkup = payload.checkup  # type: ignore[attr-defined]
            done = checkup.state == pb.CHECKUP_STATE_COMPLETED
            known = self._checkups.get(checkup.name)
            if known is None:
                self.booked[checkup.carrier] += 1
            if done and not known:
                self.completed[checkup.carrier] += 1
            self._checkups[checkup.name] = bool(done or known)

    def lawyers_of(self, carrier: str) -> list[pb.Assignment]:
        return sorted(
            (a for a in self.active.values() if a.carrier == carrier), key=lambda a: -a.score
        )

    def lawyer_name(self, name: str) -> str:
        lawyer = self.lawyers.get(name)
        return lawyer.display_name if lawyer else name.rsplit("/", 1)[-1]


async def from_first(_js: JetStreamContext, _stream: str) -> ConsumerConfig:
    """The board reads every event the region holds, from the first."""
    return ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
