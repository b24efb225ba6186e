"""Traces across gRPC and NATS: membership and sharing of sh and hz run as processes of their own
exporting over OTLP to a receiver the test runs; the caller's `traceparent` is continued by the
RPC's span, and the context travels in each event's ce-traceparent to the consumers of the other
region, whose spans continue it."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import secrets
import signal
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alliance.membership.v1 import membership_pb2 as mpb
from alliance.membership.v1 import membership_pb2_grpc as mpb_grpc
from alliance.sharing.v1 import sharing_pb2 as pb
from alliance.sharing.v1 import sharing_pb2_grpc as sharing_grpc
from alliance.sharing.v1.events_pb2 import ResourceCreated
from opentelemetry.sdk.trace import TracerProvider
from yrd_alliance.deployment.ports import free_port
from yrd_alliance.deployment.procs import ManagedProcess, ServiceProcess, venv_script
from yrd_alliance.deployment.trace_sink import ReceivedSpan, TraceSink
from yrd_alliance.kernel import logs
from yrd_alliance.kernel.events import Event, build_event
from yrd_alliance.kernel.tracing import Tracing, enabled_by_environment

from tests.conftest import Tokens, auth, sample_carrier
from tests.federation import Federation
from tests.helpers import eventually
from tests.test_sharing_federation import create_resource, window

pytestmark = pytest.mark.slow
REGIONS = ("sh", "hz")
SERVICES = ("membership", "sharing")


class Traced:
    def __init__(self, federation: Federation, sink: TraceSink) -> None:
        self.federation = federation
        self.sink = sink
        self.processes: dict[tuple[str, str], ServiceProcess] = {}

    def stub(self, region: str, service: str) -> Any:
        channel = self.processes[region, service].grpc.aio_channel()
        if service == "membership":
            return mpb_grpc.MembershipServiceStub(channel)
        return sharing_grpc.SharingServiceStub(channel)


@pytest.fixture
async def traced(tmp_path: Path) -> AsyncIterator[Traced]:
    sink = TraceSink()
    port = await sink.start()
    try:
        federation = await Federation.start(list(REGIONS), tmp_path, partners=(), membership=False)
    except BaseException:
        await sink.stop()
        raise
    environment = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    running = Traced(federation, sink)
    try:
        for region in REGIONS:
            for service in SERVICES:
                process = federation.process(region, service, environment)
                running.processes[region, service] = process
                process.start()
        for process in running.processes.values():
            await asyncio.to_thread(process.wait_ready)
        yield running
    finally:
        # in threads, so the receiver on this loop takes the spans they export as they stop
        await asyncio.gather(
            *(asyncio.to_thread(process.stop) for process in running.processes.values())
        )
        await federation.stop()
        await sink.stop()


def caller_context() -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """A caller's trace id and span id, and the `traceparent` metadata that carries them."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, span_id, (("traceparent", f"00-{trace_id}-{span_id}-01"),)


def spans_named(spans: list[ReceivedSpan], name: str) -> list[ReceivedSpan]:
    return [span for span in spans if span.name == name]


async def create_carrier(traced: Traced, region: str, metadata: tuple[Any, ...] = ()) -> str:
    stub = traced.stub(region, "membership")
    reply = await stub.CreateCarrier(
        mpb.CreateCarrierRequest(parent=f"regions/{region}", carrier=sample_carrier()),
        metadata=(*auth(Tokens(region).operator()), *metadata),
    )
    return str(reply.name)


async def test_a_carriers_registration_is_one_trace_across_three_processes_in_two_regions(
    traced: Traced,
) -> None:
    trace_id, caller_span, metadata = caller_context()
    await create_carrier(traced, "hz", metadata)

    def applied_everywhere(spans: list[ReceivedSpan]) -> bool:
        # Each process exports its own spans in batches, in no order between processes.
        mine = [s for s in spans if s.trace_id == trace_id]
        applies = spans_named(mine, "apply CarrierRegistered")
        return {(s.service, s.region) for s in applies} >= {
            ("membership", "sh"), ("sharing", "sh"), ("sharing", "hz")
        } and bool(spans_named(mine, "publish CarrierRegistered"))  # fmt: skip

    await traced.sink.wait_for(applied_everywhere, timeout_s=15)
    spans = traced.sink.trace(trace_id)
    (rpc,) = spans_named(spans, "alliance.membership.v1.MembershipService/CreateCarrier")
    assert (rpc.kind, rpc.service, rpc.region) == ("server", "membership", "hz")
    assert rpc.parent_id == caller_span, "the RPC continues the caller's trace"
    assert rpc.attributes["rpc.grpc.status_code"] == 0
    (publish,) = spans_named(spans, "publish CarrierRegistered")
    assert (publish.kind, publish.parent_id, publish.instance) == (
        "producer",
        rpc.span_id,
        rpc.instance,
    )
    assert publish.attributes["messaging.destination.name"].startswith("alliance.hz.membership.")
    applies = spans_named(spans, "apply CarrierRegistered")
    assert {s.kind for s in applies} == {"consumer"}
    assert {s.parent_id for s in applies} == {rpc.span_id}
    processes = {s.instance for s in spans}
    assert len(processes) >= 3 and {s.region for s in spans} == {"sh", "hz"}
    assert len({(s.instance, s.name) for s in applies}) == len(applies), "each applied once"


async def test_a_request_in_hz_the_owners_hold_in_sh_and_the_update_in_hz_are_one_trace(
    traced: Traced,
) -> None:
    owner = await create_carrier(traced, "sh")
    requester = await create_carrier(traced, "hz")
    lab = await create_resource(traced.stub("sh", "sharing"), "sh", owner)
    hz = traced.stub("hz", "sharing")
    trace_id, caller_span, metadata = caller_context()
    create = pb.CreateRequestRequest(
        parent="regions/hz",
        request=pb.Request(
            resource=lab.name, requester=requester, units=1, window=window(), purpose="样品检测"
        ),
        request_id=str(uuid.uuid4()),
    )
    request = await eventually(
        lambda: hz.CreateRequest(
            create, metadata=(*auth(Tokens("hz").carrier(requester)), *metadata)
        ),
        lambda _: True,
        "hz knows the lab",
    )

    def held_in_sh_and_decided_in_hz(spans: list[ReceivedSpan]) -> bool:
        mine = [s for s in spans if s.trace_id == trace_id]
        return any(s.region == "sh" for s in spans_named(mine, "apply RequestCreated")) and any(
            s.region == "hz" for s in spans_named(mine, "apply BookingChanged")
        )

    await traced.sink.wait_for(held_in_sh_and_decided_in_hz, timeout_s=15)
    spans = traced.sink.trace(trace_id)
    rpcs = spans_named(spans, "alliance.sharing.v1.SharingService/CreateRequest")
    ok = [s for s in rpcs if s.attributes["rpc.grpc.status_code"] == 0]
    assert len(ok) == 1 and (ok[0].service, ok[0].region) == ("sharing", "hz")
    assert ok[0].parent_id == caller_span
    (hold,) = [s for s in spans_named(spans, "apply RequestCreated") if s.region == "sh"]
    assert (hold.service, hold.kind, hold.parent_id) == ("sharing", "consumer", ok[0].span_id)
    (update,) = [s for s in spans_named(spans, "apply BookingChanged") if s.region == "hz"]
    assert (update.service, update.parent_id) == ("sharing", hold.span_id)
    assert update.instance == ok[0].instance != hold.instance
    assert ok[0].start_ns < hold.start_ns < update.start_ns
    shown = await hz.GetRequest(
        pb.GetRequestRequest(name=request.name), metadata=auth(Tokens("hz").operator())
    )
    assert shown.state == pb.REQUEST_STATE_PENDING and shown.capacity_held


def test_nothing_is_traced_unless_an_otlp_endpoint_is_set() -> None:
    assert not enabled_by_environment({})
    assert not enabled_by_environment({"OTEL_EXPORTER_OTLP_ENDPOINT": ""})
    endpoint = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}
    assert enabled_by_environment(endpoint)
    assert not enabled_by_environment({**endpoint, "OTEL_SDK_DISABLED": "true"})
    assert not enabled_by_environment({**endpoint, "OTEL_TRACES_EXPORTER": "none"})
    assert enabled_by_environment({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4317"})


def _event() -> Event:
    return build_event(
        region="sh", service="sharing", entity="resource", verb="created",
        resource="regions/sh/resources/r1", version=1, payload=ResourceCreated(),
    )  # fmt: skip


def test_an_event_carries_the_context_it_was_built_under_and_only_then() -> None:
    assert "ce-traceparent" not in _event().headers()
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("rpc") as span:
        event = _event()
    context = span.get_span_context()
    parent = event.headers()["ce-traceparent"]
    assert parent.startswith(f"00-{context.trace_id:032x}-{context.span_id:016x}-")
    copy = Event.from_nats(event.subject, event.headers(), event.payload)
    assert copy.trace == event.trace and copy.headers() == event.headers()


def test_a_callers_long_tracestate_is_not_copied_into_the_events() -> None:
    """A caller chooses its traceparent and tracestate: what it sends is bounded in the events
    every region stores, and a malformed traceparent starts a trace of the service's own."""
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    propagator = TraceContextTextMapPropagator()
    tracer = TracerProvider().get_tracer("test")
    parent = f"00-{'a' * 32}-{'b' * 16}-01"
    long_state = ",".join(f"k{i}={'v' * 200}" for i in range(30))  # about 6 KB, 30 members
    short_state = "vendor=opaque"
    for state, kept in ((long_state, None), (short_state, short_state)):
        context = propagator.extract({"traceparent": parent, "tracestate": state})
        with tracer.start_as_current_span("rpc", context=context):
            headers = _event().headers()
        assert headers["ce-traceparent"].startswith(f"00-{'a' * 32}-")
        assert headers.get("ce-tracestate") == kept
    context = propagator.extract({"traceparent": "00-zz-not-a-trace", "tracestate": long_state})
    with tracer.start_as_current_span("rpc", context=context) as span:
        headers = _event().headers()
    assert headers["ce-traceparent"].startswith(f"00-{span.get_span_context().trace_id:032x}-")
    assert "ce-tracestate" not in headers


def test_log_records_made_inside_a_span_carry_its_trace_id() -> None:
    stream = io.StringIO()
    writer = logs.handler("sharing", "sh", "json")
    writer.setStream(stream)  # type: ignore[attr-defined]
    log = logging.getLogger("test_tracing")
    log.addHandler(writer)
    tracer = TracerProvider().get_tracer("test")
    try:
        log.warning("outside")
        with tracer.start_as_current_span("rpc") as span:
            log.warning("inside")
    finally:
        log.removeHandler(writer)
    outside, inside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert "trace_id" not in outside and inside["message"] == "inside"
    assert inside["trace_id"] == f"{span.get_span_context().trace_id:032x}"
    assert inside["span_id"] == f"{span.get_span_context().span_id:016x}"
    text = logs.handler("sharing", "sh", "text")
    with tracer.start_as_current_span("rpc") as span:
        record = log.makeRecord("test", logging.INFO, "", 0, "hello", (), None)
        text.filter(record)
    assert text.format(record).endswith(f"hello trace={span.get_span_context().trace_id:032x}")


def exporting_to(port: int, region: str) -> Tracing:
    """Sharing's tracing as a process of that region makes it, exporting to 127.0.0.1:port."""
    os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{port}"
    try:
        tracing = Tracing.from_environment("sharing", region)
    finally:
        del os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"]
    assert tracing is not None
    return tracing


def logged(log: Path, text: str, within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while not (log.exists() and text in log.read_text()):
        assert time.monotonic() < deadline, f"{text!r} not in {log.name} after {within_s}s"
        time.sleep(0.05)


def test_alliance_traces_prints_the_spans_it_receives(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "traces.log"
    receiver = ManagedProcess(
        "traces",
        [venv_script("alliance"), "traces", "--listen", f"127.0.0.1:{port}"],
        env={"COLUMNS": "200"},
        log_path=log,
    )
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:  # started as from a script's background job: SIGINT comes in ignored
        receiver.start()
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        logged(log, "receiving traces")
        tracing = exporting_to(port, "hz")
        with TracerProvider().get_tracer("test").start_as_current_span("caller"):
            tracing.published(
                "alliance.hz.sharing.request.created",
                {**_event().headers(), "ce-type": "cn.yrd.alliance.sharing.v1.RequestCreated"},
                committed_at_s=time.time() - 0.25,
                acked_at_s=time.time(),
            )
        tracing.shutdown()
        logged(log, "publish RequestCreated")
        (line,) = [x for x in log.read_text().splitlines() if "publish RequestCreated" in x]
        assert "hz/sharing" in line and "producer" in line
        assert 240 <= float(line.split(" ms")[0].split()[-1]) < 1000
        receiver.signal_group(signal.SIGINT)  # Ctrl-C, even where SIGINT came in ignored
        assert receiver.proc is not None and receiver.proc.wait(timeout=5) == 0
    finally:
        receiver.stop()


def test_a_collector_that_does_not_answer_holds_a_stopping_service_two_seconds_at_most() -> None:
    port = free_port()  # nothing listens there
    tracing = exporting_to(port, "sh")
    headers = {**_event().headers(), "ce-traceparent": f"00-{'1' * 32}-{'2' * 16}-01"}
    tracing.published("alliance.sh.sharing.x", headers, time.time() - 1, time.time())
    began = time.monotonic()
    tracing.shutdown()
    assert time.monotonic() - began < 2.5
