"""Lawyers use cases: an operator registers the volunteer lawyers of its region; a lawyer keeps
its own profile; everyone reads every region's, from this region's copy."""

from __future__ import annotations

from alliance.pairing.v1 import events_pb2 as ev
from alliance.pairing.v1 import pairing_pb2 as pb

from yrd_alliance.kernel import validation as check
from yrd_alliance.kernel.auth import Principal
from yrd_alliance.kernel.errors import PermissionDenied, Violations
from yrd_alliance.kernel.names import new_id
from yrd_alliance.kernel.ports import UnitOfWork
from yrd_alliance.kernel.tables import Tag
from yrd_alliance.kernel.updates import check_etag, mask_paths
from yrd_alliance.kernel.use_cases import UseCases
from yrd_alliance.pairing import rules
from yrd_alliance.pairing.rules import LAWYER, SERVICE
from yrd_alliance.pairing.store import LAWYERS


class Lawyers(UseCases):
    service = SERVICE

    async def create_lawyer(self, request: pb.CreateLawyerRequest, who: Principal) -> pb.Lawyer:
        lawyer = rules.with_lawyer_defaults(request.lawyer)
        self.check_create(
            request.parent, request.request_id, lambda v: rules.check_lawyer(v, lawyer)
        )
        self.require_operator(who, "register lawyers")

        def register(uow: UnitOfWork) -> pb.Lawyer:
            lawyer.name = LAWYER.format(region=self.region, lawyer=new_id())
            return lawyer

        registered = ("registered", lambda x: ev.LawyerRegistered(lawyer=x))
        return await self.create(
            who, request.request_id, "CreateLawyer", LAWYERS, register, registered
        )

    def get_lawyer(self, request: pb.GetLawyerRequest, who: Principal) -> pb.Lawyer:
        return self.get(LAWYERS, LAWYER, request.name)

    def list_lawyers(self, request: pb.ListLawyersRequest, who: Principal) -> bytes:
        v = Violations()
        region = self.listed_region(v, request.parent)
        check.enum(v, "specialty", request.specialty, rules.LEGAL_AREA, required=False)
        check.enum(v, "state", request.state, pb.LawyerState.DESCRIPTOR, required=False)
        v.raise_if_any()
        query = LAWYERS.where(
            region=region,
            specialties=Tag(request.specialty) if request.specialty else None,
            state=request.state,
        )
        return self.pages.of(pb.ListLawyersResponse, "lawyers", LAWYERS, query, request)

    async def update_lawyer(self, request: pb.UpdateLawyerRequest, who: Principal) -> pb.Lawyer:
        v = Violations()
        ids = LAWYER.parse(v, "lawyer.name", request.lawyer.name)
        paths = mask_paths(v, request.update_mask.paths, rules.LAWYER_UPDATABLE)
        v.raise_if_any()
        assert ids is not None
        self.ensure_home(ids["region"])
        async with self.storage.unit_of_work() as uow:
            found = uow.rows(LAWYERS).require(request.lawyer.name)
            current = found.message
            if not who.is_operator_of(self.region):
                if not who.is_lawyer(current.name):
                    raise PermissionDenied(
                        f"only {current.name} itself or an operator of {self.region} may do this"
                    )
                rules.ensure_lawyer_may_act(who, found, current.name)
                operator_only = sorted(rules.LAWYER_OPERATOR_ONLY.intersection(paths))
                if operator_only:
                    raise PermissionDenied(
                        f"only an operator may change {', '.join(operator_only)}"
                    )
            check_etag(request.lawyer.etag, current.etag, "lawyer.etag")
            if "state" in paths:
                rules.ensure_state_change(current.state, request.lawyer.state, current.name)
            return self.update(
                uow,
                LAWYERS,
                found,
                request.lawyer,
                paths,
                rules.check_lawyer,
                lambda x, fields: ev.LawyerUpdated(lawyer=x, changed_fields=fields),
            )
