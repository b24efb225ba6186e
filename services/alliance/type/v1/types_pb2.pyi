from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class IndustrialChain(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INDUSTRIAL_CHAIN_UNSPECIFIED: _ClassVar[IndustrialChain]
    INDUSTRIAL_CHAIN_METALLURGY_NEW_MATERIALS: _ClassVar[IndustrialChain]
    INDUSTRIAL_CHAIN_BIOMEDICINE: _ClassVar[IndustrialChain]
    INDUSTRIAL_CHAIN_HIGH_END_TEXTILES: _ClassVar[IndustrialChain]
    INDUSTRIAL_CHAIN_INTELLIGENT_EQUIPMENT: _ClassVar[IndustrialChain]
    INDUSTRIAL_CHAIN_NEW_ENERGY: _ClassVar[IndustrialChain]
    INDUSTRIAL_CHAIN_INTEGRATED_CIRCUITS: _ClassVar[IndustrialChain]
    INDUSTRIAL_CHAIN_DIGITAL_ECONOMY: _ClassVar[IndustrialChain]
    INDUSTRIAL_CHAIN_PORT_LOGISTICS: _ClassVar[IndustrialChain]

class LegalArea(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEGAL_AREA_UNSPECIFIED: _ClassVar[LegalArea]
    LEGAL_AREA_CORPORATE: _ClassVar[LegalArea]
    LEGAL_AREA_INTELLECTUAL_PROPERTY: _ClassVar[LegalArea]
    LEGAL_AREA_LABOUR: _ClassVar[LegalArea]
    LEGAL_AREA_FINANCING: _ClassVar[LegalArea]
    LEGAL_AREA_CONTRACTS: _ClassVar[LegalArea]
    LEGAL_AREA_COMPLIANCE: _ClassVar[LegalArea]
    LEGAL_AREA_DATA_PRIVACY: _ClassVar[LegalArea]
    LEGAL_AREA_TAX: _ClassVar[LegalArea]
    LEGAL_AREA_DISPUTES: _ClassVar[LegalArea]
INDUSTRIAL_CHAIN_UNSPECIFIED: IndustrialChain
INDUSTRIAL_CHAIN_METALLURGY_NEW_MATERIALS: IndustrialChain
INDUSTRIAL_CHAIN_BIOMEDICINE: IndustrialChain
INDUSTRIAL_CHAIN_HIGH_END_TEXTILES: IndustrialChain
INDUSTRIAL_CHAIN_INTELLIGENT_EQUIPMENT: IndustrialChain
INDUSTRIAL_CHAIN_NEW_ENERGY: IndustrialChain
INDUSTRIAL_CHAIN_INTEGRATED_CIRCUITS: IndustrialChain
INDUSTRIAL_CHAIN_DIGITAL_ECONOMY: IndustrialChain
INDUSTRIAL_CHAIN_PORT_LOGISTICS: IndustrialChain
LEGAL_AREA_UNSPECIFIED: LegalArea
LEGAL_AREA_CORPORATE: LegalArea
LEGAL_AREA_INTELLECTUAL_PROPERTY: LegalArea
LEGAL_AREA_LABOUR: LegalArea
LEGAL_AREA_FINANCING: LegalArea
LEGAL_AREA_CONTRACTS: LegalArea
LEGAL_AREA_COMPLIANCE: LegalArea
LEGAL_AREA_DATA_PRIVACY: LegalArea
LEGAL_AREA_TAX: LegalArea
LEGAL_AREA_DISPUTES: LegalArea

class Contact(_message.Message):
    __slots__ = ("person", "phone", "email")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    person: str
    phone: str
    email: str
    def __init__(self, person: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...
