"""Pairing use cases for lawyers and rounds: each validates, authorises, changes state and emits
its events in one unit of work. Solving runs in a worker thread, outside any transaction."""

from __future__ import annotations

import asyncio

from alliance.pairing.v1 import events_pb2 as ev
from alliance.pairing.v1 import pairing_pb2 as pb
from google.protobuf.timestamp_pb2 import Timestamp
from kernel import validation as check
from kernel.auth import Principal
from kernel.clock import to_timestamp, utcnow
from kernel.errors import EtagMismatch, FailedPrecondition, NotFound, PermissionDenied, Violations
from kernel.events import check_fits
from kernel.members import CARRIER
from kernel.names import REGION, new_id
from kernel.ports import Ports, Reader
from kernel.resources import ensure_home, stamp
from kernel.tables import M, Stored, Tag
from kernel.updates import check_etag, mask_paths, merge_update

from pairing import plans, rules
from pairing.rules import ASSIGNMENT, LAWYER, ROUND, SERVICE
from pairing.solver import Infeasible, Plan, solve
from pairing.store import ASSIGNMENTS, LAWYERS, ROUNDS

ALL_REGIONS = "regions/-"


class Pairing:
    def __init__(self, ports: Ports) -> None:
        self._storage = ports.storage
        self._event = ports.events
        self._pages = ports.pages
        self.region = ports.region

    # -- lawyers ----------------------------------------------------------------------------

    async def create_lawyer(self, request: pb.CreateLawyerRequest, who: Principal) -> pb.Lawyer:
        v = Violations()
        parent = REGION.parse(v, "parent", request.parent)
        lawyer = rules.with_lawyer_defaults(request.lawyer)
        rules.check_lawyer(v, lawyer)
        check.request_id(v, request.request_id)
        v.raise_if_any()
        assert parent is not None
        ensure_home(SERVICE, self.region, parent["region"])
        self._require_operator(who, "register lawyers")
        async with self._storage.unit_of_work() as uow:
            earlier = uow.earlier_result(request.request_id, "CreateLawyer")
            if earlier:
                return uow.rows(LAWYERS).require(earlier).message
            lawyer.name = LAWYER.format(region=self.region, lawyer=new_id())
            stamp(lawyer, 1, created=True)
            uow.rows(LAWYERS).put(lawyer, 1)
            uow.remember_result(request.request_id, "CreateLawyer", lawyer.name)
            uow.emit(
                self._event(
                    "lawyer", "registered", lawyer.name, 1, ev.LawyerRegistered(lawyer=lawyer)
                )
            )
        return lawyer

    def get_lawyer(self, request: pb.GetLawyerRequest, who: Principal) -> pb.Lawyer:
        LAWYER.require("name", request.name)
        return self._storage.rows(LAWYERS).require(request.name).message

    def list_lawyers(self, request: pb.ListLawyersRequest, who: Principal) -> bytes:
        v = Violations()
        region = (
            ""
            if request.parent == ALL_REGIONS
            else (REGION.parse(v, "parent", request.parent) or {}).get("region", "")
        )
        check.enum(v, "specialty", request.specialty, rules.LEGAL_AREA, required=False)
        check.enum(v, "state", request.state, pb.LawyerState.DESCRIPTOR, required=False)
        v.raise_if_any()
        query = LAWYERS.where(
            region=region,
            specialties=Tag(request.specialty) if request.specialty else None,
            state=request.state,
        )
        return self._pages.of(pb.ListLawyersResponse, "lawyers", LAWYERS, query, request)

    async def update_lawyer(self, request: pb.UpdateLawyerRequest, who: Principal) -> pb.Lawyer:
        v = Violations()
        ids = LAWYER.parse(v, "lawyer.name", request.lawyer.name)
        paths = mask_paths(v, request.update_mask.paths, rules.LAWYER_UPDATABLE)
        v.raise_if_any()
        assert ids is not None
        ensure_home(SERVICE, self.region, ids["region"])
        async with self._storage.unit_of_work() as uow:
            lawyers = uow.rows(LAWYERS)
            current, version = _pair(lawyers.require(request.lawyer.name))
            if not who.is_operator_of(self.region):
                if not who.is_lawyer(current.name):
                    raise PermissionDenied(
                        f"only {current.name} itself or an operator of {self.region} may do this"
                    )
                operator_only = sorted(rules.LAWYER_OPERATOR_ONLY.intersection(paths))
                if operator_only:
                    raise PermissionDenied(
                        f"only an operator may change {', '.join(operator_only)}"
                    )
            check_etag(request.lawyer.etag, current.etag, "lawyer.etag")
            if "state" in paths:
                rules.ensure_state_change(current.state, request.lawyer.state, current.name)
            updated, changed = merge_update(current, request.lawyer, paths, rules.check_lawyer)
            if not changed:
                return current
            stamp(updated, version + 1)
            lawyers.put(updated, version + 1)
            payload = ev.LawyerUpdated(lawyer=updated, changed_fields=changed)
            uow.emit(self._event("lawyer", "updated", updated.name, version + 1, payload))
        return updated

    # -- rounds -----------------------------------------------------------------------------

    async def create_round(self, request: pb.CreateRoundRequest, who: Principal) -> pb.Round:
        v = Violations()
        parent = REGION.parse(v, "parent", request.parent)
        rules.check_round(v, request.round)
        check.request_id(v, request.request_id)
        v.raise_if_any()
        assert parent is not None
        ensure_home(SERVICE, self.region, parent["region"])
        self._require_operator(who, "open pairing rounds")
        round_ = plans.with_round_defaults(request.round)
        given = plans.round_input(self._storage, round_, strict=True)
        plan = await self._solve(round_, given.instance)
        round_.plan.CopyFrom(plans.plan_to_proto(plan))
        v = Violations()  # a draft too big to publish is refused now, not at publishing
        check_fits(v, "round", ev.RoundPublished(round=round_))
        v.raise_if_any()
        async with self._storage.unit_of_work() as uow:
            earlier = uow.earlier_result(request.request_id, "CreateRound")
            if earlier:
                return uow.rows(ROUNDS).require(earlier).message
            round_.name = ROUND.format(region=self.region, round=new_id())
            round_.state = pb.ROUND_STATE_DRAFT
            stamp(round_, 1, created=True)
            uow.rows(ROUNDS).put(round_, 1)
            uow.remember_result(request.request_id, "CreateRound", round_.name)
        return round_

    def get_round(self, request: pb.GetRoundRequest, who: Principal) -> pb.Round:
        return self._round(self._storage, request.name)[0]

    def list_rounds(self, request: pb.ListRoundsRequest, who: Principal) -> bytes:
        REGION.require("parent", request.parent)
        elsewhere = request.parent != REGION.format(region=self.region)  # rounds stay home
        return self._pages.of(
            pb.ListRoundsResponse,
            "rounds",
            ROUNDS,
            ROUNDS.where(),
            request,
            nothing_here=elsewhere,
        )

    async def publish_round(self, request: pb.PublishRoundRequest, who: Principal) -> pb.Round:
        ids = ROUND.require("name", request.name)
        ensure_home(SERVICE, self.region, ids["region"])
        self._require_operator(who, "publish rounds")
        async with self._storage.unit_of_work() as uow:
            round_, version = self._round(uow, request.name)
            check_etag(request.etag, round_.etag, "etag")
            if round_.state != pb.ROUND_STATE_DRAFT:
                raise FailedPrecondition(f"{round_.name} is already published")
            now = to_timestamp(utcnow())
            for pair in round_.plan.pairs:
                assignment = self._new_assignment(round_.name, pair, now)
                uow.rows(ASSIGNMENTS).put(assignment, 1)
                payload = ev.AssignmentStarted(assignment=assignment)
                uow.emit(self._event("assignment", "started", assignment.name, 1, payload))
            round_.state = pb.ROUND_STATE_PUBLISHED
            round_.publish_time.CopyFrom(now)
            stamp(round_, version + 1)
            uow.rows(ROUNDS).put(round_, version + 1)
            payload = ev.RoundPublished(round=round_)
            uow.emit(self._event("round", "published", round_.name, version + 1, payload))
        return round_

    async def replan_round(
        self, request: pb.ReplanRoundRequest, who: Principal
    ) -> pb.ReplanRoundResponse:
        ids = ROUND.require("name", request.name)
        if request.min_gain < 0:
            v = Violations()
            v.add("min_gain", "must not be negative")
            v.raise_if_any()
        ensure_home(SERVICE, self.region, ids["region"])
        self._require_operator(who, "replan rounds")
        round_, version = self._round(self._storage, request.name)
        check_etag(request.etag, round_.etag, "etag")
        if round_.state != pb.ROUND_STATE_PUBLISHED:
            raise FailedPrecondition(f"{round_.name} is a draft: publish it, or open a new round")
        current = [
            _pair(a)
            for a in self._storage.rows(ASSIGNMENTS).select(
                ASSIGNMENTS.where(round=round_.name, state=pb.ASSIGNMENT_STATE_ACTIVE)
            )
        ]
        given = plans.round_input(
            self._storage, round_, strict=False, paired_lawyers=[a.lawyer for a, _ in current]
        )
        min_gain = request.min_gain or rules.DEFAULT_MIN_GAIN
        pairs_now = {(a.lawyer, a.carrier) for a, _ in current}
        plan = await self._solve(round_, given.instance, pairs_now, min_gain)
        pairs_after = {(p.lawyer, p.carrier) for p in plan.pairs}
        changes = _changes(pairs_now, pairs_after, given.unavailable, min_gain)
        replanned = pb.Round()
        replanned.CopyFrom(round_)
        replanned.plan.CopyFrom(plans.plan_to_proto(plan))
        response = pb.ReplanRoundResponse(
            changes=changes,
            total_score_before=round_.plan.total_score,
            total_score_after=plan.total,
            kept_pairs=len(pairs_now & pairs_after),
        )
        v = Violations()
        check_fits(v, "round", ev.RoundReplanned(round=replanned, changes=changes))
        v.raise_if_any()
        if request.validate_only or not changes:
            response.round.CopyFrom(round_ if not changes else replanned)
            return response
        async with self._storage.unit_of_work() as uow:
            _, stored_version = self._round(uow, request.name)
            if stored_version != version:
                raise EtagMismatch(f"{round_.name} changed while it was replanned; replan again")
            now = to_timestamp(utcnow())
            ending = {(c.lawyer, c.carrier): c.reason for c in changes if c.kind == c.KIND_REMOVED}
            for assignment, a_version in current:
                reason = ending.get((assignment.lawyer, assignment.carrier))
                if reason is None:
                    continue
                assignment.state = pb.ASSIGNMENT_STATE_ENDED
                assignment.end_time.CopyFrom(now)
                assignment.end_reason = reason
                uow.rows(ASSIGNMENTS).put(assignment, a_version + 1)
                payload_end = ev.AssignmentEnded(assignment=assignment)
                uow.emit(
                    self._event("assignment", "ended", assignment.name, a_version + 1, payload_end)
                )
            for pair in replanned.plan.pairs:
                if (pair.lawyer, pair.carrier) in pairs_now:
                    continue
                assignment = self._new_assignment(round_.name, pair, now)
                uow.rows(ASSIGNMENTS).put(assignment, 1)
                payload_start = ev.AssignmentStarted(assignment=assignment)
                uow.emit(self._event("assignment", "started", assignment.name, 1, payload_start))
            stamp(replanned, version + 1)
            uow.rows(ROUNDS).put(replanned, version + 1)
            payload = ev.RoundReplanned(round=replanned, changes=changes)
            uow.emit(self._event("round", "replanned", replanned.name, version + 1, payload))
        response.round.CopyFrom(replanned)
        return response

    def list_assignments(self, request: pb.ListAssignmentsRequest, who: Principal) -> bytes:
        v = Violations()
        if not request.parent.endswith("/rounds/-"):
            ROUND.parse(v, "parent", request.parent)
        else:
            REGION.parse(v, "parent", request.parent.removesuffix("/rounds/-"))
        if request.carrier:
            CARRIER.parse(v, "carrier", request.carrier)
        if request.lawyer:
            LAWYER.parse(v, "lawyer", request.lawyer)
        check.enum(v, "state", request.state, pb.AssignmentState.DESCRIPTOR, required=False)
        v.raise_if_any()
        carrier, lawyer = who.scope(request.carrier, request.lawyer)
        every_round = request.parent.endswith("/-")
        query = ASSIGNMENTS.where(
            round=None if every_round else request.parent,
            carrier=carrier,
            lawyer=lawyer,
            state=request.state,
        )
        return self._pages.of(
            pb.ListAssignmentsResponse, "assignments", ASSIGNMENTS, query, request
        )

    # -- helpers ----------------------------------------------------------------------------

    async def _solve(
        self,
        round_: pb.Round,
        instance: plans.Instance,
        incumbents: set[tuple[str, str]] | None = None,
        bonus: int = 0,
    ) -> Plan:
        try:
            return await asyncio.to_thread(
                solve,
                instance,
                plans.MODES[round_.mode],
                require_full=round_.require_full,
                incumbents=incumbents or set(),
                incumbent_bonus=bonus,
            )
        except Infeasible as exc:
            raise FailedPrecondition(f"the round cannot be planned: {exc}") from None

    def _new_assignment(
        self, round_name: str, pair: pb.PlannedPair, now: Timestamp
    ) -> pb.Assignment:
        assignment = pb.Assignment(
            name=f"{round_name}/assignments/{new_id()}",
            lawyer=pair.lawyer,
            carrier=pair.carrier,
            state=pb.ASSIGNMENT_STATE_ACTIVE,
            score=pair.score,
            explanation=pair.explanation,
        )
        assignment.start_time.CopyFrom(now)
        ASSIGNMENT.require("name", assignment.name)
        return assignment

    def _require_operator(self, who: Principal, what: str) -> None:
        if not who.is_operator_of(self.region):
            raise PermissionDenied(f"only an operator of region {self.region} may {what}")

    def _round(self, reader: Reader, name: str) -> tuple[pb.Round, int]:
        ids = ROUND.require("name", name)
        if ids["region"] != self.region:  # rounds stay home
            raise NotFound(f"round {name} does not exist")
        return _pair(reader.rows(ROUNDS).require(name))


def _pair(stored: Stored[M]) -> tuple[M, int]:
    return stored.message, stored.version


def _changes(
    before: set[tuple[str, str]],
    after: set[tuple[str, str]],
    unavailable: dict[str, str],
    min_gain: int,
) -> list[pb.PairChange]:
    changes = []
    for lawyer, carrier in sorted(before - after):
        reason = unavailable.get(lawyer) or unavailable.get(carrier)
        changes.append(
            pb.PairChange(
                kind=pb.PairChange.KIND_REMOVED,
                lawyer=lawyer,
                carrier=carrier,
                reason=reason or f"replacing the pair gains more than {min_gain} points",
            )
        )
    opened = {c for x, c in before - after}
    for lawyer, carrier in sorted(after - before):
        changes.append(
            pb.PairChange(
                kind=pb.PairChange.KIND_ADDED,
                lawyer=lawyer,
                carrier=carrier,
                reason="fills a place left open" if carrier in opened else "a new pair",
            )
        )
    return changes
