"""Legal check-ups: a carrier books one for a startup with one of its paired lawyers; only that
lawyer records the outcome. Stats count what was served and found."""

from __future__ import annotations

from collections import Counter

from alliance.pairing.v1 import events_pb2 as ev
from alliance.pairing.v1 import pairing_pb2 as pb
from alliance.type.v1 import types_pb2

from yrd_alliance.kernel.auth import Principal
from yrd_alliance.kernel.clock import to_timestamp, utcnow
from yrd_alliance.kernel.errors import FailedPrecondition, PermissionDenied, Violations
from yrd_alliance.kernel.members import STARTUP, ensure_may_act
from yrd_alliance.kernel.names import REGION, new_id
from yrd_alliance.kernel.ports import UnitOfWork
from yrd_alliance.kernel.resources import stamp
from yrd_alliance.kernel.updates import check_etag
from yrd_alliance.kernel.use_cases import UseCases
from yrd_alliance.pairing import rules
from yrd_alliance.pairing.rules import CHECKUP, LAWYER, SERVICE
from yrd_alliance.pairing.store import (
    ASSIGNMENTS,
    CHECKUPS,
    DIRECTORY_CARRIERS,
    DIRECTORY_STARTUPS,
    LAWYERS,
)


class Checkups(UseCases):
    service = SERVICE

    async def book_checkup(self, request: pb.BookCheckupRequest, who: Principal) -> pb.Checkup:

        def check_names(v: Violations) -> None:
            LAWYER.parse(v, "checkup.lawyer", request.checkup.lawyer)
            STARTUP.parse(v, "checkup.startup", request.checkup.startup)

        self.check_create(request.parent, request.request_id, check_names)
        lawyer_name, startup = request.checkup.lawyer, request.checkup.startup

        def book(uow: UnitOfWork) -> pb.Checkup:
            known = uow.rows(DIRECTORY_STARTUPS).columns(DIRECTORY_STARTUPS.where(name=startup))
            if not known:
                raise FailedPrecondition(
                    f"{startup} is not in this region's directory yet; register it with "
                    "membership and retry once its event has arrived"
                )
            carrier = known[0]["carrier"]
            if not (who.is_operator_of(self.region) or who.acts_for(carrier)):
                raise PermissionDenied(f"only {carrier} or an operator of {self.region} may book")
            standing = uow.rows(DIRECTORY_CARRIERS).columns(DIRECTORY_CARRIERS.where(name=carrier))
            ensure_may_act(who, carrier, bool(standing[0]["active"]) if standing else None)
            lawyer = uow.rows(LAWYERS).require(lawyer_name).message
            if startup in lawyer.conflicts or carrier in lawyer.conflicts:
                raise FailedPrecondition(
                    f"{lawyer_name} has declared a conflict of interest with {startup}; "
                    "book another of the carrier's lawyers"
                )
            paired = uow.rows(ASSIGNMENTS).select(
                ASSIGNMENTS.where(
                    lawyer=lawyer_name, carrier=carrier, state=pb.ASSIGNMENT_STATE_ACTIVE
                )
            )
            if not paired:
                raise FailedPrecondition(
                    f"{lawyer_name} is not paired with {carrier}; list the carrier's lawyers "
                    "with ListAssignments"
                )
            checkup = pb.Checkup(
                name=CHECKUP.format(region=self.region, checkup=new_id()),
                lawyer=lawyer_name,
                startup=startup,
                carrier=carrier,
                assignment=paired[-1].message.name,
                state=pb.CHECKUP_STATE_BOOKED,
            )
            checkup.scheduled_time.CopyFrom(request.checkup.scheduled_time)
            return checkup

        booked = ("booked", lambda c: ev.CheckupBooked(checkup=c))
        return await self.create(who, request.request_id, "BookCheckup", CHECKUPS, book, booked)

    async def record_outcome(
        self, request: pb.RecordCheckupOutcomeRequest, who: Principal
    ) -> pb.Checkup:
        v = Violations()
        ids = CHECKUP.parse(v, "name", request.name)
        rules.check_findings(v, list(request.findings), request.follow_up)
        v.raise_if_any()
        assert ids is not None
        self.ensure_home(ids["region"])
        async with self.storage.unit_of_work() as uow:
            found = uow.rows(CHECKUPS).require(request.name)
            checkup, version = found.message, found.version
            if not who.is_lawyer(checkup.lawyer):
                raise PermissionDenied(f"only {checkup.lawyer} records this check-up's outcome")
            rules.ensure_lawyer_may_act(who, uow.rows(LAWYERS).find(checkup.lawyer), checkup.lawyer)
            check_etag(request.etag, checkup.etag, "etag")
            if checkup.state != pb.CHECKUP_STATE_BOOKED:
                raise FailedPrecondition(f"{checkup.name} already has its outcome recorded")
            checkup.findings.extend(request.findings)
            checkup.follow_up = request.follow_up
            checkup.state = pb.CHECKUP_STATE_COMPLETED
            checkup.complete_time.CopyFrom(to_timestamp(utcnow()))
            stamp(checkup, version + 1)
            payload = ev.CheckupCompleted(checkup=rules.checkup_for(checkup, None))
            self.put(uow, CHECKUPS, checkup, version + 1, "completed", payload)
        return checkup

    def get_checkup(self, request: pb.GetCheckupRequest, who: Principal) -> pb.Checkup:
        checkup = self.get(CHECKUPS, CHECKUP, request.name)
        who.scope(checkup.carrier, checkup.lawyer)
        return rules.checkup_for(checkup, who)

    def list_checkups(self, request: pb.ListCheckupsRequest, who: Principal) -> bytes:
        v = Violations()
        REGION.parse(v, "parent", request.parent)
        rules.check_pair_filters(
            v, request.carrier, request.lawyer, request.state, pb.CheckupState.DESCRIPTOR
        )
        v.raise_if_any()
        carrier, lawyer = who.scope(request.carrier, request.lawyer)
        query = CHECKUPS.where(carrier=carrier, lawyer=lawyer, state=request.state)
        elsewhere = request.parent != REGION.format(region=self.region)  # check-ups stay home
        page = self.pages.of(
            pb.ListCheckupsResponse, "checkups", CHECKUPS, query, request, nothing_here=elsewhere
        )
        reply = pb.ListCheckupsResponse.FromString(page)
        for index, checkup in enumerate(reply.checkups):
            reply.checkups[index].CopyFrom(rules.checkup_for(checkup, who))
        return reply.SerializeToString()

    def stats(self, request: pb.GetPairingStatsRequest, who: Principal) -> pb.PairingStats:
        REGION.require("parent", request.parent)
        self.ensure_home(request.parent.split("/")[1])
        checkups = self.storage.rows(CHECKUPS)
        done = [
            c.message for c in checkups.select(CHECKUPS.where(state=pb.CHECKUP_STATE_COMPLETED))
        ]
        by_carrier: dict[str, set[str]] = {}
        by_lawyer: dict[str, set[str]] = {}
        by_region: dict[str, set[str]] = {}
        areas: Counter[str] = Counter()
        for checkup in done:
            by_carrier.setdefault(checkup.carrier, set()).add(checkup.startup)
            by_lawyer.setdefault(checkup.lawyer, set()).add(checkup.startup)
            by_region.setdefault(checkup.carrier.split("/")[1], set()).add(checkup.startup)
            areas.update(types_pb2.LegalArea.Name(f.area) for f in checkup.findings)
        return pb.PairingStats(
            directory_carriers=self.storage.rows(DIRECTORY_CARRIERS).count(
                DIRECTORY_CARRIERS.where()
            ),
            directory_startups=self.storage.rows(DIRECTORY_STARTUPS).count(
                DIRECTORY_STARTUPS.where()
            ),
            checkups_booked=checkups.count(CHECKUPS.where()),
            checkups_completed=len(done),
            startups_served=len({c.startup for c in done}),
            startups_served_by_carrier=_counts(by_carrier),
            startups_served_by_lawyer=_counts(by_lawyer),
            startups_served_by_region=_counts(by_region),
            findings_by_area=[
                pb.Count(key=k, count=n)
                for k, n in sorted(areas.items(), key=lambda x: (-x[1], x[0]))
            ],
        )


def _counts(groups: dict[str, set[str]]) -> list[pb.Count]:
    return [
        pb.Count(key=k, count=len(v))
        for k, v in sorted(groups.items(), key=lambda x: (-len(x[1]), x[0]))
    ]
