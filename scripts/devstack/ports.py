"""Free-port and readiness helpers shared by the throwaway servers."""

from __future__ import annotations

import socket
import subprocess
import time


class ServerExited(RuntimeError):
    """The server process ended before it opened its port (often: a port was taken)."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Nothing listens on the port. Connections of a server just stopped may linger in
    TIME_WAIT; servers bind with SO_REUSEADDR, so such a port counts as free (a restarted
    server keeps its endpoint)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_for_port(
    port: int, timeout: float, what: str, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Block until something accepts TCP connections on 127.0.0.1:port (or ``process`` exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServerExited(f"{what} exited with code {process.returncode} before opening port {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{what} did not open 127.0.0.1:{port} within {timeout:.0f} s")


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """SIGTERM (a clean shutdown keeps the data), then SIGKILL after ``timeout`` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
