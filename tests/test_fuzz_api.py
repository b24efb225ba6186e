"""Random and malformed requests to every RPC of every service never yield INTERNAL or UNKNOWN,
and a refused request writes nothing. Each service runs in its own process; hypothesis builds
the requests."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc
from alliance.pairing.v1 import pairing_pb2 as pairing_pb
from alliance.pairing.v1 import pairing_pb2_grpc as pairing_grpc
from alliance.sharing.v1 import sharing_pb2 as sharing_pb
from google.protobuf.descriptor import Descriptor, FieldDescriptor, ServiceDescriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yrd_alliance.deployment.procs import NatsServer, ServiceProcess

from tests.conftest import Tokens, auth, new_region, sample_carrier
from tests.service_process import service_process

FORBIDDEN = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}

_INTS = st.one_of(st.integers(-5, 20), st.integers(-(2**31), 2**31 - 1))
_TEXT = st.one_of(
    st.text(max_size=30),
    st.text(alphabet="\x00\x01\n\t 创业中心", max_size=5),
    st.text(min_size=190, max_size=320),
)


def _names(region: str, known: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from([*known, "", f"regions/{region}", "regions/-", "regions/zz/carriers/x"]),
        st.sampled_from(known).map(lambda n: n + "/startups/01J0000000000000000000000Z"),
        _TEXT,
    )


def messages(
    descriptor: Descriptor, names: st.SearchStrategy[str], depth: int = 0
) -> st.SearchStrategy[Message]:
    """Any message of this type: each field unset or set to an arbitrary, often invalid, value."""
    from google.protobuf import message_factory

    cls = message_factory.GetMessageClass(descriptor)
    if descriptor.full_name == "google.protobuf.FieldMask":
        paths = st.lists(
            st.sampled_from(
                [
                    "city",
                    "display_name",
                    "level",
                    "name",
                    "state",
                    "*",
                    "contact",
                    "headcount",
                    "legal_needs",
                    "firm",
                    "specialties",
                    "capacity",
                    "conflicts",
                    "title",
                    "availability",
                    "terms",
                    "",
                    "x.y",
                ]
            ),
            max_size=4,
        )
        return paths.map(lambda p: cls(paths=p))
    if descriptor.full_name == "google.protobuf.Timestamp":
        return st.integers(0, 4_000_000_000).map(lambda s: cls(seconds=s))
    fields = {}
    for field in descriptor.fields:
        value = _value(field, names, depth)
        if value is None:
            continue
        if field.is_repeated:
            value = st.lists(value, max_size=4)
        fields[field.name] = st.one_of(st.none(), value)
    return st.fixed_dictionaries(fields).map(
        lambda values: cls(**{k: v for k, v in values.items() if v is not None})
    )


def _value(
    field: FieldDescriptor, names: st.SearchStrategy[str], depth: int
) -> st.SearchStrategy | None:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        return None if depth > 2 else messages(field.message_type, names, depth + 1)
    if field.type == FieldDescriptor.TYPE_STRING:
        if field.name in ("name", "parent"):
            return names
        if field.name == "request_id":
            return st.one_of(st.uuids().map(str), _TEXT)
        return _TEXT
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type in (
        FieldDescriptor.TYPE_ENUM,
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
    ):
        return _INTS
    if field.type == FieldDescriptor.TYPE_DOUBLE:
        return st.floats(allow_nan=True)
    raise AssertionError(f"no strategy for {field.full_name}")


class Target:
    def __init__(
        self,
        process: ServiceProcess,
        service: ServiceDescriptor,
        db_path: Path,
        tables: tuple[str, ...],
        tokens: Tokens,
        known: list[str],
    ) -> None:
        self.channel = process.grpc.channel()
        self.service = service
        self.db_path = db_path
        self.tables = (*tables, "outbox", "idempotency_keys")
        self.tokens = tokens
        self.known = known

    def counts(self) -> tuple[int, ...]:
        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True) as conn:
            return tuple(
                conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in self.tables
            )

    def call(self, method: str, body: bytes) -> grpc.StatusCode:
        rpc = self.channel.unary_unary(f"/{self.service.full_name}/{method}")
        try:
            rpc(body, metadata=auth(self.tokens.operator()), timeout=10)
        except grpc.RpcError as error:
            return error.code()  # type: ignore[no-any-return]
        return grpc.StatusCode.OK


@pytest.fixture(scope="module", params=["membership", "pairing", "sharing"])
def target(
    request: pytest.FixtureRequest,
    nats_server: NatsServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Target]:
    service: str = request.param
    region = new_region()
    folder = tmp_path_factory.mktemp(f"fuzz-{service}")
    process = service_process(service, region, folder / "s.db", nats_server.url, folder / "s.log")
    process.start()
    try:
        process.wait_ready()
        tokens = Tokens(region)
        channel = process.grpc.channel()
        md = auth(tokens.operator())
        if service == "membership":
            stub = pb_grpc.MembershipServiceStub(channel)
            carrier = stub.CreateCarrier(
                pb.CreateCarrierRequest(
                    parent=f"regions/{region}",
                    carrier=sample_carrier(),
                    request_id=str(uuid.uuid4()),
                ),
                metadata=md,
            )
            startup = stub.CreateStartup(
                pb.CreateStartupRequest(parent=carrier.name, startup=pb.Startup(display_name="A")),
                metadata=md,
            )
            descriptor = pb.DESCRIPTOR.services_by_name["MembershipService"]
            tables: tuple[str, ...] = ("carriers", "startups")
            known = [carrier.name, startup.name]
        elif service == "sharing":
            descriptor = sharing_pb.DESCRIPTOR.services_by_name["SharingService"]
            tables = ("resources", "requests", "bookings", "carriers")
            known = [
                f"regions/{region}/carriers/01J0000000000000000000000Z",
                f"regions/{region}/resources/01J0000000000000000000000Z",
                f"regions/{region}/requests/01J0000000000000000000000Z",
            ]
        else:
            lawyer = pairing_grpc.PairingServiceStub(channel).CreateLawyer(
                pairing_pb.CreateLawyerRequest(
                    parent=f"regions/{region}",
                    lawyer=pairing_pb.Lawyer(display_name="王律师", firm="所", specialties=[1]),
                ),
                metadata=md,
            )
            descriptor = pairing_pb.DESCRIPTOR.services_by_name["PairingService"]
            tables = ("lawyers", "rounds", "assignments", "checkups")
            known = [lawyer.name, f"regions/{region}/carriers/01J0000000000000000000000Z"]
        yield Target(process, descriptor, folder / "s.db", tables, tokens, known)
    finally:
        process.stop()


def _method_and_request(target: Target) -> st.SearchStrategy[tuple[str, bytes]]:
    names = _names(target.tokens.region, target.known)
    per_method = [
        st.tuples(
            st.just(m.name), messages(m.input_type, names).map(lambda msg: msg.SerializeToString())
        )
        for m in target.service.methods
    ]
    methods = [m.name for m in target.service.methods]
    garbage = st.tuples(st.sampled_from(methods), st.binary(max_size=64))
    return st.one_of(*per_method, garbage)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_requests_never_fail_internally_and_refusals_write_nothing(
    target: Target, data: st.DataObject
) -> None:
    method, body = data.draw(_method_and_request(target))
    before = target.counts()
    code = target.call(method, body)
    assert code not in FORBIDDEN, f"{method} answered {code} to {body!r}"
    if code != grpc.StatusCode.OK:
        assert target.counts() == before, f"{method} refused with {code} but wrote"
