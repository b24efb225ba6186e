"""Traces across gRPC and NATS (OpenTelemetry), exported over OTLP when the standard
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set.

    CreateRequest (hz, SERVER span) ─ event RequestCreated, ce-traceparent = that span
      ├─ publish RequestCreated (hz, PRODUCER: from the outbox row's commit to JetStream's ack)
      └─ apply RequestCreated (sh, CONSUMER) ─ event BookingChanged, ce-traceparent = this span
           ├─ publish BookingChanged (sh)
           └─ apply BookingChanged (hz): the request shows the owner's decision

The context an event is built under travels in its CloudEvents distributed-tracing extension
(`ce-traceparent`, `ce-tracestate`), stored with the outbox row, so a trace survives a restart
between commit and publish. Only events that carry a context get spans where they are
applied: a trace starts at an RPC, never at a replay or a catch-up.

Unset, no span is made anywhere: the guard, the relay and the consumers hold no `Tracing`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import grpc
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from yrd_alliance.kernel.rpc_outcome import observed

_PROPAGATOR = TraceContextTextMapPropagator()
EVENT_PREFIX = "ce-"  # the CloudEvents binary-mode prefix of the extension's attributes
TRACE_HEADERS = ("ce-traceparent", "ce-tracestate")
# The most of a caller's tracestate an event carries on to every region (W3C asks that at
# least 512 characters be kept); a longer one is dropped rather than copied into the streams.
MAX_TRACESTATE = 512


def event_trace_headers() -> dict[str, str]:
    """`ce-traceparent` (and `ce-tracestate`) of the span now current, for an event built under
    it; empty when nothing is being traced."""
    if not trace.get_current_span().get_span_context().is_valid:
        return {}
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    if len(carrier.get("tracestate", "")) > MAX_TRACESTATE:
        del carrier["tracestate"]
    return {EVENT_PREFIX + key: value for key, value in carrier.items()}


def _event_context(headers: Mapping[str, str]) -> Context | None:
    if EVENT_PREFIX + "traceparent" not in headers:
        return None
    carrier = {
        key.removeprefix(EVENT_PREFIX): value
        for key, value in headers.items()
        if key in TRACE_HEADERS
    }
    context = _PROPAGATOR.extract(carrier)
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def enabled_by_environment(environ: Mapping[str, str] = os.environ) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    if environ.get("OTEL_TRACES_EXPORTER", "otlp").lower() == "none":
        return False
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


class Tracing:
    """The spans of one service process."""

    def __init__(self, provider: trace.TracerProvider) -> None:
        self._provider = provider
        self._tracer = provider.get_tracer("yrd_alliance")

    @classmethod
    def from_environment(cls, service: str, region: str) -> Tracing | None:
        """A tracer exporting over OTLP as the standard OTEL_* variables say, or None."""
        if not enabled_by_environment():
            return None
        # The SDK is imported only when it is used.
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        resource = Resource.create(
            {
                "service.name": service,
                "service.namespace": "alliance",
                "service.instance.id": f"{service}-{region}-{os.getpid()}",
                "alliance.region": region,
            }
        )
        # shut down by the service when it stops (shutdown), not again at interpreter exit
        provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        return cls(provider)

    def shutdown(self, timeout_s: float = 2.0) -> None:
        """Exports what is still buffered, waiting at most `timeout_s`: a collector that does
        not answer must not hold a stopping service (the exporter's own deadline is 10 s)."""
        shutdown = getattr(self._provider, "shutdown", None)
        if shutdown is not None:
            exporting = threading.Thread(target=shutdown, name="trace-shutdown", daemon=True)
            exporting.start()
            exporting.join(timeout_s)

    def rpc(
        self, service: str, method: str, behaviour: Callable[[Any, Any], Awaitable[Any]]
    ) -> Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]:
        """`behaviour` inside a SERVER span that continues the caller's `traceparent`."""
        name = f"{service}/{method}"
        attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}
        tracer = self._tracer

        async def traced(request: Any, context: grpc.aio.ServicerContext) -> Any:
            metadata = {key: value for key, value in context.invocation_metadata() or ()}
            parent = _PROPAGATOR.extract(metadata) if "traceparent" in metadata else None
            with tracer.start_as_current_span(
                name, context=parent, kind=SpanKind.SERVER, attributes=attributes,
                record_exception=False, set_status_on_exception=False,
            ) as span:  # fmt: skip

                def ended(code: grpc.StatusCode) -> None:
                    span.set_attribute("rpc.grpc.status_code", code.value[0])
                    if code in _SERVER_FAULTS:
                        span.set_status(Status(StatusCode.ERROR, code.name))

                return await observed(behaviour, request, context, ended)

        return traced

    @contextmanager
    def applying(
        self, event_type: str, trace_headers: Mapping[str, str], consumer: str
    ) -> Iterator[None]:
        """A CONSUMER span around applying an event that carries a trace context."""
        parent = _event_context(trace_headers)
        if parent is None:
            yield
            return
        with self._tracer.start_as_current_span(
            f"apply {event_type.rsplit('.', 1)[-1]}",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes={"messaging.system": "nats", "messaging.consumer.group.name": consumer,
                        "cloudevents.event_type": event_type},
        ):  # fmt: skip
            yield

    def published(
        self, subject: str, headers: Mapping[str, str], committed_at_s: float, acked_at_s: float
    ) -> None:
        """A PRODUCER span from the outbox row's commit to JetStream's ack of its event."""
        parent = _event_context(headers)
        if parent is None:
            return
        event_type = headers.get("ce-type", "")
        span = self._tracer.start_span(
            f"publish {event_type.rsplit('.', 1)[-1]}",
            context=parent,
            kind=SpanKind.PRODUCER,
            start_time=int(committed_at_s * 1e9),
            attributes={"messaging.system": "nats", "messaging.destination.name": subject,
                        "cloudevents.event_id": headers.get("ce-id", "")},
        )  # fmt: skip
        span.end(end_time=int(acked_at_s * 1e9))


# Codes that mean the service failed, not the caller (OpenTelemetry's rule for gRPC servers).
_SERVER_FAULTS = {
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DATA_LOSS,
}
