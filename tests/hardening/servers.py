"""Private servers for the hardening suite, which stops, restarts and kills them at will."""

from __future__ import annotations

from scripts.devstack import seaweedfs
from scripts.devstack.seaweedfs import ThrowawaySeaweedFS

LANCE_PORT_FLAG = "s3.port.lance"


def give_lance_a_free_port() -> None:
    """Make every SeaweedFS started from now on pick a free port for its Lance listener too
    (the default, 9101, is fixed, and a second instance on the machine exits on it)."""
    if LANCE_PORT_FLAG not in seaweedfs._PORT_FLAGS:
        seaweedfs._PORT_FLAGS = (*seaweedfs._PORT_FLAGS, LANCE_PORT_FLAG)  # type: ignore[assignment]


class PrivateSeaweedFS(ThrowawaySeaweedFS):
    """A SeaweedFS whose every port, the Lance listener's included, is free and its own."""

    def _choose_ports(self) -> None:
        give_lance_a_free_port()
        super()._choose_ports()
