"""The guard around every method of the services' own APIs: authentication + role policy, and
domain errors → rich gRPC status. Each unary method is wrapped once, at registration, so that
1. decodes the request itself, so undecodable bytes are INVALID_ARGUMENT, not INTERNAL, and
   drops unknown fields;
2. verifies the bearer token and the method's role policy (deny by default), and spends one
   of the caller's writes (kernel.limits) on a method that changes something;
3. maps AllianceError subclasses to their codes with google.rpc details attached;
4. turns anything unexpected into INTERNAL with a generic message, logged with its trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import DecodeError
from google.rpc import code_pb2, error_details_pb2, status_pb2

from yrd_alliance.kernel.auth import MethodPolicy, bearer_from_metadata, current_principal
from yrd_alliance.kernel.errors import AllianceError, FieldViolation, InvalidArgument, RateLimited
from yrd_alliance.kernel.limits import WriteLimiter, is_write
from yrd_alliance.kernel.metrics import RpcMetrics, ServiceMetrics
from yrd_alliance.kernel.rpc_outcome import observed
from yrd_alliance.kernel.tokens import TokenVerifier
from yrd_alliance.kernel.tracing import Tracing

log = logging.getLogger(__name__)

ERROR_DOMAIN = "alliance.yrd.cn"


class _Undecodable:
    """Stands in for a request whose bytes did not parse."""

    def __init__(self, error: str) -> None:
        self.error = error


class GuardedServer:
    """What a service's generated `add_…Servicer_to_server` is given: it registers the service's
    handlers on the real server, each wrapped by the guard. Health and reflection are added to
    the real server directly and stay open to every caller."""

    def __init__(self, server: grpc.aio.Server, guard: Guard) -> None:
        self._server = server
        self._guard = guard

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        """Ignored: generated code registers the same methods through the call below."""

    def add_registered_method_handlers(
        self, service: str, handlers: Mapping[str, grpc.RpcMethodHandler]
    ) -> None:
        wrapped = {
            name: self._guard.wrap(name, handler, service) for name, handler in handlers.items()
        }
        self._server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(service, wrapped),)
        )
        self._server.add_registered_method_handlers(service, wrapped)


def rich_status(error: AllianceError) -> tuple[grpc.StatusCode, str, tuple[tuple[str, bytes], ...]]:
    details: list[any_pb2.Any] = []
    if isinstance(error, InvalidArgument):
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=v.field, description=v.description
                )
                for v in error.violations
            ]
        )
        details.append(_pack(bad_request))
    if isinstance(error, RateLimited):
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(error.retry_after_s * 1e9))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    details.append(_pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN)))
    status = status_pb2.Status(
        code=getattr(code_pb2, error.code.name), message=error.message, details=details
    )
    return error.code, error.message, (("grpc-status-details-bin", status.SerializeToString()),)


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


class Guard:
    """Wraps each method handler of a service once, when it is registered (see GuardedServer),
    instead of a grpc interceptor that runs for every call."""

    def __init__(
        self,
        tokens: TokenVerifier,
        policy: MethodPolicy,
        writes: WriteLimiter | None = None,
        metrics: ServiceMetrics | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self._tokens = tokens
        self._policy = policy
        self._writes = writes
        self._metrics = metrics
        self._tracing = tracing

    def wrap(
        self, method: str, handler: grpc.RpcMethodHandler, service: str = ""
    ) -> grpc.RpcMethodHandler:
        if handler.unary_unary is None:
            raise TypeError(f"{method}: only unary methods are supported")
        measured = self._metrics.rpc(service, method) if self._metrics else None
        behaviour = self._wrap(method, handler.unary_unary, measured)
        if self._tracing is not None:
            behaviour = self._tracing.rpc(service, method, behaviour)
        return grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=_tolerant(handler.request_deserializer),
            response_serializer=_passing_bytes(handler.response_serializer),
        )

    def _wrap(self, method: str, behaviour: Any, measured: RpcMetrics | None) -> Any:
        limited = self._writes if is_write(method) else None
        guarded = self._guarded(method, behaviour, limited)
        if measured is None:
            return guarded

        async def counted(request: Any, context: grpc.aio.ServicerContext) -> Any:
            began = measured.begin()
            return await observed(guarded, request, context, lambda code: measured.end(began, code))

        return counted

    def _guarded(self, method: str, behaviour: Any, limited: WriteLimiter | None) -> Any:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                metadata: Mapping[str, Any] = dict(context.invocation_metadata() or ())
                principal = self._tokens.verify(bearer_from_metadata(metadata))
                self._policy.check(method, principal)
                if limited is not None:
                    limited.take(principal.identity)
                if isinstance(request, _Undecodable):
                    raise InvalidArgument([FieldViolation("request", request.error)])
                token = current_principal.set(principal)
                try:
                    return await behaviour(request, context)
                finally:
                    current_principal.reset(token)
            except AllianceError as error:
                code, message, trailers = rich_status(error)
                await context.abort(code, message, trailing_metadata=trailers)
            except grpc.aio.AbortError:
                raise
            except Exception:
                log.exception("unexpected failure in %s", method)
                await context.abort(grpc.StatusCode.INTERNAL, "internal error; it has been logged")

        return wrapped


def _passing_bytes(serializer: Callable[[Any], bytes] | None) -> Callable[[Any], bytes]:
    """Responses a use case already serialized (see kernel.paging.page_of) go out as they are."""

    def serialize(response: Any) -> bytes:
        if isinstance(response, bytes):
            return response
        assert serializer is not None
        return serializer(response)

    return serialize


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any]:
    """Decodes a request, dropping fields this version does not know (a newer client's, or
    bytes smuggled under an unused number): nothing unknown is ever stored or published."""

    def deserialize(data: bytes) -> Any:
        assert deserializer is not None
        try:
            request = deserializer(data)
        except (DecodeError, UnicodeDecodeError, ValueError) as exc:
            return _Undecodable(f"the request body is not a valid message: {exc}")
        request.DiscardUnknownFields()
        return request

    return deserialize
