"""Private servers for the hardening suite, which stops, restarts and kills them at will."""

from __future__ import annotations

from scripts.devstack.mariadb import ThrowawayMariaDB
from scripts.devstack.seaweedfs import ThrowawaySeaweedFS


class PrivateMariaDB(ThrowawayMariaDB):
    def restart(self) -> None:
        """Start again on the same port and data, as a real database endpoint comes back."""
        port = self.port
        self.start()
        assert self.port == port, "the MariaDB port was taken while the server was down"


class PrivateSeaweedFS(ThrowawaySeaweedFS):
    def restart(self) -> None:
        """Start again on the same ports and data, as a real S3 endpoint comes back."""
        endpoint = self.endpoint
        self.start()
        assert self.endpoint == endpoint, "the S3 port was taken while the server was down"
