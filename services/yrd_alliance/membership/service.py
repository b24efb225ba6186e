"""Membership use cases: each validates, authorises, changes state and emits its event in one
unit of work. Requests and results are the API's protobuf messages; the servicer only routes and
passes the caller in."""

from __future__ import annotations

from alliance.membership.v1 import events_pb2 as ev
from alliance.membership.v1 import membership_pb2 as pb
from google.protobuf.message import Message

from yrd_alliance.kernel import validation as check
from yrd_alliance.kernel.auth import Principal
from yrd_alliance.kernel.errors import FailedPrecondition, PermissionDenied, Violations
from yrd_alliance.kernel.members import CARRIER, STARTUP, ensure_may_act, is_active
from yrd_alliance.kernel.names import new_id
from yrd_alliance.kernel.paging import page_size
from yrd_alliance.kernel.ports import UnitOfWork
from yrd_alliance.kernel.resources import stamp
from yrd_alliance.kernel.tables import M, Rows, Stored, Tag
from yrd_alliance.kernel.updates import check_etag, mask_paths
from yrd_alliance.kernel.use_cases import UseCases
from yrd_alliance.membership import rules
from yrd_alliance.membership.rules import SERVICE
from yrd_alliance.membership.store import CARRIERS, STARTUPS


class Membership(UseCases):
    service = SERVICE

    # -- carriers ---------------------------------------------------------------------------

    async def create_carrier(self, request: pb.CreateCarrierRequest, who: Principal) -> pb.Carrier:
        self.check_create(
            request.parent, request.request_id, lambda v: rules.check_carrier(v, request.carrier)
        )
        self.require_operator(who, "register carriers")

        def register(uow: UnitOfWork) -> pb.Carrier:
            carrier = pb.Carrier()
            carrier.CopyFrom(request.carrier)
            carrier.name = CARRIER.format(region=self.region, carrier=new_id())
            carrier.state = pb.CARRIER_STATE_ACTIVE
            return carrier

        registered = ("registered", lambda c: ev.CarrierRegistered(carrier=c))
        return await self.create(
            who, request.request_id, "CreateCarrier", CARRIERS, register, registered
        )

    def get_carrier(self, request: pb.GetCarrierRequest, who: Principal) -> pb.Carrier:
        return self.get(CARRIERS, CARRIER, request.name)

    def list_carriers(self, request: pb.ListCarriersRequest, who: Principal) -> bytes:
        """A serialized ListCarriersResponse."""
        v = Violations()
        region = self.listed_region(v, request.parent)
        check.enum(v, "level", request.level, pb.CarrierLevel.DESCRIPTOR, required=False)
        check.enum(v, "kind", request.kind, pb.CarrierKind.DESCRIPTOR, required=False)
        check.enum(v, "industrial_chain", request.industrial_chain, rules.CHAIN, required=False)
        check.enum(v, "state", request.state, pb.CarrierState.DESCRIPTOR, required=False)
        v.raise_if_any()
        query = CARRIERS.where(
            region=region,
            level=request.level,
            kind=request.kind,
            chains=Tag(request.industrial_chain) if request.industrial_chain else None,
            state=request.state,
        )
        return self.pages.of(
            pb.ListCarriersResponse, "carriers", CARRIERS, query, request, cached=True
        )

    async def update_carrier(self, request: pb.UpdateCarrierRequest, who: Principal) -> pb.Carrier:
        v = Violations()
        CARRIER.parse(v, "carrier.name", request.carrier.name)
        paths = mask_paths(v, request.update_mask.paths, rules.CARRIER_UPDATABLE)
        v.raise_if_any()
        async with self.storage.unit_of_work() as uow:
            found = self._for_write(uow.rows(CARRIERS), request.carrier.name)
            current = found.message
            self._authorize_carrier_change(who, current, paths)
            rules.ensure_can_change(current)
            check_etag(request.carrier.etag, current.etag, "carrier.etag")
            return self.update(
                uow,
                CARRIERS,
                found,
                request.carrier,
                paths,
                rules.check_carrier,
                lambda x, fields: ev.CarrierUpdated(carrier=x, changed_fields=fields),
            )

    async def suspend_carrier(
        self, request: pb.SuspendCarrierRequest, who: Principal
    ) -> pb.Carrier:
        return await self._change_state(
            request,
            who,
            pb.CARRIER_STATE_SUSPENDED,
            "suspended",
            allowed_from={pb.CARRIER_STATE_ACTIVE},
            carrier_may_ask=False,
        )

    async def leave_alliance(self, request: pb.LeaveAllianceRequest, who: Principal) -> pb.Carrier:
        return await self._change_state(
            request,
            who,
            pb.CARRIER_STATE_LEFT,
            "left",
            allowed_from={pb.CARRIER_STATE_ACTIVE, pb.CARRIER_STATE_SUSPENDED},
            carrier_may_ask=True,
        )

    async def _change_state(
        self,
        request: pb.SuspendCarrierRequest | pb.LeaveAllianceRequest,
        who: Principal,
        target: int,
        verb: str,
        *,
        allowed_from: set[int],
        carrier_may_ask: bool,
    ) -> pb.Carrier:
        v = Violations()
        CARRIER.parse(v, "name", request.name)
        check.text(v, "reason", request.reason, required=True, max_len=500)
        v.raise_if_any()
        async with self.storage.unit_of_work() as uow:
            found = self._for_write(uow.rows(CARRIERS), request.name)
            current, version = found.message, found.version
            if not (
                who.is_operator_of(self.region) or (carrier_may_ask and who.acts_for(current.name))
            ):
                raise PermissionDenied(f"you may not mark {current.name} as {verb}")
            # a suspended carrier may still leave; a carrier that left does nothing more
            ensure_may_act(who, current.name, current.state != pb.CARRIER_STATE_LEFT)
            check_etag(request.etag, current.etag, "etag")
            if current.state not in allowed_from:
                state = pb.CarrierState.Name(current.state)
                raise FailedPrecondition(f"{current.name} is {state}; it cannot become {verb}")
            updated = pb.Carrier()
            updated.CopyFrom(current)
            updated.state = target  # type: ignore[assignment]
            stamp(updated, version + 1)
            payload: Message = (
                ev.CarrierSuspended(carrier=updated, reason=request.reason)
                if target == pb.CARRIER_STATE_SUSPENDED
                else ev.CarrierLeft(carrier=updated, reason=request.reason)
            )
            self.put(uow, CARRIERS, updated, version + 1, verb, payload)
        return updated

    # -- startups ---------------------------------------------------------------------------

    async def create_startup(self, request: pb.CreateStartupRequest, who: Principal) -> pb.Startup:
        v = Violations()
        CARRIER.parse(v, "parent", request.parent)
        rules.check_startup(v, request.startup)
        check.request_id(v, request.request_id)
        v.raise_if_any()

        def register(uow: UnitOfWork) -> pb.Startup:
            carrier = self._for_write(uow.rows(CARRIERS), request.parent).message
            self._authorize_for_carrier(who, carrier)
            rules.ensure_active(carrier)
            startup = pb.Startup()
            startup.CopyFrom(request.startup)
            startup.name = f"{carrier.name}/startups/{new_id()}"
            return startup

        registered = ("registered", lambda s: ev.StartupRegistered(startup=s))
        return await self.create(
            who, request.request_id, "CreateStartup", STARTUPS, register, registered
        )

    def get_startup(self, request: pb.GetStartupRequest, who: Principal) -> pb.Startup:
        return self.get(STARTUPS, STARTUP, request.name)

    def list_startups(self, request: pb.ListStartupsRequest, who: Principal) -> bytes:
        """A serialized ListStartupsResponse."""
        v = Violations()
        CARRIER.parse(v, "parent", request.parent)
        check.enum(v, "legal_need", request.legal_need, rules.LEGAL_AREA, required=False)
        v.raise_if_any()
        page_size(request.page_size)  # a bad size is reported before an unknown carrier
        self.storage.rows(CARRIERS).require(request.parent)
        query = STARTUPS.where(
            carrier=request.parent,
            needs=Tag(request.legal_need) if request.legal_need else None,
        )
        return self.pages.of(
            pb.ListStartupsResponse, "startups", STARTUPS, query, request, cached=True
        )

    async def update_startup(self, request: pb.UpdateStartupRequest, who: Principal) -> pb.Startup:
        v = Violations()
        ids = STARTUP.parse(v, "startup.name", request.startup.name)
        paths = mask_paths(v, request.update_mask.paths, rules.STARTUP_UPDATABLE)
        v.raise_if_any()
        assert ids is not None
        async with self.storage.unit_of_work() as uow:
            found = self._for_write(uow.rows(STARTUPS), request.startup.name)
            current = found.message
            carrier = uow.rows(CARRIERS).require(CARRIER.format(**ids)).message
            self._authorize_for_carrier(who, carrier)
            rules.ensure_active(carrier)
            check_etag(request.startup.etag, current.etag, "startup.etag")
            return self.update(
                uow,
                STARTUPS,
                found,
                request.startup,
                paths,
                rules.check_startup,
                lambda x, fields: ev.StartupUpdated(startup=x, changed_fields=fields),
            )

    # -- helpers ----------------------------------------------------------------------------

    def _for_write(self, rows: Rows[M], name: str) -> Stored[M]:
        """An entity this region may change: NOT_FOUND, or another region's home first."""
        self.ensure_home(name.split("/")[1])
        return rows.require(name)

    def _authorize_for_carrier(self, who: Principal, carrier: pb.Carrier) -> None:
        if not (who.is_operator_of(self.region) or who.acts_for(carrier.name)):
            raise PermissionDenied(
                f"only {carrier.name} itself or an operator of region {self.region} may do this"
            )
        ensure_may_act(who, carrier.name, is_active(carrier))

    def _authorize_carrier_change(
        self, who: Principal, carrier: pb.Carrier, paths: list[str]
    ) -> None:
        self._authorize_for_carrier(who, carrier)
        if not who.is_operator_of(self.region):
            operator_only = sorted(rules.CARRIER_OPERATOR_ONLY.intersection(paths))
            if operator_only:
                raise PermissionDenied(f"only an operator may change {', '.join(operator_only)}")
