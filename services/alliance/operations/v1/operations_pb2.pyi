import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeadLetterOrigin(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEAD_LETTER_ORIGIN_UNSPECIFIED: _ClassVar[DeadLetterOrigin]
    DEAD_LETTER_ORIGIN_OUTBOX: _ClassVar[DeadLetterOrigin]
    DEAD_LETTER_ORIGIN_CONSUMER: _ClassVar[DeadLetterOrigin]
DEAD_LETTER_ORIGIN_UNSPECIFIED: DeadLetterOrigin
DEAD_LETTER_ORIGIN_OUTBOX: DeadLetterOrigin
DEAD_LETTER_ORIGIN_CONSUMER: DeadLetterOrigin

class GetPipelineStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PipelineStatus(_message.Message):
    __slots__ = ("region", "service", "outbox", "consumers")
    REGION_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    OUTBOX_FIELD_NUMBER: _ClassVar[int]
    CONSUMERS_FIELD_NUMBER: _ClassVar[int]
    region: str
    service: str
    outbox: OutboxStatus
    consumers: _containers.RepeatedCompositeFieldContainer[ConsumerStatus]
    def __init__(self, region: _Optional[str] = ..., service: _Optional[str] = ..., outbox: _Optional[_Union[OutboxStatus, _Mapping]] = ..., consumers: _Optional[_Iterable[_Union[ConsumerStatus, _Mapping]]] = ...) -> None: ...

class OutboxStatus(_message.Message):
    __slots__ = ("backlog", "oldest_unsent_age_seconds", "published", "dead_letters", "stuck", "nats_connected")
    BACKLOG_FIELD_NUMBER: _ClassVar[int]
    OLDEST_UNSENT_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    STUCK_FIELD_NUMBER: _ClassVar[int]
    NATS_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    backlog: int
    oldest_unsent_age_seconds: float
    published: int
    dead_letters: int
    stuck: bool
    nats_connected: bool
    def __init__(self, backlog: _Optional[int] = ..., oldest_unsent_age_seconds: _Optional[float] = ..., published: _Optional[int] = ..., dead_letters: _Optional[int] = ..., stuck: _Optional[bool] = ..., nats_connected: _Optional[bool] = ...) -> None: ...

class ConsumerStatus(_message.Message):
    __slots__ = ("stream", "durable", "pending", "ack_pending", "redelivered", "applied", "retried", "dead_letters", "reachable")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    DURABLE_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    ACK_PENDING_FIELD_NUMBER: _ClassVar[int]
    REDELIVERED_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    RETRIED_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    REACHABLE_FIELD_NUMBER: _ClassVar[int]
    stream: str
    durable: str
    pending: int
    ack_pending: int
    redelivered: int
    applied: int
    retried: int
    dead_letters: int
    reachable: bool
    def __init__(self, stream: _Optional[str] = ..., durable: _Optional[str] = ..., pending: _Optional[int] = ..., ack_pending: _Optional[int] = ..., redelivered: _Optional[int] = ..., applied: _Optional[int] = ..., retried: _Optional[int] = ..., dead_letters: _Optional[int] = ..., reachable: _Optional[bool] = ...) -> None: ...

class DeadLetter(_message.Message):
    __slots__ = ("name", "origin", "event_id", "subject", "type", "resource", "headers", "payload", "error", "deliveries", "create_time")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    origin: DeadLetterOrigin
    event_id: str
    subject: str
    type: str
    resource: str
    headers: _containers.ScalarMap[str, str]
    payload: bytes
    error: str
    deliveries: int
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., origin: _Optional[_Union[DeadLetterOrigin, str]] = ..., event_id: _Optional[str] = ..., subject: _Optional[str] = ..., type: _Optional[str] = ..., resource: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ..., payload: _Optional[bytes] = ..., error: _Optional[str] = ..., deliveries: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListDeadLettersRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDeadLettersResponse(_message.Message):
    __slots__ = ("dead_letters", "next_page_token")
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dead_letters: _containers.RepeatedCompositeFieldContainer[DeadLetter]
    next_page_token: str
    def __init__(self, dead_letters: _Optional[_Iterable[_Union[DeadLetter, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetDeadLetterRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ReplayDeadLetterRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ReplayDeadLetterResponse(_message.Message):
    __slots__ = ("outcome",)
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    outcome: str
    def __init__(self, outcome: _Optional[str] = ...) -> None: ...

class DiscardDeadLetterRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DiscardDeadLetterResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PublishSnapshotRequest(_message.Message):
    __slots__ = ("parent",)
    PARENT_FIELD_NUMBER: _ClassVar[int]
    parent: str
    def __init__(self, parent: _Optional[str] = ...) -> None: ...

class PublishSnapshotResponse(_message.Message):
    __slots__ = ("events",)
    class EventsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.ScalarMap[str, int]
    def __init__(self, events: _Optional[_Mapping[str, int]] = ...) -> None: ...

class RevokeTokenRequest(_message.Message):
    __slots__ = ("parent", "token_id", "reason")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    parent: str
    token_id: str
    reason: str
    def __init__(self, parent: _Optional[str] = ..., token_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RevokedToken(_message.Message):
    __slots__ = ("name", "token_id", "reason", "revoked_by", "revoke_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REVOKED_BY_FIELD_NUMBER: _ClassVar[int]
    REVOKE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    token_id: str
    reason: str
    revoked_by: str
    revoke_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., token_id: _Optional[str] = ..., reason: _Optional[str] = ..., revoked_by: _Optional[str] = ..., revoke_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
