"""A REST port the server cannot use is logged, and the server goes on serving gRPC.

``server.cc`` treats both as non-fatal: ``--rest_api_port`` equal to ``--port`` logs
``server_options.http_port cannot be same as grpc_port ...`` and skips REST; a REST port that
does not bind logs ``Failed to start HTTP Server at localhost:{port}``. Either way the process
keeps running with gRPC alone, until it is stopped.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fashion.clients.grpc import GrpcServingClient
from fashion.servers import ServerProcess, free_ports, server_args
from tests.support.savedmodels import write_elementwise_affine_model

pytestmark = [pytest.mark.server, pytest.mark.slow]


def _serves_grpc_alone(binary: Any, tmp_path: Path, rest_port: int, grpc_port: int) -> str:
    """Start a server on these ports; return its log once gRPC has answered a predict."""
    write_elementwise_affine_model(tmp_path / "m" / "1", 0.5, 2.0)
    args = server_args(
        binary, rest_port=rest_port, grpc_port=grpc_port, model_name="m", base_path=tmp_path / "m"
    )
    log_path = tmp_path / "server.log"
    with (
        ServerProcess(args, log_path) as process,
        GrpcServingClient(f"127.0.0.1:{grpc_port}", "m", timeout=5) as client,
    ):
        client.wait_until_available(1, timeout=60)
        np.testing.assert_allclose(client.predict([[2.0, 4.0]]), [[3.0, 4.0]])
        process.check_alive()
    return log_path.read_text()


def test_a_rest_port_equal_to_the_grpc_port_is_skipped_with_tf_servings_error(
    model_server_binary: Any, tmp_path: Path
) -> None:
    [port] = free_ports(1)
    log = _serves_grpc_alone(model_server_binary, tmp_path, rest_port=port, grpc_port=port)
    assert (
        "server_options.http_port cannot be same as grpc_port. Please use a different port for "
        "HTTP/REST API. Skipped exporting HTTP/REST API."
    ) in log, log[-3000:]
    assert "Exporting HTTP/REST API" not in log


def test_a_rest_port_that_does_not_bind_is_logged_and_grpc_serves_on(
    model_server_binary: Any, tmp_path: Path
) -> None:
    rest_port, grpc_port = free_ports(2)
    with socket.socket() as holder:
        holder.bind(("", rest_port))
        holder.listen()
        log = _serves_grpc_alone(
            model_server_binary, tmp_path, rest_port=rest_port, grpc_port=grpc_port
        )
    assert f"Failed to start HTTP Server at localhost:{rest_port}" in log, log[-3000:]
    assert "Exporting HTTP/REST API" not in log
