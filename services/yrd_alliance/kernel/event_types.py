"""Every event type of the alliance, by its CloudEvents type: the one registry through which
services, the CLI and partners' tools decode payloads.

The types are found in the generated `alliance.<service>.v<n>.events_pb2` modules, so a new
service's events are known as soon as its protos are generated; nothing lists them by hand.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

import alliance
from google.protobuf import message_factory
from google.protobuf.message import Message

TYPE_PREFIX = "cn.yrd."


class UnknownEventType(LookupError):
    """An event whose ce-type no generated events module defines."""


@cache
def registry() -> dict[str, type[Message]]:
    """ce-type → payload message class, for every events module of every service."""
    types: dict[str, type[Message]] = {}
    for module_info in pkgutil.walk_packages(alliance.__path__, f"{alliance.__name__}."):
        if not module_info.name.endswith(".events_pb2"):
            continue
        module = importlib.import_module(module_info.name)
        for descriptor in module.DESCRIPTOR.message_types_by_name.values():
            types[TYPE_PREFIX + descriptor.full_name] = message_factory.GetMessageClass(descriptor)
    return types


def type_of(message: type[Message] | Message) -> str:
    """The CloudEvents type of a payload message (class or instance)."""
    return TYPE_PREFIX + message.DESCRIPTOR.full_name


def payload_class(event_type: str) -> type[Message]:
    try:
        return registry()[event_type]
    except KeyError:
        raise UnknownEventType(f"no event type {event_type!r} in the alliance's protos") from None
