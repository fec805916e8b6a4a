"""SIGTERM stops the server promptly (the stand-in promises within a second; the bound here is
5 s so that a loaded machine does not make the test flaky). The figure is printed."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from server_kit import load_model_writers, port_accepts_connections

from fashion.client import ServingClient
from fashion.harness import spawn_model_server
from fashion.launcher import ServerProcess, free_port, log_tail, server_args
from fashion.waiting import wait_until

pytestmark = pytest.mark.server

STOP_BOUND_SECONDS = 5.0


@pytest.mark.slow
def test_sigterm_stops_a_serving_server_within_seconds(
    xprocess: Any, model_server_binary: Any, tmp_path: Path
) -> None:
    load_model_writers().write_elementwise_affine_model(tmp_path / "m" / "1", 0.5, 2.0)
    server = spawn_model_server(
        xprocess,
        model_server_binary,
        "sigterm-server",
        model_name="m",
        base_path=tmp_path / "m",
        extra_flags=["--file_system_poll_wait_seconds=1"],
    )
    try:
        assert port_accepts_connections(server.rest_port)
        started = time.monotonic()
        os.kill(server.pid, signal.SIGTERM)
        wait_until(lambda: not server.is_running(), 30, "the server to exit after SIGTERM")
        took = time.monotonic() - started
        print(f"SIGTERM to exit: {took:.3f} s")
        assert took < STOP_BOUND_SECONDS
        assert not port_accepts_connections(server.rest_port)
    finally:
        server.stop()


@pytest.mark.slow
def test_sigterm_ends_the_process_killed_by_the_signal_like_the_real_server(
    model_server_binary: Any, tmp_path: Path
) -> None:
    """tensorflow_model_server installs no SIGTERM handler; the stand-in (uvicorn >= 0.29)
    finishes in-flight requests and then re-raises the signal, so both end the same way."""
    load_model_writers().write_elementwise_affine_model(tmp_path / "m" / "1", 0.5, 2.0)
    port = free_port()
    args = server_args(
        model_server_binary, rest_port=port, model_name="m", base_path=tmp_path / "m"
    )
    with ServerProcess(args, tmp_path / "server.log") as process:
        with ServingClient(f"http://127.0.0.1:{port}", "m", timeout=5) as client:
            client.wait_until_available(1, timeout=60)
        status = process.stop()
    assert status == -signal.SIGTERM, log_tail(tmp_path / "server.log")
    assert "Traceback" not in (tmp_path / "server.log").read_text()
