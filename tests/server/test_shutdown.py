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

from fashion.harness import spawn_model_server
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
