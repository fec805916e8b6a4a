"""SIGTERM stops the server promptly, every port with it (the stand-in promises within a second;
the bound here is 5 s so that a loaded machine does not make the test flaky). The figure is
printed."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from fashion.clients import ServingClient
from fashion.servers import (
    ServerProcess,
    free_port,
    log_tail,
    port_accepts_connections,
    server_args,
    wait_until,
)
from fashion.testing.served import spawn_model_server
from tests.support.savedmodels import write_elementwise_affine_model
from tests.support.sockets import short_socket_path

pytestmark = pytest.mark.server

STOP_BOUND_SECONDS = 5.0


def _socket_accepts_connections(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except OSError:
            return False
        return True


@pytest.mark.slow
def test_sigterm_stops_a_serving_server_within_seconds(
    xprocess: Any, model_server_binary: Any, tmp_path: Path
) -> None:
    """REST, the gRPC port and the gRPC UNIX socket all close."""
    write_elementwise_affine_model(tmp_path / "m" / "1", 0.5, 2.0)
    with short_socket_path() as grpc_socket:
        _sigterm_closes_every_listener(xprocess, model_server_binary, tmp_path, grpc_socket)


def _sigterm_closes_every_listener(
    xprocess: Any, model_server_binary: Any, tmp_path: Path, grpc_socket: Path
) -> None:
    server = spawn_model_server(
        xprocess,
        model_server_binary,
        "sigterm-server",
        model_name="m",
        base_path=tmp_path / "m",
        extra_flags=["--file_system_poll_wait_seconds=1", f"--grpc_socket_path={grpc_socket}"],
    )
    try:
        assert port_accepts_connections(server.rest_port)
        assert port_accepts_connections(server.grpc_port)
        assert _socket_accepts_connections(grpc_socket)
        started = time.monotonic()
        os.kill(server.pid, signal.SIGTERM)
        wait_until(lambda: not server.is_running(), 30, "the server to exit after SIGTERM")
        took = time.monotonic() - started
        print(f"SIGTERM to exit: {took:.3f} s")
        assert took < STOP_BOUND_SECONDS
        # The process counts as ended once its main thread is a zombie; its other threads may
        # still hold the sockets for a moment while the kernel tears the process down.
        wait_until(
            lambda: (
                not (
                    port_accepts_connections(server.rest_port)
                    or port_accepts_connections(server.grpc_port)
                    or _socket_accepts_connections(grpc_socket)
                )
            ),
            5,
            "every listener to close after the exit",
        )
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("rest", [True, False], ids=["rest", "no-rest"])
def test_a_signal_ends_the_process_killed_by_it_like_the_real_server(
    model_server_binary: Any, tmp_path: Path, signum: signal.Signals, rest: bool
) -> None:
    """tensorflow_model_server installs no handler for either signal: it dies of it. The
    stand-in finishes in-flight requests and cleans up first, then ends the same way, also when
    it serves no REST port (``--rest_api_port=0``)."""
    write_elementwise_affine_model(tmp_path / "m" / "1", 0.5, 2.0)
    port = free_port()
    args = server_args(
        model_server_binary, rest_port=port, model_name="m", base_path=tmp_path / "m"
    )
    if not rest:
        args = [
            arg if not arg.startswith("--rest_api_port=") else "--rest_api_port=0" for arg in args
        ]
    log_path = tmp_path / "server.log"
    with ServerProcess(args, log_path) as process:
        if rest:
            with ServingClient(f"http://127.0.0.1:{port}", "m", timeout=5) as client:
                client.wait_until_available(1, timeout=60)
        else:
            wait_until(
                lambda: "Successfully loaded servable version" in log_path.read_text(),
                60,
                "version 1 to load",
            )
        assert process.pid is not None
        os.kill(process.pid, signum)
        status = process.wait(STOP_BOUND_SECONDS)
    assert status == -signum, log_tail(log_path)
    assert "Traceback" not in log_path.read_text()


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_start_up_ends_the_process_at_once(
    model_server_binary: Any, tmp_path: Path, signum: signal.Signals
) -> None:
    """Before it serves, the real server (no handler installed) dies of either signal at once.
    The stand-in leaves both at their default action until it serves: a SIGINT that reached it
    as ``KeyboardInterrupt`` during TensorFlow's import was once swallowed by the import
    machinery ("Exception ignored in ... _get_module_lock"), leaving a process that no longer
    stopped (a rare race this test can catch, not reproduce at will)."""
    write_elementwise_affine_model(tmp_path / "m" / "1", 0.5, 2.0)
    args = server_args(
        model_server_binary, rest_port=free_port(), model_name="m", base_path=tmp_path / "m"
    )
    log_path = tmp_path / "server.log"
    with ServerProcess(args, log_path) as process:
        assert process.pid is not None
        # Once the log has its first line the process is importing TensorFlow and loading.
        wait_until(lambda: log_path.stat().st_size > 0, 60, "the server's first log line")
        os.kill(process.pid, signum)
        status = process.wait(STOP_BOUND_SECONDS)
    assert status == -signum, log_tail(log_path)
