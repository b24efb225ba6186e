"""Prometheus metrics of one service, on an HTTP port of its own (`/metrics`).

RPCs carry the names people have dashboards for (`grpc_server_started_total`,
`grpc_server_handled_total`, `grpc_server_handling_seconds`); the event pipeline, the
consumers and the read cache are read from the objects that count them when Prometheus
scrapes. Every metric has the labels `region` and `service`, and none has a label of unbounded
values (no resource names).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

COMMON = ["region", "service"]
RPC = [*COMMON, "grpc_service", "grpc_method", "grpc_type"]
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


@dataclass
class PipelineFigures:
    """What the pipeline watch last saw (it looks every second, on the service's loop), for a
    scrape that runs on the metrics server's thread and must not touch the database."""

    backlog: int = 0
    oldest_unsent_age_s: float = 0.0
    dead_letters: dict[str, int] = field(default_factory=dict)  # origin → count


class ServiceMetrics:
    def __init__(self, region: str, service: str) -> None:
        self.region, self.service = region, service
        self.registry = CollectorRegistry()
        self.pipeline = PipelineFigures()
        self._started = Counter(
            "grpc_server_started_total", "RPCs started on the server.", RPC, registry=self.registry
        )
        self._handled = Counter(
            "grpc_server_handled_total",
            "RPCs completed on the server, whatever their status.",
            [*RPC, "grpc_code"],
            registry=self.registry,
        )
        self._handling = Histogram(
            "grpc_server_handling_seconds",
            "Time the server took to answer an RPC.",
            RPC,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._sources: list[Callable[[], Iterator[Metric]]] = []
        self._publish = self._histogram(
            "alliance_outbox_publish_seconds",
            "Time to publish a batch of outbox events until JetStream acked them.",
            LATENCY_BUCKETS,
        )
        self._batch = self._histogram(
            "alliance_outbox_batch_events", "Events in a batch JetStream acked.", SIZE_BUCKETS
        )
        self._apply = self._histogram(
            "alliance_consumer_apply_seconds",
            "Time to apply one consumed event (handler and bookkeeping, before the commit).",
            LATENCY_BUCKETS,
        )
        self._commit = self._histogram(
            "alliance_storage_commit_seconds",
            "Time of one durable commit of the service's database.",
            LATENCY_BUCKETS,
        )
        self._group = self._histogram(
            "alliance_storage_commit_units",
            "Units of work made durable by one commit (group commit).",
            SIZE_BUCKETS,
        )
        self.registry.register(_Callback(self._collect))

    def rpc(self, full_service: str, method: str) -> RpcMetrics:
        labels = (self.region, self.service, full_service, method, "unary")
        by_code: dict[grpc.StatusCode, Any] = {}

        def handled(code: grpc.StatusCode) -> Any:
            child = by_code.get(code)
            if child is None:
                child = by_code[code] = self._handled.labels(*labels, code.name)
            return child

        return RpcMetrics(self._started.labels(*labels), self._handling.labels(*labels), handled)

    def published(self, seconds: float, events: int) -> None:
        self._publish.observe(seconds)
        self._batch.observe(events)

    def applied(self, seconds: float) -> None:
        self._apply.observe(seconds)

    def committed(self, seconds: float, units: int) -> None:
        self._commit.observe(seconds)
        self._group.observe(units)

    def watch(
        self,
        relay: Any,
        consumers: Sequence[Any],
        read_cache: Any,
    ) -> None:
        """What the scrape reads: the relay's and consumers' counters, the read cache's."""

        def figures() -> Iterator[Metric]:
            p = self.pipeline
            yield self._gauge("alliance_outbox_backlog", "Events committed, not yet acked.",
                              p.backlog)  # fmt: skip
            yield self._gauge(
                "alliance_outbox_oldest_unsent_age_seconds",
                "Age of the oldest event not yet acked by JetStream.",
                p.oldest_unsent_age_s,
            )
            yield self._counter("alliance_outbox_published", "Events acked by JetStream.",
                                relay.published)  # fmt: skip
            letters = GaugeMetricFamily(
                "alliance_dead_letters", "Events set aside, waiting for an operator.",
                labels=[*COMMON, "origin"],
            )  # fmt: skip
            for origin, count in sorted(p.dead_letters.items()):
                letters.add_metric([self.region, self.service, origin], count)
            yield letters
            for name, help_text, attribute in (
                ("alliance_consumer_applied", "Events applied by the consumer.", "applied"),
                ("alliance_consumer_redelivered", "Deliveries retried after a failure.", "retried"),
                ("alliance_consumer_dead_lettered", "Events set aside by the consumer.",
                 "dead_lettered"),
            ):  # fmt: skip
                family = CounterMetricFamily(name, help_text, labels=[*COMMON, "durable"])
                for consumer in consumers:
                    family.add_metric(
                        [self.region, self.service, consumer.durable], getattr(consumer, attribute)
                    )
                yield family
            yield self._counter("alliance_read_cache_hits", "Replies served from the cache.",
                                read_cache.hits)  # fmt: skip
            yield self._counter("alliance_read_cache_misses", "Replies computed.",
                                read_cache.misses)  # fmt: skip

        self._sources.append(figures)

    def watch_federation(self, supervisor: Any) -> None:
        """Per source region: the lag of this region's copy, and whether its domain answers."""

        def figures() -> Iterator[Metric]:
            labels = [*COMMON, "source_region"]
            lag = GaugeMetricFamily(
                "alliance_federation_lag_events",
                "Events of the source region not yet in this region's copy.",
                labels=labels,
            )
            reachable = GaugeMetricFamily(
                "alliance_federation_source_reachable",
                "1 when the source region's JetStream domain answers, else 0.",
                labels=labels,
            )
            restarts = CounterMetricFamily(
                "alliance_federation_source_restarts",
                "Times this region restarted its source of that region.",
                labels=labels,
            )
            for source, answers in sorted(supervisor.reachable.items()):
                key = [self.region, self.service, source]
                lag.add_metric(key, supervisor.lag.get(source, 0))
                reachable.add_metric(key, 1 if answers else 0)
                restarts.add_metric(key, supervisor.restarts.get(source, 0))
            yield from (lag, reachable, restarts)

        self._sources.append(figures)

    def serve(self, host: str, port: int) -> tuple[Any, int]:
        """Starts `/metrics` on its own thread; (the server, its port)."""
        server, _ = start_http_server(port, addr=host, registry=self.registry)
        return server, int(server.server_port)

    def _collect(self) -> Iterator[Metric]:
        for source in self._sources:
            yield from source()

    def _histogram(self, name: str, help_text: str, buckets: tuple[float, ...]) -> Any:
        """A histogram of this service alone (labels region and service only)."""
        family = Histogram(name, help_text, COMMON, buckets=buckets, registry=self.registry)
        return family.labels(self.region, self.service)

    def _gauge(self, name: str, help_text: str, value: float) -> Metric:
        family = GaugeMetricFamily(name, help_text, labels=COMMON)
        family.add_metric([self.region, self.service], value)
        return family

    def _counter(self, name: str, help_text: str, value: float) -> Metric:
        family = CounterMetricFamily(name, help_text, labels=COMMON)
        family.add_metric([self.region, self.service], value)
        return family


@dataclass(frozen=True)
class RpcMetrics:
    """One method's children, bound once when the method is registered."""

    started: Any
    handling: Any
    handled: Callable[[grpc.StatusCode], Any]

    def begin(self) -> float:
        self.started.inc()
        return time.perf_counter()

    def end(self, began: float, code: grpc.StatusCode) -> None:
        self.handling.observe(time.perf_counter() - began)
        self.handled(code).inc()


class _Callback(Collector):
    def __init__(self, collect: Callable[[], Iterator[Metric]]) -> None:
        self._collect = collect

    def collect(self) -> Iterator[Metric]:
        return self._collect()
