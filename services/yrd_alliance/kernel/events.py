"""The event envelope: CloudEvents 1.0 in NATS binary mode, payload a protobuf message.

Subject: alliance.<region>.<service>.<entity>.<verb>. The event id doubles as Nats-Msg-Id, so
JetStream drops a re-published copy inside its duplicate window; it starts with the region, so
ids never collide when every region's events meet in one stream.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import DecodeError, Message
from ulid import ULID

from yrd_alliance.kernel.errors import FieldViolation, InvalidArgument, Violations
from yrd_alliance.kernel.event_types import UnknownEventType, payload_class, type_of
from yrd_alliance.kernel.tracing import TRACE_HEADERS, event_trace_headers

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/protobuf"
# The largest event (payload and headers) a service may emit. NATS refuses messages over its
# max_payload (1 MiB by default); the rest is headroom for the headers JetStream adds when
# ALL_<R> sources the event, so an event that fits its own stream fits every copy.
MAX_EVENT_BYTES = 1_000_000
HEADER_ROOM = 4096  # more than any event's CloudEvents headers take


@dataclass(frozen=True)
class Event:
    id: str
    type: str  # e.g. cn.yrd.alliance.membership.v1.CarrierRegistered
    source: str  # /alliance/<region>/<service>
    subject: str  # the NATS subject
    resource: str  # ce-subject: the resource name the event is about
    time: datetime
    version: int  # the resource's version after the change, for ordering
    payload: bytes
    # The CloudEvents distributed-tracing extension: ce-traceparent (and ce-tracestate) of the
    # span the event was built under, when one was being traced (kernel.tracing).
    trace: tuple[tuple[str, str], ...] = ()

    @property
    def region(self) -> str:
        return self.subject.split(".")[1]

    @property
    def size(self) -> int:
        """Bytes on the wire: payload and headers (what NATS's max_payload counts)."""
        return len(self.payload) + sum(len(k) + len(v) + 4 for k, v in self.headers().items())

    def headers(self) -> dict[str, str]:
        return {
            "Nats-Msg-Id": self.id,
            "ce-specversion": SPEC_VERSION,
            "ce-id": self.id,
            "ce-source": self.source,
            "ce-type": self.type,
            "ce-time": self.time.isoformat().replace("+00:00", "Z"),
            "ce-subject": self.resource,
            "ce-version": str(self.version),
            "content-type": CONTENT_TYPE,
            **dict(self.trace),
        }

    @classmethod
    def from_nats(cls, subject: str, headers: dict[str, str] | None, data: bytes) -> Event:
        h = headers or {}
        missing = [k for k in ("ce-id", "ce-type", "ce-source", "ce-time") if k not in h]
        if missing:
            raise ValueError(f"message on {subject} is not a CloudEvent: missing {missing}")
        return cls(
            id=h["ce-id"],
            type=h["ce-type"],
            source=h["ce-source"],
            subject=subject,
            resource=h.get("ce-subject", ""),
            time=datetime.fromisoformat(h["ce-time"].replace("Z", "+00:00")),
            version=int(h.get("ce-version", "0")),
            payload=data,
            trace=tuple((k, h[k]) for k in TRACE_HEADERS if k in h),
        )

    def origin_problem(self) -> str | None:
        """Why a consumer must not apply this event, if it must not: the entity it is about
        (named in the payload) must have its home in the region the event was published in,
        as the subject and ce-source say, since only that region may change it."""
        if self.source.split("/")[:3] != ["", "alliance", self.region]:
            return f"ce-source {self.source!r} is not a source of region {self.region}"
        name = entity_name(self.decode())
        if not name.startswith(f"regions/{self.region}/"):
            return f"an event of region {self.region} about {name or 'no entity'!r}"
        return None

    def decode(self) -> Message:
        """The payload as its protobuf message (kernel.event_types knows every type)."""
        message = payload_class(self.type)()
        message.ParseFromString(self.payload)
        return message


def entity_name(payload: Message) -> str:
    """The name of the entity an event payload is about: its one entity field's `name` (a
    booking has none: it is named by its resource, whose region decides on it)."""
    for field, value in payload.ListFields():
        if field.message_type is None or field.is_repeated:
            continue
        for key in ("name", "resource"):
            if key in field.message_type.fields_by_name and getattr(value, key):
                return str(getattr(value, key))
    return ""


def check_fits(v: Violations, field: str, payload: Message) -> None:
    """Adds a violation when `payload` would make an event too big for the streams: for a
    change to refuse before anything is stored that could never reach the other regions."""
    size = payload.ByteSize() + HEADER_ROOM
    if size > MAX_EVENT_BYTES:
        v.add(
            field,
            f"makes a {payload.DESCRIPTOR.name} event of about {size:,} bytes; events may be at "
            f"most {MAX_EVENT_BYTES:,} bytes",
        )


def ensure_publishable(event: Event) -> None:
    """Refuses (INVALID_ARGUMENT) an event too big for the streams, so the unit of work that
    emits it stores nothing that could never reach the other regions."""
    # the exact size is worked out only near the limit
    if len(event.payload) + HEADER_ROOM > MAX_EVENT_BYTES and event.size > MAX_EVENT_BYTES:
        raise InvalidArgument(
            [
                FieldViolation(
                    "request",
                    f"the change makes a {event.type.rsplit('.', 1)[-1]} event of "
                    f"{event.size:,} bytes; events may be at most {MAX_EVENT_BYTES:,} bytes",
                )
            ]
        )


def new_event_id(region: str) -> str:
    return f"{region}-{ULID()}"


def build_event(
    *,
    region: str,
    service: str,
    entity: str,
    verb: str,
    resource: str,
    version: int,
    payload: Message,
    now: datetime | None = None,
) -> Event:
    return Event(
        id=new_event_id(region),
        type=type_of(payload),
        source=f"/alliance/{region}/{service}",
        subject=f"alliance.{region}.{service}.{entity}.{verb}",
        resource=resource,
        time=now or datetime.now(UTC),
        version=version,
        payload=payload.SerializeToString(),
        trace=tuple(event_trace_headers().items()),
    )


def event_to_json(event: Event) -> dict[str, Any]:
    """A partner-friendly view: envelope fields plus the decoded payload (base64 with the
    reason when it cannot be decoded, so one odd event never stops a reader)."""
    view: dict[str, Any] = {
        "id": event.id,
        "type": event.type,
        "source": event.source,
        "subject": event.resource,
        "time": event.time.isoformat().replace("+00:00", "Z"),
        "version": event.version,
    }
    try:
        view["data"] = MessageToDict(event.decode())
    except (UnknownEventType, DecodeError) as exc:
        view["data_base64"] = base64.b64encode(event.payload).decode()
        view["error"] = str(exc)
    return view
