"""Private servers for the hardening suite, which stops, restarts and kills them at will."""

from __future__ import annotations

import time
from unittest import mock

from scripts.devstack import mariadb, seaweedfs
from scripts.devstack.mariadb import ThrowawayMariaDB
from scripts.devstack.ports import port_is_free
from scripts.devstack.seaweedfs import ThrowawaySeaweedFS

LANCE_PORT_FLAG = "s3.port.lance"
PROBE_BUCKET = "patronus-readiness-probe"


def give_lance_a_free_port() -> None:
    """Make every SeaweedFS started from now on pick a free port for its Lance listener too
    (the default, 9101, is fixed, and a second instance on the machine exits on it)."""
    if LANCE_PORT_FLAG not in seaweedfs._PORT_FLAGS:
        seaweedfs._PORT_FLAGS = (*seaweedfs._PORT_FLAGS, LANCE_PORT_FLAG)  # type: ignore[assignment]


def _own_ports_count_as_free(module: object, own: set[int]) -> mock._patch[object]:
    """Right after a stop, the server's ports still hold TIME_WAIT connections: a plain bind
    fails on them, the server's own (SO_REUSEADDR) bind does not. A restarted server keeps its
    endpoint, as a real database or S3 endpoint does."""
    return mock.patch.object(module, "port_is_free", lambda port: port in own or port_is_free(port))


class PrivateMariaDB(ThrowawayMariaDB):
    def restart(self) -> None:
        port = self.port
        with _own_ports_count_as_free(mariadb, {port}):
            self.start()
        assert self.port == port, "the MariaDB port was taken while the server was down"


class PrivateSeaweedFS(ThrowawaySeaweedFS):
    """A SeaweedFS whose every port, the Lance listener's included, is free and its own."""

    def _choose_ports(self) -> None:
        give_lance_a_free_port()
        super()._choose_ports()

    def _wait_until_serving(self, timeout: float) -> None:
        """The base probe creates a bucket, which this SeaweedFS refuses with BucketAlreadyExists
        once it exists (a restart over the same data); probe with an object write instead."""
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.client(retries={"max_attempts": 1})
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                if PROBE_BUCKET not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
                    client.create_bucket(Bucket=PROBE_BUCKET)
                client.put_object(Bucket=PROBE_BUCKET, Key="probe", Body=b"ok")
                client.delete_object(Bucket=PROBE_BUCKET, Key="probe")
                return
            except (BotoCoreError, ClientError) as exc:  # not serving yet; retried until timeout
                last_error = exc
                time.sleep(0.3)
        raise RuntimeError(f"SeaweedFS did not start serving S3 within {timeout:.0f} s: {last_error}")

    def restart(self) -> None:
        endpoint = self.endpoint
        with _own_ports_count_as_free(seaweedfs, set(self.ports.values())):
            self.start()
        assert self.endpoint == endpoint, "the S3 port was taken while the server was down"
