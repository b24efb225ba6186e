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
    base = free_port_block([0, 2], start=port - 1, stop=port + 1)  # free again now
    assert base in (port - 1, port)
    with pytest.raises(RuntimeError, match="no free range"):  # handed out already
        free_port_block([0, 2], start=base, stop=base + 1)
    with pytest.raises(RuntimeError, match="no free range"):  # its second port, too
        free_port_block([0], start=base + 2, stop=base + 3)
