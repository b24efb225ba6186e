"""Baseline servers measured beside the real service, each in its own process:

  echo   a bare grpc.aio unary handler; the request is a decimal byte count and the reply that
         many bytes, so each measured call is compared with moving the same reply size
  naive  the write path the outbox replaces: one durable SQLite commit, then one awaited
         JetStream publish-ack, inside the handler

python -m bench.baselines echo PORT
python -m bench.baselines naive PORT DB_PATH NATS_URL REGION

Both serve TLS when BENCH_TLS_CERT and BENCH_TLS_KEY name a certificate and its key.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

import grpc
import nats
import uvloop
from alliance.membership.v1 import membership_pb2 as pb
from yrd_alliance.kernel.names import etag, new_id
from yrd_alliance.kernel.streams import ensure_stream, events_stream_config

ECHO_METHOD = "/bench.Echo/Echo"
NAIVE_METHOD = "/bench.Naive/CreateCarrier"


def _identity(data: bytes) -> bytes:
    return data


async def echo(port: int) -> None:
    replies: dict[bytes, bytes] = {}

    async def handle(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        reply = replies.get(request)
        if reply is None:
            reply = replies[request] = b"x" * int(request)
        return reply

    handler = grpc.unary_unary_rpc_method_handler(handle, _identity, _identity)
    await _serve(port, grpc.method_handlers_generic_handler("bench.Echo", {"Echo": handler}))


async def naive(port: int, db_path: str, nats_url: str, region: str) -> None:
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS carriers (id TEXT PRIMARY KEY, data BLOB NOT NULL)")
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_stream(js, events_stream_config(region))

    async def handle(
        request: pb.CreateCarrierRequest, context: grpc.aio.ServicerContext
    ) -> pb.Carrier:
        carrier = pb.Carrier()
        carrier.CopyFrom(request.carrier)
        carrier_id = new_id()
        carrier.name = f"regions/{region}/carriers/{carrier_id}"
        carrier.etag = etag(carrier.name, 1)
        data = carrier.SerializeToString()
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO carriers (id, data) VALUES (?, ?)", (carrier_id, data))
        db.execute("COMMIT")
        await js.publish(
            f"alliance.{region}.membership.carrier.registered",
            data,
            headers={"Nats-Msg-Id": f"{region}-{carrier_id}"},
        )
        return carrier

    handler = grpc.unary_unary_rpc_method_handler(
        handle, pb.CreateCarrierRequest.FromString, pb.Carrier.SerializeToString
    )
    await _serve(
        port, grpc.method_handlers_generic_handler("bench.Naive", {"CreateCarrier": handler})
    )


def _tls() -> grpc.ServerCredentials | None:
    cert, key = os.environ.get("BENCH_TLS_CERT"), os.environ.get("BENCH_TLS_KEY")
    if not (cert and key):
        return None
    return grpc.ssl_server_credentials([(Path(key).read_bytes(), Path(cert).read_bytes())])


async def _serve(port: int, handler: grpc.GenericRpcHandler) -> None:
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    address = f"127.0.0.1:{port}"
    credentials = _tls()
    if credentials is not None:  # TLS like the services, so the ratios compare like with like
        server.add_secure_port(address, credentials)
    else:
        server.add_insecure_port(address)
    await server.start()
    print(f"ready {time.time()}", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    kind, port = sys.argv[1], int(sys.argv[2])
    # The same event loop as the services run on, so the ratios compare like with like.
    if kind == "echo":
        uvloop.run(echo(port))
    else:
        uvloop.run(naive(port, sys.argv[3], sys.argv[4], sys.argv[5]))
