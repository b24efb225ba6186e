"""The domain error hierarchy. The guard (kernel.guard) maps it to gRPC codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import grpc


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class AllianceError(Exception):
    """Root of every error a caller should see with its message. A subclass names its gRPC
    code, and its reason for google.rpc.ErrorInfo when that is not the code's name:
    `class NotFound(AllianceError, code=grpc.StatusCode.NOT_FOUND)`."""

    code: ClassVar[grpc.StatusCode] = grpc.StatusCode.UNKNOWN
    reason: ClassVar[str] = "ERROR"

    def __init_subclass__(
        cls, code: grpc.StatusCode | None = None, reason: str = "", **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code, cls.reason = code, reason or code.name

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(AllianceError, code=grpc.StatusCode.INVALID_ARGUMENT):
    def __init__(self, violations: list[FieldViolation]) -> None:
        fields = ", ".join(v.field for v in violations)
        super().__init__(f"invalid request: check {fields}")
        self.violations = violations


class NotFound(AllianceError, code=grpc.StatusCode.NOT_FOUND): ...


class AlreadyExists(AllianceError, code=grpc.StatusCode.ALREADY_EXISTS): ...


class FailedPrecondition(AllianceError, code=grpc.StatusCode.FAILED_PRECONDITION): ...


class EtagMismatch(AllianceError, code=grpc.StatusCode.ABORTED, reason="ETAG_MISMATCH"): ...


class Conflict(AllianceError, code=grpc.StatusCode.ABORTED, reason="CONCURRENT_WRITE"):
    """Another replica's write got in the way (a lock it held, the same request_id): nothing
    of this one was kept, and trying again is safe."""


class PermissionDenied(AllianceError, code=grpc.StatusCode.PERMISSION_DENIED): ...


class Unauthenticated(AllianceError, code=grpc.StatusCode.UNAUTHENTICATED): ...


class Unavailable(AllianceError, code=grpc.StatusCode.UNAVAILABLE): ...


class RateLimited(AllianceError, code=grpc.StatusCode.RESOURCE_EXHAUSTED, reason="RATE_LIMITED"):
    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Violations:
    """Collects every problem of a request before failing, so the caller fixes them at once."""

    def __init__(self) -> None:
        self._items: list[FieldViolation] = []

    def add(self, field: str, description: str) -> None:
        self._items.append(FieldViolation(field, description))

    def __bool__(self) -> bool:
        return bool(self._items)

    def raise_if_any(self) -> None:
        if self._items:
            raise InvalidArgument(list(self._items))
