"""Server interceptors: authentication + role policy, and domain errors → rich gRPC status.

Every unary method of the services' own APIs goes through one wrapper that
1. decodes the request itself, so undecodable bytes are INVALID_ARGUMENT, not INTERNAL;
2. verifies the bearer token and the method's role policy (deny by default);
3. maps AllianceError subclasses to their codes with google.rpc details attached;
4. turns anything unexpected into INTERNAL with a generic message, logged with its trace.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import DecodeError
from google.rpc import code_pb2, error_details_pb2, status_pb2

from kernel.auth import MethodPolicy, TokenVerifier, bearer_from_metadata, current_principal
from kernel.errors import AllianceError, FieldViolation, InvalidArgument

log = logging.getLogger(__name__)

ERROR_DOMAIN = "alliance.yrd.cn"
# Standard gRPC services that any client may call without a token.
PUBLIC_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


class _Undecodable:
    """Stands in for a request whose bytes did not parse."""

    def __init__(self, error: str) -> None:
        self.error = error


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
    details.append(_pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN)))
    status = status_pb2.Status(
        code=getattr(code_pb2, error.code.name), message=error.message, details=details
    )
    return error.code, error.message, (("grpc-status-details-bin", status.SerializeToString()),)


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


class AllianceInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, jwt_secret: str, policy: MethodPolicy) -> None:
        self._tokens = TokenVerifier(jwt_secret)
        self._policy = policy
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method_path: str = handler_call_details.method
        wrapped = self._wrapped.get(method_path)
        if wrapped is not None:
            return wrapped
        handler = await continuation(handler_call_details)
        if handler is None or method_path.startswith(PUBLIC_SERVICES):
            return handler
        if handler.unary_unary is None:
            raise TypeError(f"{method_path}: only unary methods are wrapped")
        method = method_path.rsplit("/", 1)[-1]
        wrapped = grpc.unary_unary_rpc_method_handler(
            self._wrap(method, handler.unary_unary),
            request_deserializer=_tolerant(handler.request_deserializer),
            response_serializer=_passing_bytes(handler.response_serializer),
        )
        self._wrapped[method_path] = wrapped
        return wrapped

    def _wrap(self, method: str, behaviour: Any) -> Any:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                metadata: Mapping[str, Any] = dict(context.invocation_metadata() or ())
                principal = self._tokens.verify(bearer_from_metadata(metadata))
                self._policy.check(method, principal)
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
    def deserialize(data: bytes) -> Any:
        assert deserializer is not None
        try:
            return deserializer(data)
        except (DecodeError, UnicodeDecodeError, ValueError) as exc:
            return _Undecodable(f"the request body is not a valid message: {exc}")

    return deserialize
