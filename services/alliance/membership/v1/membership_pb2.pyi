import datetime

from alliance.type.v1 import types_pb2 as _types_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CarrierLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CARRIER_LEVEL_UNSPECIFIED: _ClassVar[CarrierLevel]
    CARRIER_LEVEL_NATIONAL: _ClassVar[CarrierLevel]
    CARRIER_LEVEL_PROVINCIAL: _ClassVar[CarrierLevel]
    CARRIER_LEVEL_MUNICIPAL: _ClassVar[CarrierLevel]
    CARRIER_LEVEL_OTHER: _ClassVar[CarrierLevel]

class CarrierKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CARRIER_KIND_UNSPECIFIED: _ClassVar[CarrierKind]
    CARRIER_KIND_INCUBATOR: _ClassVar[CarrierKind]
    CARRIER_KIND_ACCELERATOR: _ClassVar[CarrierKind]
    CARRIER_KIND_MAKERSPACE: _ClassVar[CarrierKind]
    CARRIER_KIND_SCIENCE_PARK: _ClassVar[CarrierKind]

class CarrierState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CARRIER_STATE_UNSPECIFIED: _ClassVar[CarrierState]
    CARRIER_STATE_ACTIVE: _ClassVar[CarrierState]
    CARRIER_STATE_SUSPENDED: _ClassVar[CarrierState]
    CARRIER_STATE_LEFT: _ClassVar[CarrierState]
CARRIER_LEVEL_UNSPECIFIED: CarrierLevel
CARRIER_LEVEL_NATIONAL: CarrierLevel
CARRIER_LEVEL_PROVINCIAL: CarrierLevel
CARRIER_LEVEL_MUNICIPAL: CarrierLevel
CARRIER_LEVEL_OTHER: CarrierLevel
CARRIER_KIND_UNSPECIFIED: CarrierKind
CARRIER_KIND_INCUBATOR: CarrierKind
CARRIER_KIND_ACCELERATOR: CarrierKind
CARRIER_KIND_MAKERSPACE: CarrierKind
CARRIER_KIND_SCIENCE_PARK: CarrierKind
CARRIER_STATE_UNSPECIFIED: CarrierState
CARRIER_STATE_ACTIVE: CarrierState
CARRIER_STATE_SUSPENDED: CarrierState
CARRIER_STATE_LEFT: CarrierState

class Carrier(_message.Message):
    __slots__ = ("name", "display_name", "level", "kind", "industrial_chains", "city", "address", "contact", "lead_member", "state", "create_time", "update_time", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    INDUSTRIAL_CHAINS_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    LEAD_MEMBER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    level: CarrierLevel
    kind: CarrierKind
    industrial_chains: _containers.RepeatedScalarFieldContainer[_types_pb2.IndustrialChain]
    city: str
    address: str
    contact: _types_pb2.Contact
    lead_member: bool
    state: CarrierState
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., level: _Optional[_Union[CarrierLevel, str]] = ..., kind: _Optional[_Union[CarrierKind, str]] = ..., industrial_chains: _Optional[_Iterable[_Union[_types_pb2.IndustrialChain, str]]] = ..., city: _Optional[str] = ..., address: _Optional[str] = ..., contact: _Optional[_Union[_types_pb2.Contact, _Mapping]] = ..., lead_member: _Optional[bool] = ..., state: _Optional[_Union[CarrierState, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class Startup(_message.Message):
    __slots__ = ("name", "display_name", "legal_needs", "industrial_chains", "headcount", "create_time", "update_time", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    LEGAL_NEEDS_FIELD_NUMBER: _ClassVar[int]
    INDUSTRIAL_CHAINS_FIELD_NUMBER: _ClassVar[int]
    HEADCOUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    legal_needs: _containers.RepeatedScalarFieldContainer[_types_pb2.LegalArea]
    industrial_chains: _containers.RepeatedScalarFieldContainer[_types_pb2.IndustrialChain]
    headcount: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., legal_needs: _Optional[_Iterable[_Union[_types_pb2.LegalArea, str]]] = ..., industrial_chains: _Optional[_Iterable[_Union[_types_pb2.IndustrialChain, str]]] = ..., headcount: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class CreateCarrierRequest(_message.Message):
    __slots__ = ("parent", "carrier", "request_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    carrier: Carrier
    request_id: str
    def __init__(self, parent: _Optional[str] = ..., carrier: _Optional[_Union[Carrier, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetCarrierRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListCarriersRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "level", "kind", "industrial_chain", "state")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    INDUSTRIAL_CHAIN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    level: CarrierLevel
    kind: CarrierKind
    industrial_chain: _types_pb2.IndustrialChain
    state: CarrierState
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., level: _Optional[_Union[CarrierLevel, str]] = ..., kind: _Optional[_Union[CarrierKind, str]] = ..., industrial_chain: _Optional[_Union[_types_pb2.IndustrialChain, str]] = ..., state: _Optional[_Union[CarrierState, str]] = ...) -> None: ...

class ListCarriersResponse(_message.Message):
    __slots__ = ("carriers", "next_page_token")
    CARRIERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    carriers: _containers.RepeatedCompositeFieldContainer[Carrier]
    next_page_token: str
    def __init__(self, carriers: _Optional[_Iterable[_Union[Carrier, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateCarrierRequest(_message.Message):
    __slots__ = ("carrier", "update_mask")
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    carrier: Carrier
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, carrier: _Optional[_Union[Carrier, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class SuspendCarrierRequest(_message.Message):
    __slots__ = ("name", "etag", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    etag: str
    reason: str
    def __init__(self, name: _Optional[str] = ..., etag: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class LeaveAllianceRequest(_message.Message):
    __slots__ = ("name", "etag", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    etag: str
    reason: str
    def __init__(self, name: _Optional[str] = ..., etag: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CreateStartupRequest(_message.Message):
    __slots__ = ("parent", "startup", "request_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    STARTUP_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    startup: Startup
    request_id: str
    def __init__(self, parent: _Optional[str] = ..., startup: _Optional[_Union[Startup, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetStartupRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListStartupsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "legal_need")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LEGAL_NEED_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    legal_need: _types_pb2.LegalArea
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., legal_need: _Optional[_Union[_types_pb2.LegalArea, str]] = ...) -> None: ...

class ListStartupsResponse(_message.Message):
    __slots__ = ("startups", "next_page_token")
    STARTUPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    startups: _containers.RepeatedCompositeFieldContainer[Startup]
    next_page_token: str
    def __init__(self, startups: _Optional[_Iterable[_Union[Startup, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateStartupRequest(_message.Message):
    __slots__ = ("startup", "update_mask")
    STARTUP_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    startup: Startup
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, startup: _Optional[_Union[Startup, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...
