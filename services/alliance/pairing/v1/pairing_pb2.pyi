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

class LawyerState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LAWYER_STATE_UNSPECIFIED: _ClassVar[LawyerState]
    LAWYER_STATE_ACTIVE: _ClassVar[LawyerState]
    LAWYER_STATE_ON_LEAVE: _ClassVar[LawyerState]
    LAWYER_STATE_LEFT: _ClassVar[LawyerState]

class PairingMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAIRING_MODE_UNSPECIFIED: _ClassVar[PairingMode]
    PAIRING_MODE_OPTIMAL: _ClassVar[PairingMode]
    PAIRING_MODE_STABLE: _ClassVar[PairingMode]

class RoundState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROUND_STATE_UNSPECIFIED: _ClassVar[RoundState]
    ROUND_STATE_DRAFT: _ClassVar[RoundState]
    ROUND_STATE_PUBLISHED: _ClassVar[RoundState]

class AssignmentState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASSIGNMENT_STATE_UNSPECIFIED: _ClassVar[AssignmentState]
    ASSIGNMENT_STATE_ACTIVE: _ClassVar[AssignmentState]
    ASSIGNMENT_STATE_ENDED: _ClassVar[AssignmentState]

class CheckupState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHECKUP_STATE_UNSPECIFIED: _ClassVar[CheckupState]
    CHECKUP_STATE_BOOKED: _ClassVar[CheckupState]
    CHECKUP_STATE_COMPLETED: _ClassVar[CheckupState]

class Severity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEVERITY_UNSPECIFIED: _ClassVar[Severity]
    SEVERITY_LOW: _ClassVar[Severity]
    SEVERITY_MEDIUM: _ClassVar[Severity]
    SEVERITY_HIGH: _ClassVar[Severity]
LAWYER_STATE_UNSPECIFIED: LawyerState
LAWYER_STATE_ACTIVE: LawyerState
LAWYER_STATE_ON_LEAVE: LawyerState
LAWYER_STATE_LEFT: LawyerState
PAIRING_MODE_UNSPECIFIED: PairingMode
PAIRING_MODE_OPTIMAL: PairingMode
PAIRING_MODE_STABLE: PairingMode
ROUND_STATE_UNSPECIFIED: RoundState
ROUND_STATE_DRAFT: RoundState
ROUND_STATE_PUBLISHED: RoundState
ASSIGNMENT_STATE_UNSPECIFIED: AssignmentState
ASSIGNMENT_STATE_ACTIVE: AssignmentState
ASSIGNMENT_STATE_ENDED: AssignmentState
CHECKUP_STATE_UNSPECIFIED: CheckupState
CHECKUP_STATE_BOOKED: CheckupState
CHECKUP_STATE_COMPLETED: CheckupState
SEVERITY_UNSPECIFIED: Severity
SEVERITY_LOW: Severity
SEVERITY_MEDIUM: Severity
SEVERITY_HIGH: Severity

class Lawyer(_message.Message):
    __slots__ = ("name", "display_name", "firm", "specialties", "languages", "capacity", "conflicts", "state", "contact", "create_time", "update_time", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    FIRM_FIELD_NUMBER: _ClassVar[int]
    SPECIALTIES_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    CONFLICTS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    firm: str
    specialties: _containers.RepeatedScalarFieldContainer[_types_pb2.LegalArea]
    languages: _containers.RepeatedScalarFieldContainer[str]
    capacity: int
    conflicts: _containers.RepeatedScalarFieldContainer[str]
    state: LawyerState
    contact: _types_pb2.Contact
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., firm: _Optional[str] = ..., specialties: _Optional[_Iterable[_Union[_types_pb2.LegalArea, str]]] = ..., languages: _Optional[_Iterable[str]] = ..., capacity: _Optional[int] = ..., conflicts: _Optional[_Iterable[str]] = ..., state: _Optional[_Union[LawyerState, str]] = ..., contact: _Optional[_Union[_types_pb2.Contact, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class CreateLawyerRequest(_message.Message):
    __slots__ = ("parent", "lawyer", "request_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    LAWYER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    lawyer: Lawyer
    request_id: str
    def __init__(self, parent: _Optional[str] = ..., lawyer: _Optional[_Union[Lawyer, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetLawyerRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListLawyersRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "specialty", "state")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SPECIALTY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    specialty: _types_pb2.LegalArea
    state: LawyerState
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., specialty: _Optional[_Union[_types_pb2.LegalArea, str]] = ..., state: _Optional[_Union[LawyerState, str]] = ...) -> None: ...

class ListLawyersResponse(_message.Message):
    __slots__ = ("lawyers", "next_page_token")
    LAWYERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    lawyers: _containers.RepeatedCompositeFieldContainer[Lawyer]
    next_page_token: str
    def __init__(self, lawyers: _Optional[_Iterable[_Union[Lawyer, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateLawyerRequest(_message.Message):
    __slots__ = ("lawyer", "update_mask")
    LAWYER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    lawyer: Lawyer
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, lawyer: _Optional[_Union[Lawyer, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class RoundCarrier(_message.Message):
    __slots__ = ("carrier", "slots", "languages")
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    carrier: str
    slots: int
    languages: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, carrier: _Optional[str] = ..., slots: _Optional[int] = ..., languages: _Optional[_Iterable[str]] = ...) -> None: ...

class Round(_message.Message):
    __slots__ = ("name", "display_name", "mode", "carriers", "lawyers", "require_full", "state", "plan", "create_time", "update_time", "publish_time", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    CARRIERS_FIELD_NUMBER: _ClassVar[int]
    LAWYERS_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_FULL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    mode: PairingMode
    carriers: _containers.RepeatedCompositeFieldContainer[RoundCarrier]
    lawyers: _containers.RepeatedScalarFieldContainer[str]
    require_full: bool
    state: RoundState
    plan: Plan
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    publish_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., mode: _Optional[_Union[PairingMode, str]] = ..., carriers: _Optional[_Iterable[_Union[RoundCarrier, _Mapping]]] = ..., lawyers: _Optional[_Iterable[str]] = ..., require_full: _Optional[bool] = ..., state: _Optional[_Union[RoundState, str]] = ..., plan: _Optional[_Union[Plan, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class Plan(_message.Message):
    __slots__ = ("pairs", "unmatched_lawyers", "unfilled_carriers", "total_score", "fairness", "solve_ms")
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    UNMATCHED_LAWYERS_FIELD_NUMBER: _ClassVar[int]
    UNFILLED_CARRIERS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SCORE_FIELD_NUMBER: _ClassVar[int]
    FAIRNESS_FIELD_NUMBER: _ClassVar[int]
    SOLVE_MS_FIELD_NUMBER: _ClassVar[int]
    pairs: _containers.RepeatedCompositeFieldContainer[PlannedPair]
    unmatched_lawyers: _containers.RepeatedCompositeFieldContainer[OpenPlace]
    unfilled_carriers: _containers.RepeatedCompositeFieldContainer[OpenPlace]
    total_score: int
    fairness: Fairness
    solve_ms: float
    def __init__(self, pairs: _Optional[_Iterable[_Union[PlannedPair, _Mapping]]] = ..., unmatched_lawyers: _Optional[_Iterable[_Union[OpenPlace, _Mapping]]] = ..., unfilled_carriers: _Optional[_Iterable[_Union[OpenPlace, _Mapping]]] = ..., total_score: _Optional[int] = ..., fairness: _Optional[_Union[Fairness, _Mapping]] = ..., solve_ms: _Optional[float] = ...) -> None: ...

class PlannedPair(_message.Message):
    __slots__ = ("lawyer", "carrier", "slot", "score", "breakdown", "covered_startups", "explanation")
    LAWYER_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    BREAKDOWN_FIELD_NUMBER: _ClassVar[int]
    COVERED_STARTUPS_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    lawyer: str
    carrier: str
    slot: int
    score: int
    breakdown: ScoreBreakdown
    covered_startups: int
    explanation: str
    def __init__(self, lawyer: _Optional[str] = ..., carrier: _Optional[str] = ..., slot: _Optional[int] = ..., score: _Optional[int] = ..., breakdown: _Optional[_Union[ScoreBreakdown, _Mapping]] = ..., covered_startups: _Optional[int] = ..., explanation: _Optional[str] = ...) -> None: ...

class ScoreBreakdown(_message.Message):
    __slots__ = ("focus", "breadth", "region", "language")
    FOCUS_FIELD_NUMBER: _ClassVar[int]
    BREADTH_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    focus: int
    breadth: int
    region: int
    language: int
    def __init__(self, focus: _Optional[int] = ..., breadth: _Optional[int] = ..., region: _Optional[int] = ..., language: _Optional[int] = ...) -> None: ...

class OpenPlace(_message.Message):
    __slots__ = ("name", "count", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    count: int
    reason: str
    def __init__(self, name: _Optional[str] = ..., count: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class Fairness(_message.Message):
    __slots__ = ("blocking_pair_count", "blocking_pairs", "lawyer_mean_rank", "carrier_mean_rank")
    BLOCKING_PAIR_COUNT_FIELD_NUMBER: _ClassVar[int]
    BLOCKING_PAIRS_FIELD_NUMBER: _ClassVar[int]
    LAWYER_MEAN_RANK_FIELD_NUMBER: _ClassVar[int]
    CARRIER_MEAN_RANK_FIELD_NUMBER: _ClassVar[int]
    blocking_pair_count: int
    blocking_pairs: _containers.RepeatedCompositeFieldContainer[BlockingPair]
    lawyer_mean_rank: float
    carrier_mean_rank: float
    def __init__(self, blocking_pair_count: _Optional[int] = ..., blocking_pairs: _Optional[_Iterable[_Union[BlockingPair, _Mapping]]] = ..., lawyer_mean_rank: _Optional[float] = ..., carrier_mean_rank: _Optional[float] = ...) -> None: ...

class BlockingPair(_message.Message):
    __slots__ = ("lawyer", "carrier")
    LAWYER_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    lawyer: str
    carrier: str
    def __init__(self, lawyer: _Optional[str] = ..., carrier: _Optional[str] = ...) -> None: ...

class CreateRoundRequest(_message.Message):
    __slots__ = ("parent", "round", "request_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    round: Round
    request_id: str
    def __init__(self, parent: _Optional[str] = ..., round: _Optional[_Union[Round, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetRoundRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListRoundsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRoundsResponse(_message.Message):
    __slots__ = ("rounds", "next_page_token")
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    rounds: _containers.RepeatedCompositeFieldContainer[Round]
    next_page_token: str
    def __init__(self, rounds: _Optional[_Iterable[_Union[Round, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PublishRoundRequest(_message.Message):
    __slots__ = ("name", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    etag: str
    def __init__(self, name: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class ReplanRoundRequest(_message.Message):
    __slots__ = ("name", "min_gain", "validate_only", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MIN_GAIN_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    min_gain: int
    validate_only: bool
    etag: str
    def __init__(self, name: _Optional[str] = ..., min_gain: _Optional[int] = ..., validate_only: _Optional[bool] = ..., etag: _Optional[str] = ...) -> None: ...

class PairChange(_message.Message):
    __slots__ = ("kind", "lawyer", "carrier", "reason")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[PairChange.Kind]
        KIND_ADDED: _ClassVar[PairChange.Kind]
        KIND_REMOVED: _ClassVar[PairChange.Kind]
    KIND_UNSPECIFIED: PairChange.Kind
    KIND_ADDED: PairChange.Kind
    KIND_REMOVED: PairChange.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    LAWYER_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    kind: PairChange.Kind
    lawyer: str
    carrier: str
    reason: str
    def __init__(self, kind: _Optional[_Union[PairChange.Kind, str]] = ..., lawyer: _Optional[str] = ..., carrier: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ReplanRoundResponse(_message.Message):
    __slots__ = ("round", "changes", "total_score_before", "total_score_after", "kept_pairs")
    ROUND_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SCORE_BEFORE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SCORE_AFTER_FIELD_NUMBER: _ClassVar[int]
    KEPT_PAIRS_FIELD_NUMBER: _ClassVar[int]
    round: Round
    changes: _containers.RepeatedCompositeFieldContainer[PairChange]
    total_score_before: int
    total_score_after: int
    kept_pairs: int
    def __init__(self, round: _Optional[_Union[Round, _Mapping]] = ..., changes: _Optional[_Iterable[_Union[PairChange, _Mapping]]] = ..., total_score_before: _Optional[int] = ..., total_score_after: _Optional[int] = ..., kept_pairs: _Optional[int] = ...) -> None: ...

class Assignment(_message.Message):
    __slots__ = ("name", "lawyer", "carrier", "state", "score", "explanation", "start_time", "end_time", "end_reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LAWYER_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    END_REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    lawyer: str
    carrier: str
    state: AssignmentState
    score: int
    explanation: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    end_reason: str
    def __init__(self, name: _Optional[str] = ..., lawyer: _Optional[str] = ..., carrier: _Optional[str] = ..., state: _Optional[_Union[AssignmentState, str]] = ..., score: _Optional[int] = ..., explanation: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_reason: _Optional[str] = ...) -> None: ...

class ListAssignmentsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "carrier", "lawyer", "state")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    LAWYER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    carrier: str
    lawyer: str
    state: AssignmentState
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., carrier: _Optional[str] = ..., lawyer: _Optional[str] = ..., state: _Optional[_Union[AssignmentState, str]] = ...) -> None: ...

class ListAssignmentsResponse(_message.Message):
    __slots__ = ("assignments", "next_page_token")
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[Assignment]
    next_page_token: str
    def __init__(self, assignments: _Optional[_Iterable[_Union[Assignment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Finding(_message.Message):
    __slots__ = ("area", "severity", "note")
    AREA_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    area: _types_pb2.LegalArea
    severity: Severity
    note: str
    def __init__(self, area: _Optional[_Union[_types_pb2.LegalArea, str]] = ..., severity: _Optional[_Union[Severity, str]] = ..., note: _Optional[str] = ...) -> None: ...

class Checkup(_message.Message):
    __slots__ = ("name", "lawyer", "startup", "carrier", "assignment", "state", "scheduled_time", "findings", "follow_up", "create_time", "update_time", "complete_time", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LAWYER_FIELD_NUMBER: _ClassVar[int]
    STARTUP_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_TIME_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_UP_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    lawyer: str
    startup: str
    carrier: str
    assignment: str
    state: CheckupState
    scheduled_time: _timestamp_pb2.Timestamp
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    follow_up: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    complete_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, name: _Optional[str] = ..., lawyer: _Optional[str] = ..., startup: _Optional[str] = ..., carrier: _Optional[str] = ..., assignment: _Optional[str] = ..., state: _Optional[_Union[CheckupState, str]] = ..., scheduled_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., follow_up: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., complete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class BookCheckupRequest(_message.Message):
    __slots__ = ("parent", "checkup", "request_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    CHECKUP_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    checkup: Checkup
    request_id: str
    def __init__(self, parent: _Optional[str] = ..., checkup: _Optional[_Union[Checkup, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class RecordCheckupOutcomeRequest(_message.Message):
    __slots__ = ("name", "findings", "follow_up", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_UP_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    follow_up: str
    etag: str
    def __init__(self, name: _Optional[str] = ..., findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., follow_up: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class GetCheckupRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListCheckupsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "carrier", "lawyer", "state")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    LAWYER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    carrier: str
    lawyer: str
    state: CheckupState
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., carrier: _Optional[str] = ..., lawyer: _Optional[str] = ..., state: _Optional[_Union[CheckupState, str]] = ...) -> None: ...

class ListCheckupsResponse(_message.Message):
    __slots__ = ("checkups", "next_page_token")
    CHECKUPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    checkups: _containers.RepeatedCompositeFieldContainer[Checkup]
    next_page_token: str
    def __init__(self, checkups: _Optional[_Iterable[_Union[Checkup, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetPairingStatsRequest(_message.Message):
    __slots__ = ("parent",)
    PARENT_FIELD_NUMBER: _ClassVar[int]
    parent: str
    def __init__(self, parent: _Optional[str] = ...) -> None: ...

class Count(_message.Message):
    __slots__ = ("key", "count")
    KEY_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    key: str
    count: int
    def __init__(self, key: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class PairingStats(_message.Message):
    __slots__ = ("checkups_booked", "checkups_completed", "startups_served", "startups_served_by_carrier", "startups_served_by_lawyer", "startups_served_by_region", "findings_by_area", "directory_carriers", "directory_startups")
    CHECKUPS_BOOKED_FIELD_NUMBER: _ClassVar[int]
    CHECKUPS_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    STARTUPS_SERVED_FIELD_NUMBER: _ClassVar[int]
    STARTUPS_SERVED_BY_CARRIER_FIELD_NUMBER: _ClassVar[int]
    STARTUPS_SERVED_BY_LAWYER_FIELD_NUMBER: _ClassVar[int]
    STARTUPS_SERVED_BY_REGION_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_BY_AREA_FIELD_NUMBER: _ClassVar[int]
    DIRECTORY_CARRIERS_FIELD_NUMBER: _ClassVar[int]
    DIRECTORY_STARTUPS_FIELD_NUMBER: _ClassVar[int]
    checkups_booked: int
    checkups_completed: int
    startups_served: int
    startups_served_by_carrier: _containers.RepeatedCompositeFieldContainer[Count]
    startups_served_by_lawyer: _containers.RepeatedCompositeFieldContainer[Count]
    startups_served_by_region: _containers.RepeatedCompositeFieldContainer[Count]
    findings_by_area: _containers.RepeatedCompositeFieldContainer[Count]
    directory_carriers: int
    directory_startups: int
    def __init__(self, checkups_booked: _Optional[int] = ..., checkups_completed: _Optional[int] = ..., startups_served: _Optional[int] = ..., startups_served_by_carrier: _Optional[_Iterable[_Union[Count, _Mapping]]] = ..., startups_served_by_lawyer: _Optional[_Iterable[_Union[Count, _Mapping]]] = ..., startups_served_by_region: _Optional[_Iterable[_Union[Count, _Mapping]]] = ..., findings_by_area: _Optional[_Iterable[_Union[Count, _Mapping]]] = ..., directory_carriers: _Optional[int] = ..., directory_startups: _Optional[int] = ...) -> None: ...
