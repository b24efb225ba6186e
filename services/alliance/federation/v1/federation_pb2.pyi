from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetReplicationStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReplicationStatus(_message.Message):
    __slots__ = ("region", "sources")
    REGION_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    region: str
    sources: _containers.RepeatedCompositeFieldContainer[SourceStatus]
    def __init__(self, region: _Optional[str] = ..., sources: _Optional[_Iterable[_Union[SourceStatus, _Mapping]]] = ...) -> None: ...

class SourceStatus(_message.Message):
    __slots__ = ("region", "lag", "reachable", "restarts")
    REGION_FIELD_NUMBER: _ClassVar[int]
    LAG_FIELD_NUMBER: _ClassVar[int]
    REACHABLE_FIELD_NUMBER: _ClassVar[int]
    RESTARTS_FIELD_NUMBER: _ClassVar[int]
    region: str
    lag: int
    reachable: bool
    restarts: int
    def __init__(self, region: _Optional[str] = ..., lag: _Optional[int] = ..., reachable: _Optional[bool] = ..., restarts: _Optional[int] = ...) -> None: ...
