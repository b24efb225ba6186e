"""Rounds use cases: an operator opens a round (the solver plans it as a draft), publishes it
(its pairs become assignments) and replans it when lawyers or carriers come and go. Solving runs
in a worker thread, outside any transaction."""

from __future__ import annotations

from alliance.pairing.v1 import events_pb2 as ev
from alliance.pairing.v1 import pairing_pb2 as pb

from yrd_alliance.kernel.auth import Principal
from yrd_alliance.kernel.clock import to_timestamp, utcnow
from yrd_alliance.kernel.errors import EtagMismatch, FailedPrecondition, NotFound, Violations
from yrd_alliance.kernel.events import check_fits
from yrd_alliance.kernel.names import REGION, new_id
from yrd_alliance.kernel.ports import Reader, UnitOfWork
from yrd_alliance.kernel.resources import stamp
from yrd_alliance.kernel.updates import check_etag
from yrd_alliance.kernel.use_cases import UseCases
from yrd_alliance.pairing import plans, rules
from yrd_alliance.pairing.rules import ROUND, SERVICE
from yrd_alliance.pairing.store import ASSIGNMENTS, ROUNDS


class Rounds(UseCases):
    service = SERVICE

    async def create_round(self, request: pb.CreateRoundRequest, who: Principal) -> pb.Round:
        self.check_create(
            request.parent, request.request_id, lambda v: rules.check_round(v, request.round)
        )
        self.require_operator(who, "open pairing rounds")
        round_ = plans.with_round_defaults(request.round)
        given = plans.round_input(self.storage, round_, strict=True)
        plan = await plans.solve_round(round_, given.instance)
        round_.plan.CopyFrom(plans.plan_to_proto(plan))
        v = Violations()  # a draft too big to publish is refused now, not at publishing
        check_fits(v, "round", ev.RoundPublished(round=round_))
        v.raise_if_any()

        def draft(uow: UnitOfWork) -> pb.Round:
            round_.name = ROUND.format(region=self.region, round=new_id())
            round_.state = pb.ROUND_STATE_DRAFT
            return round_

        # a draft is this region's alone: no event until it is published
        return await self.create(who, request.request_id, "CreateRound", ROUNDS, draft, None)

    def get_round(self, request: pb.GetRoundRequest, who: Principal) -> pb.Round:
        return self._round(self.storage, request.name)[0]

    def list_rounds(self, request: pb.ListRoundsRequest, who: Principal) -> bytes:
        REGION.require("parent", request.parent)
        elsewhere = request.parent != REGION.format(region=self.region)  # rounds stay home
        return self.pages.of(
            pb.ListRoundsResponse, "rounds", ROUNDS, ROUNDS.where(), request, nothing_here=elsewhere
        )

    async def publish_round(self, request: pb.PublishRoundRequest, who: Principal) -> pb.Round:
        ids = ROUND.require("name", request.name)
        self.ensure_home(ids["region"])
        self.require_operator(who, "publish rounds")
        async with self.storage.unit_of_work() as uow:
            round_, version = self._round(uow, request.name)
            check_etag(request.etag, round_.etag, "etag")
            if round_.state != pb.ROUND_STATE_DRAFT:
                raise FailedPrecondition(f"{round_.name} is already published")
            now = to_timestamp(utcnow())
            for pair in round_.plan.pairs:
                self._start(uow, plans.new_assignment(round_.name, pair, now))
            round_.state = pb.ROUND_STATE_PUBLISHED
            round_.publish_time.CopyFrom(now)
            stamp(round_, version + 1)
            payload = ev.RoundPublished(round=round_)
            self.put(uow, ROUNDS, round_, version + 1, "published", payload)
        return round_

    async def replan_round(
        self, request: pb.ReplanRoundRequest, who: Principal
    ) -> pb.ReplanRoundResponse:
        ids = ROUND.require("name", request.name)
        if request.min_gain < 0:
            v = Violations()
            v.add("min_gain", "must not be negative")
            v.raise_if_any()
        self.ensure_home(ids["region"])
        self.require_operator(who, "replan rounds")
        round_, version = self._round(self.storage, request.name)
        check_etag(request.etag, round_.etag, "etag")
        if round_.state != pb.ROUND_STATE_PUBLISHED:
            raise FailedPrecondition(f"{round_.name} is a draft: publish it, or open a new round")
        current = self.storage.rows(ASSIGNMENTS).select(
            ASSIGNMENTS.where(round=round_.name, state=pb.ASSIGNMENT_STATE_ACTIVE)
        )
        given = plans.round_input(
            self.storage,
            round_,
            strict=False,
            paired_lawyers=[a.message.lawyer for a in current],
        )
        min_gain = request.min_gain or rules.DEFAULT_MIN_GAIN
        pairs_now = {(a.message.lawyer, a.message.carrier) for a in current}
        plan = await plans.solve_round(round_, given.instance, pairs_now, min_gain)
        pairs_after = {(p.lawyer, p.carrier) for p in plan.pairs}
        changes = plans.changes(pairs_now, pairs_after, given.unavailable, min_gain)
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
        async with self.storage.unit_of_work() as uow:
            if self._round(uow, request.name)[1] != version:
                raise EtagMismatch(f"{round_.name} changed while it was replanned; replan again")
            now = to_timestamp(utcnow())
            ending = {(c.lawyer, c.carrier): c.reason for c in changes if c.kind == c.KIND_REMOVED}
            for stored in current:
                assignment = stored.message
                reason = ending.get((assignment.lawyer, assignment.carrier))
                if reason is None:
                    continue
                assignment.state = pb.ASSIGNMENT_STATE_ENDED
                assignment.end_time.CopyFrom(now)
                assignment.end_reason = reason
                payload_end = ev.AssignmentEnded(assignment=assignment)
                self.put(uow, ASSIGNMENTS, assignment, stored.version + 1, "ended", payload_end)
            for pair in replanned.plan.pairs:
                if (pair.lawyer, pair.carrier) not in pairs_now:
                    self._start(uow, plans.new_assignment(round_.name, pair, now))
            stamp(replanned, version + 1)
            payload = ev.RoundReplanned(round=replanned, changes=changes)
            self.put(uow, ROUNDS, replanned, version + 1, "replanned", payload)
        response.round.CopyFrom(replanned)
        return response

    def list_assignments(self, request: pb.ListAssignmentsRequest, who: Principal) -> bytes:
        v = Violations()
        every_round = request.parent.endswith("/rounds/-")
        if every_round:
            REGION.parse(v, "parent", request.parent.removesuffix("/rounds/-"))
        else:
            ROUND.parse(v, "parent", request.parent)
        rules.check_pair_filters(
            v, request.carrier, request.lawyer, request.state, pb.AssignmentState.DESCRIPTOR
        )
        v.raise_if_any()
        carrier, lawyer = who.scope(request.carrier, request.lawyer)
        query = ASSIGNMENTS.where(
            round=None if every_round else request.parent,
            carrier=carrier,
            lawyer=lawyer,
            state=request.state,
        )
        return self.pages.of(pb.ListAssignmentsResponse, "assignments", ASSIGNMENTS, query, request)

    def _start(self, uow: UnitOfWork, assignment: pb.Assignment) -> None:
        payload = ev.AssignmentStarted(assignment=assignment)
        self.put(uow, ASSIGNMENTS, assignment, 1, "started", payload)

    def _round(self, reader: Reader, name: str) -> tuple[pb.Round, int]:
        ids = ROUND.require("name", name)
        if ids["region"] != self.region:  # rounds stay home
            raise NotFound(f"round {name} does not exist")
        found = reader.rows(ROUNDS).require(name)
        return found.message, found.version
