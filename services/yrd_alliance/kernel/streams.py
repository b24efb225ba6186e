"""JetStream streams of a region, created idempotently at start.

EVENTS_<R> holds the region's own events (subjects alliance.<r>.>). ALL_<R> has no subjects: it
sources EVENTS_<R> and every other region's EVENTS_<X> through that region's JetStream domain
($JS.<x>.API, over the leaf connections), so a region holds every region's events and reads
them while cut off. Event ids start with their region, so ALL_<R>'s dedupe never mixes regions.
"""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import (
    DiscardPolicy,
    ExternalStream,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamSource,
)
from nats.js.errors import BadRequestError, NotFoundError

DUPLICATE_WINDOW_S = 120.0
RETENTION_S = 7 * 24 * 3600.0


def events_stream_name(region: str) -> str:
    return f"EVENTS_{region.upper()}"


def region_subjects(region: str) -> str:
    return f"alliance.{region}.>"


def _durable_stream(
    name: str, retention_s: float, replicas: int = 1, **kwargs: object
) -> StreamConfig:
    """File storage, kept for the retention period, deduplicated by Nats-Msg-Id; `replicas`
    copies on the servers of a region's cluster (a publish is acked once most hold it)."""
    return StreamConfig(
        name=name,
        num_replicas=replicas,
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=retention_s,
        duplicate_window=min(DUPLICATE_WINDOW_S, retention_s),
        allow_direct=True,
        **kwargs,  # type: ignore[arg-type]
    )


def events_stream_config(
    region: str, retention_s: float = RETENTION_S, replicas: int = 1
) -> StreamConfig:
    return _durable_stream(
        events_stream_name(region), retention_s, replicas, subjects=[region_subjects(region)]
    )


def all_stream_name(region: str) -> str:
    return f"ALL_{region.upper()}"


def all_stream_config(
    region: str, federation: list[str], retention_s: float = RETENTION_S, replicas: int = 1
) -> StreamConfig:
    sources = [StreamSource(name=events_stream_name(region))]
    sources += [
        StreamSource(
            name=events_stream_name(other), external=ExternalStream(api=f"$JS.{other}.API")
        )
        for other in federation
        if other != region
    ]
    return _durable_stream(all_stream_name(region), retention_s, replicas, sources=sources)


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    assert config.name is not None
    try:
        await js.stream_info(config.name)
    except NotFoundError:
        try:
            await js.add_stream(config)
            return
        except BadRequestError:
            pass  # another service of the region created it first
    await js.update_stream(config)
