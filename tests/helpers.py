"""Assertions on gRPC errors, decoding their google.rpc details, and waiting for what events
bring about."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from yrd_alliance.kernel.db import Database
from yrd_alliance.sharing.catalogue import IndexedCatalogue
from yrd_alliance.sharing.search_index import SearchIndex
from yrd_alliance.sharing.search_process import SearchProcess


async def expect_error(call: Awaitable[Any], code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        assert error.code() == code, f"expected {code}, got {error.code()}: {error.details()}"
        return error
    raise AssertionError(f"expected {code}, the call succeeded")


def violated_fields(error: grpc.aio.AioRpcError) -> set[str]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, "INVALID_ARGUMENT without google.rpc.Status details"
    fields: set[str] = set()
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            fields.update(v.field for v in bad_request.field_violations)
    return fields


async def expect_invalid(call: Awaitable[Any], *fields: str) -> set[str]:
    error = await expect_error(call, grpc.StatusCode.INVALID_ARGUMENT)
    found = violated_fields(error)
    for field in fields:
        assert field in found, f"{field} not among violations {found}"
    return found


T = TypeVar("T")


async def eventually(
    call: Callable[[], Awaitable[T]],
    ok: Callable[[T], bool],
    what: str,
    *,
    within_s: float = 20.0,
    interval_s: float = 0.05,
) -> T:
    """Retries a call until its answer is as expected: what events bring about arrives a little
    later. NOT_FOUND and FAILED_PRECONDITION count as "not yet"."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            answer: object = await call()
            if ok(answer):  # type: ignore[arg-type]
                return answer  # type: ignore[return-value]
        except grpc.aio.AioRpcError as error:
            if error.code() not in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION):
                raise
            answer = error
        assert time.monotonic() < deadline, f"{what}: still {answer}"
        await asyncio.sleep(interval_s)


@contextlib.asynccontextmanager
async def search_catalogue(
    db: Database, folder: Path, *, index: SearchIndex | None = None,
    reader: SearchProcess | None = None,
) -> AsyncIterator[IndexedCatalogue]:  # fmt: skip
    """The catalogue as the sharing service has it: the index written here (in `folder`),
    read by two processes of its own (so that the tests see a search's pages stay on one);
    both let go of at the end."""
    path = folder / "sharing.search"
    index = index or SearchIndex(path, db.connect_reader(), source="test")
    catalogue = IndexedCatalogue(db.reader, index, reader or SearchProcess(path, processes=2))
    try:
        yield catalogue
    finally:
        await catalogue.close()
