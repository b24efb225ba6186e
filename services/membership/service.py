"""Membership use cases: each validates, authorises, changes state and emits its event in one
unit of work. Requests and results are the API's protobuf messages; the servicer only routes."""

from __future__ import annotations

import sqlite3

from alliance.membership.v1 import events_pb2 as ev
from alliance.membership.v1 import membership_pb2 as pb
from google.protobuf.message import Message
from kernel import validation as check
from kernel.auth import caller
from kernel.errors import FailedPrecondition, NotFound, PermissionDenied, Violations
from kernel.names import REGION, NamePattern, new_id
from kernel.paging import page_size
from kernel.resources import ensure_home, stamp
from kernel.server import Runtime
from kernel.unit_of_work import UnitOfWork
from kernel.updates import check_etag, mask_paths, merge_update

from membership import rules, store

SERVICE = "membership"
CARRIER = NamePattern("regions/{region}/carriers/{carrier}")
STARTUP = NamePattern("regions/{region}/carriers/{carrier}/startups/{startup}")
ALL_REGIONS = "regions/-"


class Membership:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self.region = runtime.settings.region

    # -- carriers ---------------------------------------------------------------------------

    async def create_carrier(self, request: pb.CreateCarrierRequest) -> pb.Carrier:
        v = Violations()
        parent = REGION.parse(v, "parent", request.parent)
        rules.check_carrier(v, request.carrier)
        check.request_id(v, request.request_id)
        v.raise_if_any()
        assert parent is not None
        self._ensure_home(parent["region"])
        if not caller().is_operator_of(self.region):
            raise PermissionDenied(f"only an operator of region {self.region} registers carriers")
        async with self._rt.unit_of_work() as uow:
            earlier = uow.earlier_result(request.request_id, "CreateCarrier")
            if earlier:
                return self._carrier(uow.tx, CARRIER.parse(Violations(), "", earlier) or {})[0]
            carrier_id = new_id()
            carrier = pb.Carrier()
            carrier.CopyFrom(request.carrier)
            carrier.name = CARRIER.format(region=self.region, carrier=carrier_id)
            carrier.state = pb.CARRIER_STATE_ACTIVE
            stamp(carrier, 1, created=True)
            store.put_carrier(uow.tx, carrier_id, self.region, carrier, 1)
            uow.remember_result(request.request_id, "CreateCarrier", carrier.name)
            self._emit(
                uow, "carrier", "registered", carrier.name, 1, ev.CarrierRegistered(carrier=carrier)
            )
        return carrier

    def get_carrier(self, request: pb.GetCarrierRequest) -> pb.Carrier:
        ids = CARRIER.require("name", request.name)
        return self._carrier(self._rt.db.reader, ids)[0]

    def list_carriers(self, request: pb.ListCarriersRequest) -> bytes:
        """A serialized ListCarriersResponse."""
        v = Violations()
        region = (
            "-"
            if request.parent == ALL_REGIONS
            else (REGION.parse(v, "parent", request.parent) or {}).get("region", "")
        )
        check.enum(v, "level", request.level, pb.CarrierLevel.DESCRIPTOR, required=False)
        check.enum(v, "kind", request.kind, pb.CarrierKind.DESCRIPTOR, required=False)
        check.enum(v, "industrial_chain", request.industrial_chain, rules.CHAIN, required=False)
        check.enum(v, "state", request.state, pb.CarrierState.DESCRIPTOR, required=False)
        v.raise_if_any()
        query = store.CarrierFilter(
            region, request.level, request.kind, request.industrial_chain, request.state
        )
        return self._rt.read_cache.reply(
            ("ListCarriers", query.key(), request.page_size, request.page_token),
            lambda: self._rt.page_tokens.page(
                pb.ListCarriersResponse,
                "carriers",
                query.key(),
                request.page_size,
                request.page_token,
                lambda after, limit: store.list_carriers(self._rt.db.reader, query, after, limit),
            ),
        )

    async def update_carrier(self, request: pb.UpdateCarrierRequest) -> pb.Carrier:
        v = Violations()
        ids = CARRIER.parse(v, "carrier.name", request.carrier.name)
        paths = mask_paths(v, request.update_mask.paths, rules.CARRIER_UPDATABLE)
        v.raise_if_any()
        assert ids is not None
        async with self._rt.unit_of_work() as uow:
            current, version = self._carrier(uow.tx, ids, for_write=True)
            self._authorize_carrier_change(current.name, paths)
            rules.ensure_can_change(current)
            check_etag(request.carrier.etag, current.etag, "carrier.etag")
            updated, changed = merge_update(current, request.carrier, paths, rules.check_carrier)
            if not changed:
                return current
            stamp(updated, version + 1)
            store.put_carrier(uow.tx, ids["carrier"], self.region, updated, version + 1)
            payload = ev.CarrierUpdated(carrier=updated, changed_fields=changed)
            self._emit(uow, "carrier", "updated", updated.name, version + 1, payload)
        return updated

    async def suspend_carrier(self, request: pb.SuspendCarrierRequest) -> pb.Carrier:
        return await self._change_state(
            request.name,
            request.etag,
            request.reason,
            pb.CARRIER_STATE_SUSPENDED,
            "suspended",
            allowed_from={pb.CARRIER_STATE_ACTIVE},
            carrier_may_ask=False,
        )

    async def leave_alliance(self, request: pb.LeaveAllianceRequest) -> pb.Carrier:
        return await self._change_state(
            request.name,
            request.etag,
            request.reason,
            pb.CARRIER_STATE_LEFT,
            "left",
            allowed_from={pb.CARRIER_STATE_ACTIVE, pb.CARRIER_STATE_SUSPENDED},
            carrier_may_ask=True,
        )

    async def _change_state(
        self,
        name: str,
        etag_value: str,
        reason: str,
        target: int,
        verb: str,
        *,
        allowed_from: set[int],
        carrier_may_ask: bool,
    ) -> pb.Carrier:
        v = Violations()
        ids = CARRIER.parse(v, "name", name)
        check.text(v, "reason", reason, required=True, max_len=500)
        v.raise_if_any()
        assert ids is not None
        async with self._rt.unit_of_work() as uow:
            current, version = self._carrier(uow.tx, ids, for_write=True)
            who = caller()
            if not (
                who.is_operator_of(self.region) or (carrier_may_ask and who.acts_for(current.name))
            ):
                raise PermissionDenied(f"you may not mark {current.name} as {verb}")
            check_etag(etag_value, current.etag, "etag")
            if current.state not in allowed_from:
                state = pb.CarrierState.Name(current.state)
                raise FailedPrecondition(f"{current.name} is {state}; it cannot become {verb}")
            updated = pb.Carrier()
            updated.CopyFrom(current)
            updated.state = target  # type: ignore[assignment]
            stamp(updated, version + 1)
            store.put_carrier(uow.tx, ids["carrier"], self.region, updated, version + 1)
            payload: Message = (
                ev.CarrierSuspended(carrier=updated, reason=reason)
                if target == pb.CARRIER_STATE_SUSPENDED
                else ev.CarrierLeft(carrier=updated, reason=reason)
            )
            self._emit(uow, "carrier", verb, updated.name, version + 1, payload)
        return updated

    # -- startups ---------------------------------------------------------------------------

    async def create_startup(self, request: pb.CreateStartupRequest) -> pb.Startup:
        v = Violations()
        parent = CARRIER.parse(v, "parent", request.parent)
        rules.check_startup(v, request.startup)
        check.request_id(v, request.request_id)
        v.raise_if_any()
        assert parent is not None
        async with self._rt.unit_of_work() as uow:
            earlier = uow.earlier_result(request.request_id, "CreateStartup")
            if earlier:
                return self._startup(uow.tx, STARTUP.parse(Violations(), "", earlier) or {})[0]
            carrier, _ = self._carrier(uow.tx, parent, for_write=True)
            self._authorize_for_carrier(carrier.name)
            rules.ensure_active(carrier)
            startup = pb.Startup()
            startup.CopyFrom(request.startup)
            startup.name = f"{carrier.name}/startups/{new_id()}"
            stamp(startup, 1, created=True)
            startup_id = startup.name.rsplit("/", 1)[-1]
            store.put_startup(uow.tx, startup_id, carrier.name, startup, 1)
            uow.remember_result(request.request_id, "CreateStartup", startup.name)
            self._emit(
                uow, "startup", "registered", startup.name, 1, ev.StartupRegistered(startup=startup)
            )
        return startup

    def get_startup(self, request: pb.GetStartupRequest) -> pb.Startup:
        ids = STARTUP.require("name", request.name)
        return self._startup(self._rt.db.reader, ids)[0]

    def list_startups(self, request: pb.ListStartupsRequest) -> bytes:
        """A serialized ListStartupsResponse."""
        v = Violations()
        ids = CARRIER.parse(v, "parent", request.parent)
        check.enum(v, "legal_need", request.legal_need, rules.LEGAL_AREA, required=False)
        v.raise_if_any()
        assert ids is not None
        page_size(request.page_size)  # a bad size is reported before an unknown carrier

        def page() -> bytes:
            carrier, _ = self._carrier(self._rt.db.reader, ids)
            return self._rt.page_tokens.page(
                pb.ListStartupsResponse,
                "startups",
                f"startups|{carrier.name}|{request.legal_need}",
                request.page_size,
                request.page_token,
                lambda after, limit: store.list_startups(
                    self._rt.db.reader, carrier.name, request.legal_need, after, limit
                ),
            )

        return self._rt.read_cache.reply(
            (
                "ListStartups",
                ids["carrier"],
                request.legal_need,
                request.page_size,
                request.page_token,
            ),
            page,
        )

    async def update_startup(self, request: pb.UpdateStartupRequest) -> pb.Startup:
        v = Violations()
        ids = STARTUP.parse(v, "startup.name", request.startup.name)
        paths = mask_paths(v, request.update_mask.paths, rules.STARTUP_UPDATABLE)
        v.raise_if_any()
        assert ids is not None
        async with self._rt.unit_of_work() as uow:
            current, version = self._startup(uow.tx, ids, for_write=True)
            carrier, _ = self._carrier(uow.tx, ids)
            self._authorize_for_carrier(carrier.name)
            rules.ensure_active(carrier)
            check_etag(request.startup.etag, current.etag, "startup.etag")
            updated, changed = merge_update(current, request.startup, paths, rules.check_startup)
            if not changed:
                return current
            stamp(updated, version + 1)
            store.put_startup(uow.tx, ids["startup"], carrier.name, updated, version + 1)
            payload = ev.StartupUpdated(startup=updated, changed_fields=changed)
            self._emit(uow, "startup", "updated", updated.name, version + 1, payload)
        return updated

    # -- helpers ----------------------------------------------------------------------------

    def _ensure_home(self, region: str) -> None:
        ensure_home(SERVICE, self.region, region)

    def _carrier(
        self, conn: sqlite3.Connection, ids: dict[str, str], *, for_write: bool = False
    ) -> tuple[pb.Carrier, int]:
        name = CARRIER.format(region=ids.get("region", ""), carrier=ids.get("carrier", ""))
        if for_write:
            self._ensure_home(ids.get("region", ""))
        found = store.get_carrier(conn, ids.get("carrier", ""))
        if found is None or found[0].name != name:
            raise NotFound(f"carrier {name} does not exist")
        return found

    def _startup(
        self, conn: sqlite3.Connection, ids: dict[str, str], *, for_write: bool = False
    ) -> tuple[pb.Startup, int]:
        name = STARTUP.format(**ids) if ids else ""
        if for_write:
            self._ensure_home(ids.get("region", ""))
        found = store.get_startup(conn, ids.get("startup", ""))
        if found is None or found[0].name != name:
            raise NotFound(f"startup {name} does not exist")
        return found

    def _authorize_for_carrier(self, carrier_name: str) -> None:
        who = caller()
        if not (who.is_operator_of(self.region) or who.acts_for(carrier_name)):
            raise PermissionDenied(
                f"only {carrier_name} itself or an operator of region {self.region} may do this"
            )

    def _authorize_carrier_change(self, carrier_name: str, paths: list[str]) -> None:
        self._authorize_for_carrier(carrier_name)
        if not caller().is_operator_of(self.region):
            operator_only = sorted(rules.CARRIER_OPERATOR_ONLY.intersection(paths))
            if operator_only:
                raise PermissionDenied(f"only an operator may change {', '.join(operator_only)}")

    def _emit(
        self, uow: UnitOfWork, entity: str, verb: str, resource: str, version: int, payload: Message
    ) -> None:
        uow.emit(self._rt.event(entity, verb, resource, version, payload))
