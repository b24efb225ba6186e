"""The operators' side of OperationsService: pipeline figures for `alliance status`, dead
letters, and snapshots, called on the services of the local federation with an operator token
of each service's region."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import grpc
from alliance.operations.v1 import operations_pb2 as pb
from alliance.operations.v1 import operations_pb2_grpc as pb_grpc

from yrd_alliance.cli.local import Endpoint, LocalState
from yrd_alliance.kernel.auth import Role
from yrd_alliance.kernel.tokens import SigningKey, issue_token


class Operations:
    def __init__(self, state: LocalState, key: SigningKey) -> None:
        self._state = state
        self._key = key

    def endpoints(self, region: str = "", service: str = "") -> list[Endpoint]:
        return [
            e
            for e in self._state.endpoints
            if (not region or e.region == region) and (not service or e.service == service)
        ]

    @contextmanager
    def stub(self, endpoint: Endpoint) -> Iterator[tuple[pb_grpc.OperationsServiceStub, tuple]]:
        token = issue_token(
            self._key, subject="alliance-cli", role=Role.OPERATOR, region=endpoint.region,
            ttl_s=300,
        )  # fmt: skip
        with self._state.grpc(endpoint).channel() as channel:
            yield pb_grpc.OperationsServiceStub(channel), (("authorization", f"Bearer {token}"),)

    def endpoint_of(self, letter_name: str) -> Endpoint:
        """The service a dead letter's name points at: regions/{r}/services/{s}/deadLetters/{id}."""
        parts = letter_name.split("/")
        if len(parts) != 6 or parts[0] != "regions" or parts[2] != "services":
            raise ValueError(f"{letter_name!r} is not a dead letter's name")
        found = self.endpoints(parts[1], parts[3])
        if not found:
            raise ValueError(f"no {parts[3]} service of region {parts[1]} is running locally")
        return found[0]

    def status(self, endpoint: Endpoint) -> pb.PipelineStatus | str:
        """The service's pipeline, or why it could not be read."""
        with self.stub(endpoint) as (stub, md):
            try:
                return stub.GetPipelineStatus(pb.GetPipelineStatusRequest(), metadata=md, timeout=3)
            except grpc.RpcError as error:
                return f"unreachable ({error.code().name})"  # type: ignore[attr-defined]

    def dead_letters(self, endpoint: Endpoint) -> list[pb.DeadLetter]:
        parent = f"regions/{endpoint.region}/services/{endpoint.service}"
        letters: list[pb.DeadLetter] = []
        token = ""
        with self.stub(endpoint) as (stub, md):
            while True:
                page = stub.ListDeadLetters(
                    pb.ListDeadLettersRequest(parent=parent, page_size=500, page_token=token),
                    metadata=md,
                    timeout=10,
                )
                letters += page.dead_letters
                token = page.next_page_token
                if not token:
                    return letters


def pipeline_summary(status: pb.PipelineStatus | str) -> tuple[str, str, str, bool]:
    """(outbox, consumer, dead letters) cells for the status table, and whether all is well."""
    if isinstance(status, str):
        return status, "", "", False
    box = status.outbox
    outbox = f"{box.backlog} unsent"
    if box.backlog:
        outbox += f", oldest {box.oldest_unsent_age_seconds:.1f}s"
    if box.stuck:
        outbox += " — STUCK"
    consumer = ", ".join(
        f"{c.pending} pending, {c.redelivered} redelivered" if c.reachable else "not reachable"
        for c in status.consumers
    )
    letters = box.dead_letters + sum(c.dead_letters for c in status.consumers)
    return outbox, consumer or "—", str(letters), not box.stuck and letters == 0
