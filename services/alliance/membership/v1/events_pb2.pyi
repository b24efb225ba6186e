from alliance.membership.v1 import membership_pb2 as _membership_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CarrierRegistered(_message.Message):
    __slots__ = ("carrier",)
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    carrier: _membership_pb2.Carrier
    def __init__(self, carrier: _Optional[_Union[_membership_pb2.Carrier, _Mapping]] = ...) -> None: ...

class CarrierUpdated(_message.Message):
    __slots__ = ("carrier", "changed_fields")
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    carrier: _membership_pb2.Carrier
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, carrier: _Optional[_Union[_membership_pb2.Carrier, _Mapping]] = ..., changed_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class CarrierSuspended(_message.Message):
    __slots__ = ("carrier", "reason")
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    carrier: _membership_pb2.Carrier
    reason: str
    def __init__(self, carrier: _Optional[_Union[_membership_pb2.Carrier, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class CarrierLeft(_message.Message):
    __slots__ = ("carrier", "reason")
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    carrier: _membership_pb2.Carrier
    reason: str
    def __init__(self, carrier: _Optional[_Union[_membership_pb2.Carrier, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class StartupRegistered(_message.Message):
    __slots__ = ("startup",)
    STARTUP_FIELD_NUMBER: _ClassVar[int]
    startup: _membership_pb2.Startup
    def __init__(self, startup: _Optional[_Union[_membership_pb2.Startup, _Mapping]] = ...) -> None: ...

class StartupUpdated(_message.Message):
    __slots__ = ("startup", "changed_fields")
    STARTUP_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    startup: _membership_pb2.Startup
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, startup: _Optional[_Union[_membership_pb2.Startup, _Mapping]] = ..., changed_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class CarrierSnapshot(_message.Message):
    __slots__ = ("carrier",)
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    carrier: _membership_pb2.Carrier
    def __init__(self, carrier: _Optional[_Union[_membership_pb2.Carrier, _Mapping]] = ...) -> None: ...

class StartupSnapshot(_message.Message):
    __slots__ = ("startup",)
    STARTUP_FIELD_NUMBER: _ClassVar[int]
    startup: _membership_pb2.Startup
    def __init__(self, startup: _Optional[_Union[_membership_pb2.Startup, _Mapping]] = ...) -> None: ...
