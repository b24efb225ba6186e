"""Free ports: below the ephemeral range, free when handed out, never handed out twice."""

from __future__ import annotations

import socket

import pytest
from yrd_alliance.deployment.ports import (
    EPHEMERAL_PORTS,
    LOOPBACK,
    SINGLE_PORTS,
    free_port,
    free_port_block,
)


def test_single_ports_are_below_the_ephemeral_ports_and_never_repeat() -> None:
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
    assert all(SINGLE_PORTS[0] <= port < SINGLE_PORTS[1] < EPHEMERAL_PORTS for port in ports)


def test_a_block_skips_a_held_port_and_every_port_handed_out_before() -> None:
    with socket.socket() as held:
        held.bind((LOOPBACK, 0))  # a port some other program holds
        port = held.getsockname()[1]
        with pytest.raises(RuntimeError, match="no free range"):
            free_port_block([0], start=port, stop=port + 1)
    assert free_port_block([0], start=port, stop=port + 1) == port  # free again now
    base = free_port_block([0, 2], start=SINGLE_PORTS[0], stop=SINGLE_PORTS[1])
    for handed_out in (port, base, base + 2):  # a block's second port, too
        with pytest.raises(RuntimeError, match="no free range"):
            free_port_block([0], start=handed_out, stop=handed_out + 1)
