"""Use cases on in-memory ports: a region's store, the principals that call it, and a check that
a refused call changed nothing."""

from __future__ import annotations

from collections.abc import Awaitable

import pytest
from yrd_alliance.kernel.auth import Principal, Role
from yrd_alliance.kernel.errors import AllianceError
from yrd_alliance.kernel.memory import MemoryStore
from yrd_alliance.kernel.paging import PageTokens
from yrd_alliance.kernel.ports import EventFactory, Pages, Ports

PARTNER = Principal("partner", Role.PARTNER)


def operator(region: str) -> Principal:
    return Principal(f"op-{region}", Role.OPERATOR, region=region)


def acting_for(carrier: str) -> Principal:
    return Principal(carrier, Role.CARRIER, carrier=carrier)


def lawyer_token(lawyer: str) -> Principal:
    return Principal(lawyer, Role.LAWYER, lawyer=lawyer)


def ports(store: MemoryStore, region: str, service: str) -> Ports:
    return Ports(region, store, EventFactory(region, service), Pages(store, PageTokens(b"test")))


def state_of(store: MemoryStore) -> tuple[object, ...]:
    return (repr(store.data), len(store.events), dict(store.idempotency))


async def refused(
    store: MemoryStore, call: Awaitable[object], error: type[AllianceError]
) -> AllianceError:
    """Awaits a call that must fail with `error` and leave the store as it was."""
    before = state_of(store)
    with pytest.raises(error) as raised:
        await call
    assert state_of(store) == before, "a refused call changed something"
    return raised.value


def verbs(store: MemoryStore, since: int = 0) -> list[str]:
    """The events committed so far (from `since`), as "<entity>.<verb>"."""
    return [".".join(e.subject.split(".")[3:5]) for e in store.events[since:]]
