from alliance.pairing.v1 import pairing_pb2 as _pairing_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LawyerRegistered(_message.Message):
    __slots__ = ("lawyer",)
    LAWYER_FIELD_NUMBER: _ClassVar[int]
    lawyer: _pairing_pb2.Lawyer
    def __init__(self, lawyer: _Optional[_Union[_pairing_pb2.Lawyer, _Mapping]] = ...) -> None: ...

class LawyerUpdated(_message.Message):
    __slots__ = ("lawyer", "changed_fields")
    LAWYER_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    lawyer: _pairing_pb2.Lawyer
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, lawyer: _Optional[_Union[_pairing_pb2.Lawyer, _Mapping]] = ..., changed_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class RoundPublished(_message.Message):
    __slots__ = ("round",)
    ROUND_FIELD_NUMBER: _ClassVar[int]
    round: _pairing_pb2.Round
    def __init__(self, round: _Optional[_Union[_pairing_pb2.Round, _Mapping]] = ...) -> None: ...

class RoundReplanned(_message.Message):
    __slots__ = ("round", "changes")
    ROUND_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    round: _pairing_pb2.Round
    changes: _containers.RepeatedCompositeFieldContainer[_pairing_pb2.PairChange]
    def __init__(self, round: _Optional[_Union[_pairing_pb2.Round, _Mapping]] = ..., changes: _Optional[_Iterable[_Union[_pairing_pb2.PairChange, _Mapping]]] = ...) -> None: ...

class AssignmentStarted(_message.Message):
    __slots__ = ("assignment",)
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    assignment: _pairing_pb2.Assignment
    def __init__(self, assignment: _Optional[_Union[_pairing_pb2.Assignment, _Mapping]] = ...) -> None: ...

class AssignmentEnded(_message.Message):
    __slots__ = ("assignment",)
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    assignment: _pairing_pb2.Assignment
    def __init__(self, assignment: _Optional[_Union[_pairing_pb2.Assignment, _Mapping]] = ...) -> None: ...

class CheckupBooked(_message.Message):
    __slots__ = ("checkup",)
    CHECKUP_FIELD_NUMBER: _ClassVar[int]
    checkup: _pairing_pb2.Checkup
    def __init__(self, checkup: _Optional[_Union[_pairing_pb2.Checkup, _Mapping]] = ...) -> None: ...

class CheckupCompleted(_message.Message):
    __slots__ = ("checkup",)
    CHECKUP_FIELD_NUMBER: _ClassVar[int]
    checkup: _pairing_pb2.Checkup
    def __init__(self, checkup: _Optional[_Union[_pairing_pb2.Checkup, _Mapping]] = ...) -> None: ...

class LawyerSnapshot(_message.Message):
    __slots__ = ("lawyer",)
    LAWYER_FIELD_NUMBER: _ClassVar[int]
    lawyer: _pairing_pb2.Lawyer
    def __init__(self, lawyer: _Optional[_Union[_pairing_pb2.Lawyer, _Mapping]] = ...) -> None: ...
