from alliance.operations.v1 import operations_pb2 as _operations_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TokenRevoked(_message.Message):
    __slots__ = ("token",)
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: _operations_pb2.RevokedToken
    def __init__(self, token: _Optional[_Union[_operations_pb2.RevokedToken, _Mapping]] = ...) -> None: ...
