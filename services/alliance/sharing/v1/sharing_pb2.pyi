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

class Category(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CATEGORY_UNSPECIFIED: _ClassVar[Category]
    CATEGORY_LAB_EQUIPMENT: _ClassVar[Category]
    CATEGORY_SPACE_VENUE: _ClassVar[Category]
    CATEGORY_EXPERT_MENTOR: _ClassVar[Category]
    CATEGORY_FINANCE_INVESTMENT: _ClassVar[Category]
    CATEGORY_POLICY_GOVERNMENT: _ClassVar[Category]
    CATEGORY_TALENT_TRAINING: _ClassVar[Category]

class Visibility(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VISIBILITY_UNSPECIFIED: _ClassVar[Visibility]
    VISIBILITY_ALLIANCE: _ClassVar[Visibility]
    VISIBILITY_REGION: _ClassVar[Visibility]

class ResourceState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESOURCE_STATE_UNSPECIFIED: _ClassVar[ResourceState]
    RESOURCE_STATE_DRAFT: _ClassVar[ResourceState]
    RESOURCE_STATE_PUBLISHED: _ClassVar[ResourceState]
    RESOURCE_STATE_WITHDRAWN: _ClassVar[ResourceState]

class SearchOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEARCH_ORDER_UNSPECIFIED: _ClassVar[SearchOrder]
    SEARCH_ORDER_RELEVANCE: _ClassVar[SearchOrder]
    SEARCH_ORDER_RECENT: _ClassVar[SearchOrder]

class RequestState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REQUEST_STATE_UNSPECIFIED: _ClassVar[RequestState]
    REQUEST_STATE_PENDING: _ClassVar[RequestState]
    REQUEST_STATE_APPROVED: _ClassVar[RequestState]
    REQUEST_STATE_DECLINED: _ClassVar[RequestState]
    REQUEST_STATE_EXPIRED: _ClassVar[RequestState]
    REQUEST_STATE_WAITLISTED: _ClassVar[RequestState]
    REQUEST_STATE_CANCELLED: _ClassVar[RequestState]
    REQUEST_STATE_FULFILLED: _ClassVar[RequestState]

class BookingState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BOOKING_STATE_UNSPECIFIED: _ClassVar[BookingState]
    BOOKING_STATE_HELD: _ClassVar[BookingState]
    BOOKING_STATE_WAITLISTED: _ClassVar[BookingState]
    BOOKING_STATE_APPROVED: _ClassVar[BookingState]
    BOOKING_STATE_DECLINED: _ClassVar[BookingState]
    BOOKING_STATE_EXPIRED: _ClassVar[BookingState]
    BOOKING_STATE_RELEASED: _ClassVar[BookingState]
    BOOKING_STATE_FULFILLED: _ClassVar[BookingState]
CATEGORY_UNSPECIFIED: Category
CATEGORY_LAB_EQUIPMENT: Category
CATEGORY_SPACE_VENUE: Category
CATEGORY_EXPERT_MENTOR: Category
CATEGORY_FINANCE_INVESTMENT: Category
CATEGORY_POLICY_GOVERNMENT: Category
CATEGORY_TALENT_TRAINING: Category
VISIBILITY_UNSPECIFIED: Visibility
VISIBILITY_ALLIANCE: Visibility
VISIBILITY_REGION: Visibility
RESOURCE_STATE_UNSPECIFIED: ResourceState
RESOURCE_STATE_DRAFT: ResourceState
RESOURCE_STATE_PUBLISHED: ResourceState
RESOURCE_STATE_WITHDRAWN: ResourceState
SEARCH_ORDER_UNSPECIFIED: SearchOrder
SEARCH_ORDER_RELEVANCE: SearchOrder
SEARCH_ORDER_RECENT: SearchOrder
REQUEST_STATE_UNSPECIFIED: RequestState
REQUEST_STATE_PENDING: RequestState
REQUEST_STATE_APPROVED: RequestState
REQUEST_STATE_DECLINED: RequestState
REQUEST_STATE_EXPIRED: RequestState
REQUEST_STATE_WAITLISTED: RequestState
REQUEST_STATE_CANCELLED: RequestState
REQUEST_STATE_FULFILLED: RequestState
BOOKING_STATE_UNSPECIFIED: BookingState
BOOKING_STATE_HELD: BookingState
BOOKING_STATE_WAITLISTED: BookingState
BOOKING_STATE_APPROVED: BookingState
BOOKING_STATE_DECLINED: BookingState
BOOKING_STATE_EXPIRED: BookingState
BOOKING_STATE_RELEASED: BookingState
BOOKING_STATE_FULFILLED: BookingState

class TimeWindow(_message.Message):
    __slots__ = ("start_time", "end_time")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Terms(_message.Message):
    __slots__ = ("free", "price_fen", "note")
    FREE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    free: bool
    price_fen: int
    note: str
    def __init__(self, free: _Optional[bool] = ..., price_fen: _Optional[int] = ..., note: _Optional[str] = ...) -> None: ...

class Resource(_message.Message):
    __slots__ = ("name", "owner", "category", "title", "description", "industrial_chains", "capacity", "availability", "visibility", "terms", "state", "create_time", "update_time", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INDUSTRIAL_CHAINS_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    TERMS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    owner: str
    category: Category
    title: str
    description: str
    industrial_chains: _containers.RepeatedScalarFieldContainer[_types_pb2.IndustrialChain]
    capacity: int
    availability: _containers.RepeatedCompositeFieldContainer[TimeWindow]
    visibility: Visibility
    terms: Terms
    state: ResourceState
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, name: _Optional[str] = ..., owner: _Optional[str] = ..., category: _Optional[_Union[Category, str]] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., industrial_chains: _Optional[_Iterable[_Union[_types_pb2.IndustrialChain, str]]] = ..., capacity: _Optional[int] = ..., availability: _Optional[_Iterable[_Union[TimeWindow, _Mapping]]] = ..., visibility: _Optional[_Union[Visibility, str]] = ..., terms: _Optional[_Union[Terms, _Mapping]] = ..., state: _Optional[_Union[ResourceState, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class CreateResourceRequest(_message.Message):
    __slots__ = ("parent", "resource", "request_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    resource: Resource
    request_id: str
    def __init__(self, parent: _Optional[str] = ..., resource: _Optional[_Union[Resource, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetResourceRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListResourcesRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "owner", "state")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    owner: str
    state: ResourceState
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., owner: _Optional[str] = ..., state: _Optional[_Union[ResourceState, str]] = ...) -> None: ...

class ListResourcesResponse(_message.Message):
    __slots__ = ("resources", "next_page_token")
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    resources: _containers.RepeatedCompositeFieldContainer[Resource]
    next_page_token: str
    def __init__(self, resources: _Optional[_Iterable[_Union[Resource, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateResourceRequest(_message.Message):
    __slots__ = ("resource", "update_mask")
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    resource: Resource
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, resource: _Optional[_Union[Resource, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class SearchResourcesRequest(_message.Message):
    __slots__ = ("query", "category", "region", "industrial_chain", "owner", "window", "free_units", "order", "page_size", "page_token")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    INDUSTRIAL_CHAIN_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    FREE_UNITS_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    query: str
    category: Category
    region: str
    industrial_chain: _types_pb2.IndustrialChain
    owner: str
    window: TimeWindow
    free_units: int
    order: SearchOrder
    page_size: int
    page_token: str
    def __init__(self, query: _Optional[str] = ..., category: _Optional[_Union[Category, str]] = ..., region: _Optional[str] = ..., industrial_chain: _Optional[_Union[_types_pb2.IndustrialChain, str]] = ..., owner: _Optional[str] = ..., window: _Optional[_Union[TimeWindow, _Mapping]] = ..., free_units: _Optional[int] = ..., order: _Optional[_Union[SearchOrder, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class Facet(_message.Message):
    __slots__ = ("key", "count")
    KEY_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    key: str
    count: int
    def __init__(self, key: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class SearchResourcesResponse(_message.Message):
    __slots__ = ("resources", "next_page_token", "total_size", "categories", "regions")
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    resources: _containers.RepeatedCompositeFieldContainer[Resource]
    next_page_token: str
    total_size: int
    categories: _containers.RepeatedCompositeFieldContainer[Facet]
    regions: _containers.RepeatedCompositeFieldContainer[Facet]
    def __init__(self, resources: _Optional[_Iterable[_Union[Resource, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ..., categories: _Optional[_Iterable[_Union[Facet, _Mapping]]] = ..., regions: _Optional[_Iterable[_Union[Facet, _Mapping]]] = ...) -> None: ...

class Request(_message.Message):
    __slots__ = ("name", "resource", "requester", "units", "window", "purpose", "state", "capacity_held", "waitlist_position", "reason", "create_time", "update_time", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_HELD_FIELD_NUMBER: _ClassVar[int]
    WAITLIST_POSITION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    resource: str
    requester: str
    units: int
    window: TimeWindow
    purpose: str
    state: RequestState
    capacity_held: bool
    waitlist_position: int
    reason: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, name: _Optional[str] = ..., resource: _Optional[str] = ..., requester: _Optional[str] = ..., units: _Optional[int] = ..., window: _Optional[_Union[TimeWindow, _Mapping]] = ..., purpose: _Optional[str] = ..., state: _Optional[_Union[RequestState, str]] = ..., capacity_held: _Optional[bool] = ..., waitlist_position: _Optional[int] = ..., reason: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class CreateRequestRequest(_message.Message):
    __slots__ = ("parent", "request", "request_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    request: Request
    request_id: str
    def __init__(self, parent: _Optional[str] = ..., request: _Optional[_Union[Request, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetRequestRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListRequestsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "requester", "state")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    requester: str
    state: RequestState
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., requester: _Optional[str] = ..., state: _Optional[_Union[RequestState, str]] = ...) -> None: ...

class ListRequestsResponse(_message.Message):
    __slots__ = ("requests", "next_page_token")
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[Request]
    next_page_token: str
    def __init__(self, requests: _Optional[_Iterable[_Union[Request, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelRequestRequest(_message.Message):
    __slots__ = ("name", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    etag: str
    def __init__(self, name: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class Booking(_message.Message):
    __slots__ = ("request", "resource", "requester", "units", "window", "state", "reason", "waitlist_position", "update_time")
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    WAITLIST_POSITION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    request: str
    resource: str
    requester: str
    units: int
    window: TimeWindow
    state: BookingState
    reason: str
    waitlist_position: int
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, request: _Optional[str] = ..., resource: _Optional[str] = ..., requester: _Optional[str] = ..., units: _Optional[int] = ..., window: _Optional[_Union[TimeWindow, _Mapping]] = ..., state: _Optional[_Union[BookingState, str]] = ..., reason: _Optional[str] = ..., waitlist_position: _Optional[int] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListIncomingRequestsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "resource", "state")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    resource: str
    state: BookingState
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., resource: _Optional[str] = ..., state: _Optional[_Union[BookingState, str]] = ...) -> None: ...

class ListIncomingRequestsResponse(_message.Message):
    __slots__ = ("bookings", "next_page_token")
    BOOKINGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    bookings: _containers.RepeatedCompositeFieldContainer[Booking]
    next_page_token: str
    def __init__(self, bookings: _Optional[_Iterable[_Union[Booking, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ApproveRequestRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeclineRequestRequest(_message.Message):
    __slots__ = ("name", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    reason: str
    def __init__(self, name: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class FulfillRequestRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetSharingStatsRequest(_message.Message):
    __slots__ = ("parent",)
    PARENT_FIELD_NUMBER: _ClassVar[int]
    parent: str
    def __init__(self, parent: _Optional[str] = ...) -> None: ...

class CarrierSharing(_message.Message):
    __slots__ = ("carrier", "resources_shared", "requests_received", "requests_approved", "requests_fulfilled", "requests_made")
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_SHARED_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_APPROVED_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FULFILLED_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_MADE_FIELD_NUMBER: _ClassVar[int]
    carrier: str
    resources_shared: int
    requests_received: int
    requests_approved: int
    requests_fulfilled: int
    requests_made: int
    def __init__(self, carrier: _Optional[str] = ..., resources_shared: _Optional[int] = ..., requests_received: _Optional[int] = ..., requests_approved: _Optional[int] = ..., requests_fulfilled: _Optional[int] = ..., requests_made: _Optional[int] = ...) -> None: ...

class RegionPair(_message.Message):
    __slots__ = ("from_region", "to_region", "requests", "approved")
    FROM_REGION_FIELD_NUMBER: _ClassVar[int]
    TO_REGION_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    APPROVED_FIELD_NUMBER: _ClassVar[int]
    from_region: str
    to_region: str
    requests: int
    approved: int
    def __init__(self, from_region: _Optional[str] = ..., to_region: _Optional[str] = ..., requests: _Optional[int] = ..., approved: _Optional[int] = ...) -> None: ...

class SharingStats(_message.Message):
    __slots__ = ("carriers", "regions", "pairs")
    CARRIERS_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    carriers: _containers.RepeatedCompositeFieldContainer[CarrierSharing]
    regions: _containers.RepeatedCompositeFieldContainer[CarrierSharing]
    pairs: _containers.RepeatedCompositeFieldContainer[RegionPair]
    def __init__(self, carriers: _Optional[_Iterable[_Union[CarrierSharing, _Mapping]]] = ..., regions: _Optional[_Iterable[_Union[CarrierSharing, _Mapping]]] = ..., pairs: _Optional[_Iterable[_Union[RegionPair, _Mapping]]] = ...) -> None: ...
