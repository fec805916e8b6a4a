"""Launches get distinct ports: a server given one port for REST and gRPC skips REST.

``server.cc`` logs ``server_options.http_port cannot be same as grpc_port`` and serves gRPC
only, so a REST client then reads gRPC's HTTP/2 frames (seen once in CI, when two releases of a
probed port 0 gave the same port twice).
"""

from __future__ import annotations

from fashion.servers import ModelServerBinary, free_ports, plan_launch


def test_free_ports_are_distinct_and_avoid_the_ports_given() -> None:
    [given] = free_ports(1)
    picked = free_ports(64, besides=[given])
    assert len(set(picked)) == 64
    assert given not in picked


def test_a_launch_without_ports_gets_two_different_ones() -> None:
    binary = ModelServerBinary(kind="real", command=("tensorflow_model_server",), version="2.21.0")
    for _ in range(20):
        launch = plan_launch(binary, model_name="m", base_path="/models/m")
        assert launch.rest_port != launch.grpc_port
        assert f"--port={launch.grpc_port}" in launch.args
        assert f"--rest_api_port={launch.rest_port}" in launch.args


def test_a_launch_given_one_port_picks_another_for_the_other() -> None:
    binary = ModelServerBinary(kind="real", command=("tensorflow_model_server",), version="2.21.0")
    [rest] = free_ports(1)
    assert plan_launch(binary, rest_port=rest, model_name="m", base_path="/m").grpc_port != rest
    assert plan_launch(binary, grpc_port=rest, model_name="m", base_path="/m").rest_port != rest
