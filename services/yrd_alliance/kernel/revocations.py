"""Revoked bearer tokens. An operator's `RevokeToken` (any service, OperationsService) emits
`TokenRevoked`; every service of every region keeps the ids in its own database and refuses
those tokens from then on, so a region cut off when the token was revoked refuses it as soon as
the event reaches it, and a restart forgets nothing."""

from __future__ import annotations

import re

from alliance.operations.v1 import events_pb2 as events_pb
from alliance.operations.v1 import operations_pb2 as pb
from google.protobuf.timestamp_pb2 import Timestamp

from yrd_alliance.kernel.auth import Principal
from yrd_alliance.kernel.errors import FieldViolation, InvalidArgument
from yrd_alliance.kernel.event_types import type_of
from yrd_alliance.kernel.events import Event
from yrd_alliance.kernel.ports import EventFactory, Reader, Storage, UnitOfWork
from yrd_alliance.kernel.projection import Handler
from yrd_alliance.kernel.tables import Table

SOURCE = "trust"  # the subject segment of the events: alliance.<region>.trust.token.revoked
SUBJECT = "alliance.{region}.trust.token.>"
TOKEN_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
MAX_REASON = 500

REVOKED_TOKENS = Table(
    "revoked_tokens",
    pb.RevokedToken,
    "revoked token",
    key="token_id",
)


class Revocations:
    """The revoked token ids, held in memory for the guard and kept in the database."""

    def __init__(self, reader: Reader) -> None:
        rows = reader.rows(REVOKED_TOKENS)
        self._ids = {s.message.token_id for s in rows.select(REVOKED_TOKENS.where())}

    def __contains__(self, token_id: object) -> bool:
        return token_id in self._ids

    def handlers(self) -> dict[str, Handler]:
        def keep(uow: UnitOfWork, event: Event) -> None:
            token = event.decode().token  # type: ignore[attr-defined]
            uow.rows(REVOKED_TOKENS).apply_if_newer(token, 1)
            self._ids.add(token.token_id)  # refusing a little early is safe

        return {type_of(events_pb.TokenRevoked): keep}

    async def revoke(
        self, storage: Storage, region: str, request: pb.RevokeTokenRequest, who: Principal
    ) -> pb.RevokedToken:
        problems = []
        if not TOKEN_ID.match(request.token_id):
            problems.append(
                FieldViolation("token_id", "must be a token's jti: 1-128 letters, digits, . _ -")
            )
        if len(request.reason) > MAX_REASON:
            problems.append(FieldViolation("reason", f"must be at most {MAX_REASON} characters"))
        if request.parent != f"regions/{region}":
            problems.append(FieldViolation("parent", f"must be regions/{region}, this region"))
        if problems:
            raise InvalidArgument(problems)
        now = Timestamp()
        now.GetCurrentTime()
        name = f"regions/{region}/revokedTokens/{request.token_id}"
        token = pb.RevokedToken(
            name=name,
            token_id=request.token_id,
            reason=request.reason,
            revoked_by=f"{who.region}/{who.subject}",
            revoke_time=now,
        )
        async with storage.unit_of_work() as uow:
            rows = uow.rows(REVOKED_TOKENS)
            earlier = rows.find(name)
            if earlier is not None:
                return earlier.message
            rows.put(token, 1)
            events = EventFactory(region, SOURCE)
            uow.emit(events("token", "revoked", name, 1, events_pb.TokenRevoked(token=token)))
        self._ids.add(token.token_id)
        return token
