"""The base of a service's use cases: its ports, and the steps every use case takes the same way
— the home-region check, reading an entity by name, an idempotent create, and recording a change
with its event."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, ClassVar

from google.protobuf.message import Message

from yrd_alliance.kernel import validation as check
from yrd_alliance.kernel.auth import Principal
from yrd_alliance.kernel.errors import PermissionDenied, Violations
from yrd_alliance.kernel.names import REGION, NamePattern
from yrd_alliance.kernel.ports import Ports, UnitOfWork
from yrd_alliance.kernel.resources import ensure_home, stamp
from yrd_alliance.kernel.tables import M, Stored, Table
from yrd_alliance.kernel.updates import merge_update

ALL_REGIONS = "regions/-"


def idempotency_key(who: Principal, request_id: str) -> str:
    """A request_id as the caller's own: replayed only for the principal that first used it."""
    if not request_id:
        return ""
    return f"{request_id}#{hashlib.sha256(who.identity.encode()).hexdigest()[:16]}"


class UseCases:
    service: ClassVar[str]  # e.g. "membership": names the service in errors and events

    def __init__(self, ports: Ports) -> None:
        self.region = ports.region
        self.storage = ports.storage
        self.events = ports.events
        self.pages = ports.pages

    def ensure_home(self, region: str) -> None:
        """Invariant 1: only the home region changes an entity."""
        ensure_home(self.service, self.region, region)

    def require_operator(self, who: Principal, what: str) -> None:
        if not who.is_operator_of(self.region):
            raise PermissionDenied(f"only an operator of region {self.region} may {what}")

    def listed_region(self, v: Violations, parent: str) -> str:
        """The region a list's parent names ("regions/sh"); "" for every region ("regions/-")."""
        if parent == ALL_REGIONS:
            return ""
        return (REGION.parse(v, "parent", parent) or {}).get("region", "")

    def get(self, table: Table[M], pattern: NamePattern, name: str) -> M:
        """The entity of that name (checked against `pattern`), or NOT_FOUND."""
        pattern.require("name", name)
        return self.storage.rows(table).require(name).message

    def check_create(
        self, parent: str, request_id: str, check_entity: Callable[[Violations], None]
    ) -> None:
        """A create request's checks: every problem of its parent (a region), its entity and
        its request_id reported at once; then the parent must be this region."""
        v = Violations()
        region = REGION.parse(v, "parent", parent)
        check_entity(v)
        check.request_id(v, request_id)
        v.raise_if_any()
        assert region is not None
        self.ensure_home(region["region"])

    async def create(
        self,
        who: Principal,
        request_id: str,
        method: str,
        table: Table[M],
        make: Callable[[UnitOfWork], M],
        event: tuple[str, Callable[[M], Message]] | None,
    ) -> M:
        """Creates an entity once per request_id and caller (a retried request gets what its
        first attempt made; another caller's same request_id is another request): `make` builds
        it, named, in the unit of work; it is stored as version 1, stamped, with its event (verb,
        payload of the entity) unless `event` is None."""
        request_id = idempotency_key(who, request_id)
        async with self.storage.unit_of_work() as uow:
            earlier = uow.earlier_result(request_id, method)
            if earlier:
                return uow.rows(table).require(earlier).message
            made = make(uow)
            stamp(made, 1, created=True)
            if event is None:
                uow.rows(table).put(made, 1)
            else:
                verb, payload = event
                self.put(uow, table, made, 1, verb, payload(made))
            uow.remember_result(request_id, method, table.name_of(made))
        return made

    def update(
        self,
        uow: UnitOfWork,
        table: Table[M],
        current: Stored[M],
        change: M,
        paths: list[str],
        check_entity: Callable[[Violations, M], None],
        payload: Callable[[M, list[str]], Message],
    ) -> M:
        """Applies the masked fields of `change` (re-checked as a whole) as the next version
        with its `updated` event; a change that changes nothing stores and emits nothing."""
        updated, changed = merge_update(current.message, change, paths, check_entity)
        if not changed:
            return current.message
        stamp(updated, current.version + 1)
        self.put(uow, table, updated, current.version + 1, "updated", payload(updated, changed))
        return updated

    def put(
        self,
        uow: UnitOfWork,
        table: Table[Any],
        entity: Message,
        version: int,
        verb: str,
        payload: Message,
    ) -> None:
        """Stores the entity as this version and emits its event, `<noun>.<verb>`; a stamped
        entity (kernel.resources.stamp) is stamped before its payload is built."""
        uow.rows(table).put(entity, version)
        uow.emit(self.events(table.noun, verb, table.name_of(entity), version, payload))
