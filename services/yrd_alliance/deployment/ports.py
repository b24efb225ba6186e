"""Free loopback ports for the servers `alliance up`, the tests and the benchmarks start.

A port is found free by binding it, then let go for the server to bind: in between, anything
may take it. So ports are drawn below Linux's ephemeral ports (32768+), which outgoing
connections take at any moment, and this process never hands out a port twice, so two
servers it starts cannot be given the same one.
"""

from __future__ import annotations

import random
import socket

LOOPBACK = "127.0.0.1"
EPHEMERAL_PORTS = 32768  # where Linux begins handing ports to outgoing connections
# Single ports, apart from the blocks that `free_base_port` and the tests draw (20000 up).
SINGLE_PORTS = (10_000, 20_000)
_ATTEMPTS = 200
_handed_out: set[int] = set()
_rng = random.Random()


def free_port() -> int:
    """A port free on loopback now, in SINGLE_PORTS."""
    return free_port_block([0], start=SINGLE_PORTS[0], stop=SINGLE_PORTS[1])


def free_port_block(offsets: list[int], *, start: int, stop: int) -> int:
    """A base port in [start, stop) such that base + each offset is free on loopback and was
    never handed out by this process before."""
    for _ in range(_ATTEMPTS):
        base = _rng.randrange(start, stop)
        ports = [base + offset for offset in offsets]
        if _handed_out.intersection(ports) or not all(map(_bindable, ports)):
            continue
        _handed_out.update(ports)
        return base
    raise RuntimeError(f"no free range of ports found in [{start}, {stop})")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True
