"""The portal's Prometheus metrics, on an HTTP port of its own (`/metrics`), like the
services': pages served by page, method and status, how long they took, and the live
streams open. Pages are labelled by their route's name, never by their path (no unbounded
label values)."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yrd_alliance.kernel.metrics import LATENCY_BUCKETS

LABELS = ["region", "service"]


class PortalMetrics:
    def __init__(self, region: str) -> None:
        self.registry = CollectorRegistry()
        self._common = {"region": region, "service": "portal"}
        self._requests = Counter(
            "http_server_requests_total",
            "Pages and other HTTP requests answered, by page, method and status.",
            [*LABELS, "page", "method", "code"],
            registry=self.registry,
        )
        self._duration = Histogram(
            "http_server_request_duration_seconds",
            "Time to answer a page (live streams are not counted here).",
            [*LABELS, "page"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._streams = Gauge(
            "alliance_portal_live_streams",
            "Server-sent event streams open to browsers.",
            LABELS,
            registry=self.registry,
        )

    def middleware(self, app: ASGIApp) -> ASGIApp:
        async def measured(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            began, status, streaming = time.monotonic(), [500], [False]

            async def watching(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status[0] = message["status"]
                    headers = dict(message.get("headers", []))
                    streaming[0] = headers.get(b"content-type", b"").startswith(
                        b"text/event-stream"
                    )
                    if streaming[0]:
                        self._streams.labels(**self._common).inc()
                await send(message)

            try:
                await app(scope, receive, watching)
            finally:
                page = _page(scope.get("endpoint"))
                self._requests.labels(
                    **self._common, page=page, method=scope["method"], code=str(status[0])
                ).inc()
                if streaming[0]:
                    self._streams.labels(**self._common).dec()
                else:
                    self._duration.labels(**self._common, page=page).observe(
                        time.monotonic() - began
                    )

        return measured

    def serve(self, host: str, port: int) -> int:
        server, _ = start_http_server(port, addr=host, registry=self.registry)
        return int(server.server_port)


def _page(endpoint: Any) -> str:
    return str(getattr(endpoint, "__name__", "other"))
