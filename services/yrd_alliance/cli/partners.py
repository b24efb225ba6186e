"""Partner organisations on a region's NATS: each reads a copy of the region's events in an
account of its own, fed by one durable consumer the alliance owns.

In the ALLIANCE account, `partner-feed-<name>` is a push consumer on ALL_<R> (flow-controlled,
delivering to `partner.deliver.<r>.<name>`) whose filter and start are what the alliance lets
the partner see. In the partner's account, a stream also named ALL_<R> sources that consumer
("durable stream sourcing"); the partner creates its own consumers on it, replays, resumes and
acks there. The accounts (deployment.nats_auth) export to the partner only the feed's delivery,
its flow control and its reset: nothing of the services' consumers, inboxes or streams.

Provisioning is idempotent: run again, it changes nothing that exists. What a partner sees is
fixed when its feed is made; to change it, remove the partner and add it again (its copy is
then rebuilt from what ALL_<R> still holds).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from dataclasses import dataclass
from datetime import datetime

import nats
from nats.aio.client import Client

from yrd_alliance.deployment.nats_auth import feed_name, feed_subject
from yrd_alliance.kernel.streams import RETENTION_S, all_stream_name

# What a partner organisation reads (the README's read table): the directories, the pairing
# (check-up events carry no finding notes), the resources (not public: only that they are not on
# offer) and the revoked tokens. Requests and bookings — who asked whom for what, and why —
# stay with their parties and their regions' operators; partners see them only in aggregate
# (GetSharingStats).
PARTNER_EVENTS = (
    "alliance.*.membership.>",
    "alliance.*.pairing.>",
    "alliance.*.sharing.resource.>",
    "alliance.*.trust.>",
)


@dataclass(frozen=True)
class Partner:
    name: str
    subjects: tuple[str, ...] = PARTNER_EVENTS
    since: datetime | None = None


class ProvisioningError(RuntimeError):
    """The server refused a step of provisioning; the message says which and why."""


async def _api(nc: Client, subject: str, body: dict[str, object]) -> dict[str, object]:
    reply = await nc.request(subject, json.dumps(body).encode(), timeout=5)
    answer: dict[str, object] = json.loads(reply.data)
    return answer


def _error(answer: dict[str, object]) -> dict[str, object] | None:
    error = answer.get("error")
    return error if isinstance(error, dict) else None


async def provision(
    service_url: str,
    admin_url: str,
    region: str,
    partner: Partner,
    *,
    retention_s: float = RETENTION_S,
    wait_s: float = 30.0,
    tls: ssl.SSLContext | None = None,
) -> None:
    """Makes the partner's feed in ALLIANCE (service credentials) and its copy in its own
    account (the alliance's admin credentials for that account), unless they exist. Waits up
    to `wait_s` for the region's services to have made ALL_<R>."""
    stream = all_stream_name(region)
    feed, deliver = feed_name(partner.name), feed_subject(region, partner.name)
    config: dict[str, object] = {
        "durable_name": feed,
        "name": feed,
        "deliver_subject": deliver,
        "ack_policy": "flow_control",
        "filter_subjects": list(partner.subjects),
        "deliver_policy": "all",
    }
    if partner.since is not None:
        config["deliver_policy"] = "by_start_time"
        config["opt_start_time"] = partner.since.isoformat().replace("+00:00", "Z")
    service = await nats.connect(service_url, connect_timeout=3, allow_reconnect=False, tls=tls)
    try:
        await _stream_made(service, stream, wait_s)
        existing = await _api(service, f"$JS.API.CONSUMER.INFO.{stream}.{feed}", {})
        if _error(existing) is not None:
            made = await _api(
                service,
                f"$JS.API.CONSUMER.CREATE.{stream}.{feed}",
                {"stream_name": stream, "config": config},
            )
            if (error := _error(made)) is not None:
                raise ProvisioningError(f"the feed of {partner.name} in {region}: {error}")
    finally:
        await service.close()
    admin = await nats.connect(admin_url, connect_timeout=3, allow_reconnect=False, tls=tls)
    try:
        existing = await _api(admin, f"$JS.API.STREAM.INFO.{stream}", {})
        if _error(existing) is None:
            return
        copy = {
            "name": stream,
            "storage": "file",
            "max_age": int(retention_s * 1e9),
            "deny_delete": True,
            "deny_purge": True,
            "allow_direct": True,
            "sources": [
                {
                    "name": stream,
                    "external": {"api": "ALLIANCE.API"},
                    "consumer": {
                        "name": feed,
                        "deliver_subject": feed_subject(region, partner.name),
                    },
                }
            ],
        }
        made = await _api(admin, f"$JS.API.STREAM.CREATE.{stream}", copy)
        if (error := _error(made)) is not None:
            raise ProvisioningError(f"the copy of {partner.name} in {region}: {error}")
    finally:
        await admin.close()


async def _stream_made(nc: Client, stream: str, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    while _error(await _api(nc, f"$JS.API.STREAM.INFO.{stream}", {})) is not None:
        if time.monotonic() > deadline:
            raise ProvisioningError(f"{stream} does not exist: are the region's services up?")
        await asyncio.sleep(0.1)


async def deprovision(
    service_url: str, admin_url: str, region: str, name: str, tls: ssl.SSLContext | None = None
) -> None:
    """Removes the partner's copy and its feed; the account goes with the next config reload."""
    stream = all_stream_name(region)
    admin = await nats.connect(admin_url, connect_timeout=3, allow_reconnect=False, tls=tls)
    try:
        await _api(admin, f"$JS.API.STREAM.DELETE.{stream}", {})
    finally:
        await admin.close()
    service = await nats.connect(service_url, connect_timeout=3, allow_reconnect=False, tls=tls)
    try:
        await _api(service, f"$JS.API.CONSUMER.DELETE.{stream}.{feed_name(name)}", {})
    finally:
        await service.close()


async def describe(
    service_url: str, admin_url: str, region: str, name: str, tls: ssl.SSLContext | None = None
) -> tuple[str, str, str]:
    """What the partner sees in the region (its feed's filter and start) and how many events
    its copy holds; "not provisioned" where a part is missing."""
    stream = all_stream_name(region)
    service = await nats.connect(service_url, connect_timeout=3, allow_reconnect=False, tls=tls)
    try:
        feed = await _api(service, f"$JS.API.CONSUMER.INFO.{stream}.{feed_name(name)}", {})
    finally:
        await service.close()
    admin = await nats.connect(admin_url, connect_timeout=3, allow_reconnect=False, tls=tls)
    try:
        copy = await _api(admin, f"$JS.API.STREAM.INFO.{stream}", {})
    finally:
        await admin.close()
    if _error(feed) is not None:
        return "not provisioned", "", ""
    config = feed.get("config", {})
    assert isinstance(config, dict)
    sees = ", ".join(config.get("filter_subjects") or [config.get("filter_subject") or ">"])
    state = copy.get("state")
    held = str(state.get("messages", 0)) if isinstance(state, dict) else "not provisioned"
    return sees, str(config.get("opt_start_time", "the start")), held
