"""A small OTLP/gRPC trace receiver that keeps the spans it is sent: what the tests and the
benchmarks export to, and what `alliance traces` prints for an operator without a trace store.
Any OTLP collector (Jaeger, Tempo, the OpenTelemetry Collector) takes its place in production."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1 import trace_pb2

KINDS = {
    trace_pb2.Span.SPAN_KIND_SERVER: "server",
    trace_pb2.Span.SPAN_KIND_CLIENT: "client",
    trace_pb2.Span.SPAN_KIND_PRODUCER: "producer",
    trace_pb2.Span.SPAN_KIND_CONSUMER: "consumer",
    trace_pb2.Span.SPAN_KIND_INTERNAL: "internal",
}


@dataclass(frozen=True)
class ReceivedSpan:
    trace_id: str
    span_id: str
    parent_id: str  # "" for a trace's root
    name: str
    kind: str
    service: str
    region: str
    instance: str  # one per process
    start_ns: int
    end_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def milliseconds(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind in ("string_value", "int_value", "bool_value",
                                            "double_value") else str(value)  # fmt: skip


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs if isinstance(pair, KeyValue)}


class TraceSink(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, on_span: Callable[[ReceivedSpan], None] = lambda span: None) -> None:
        self.spans: list[ReceivedSpan] = []
        self._on_span = on_span
        self._server: grpc.aio.Server | None = None

    async def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        for resource_spans in request.resource_spans:
            resource = _attributes(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received = ReceivedSpan(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_id=span.parent_span_id.hex(),
                        name=span.name,
                        kind=KINDS.get(span.kind, "unspecified"),
                        service=str(resource.get("service.name", "")),
                        region=str(resource.get("alliance.region", "")),
                        instance=str(resource.get("service.instance.id", "")),
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        attributes=_attributes(span.attributes),
                    )
                    self.spans.append(received)
                    self._on_span(received)
        return trace_service_pb2.ExportTraceServiceResponse()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listens (plaintext, like a collector's local port); returns the port."""
        self._server = grpc.aio.server()
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self, self._server)
        bound = self._server.add_insecure_port(f"{host}:{port}")
        if bound == 0:
            raise OSError(f"cannot listen on {host}:{port}")
        await self._server.start()
        return bound

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(0)
            self._server = None

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        return [span for span in self.spans if span.trace_id == trace_id]

    async def wait_for(
        self, found: Callable[[list[ReceivedSpan]], bool], timeout_s: float = 10.0
    ) -> list[ReceivedSpan]:
        """The spans received, once `found` holds for them; TimeoutError after the timeout."""
        deadline = time.monotonic() + timeout_s
        while not found(self.spans):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.spans)} spans received; the one awaited is not")
            await asyncio.sleep(0.05)
        return self.spans
