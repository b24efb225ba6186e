from alliance.sharing.v1 import sharing_pb2 as _sharing_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ResourceCreated(_message.Message):
    __slots__ = ("resource",)
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    resource: _sharing_pb2.Resource
    def __init__(self, resource: _Optional[_Union[_sharing_pb2.Resource, _Mapping]] = ...) -> None: ...

class ResourceUpdated(_message.Message):
    __slots__ = ("resource", "changed_fields")
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    resource: _sharing_pb2.Resource
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, resource: _Optional[_Union[_sharing_pb2.Resource, _Mapping]] = ..., changed_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class RequestCreated(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: _sharing_pb2.Request
    def __init__(self, request: _Optional[_Union[_sharing_pb2.Request, _Mapping]] = ...) -> None: ...

class RequestCancelled(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: _sharing_pb2.Request
    def __init__(self, request: _Optional[_Union[_sharing_pb2.Request, _Mapping]] = ...) -> None: ...

class BookingChanged(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: _sharing_pb2.Booking
    def __init__(self, booking: _Optional[_Union[_sharing_pb2.Booking, _Mapping]] = ...) -> None: ...

class ResourceSnapshot(_message.Message):
    __slots__ = ("resource",)
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    resource: _sharing_pb2.Resource
    def __init__(self, resource: _Optional[_Union[_sharing_pb2.Resource, _Mapping]] = ...) -> None: ...

class BookingSnapshot(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: _sharing_pb2.Booking
    def __init__(self, booking: _Optional[_Union[_sharing_pb2.Booking, _Mapping]] = ...) -> None: ...
