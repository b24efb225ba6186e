"""Legal check-ups: a carrier books one for a startup with one of its paired lawyers; only that
lawyer records the outcome. Stats count what was served and found."""

from __future__ import annotations

import sqlite3
from collections import Counter

from alliance.pairing.v1 import events_pb2 as ev
from alliance.pairing.v1 import pairing_pb2 as pb
from alliance.type.v1 import types_pb2
from kernel import validation as check
from kernel.auth import caller
from kernel.clock import to_timestamp, utcnow
from kernel.errors import FailedPrecondition, NotFound, PermissionDenied, Violations
from kernel.names import REGION, new_id
from kernel.resources import ensure_home, stamp
from kernel.server import Runtime
from kernel.updates import check_etag

from pairing import rules, store
from pairing.rules import CHECKUP, LAWYER, STARTUP
from pairing.service import SERVICE


class Checkups:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self.region = runtime.settings.region

    async def book(self, request: pb.BookCheckupRequest) -> pb.Checkup:
        v = Violations()
        parent = REGION.parse(v, "parent", request.parent)
        LAWYER.parse(v, "checkup.lawyer", request.checkup.lawyer)
        STARTUP.parse(v, "checkup.startup", request.checkup.startup)
        check.request_id(v, request.request_id)
        v.raise_if_any()
        assert parent is not None
        ensure_home(SERVICE, self.region, parent["region"])
        lawyer_name, startup = request.checkup.lawyer, request.checkup.startup
        async with self._rt.unit_of_work() as uow:
            earlier = uow.earlier_result(request.request_id, "BookCheckup")
            if earlier:
                return self._checkup(uow.tx, CHECKUP.require("name", earlier))[0]
            carrier = store.startup_carrier(uow.tx, startup)
            if carrier is None:
                raise FailedPrecondition(
                    f"{startup} is not in this region's directory yet; register it with "
                    "membership and retry once its event has arrived"
                )
            who = caller()
            if not (who.is_operator_of(self.region) or who.acts_for(carrier)):
                raise PermissionDenied(f"only {carrier} or an operator of {self.region} may book")
            lawyer = store.get_lawyer(uow.tx, lawyer_name.rsplit("/", 1)[-1])
            if lawyer is None or lawyer[0].name != lawyer_name:
                raise NotFound(f"lawyer {lawyer_name} does not exist")
            if startup in lawyer[0].conflicts or carrier in lawyer[0].conflicts:
                raise FailedPrecondition(
                    f"{lawyer_name} has declared a conflict of interest with {startup}; "
                    "book another of the carrier's lawyers"
                )
            assignment = store.active_assignment(uow.tx, lawyer_name, carrier)
            if assignment is None:
                raise FailedPrecondition(
                    f"{lawyer_name} is not paired with {carrier}; list the carrier's lawyers "
                    "with ListAssignments"
                )
            checkup = pb.Checkup(
                name=CHECKUP.format(region=self.region, checkup=new_id()),
                lawyer=lawyer_name,
                startup=startup,
                carrier=carrier,
                assignment=assignment.name,
                state=pb.CHECKUP_STATE_BOOKED,
            )
            checkup.scheduled_time.CopyFrom(request.checkup.scheduled_time)
            stamp(checkup, 1, created=True)
            store.put_checkup(uow.tx, checkup.name.rsplit("/", 1)[-1], checkup, 1)
            uow.remember_result(request.request_id, "BookCheckup", checkup.name)
            payload = ev.CheckupBooked(checkup=checkup)
            uow.emit(self._rt.event("checkup", "booked", checkup.name, 1, payload))
        return checkup

    async def record_outcome(self, request: pb.RecordCheckupOutcomeRequest) -> pb.Checkup:
        v = Violations()
        ids = CHECKUP.parse(v, "name", request.name)
        rules.check_findings(v, list(request.findings), request.follow_up)
        v.raise_if_any()
        assert ids is not None
        ensure_home(SERVICE, self.region, ids["region"])
        async with self._rt.unit_of_work() as uow:
            checkup, version = self._checkup(uow.tx, ids)
            if not caller().is_lawyer(checkup.lawyer):
                raise PermissionDenied(f"only {checkup.lawyer} records this check-up's outcome")
            check_etag(request.etag, checkup.etag, "etag")
            if checkup.state != pb.CHECKUP_STATE_BOOKED:
                raise FailedPrecondition(f"{checkup.name} already has its outcome recorded")
            checkup.findings.extend(request.findings)
            checkup.follow_up = request.follow_up
            checkup.state = pb.CHECKUP_STATE_COMPLETED
            checkup.complete_time.CopyFrom(to_timestamp(utcnow()))
            stamp(checkup, version + 1)
            store.put_checkup(uow.tx, ids["checkup"], checkup, version + 1)
            payload = ev.CheckupCompleted(checkup=checkup)
            uow.emit(self._rt.event("checkup", "completed", checkup.name, version + 1, payload))
        return checkup

    def get(self, request: pb.GetCheckupRequest) -> pb.Checkup:
        checkup = self._checkup(self._rt.db.reader, CHECKUP.require("name", request.name))[0]
        caller().scope(checkup.carrier, checkup.lawyer)
        return checkup

    def list(self, request: pb.ListCheckupsRequest) -> bytes:
        v = Violations()
        REGION.parse(v, "parent", request.parent)
        if request.carrier:
            rules.CARRIER.parse(v, "carrier", request.carrier)
        if request.lawyer:
            LAWYER.parse(v, "lawyer", request.lawyer)
        check.enum(v, "state", request.state, pb.CheckupState.DESCRIPTOR, required=False)
        v.raise_if_any()
        carrier, lawyer = caller().scope(request.carrier, request.lawyer)
        query = store.CheckupFilter(carrier, lawyer, request.state)
        here = request.parent == REGION.format(region=self.region)  # check-ups stay home
        return self._rt.page_tokens.page(
            pb.ListCheckupsResponse,
            "checkups",
            query.key(),
            request.page_size,
            request.page_token,
            lambda after, limit: (
                store.list_checkups(self._rt.db.reader, query, after, limit) if here else []
            ),
        )

    def stats(self, request: pb.GetPairingStatsRequest) -> pb.PairingStats:
        REGION.require("parent", request.parent)
        ensure_home(SERVICE, self.region, request.parent.split("/")[1])
        reader = self._rt.db.reader
        counts = store.count_checkups(reader)
        done = store.completed_checkups(reader)
        by_carrier: dict[str, set[str]] = {}
        by_lawyer: dict[str, set[str]] = {}
        by_region: dict[str, set[str]] = {}
        areas: Counter[str] = Counter()
        for checkup in done:
            by_carrier.setdefault(checkup.carrier, set()).add(checkup.startup)
            by_lawyer.setdefault(checkup.lawyer, set()).add(checkup.startup)
            by_region.setdefault(checkup.carrier.split("/")[1], set()).add(checkup.startup)
            areas.update(types_pb2.LegalArea.Name(f.area) for f in checkup.findings)
        carriers, startups = store.directory_size(reader)
        return pb.PairingStats(
            directory_carriers=carriers,
            directory_startups=startups,
            checkups_booked=sum(counts.values()),
            checkups_completed=counts.get(pb.CHECKUP_STATE_COMPLETED, 0),
            startups_served=len({c.startup for c in done}),
            startups_served_by_carrier=_counts(by_carrier),
            startups_served_by_lawyer=_counts(by_lawyer),
            startups_served_by_region=_counts(by_region),
            findings_by_area=[
                pb.Count(key=k, count=n)
                for k, n in sorted(areas.items(), key=lambda x: (-x[1], x[0]))
            ],
        )

    def _checkup(self, conn: sqlite3.Connection, ids: dict[str, str]) -> tuple[pb.Checkup, int]:
        name = CHECKUP.format(**ids)
        found = store.get_checkup(conn, ids["checkup"])
        if found is None or found[0].name != name:
            raise NotFound(f"check-up {name} does not exist")
        return found


def _counts(groups: dict[str, set[str]]) -> list[pb.Count]:
    return [
        pb.Count(key=k, count=len(v))
        for k, v in sorted(groups.items(), key=lambda x: (-len(x[1]), x[0]))
    ]
