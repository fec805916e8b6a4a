"""Side-by-side latency and throughput of the TF Serving stand-in (issues 3 and 10); not a test.

    python -m benchmarks.serving_bench [--small-requests 300] [--large-requests 100]
                                       [--duration 3] [--clients 1,4,8]
                                       [--grpc-encoding tensor_content|float_val]
                                       [--server-flag=--rest_api_num_threads=8 ...]

One run exports the untrained seed-v1 CNN into a temporary directory, starts the stand-in on
127.0.0.1 through :mod:`fashion.servers.launcher` with the flags the real server takes (a REST
port and a gRPC ``--port``), loads the same version in this process with the loader the server
uses (:class:`Servable`), and prints:

* p50/p99 latency of a 3- and a 256-instance predict along six paths (:mod:`predict_paths`):
  the signature called in-process; "JSON parse + signature call" (the stand-in's own decoder,
  then ``Servable.run``); the same plus the stand-in's response encoder; the stand-in over HTTP
  (keep-alive ``http.client``); the gRPC handler's work without gRPC (``PredictRequest`` parse,
  TensorProto in, ``run_predict``, TensorProto out, serialize); and the stand-in over gRPC
  (``PredictionService/Predict`` on one channel, the ``PredictRequest`` serialized once, as
  ``tf.make_tensor_proto(array)`` writes it: ``tensor_content``). The paths take turns request
  by request, so a noisy shared machine slows them alike and the ratios hold;
* requests/s with 1, 4 and 8 concurrent clients sending 3-instance requests, over REST and over
  gRPC. Clients are separate processes that import neither TensorFlow nor protobuf: REST
  clients use ``http.client`` (far cheaper per request than ``requests``), gRPC clients send the
  pre-serialized bytes through a raw ``channel.unary_unary`` without serializers. On 2 cores
  they compete with the server for CPU, so the CPU time of the server, of the clients and of
  everything else on the machine is measured over the same window and printed, with the
  server's CPU cost per request and the rate it implies if the server had both cores to itself.
  The in-process rows use threads in this process;
* the verdict on each target.

This module sets up (options, the export, the server, the in-process servable) and runs;
:mod:`benchmarks.measurements` measures, prints the tables and judges the targets.

This process calls ``gc.freeze()`` once TensorFlow and the model are loaded, as the server does
after its first load, so "JSON parse + signature call" is the best an in-process path gets. It
also runs TensorFlow's Eigen kernels, as the stand-in does
(``fashion.serving.startup.tf_env``), so both sides run the same kernels.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.load_clients import MODEL_NAME, Transport
from benchmarks.measurements import (
    Budget,
    latency_table,
    load_average,
    print_targets,
    throughput_table,
)
from benchmarks.predict_paths import GRPC_ENCODINGS, GrpcEncoding, Paths, make_case

if TYPE_CHECKING:
    from fashion.servers import ServerProcess

__all__ = ["main"]

_EXPORT_SCRIPT = (
    "import sys; from fashion.model import build; from fashion.export import export_version; "
    "export_version(build('seed-v1'), sys.argv[1], 1)"
)


@dataclass(frozen=True)
class _Options:
    small_requests: int
    large_requests: int
    duration: float
    clients: tuple[int, ...]
    latency_budget: float
    grpc_encoding: GrpcEncoding
    server_flags: tuple[str, ...]
    model_server: str = "stand-in"
    container_engine: str | None = None
    docker_pull: bool = False

    @property
    def budget(self) -> Budget:
        """The measurements' share of the options."""
        return Budget(
            self.small_requests,
            self.large_requests,
            self.latency_budget,
            self.clients,
            self.duration,
        )


def _parse_args(argv: Sequence[str] | None) -> _Options:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.serving_bench",
        description="Latency and throughput of the TF Serving stand-in next to in-process calls.",
    )
    parser.add_argument(
        "--small-requests",
        type=int,
        default=300,
        help="3-instance latency samples per path (default 300)",
    )
    parser.add_argument(
        "--large-requests",
        type=int,
        default=100,
        help="256-instance latency samples per path (default 100; with 25, the p50s of a busy "
        "shared machine move by 15%%)",
    )
    parser.add_argument(
        "--duration", type=float, default=3.0, help="seconds per throughput measurement (default 3)"
    )
    parser.add_argument(
        "--clients",
        default="1,4,8",
        help="comma-separated concurrent client counts (default 1,4,8)",
    )
    parser.add_argument(
        "--latency-budget",
        type=float,
        default=60.0,
        help="upper bound in seconds for each latency column (default 60)",
    )
    parser.add_argument(
        "--grpc-encoding",
        choices=GRPC_ENCODINGS,
        default="tensor_content",
        help="how the gRPC requests carry the images: tensor_content, as tf.make_tensor_proto "
        "writes it (default), or the typed float_val field",
    )
    parser.add_argument(
        "--model-server",
        default="stand-in",
        help="the server to measure (default stand-in): the same values as pytest's "
        "--model-server (auto, stand-in, docker[:IMAGE[:TAG]], a binary's path)",
    )
    parser.add_argument("--container-engine", help="docker (default) or podman")
    parser.add_argument(
        "--docker-pull", action="store_true", help="pull a missing image (never done otherwise)"
    )
    parser.add_argument(
        "--server-flag",
        action="append",
        default=[],
        help="extra stand-in flag, e.g. --server-flag=--rest_api_num_threads=4",
    )
    args = parser.parse_args(argv)
    clients = tuple(int(c) for c in args.clients.split(",") if c.strip())
    if args.small_requests < 1 or args.large_requests < 1 or args.duration <= 0 or not clients:
        parser.error("request counts, duration and client counts must be positive")
    return _Options(
        args.small_requests,
        args.large_requests,
        args.duration,
        clients,
        args.latency_budget,
        args.grpc_encoding,
        tuple(args.server_flag),
        args.model_server,
        args.container_engine,
        args.docker_pull,
    )


def _export_model(base: Path) -> None:
    """Export seed-v1 in a child process, so this one never imports Keras (as the server)."""
    done = subprocess.run(
        [sys.executable, "-c", _EXPORT_SCRIPT, str(base)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"exporting seed-v1 failed:\n{done.stderr[-2000:]}")


def _wait_until_serving(server: ServerProcess, port: int) -> None:
    """Version 1 AVAILABLE within 120 s; a server that exits meanwhile fails at once."""
    from fashion.clients import ServingClient, ServingTimeoutError

    with ServingClient(f"http://127.0.0.1:{port}", MODEL_NAME) as client:
        for _ in range(60):
            server.check_alive()  # raises with the server log's tail
            try:
                client.wait_until_available(1, timeout=2)
            except ServingTimeoutError:
                continue
            return
    raise RuntimeError("the stand-in did not serve version 1 within 120 s")


def _run(options: _Options, workdir: Path) -> None:
    from fashion.servers import ServerProcess, free_port, plan_launch, resolve_model_server

    base = workdir / MODEL_NAME
    _export_model(base)
    ports: dict[Transport, int] = {"REST": free_port(), "gRPC": free_port()}
    binary = resolve_model_server(
        options.model_server,
        container_engine=options.container_engine,
        docker_pull=options.docker_pull,
    )
    launch = plan_launch(
        binary,
        rest_port=ports["REST"],
        grpc_port=ports["gRPC"],
        model_name=MODEL_NAME,
        base_path=base,
        extra=options.server_flags,
    )
    args = launch.args
    with ServerProcess(launch, workdir / "server.log") as server:
        from fashion.serving.runtime.servable import Servable

        servable = Servable.load(str(base / "1"))
        gc.freeze()  # as the server does once its models are loaded
        _wait_until_serving(server, ports["REST"])
        paths = Paths(servable, ports["REST"], ports["gRPC"])
        try:
            small, large = (
                make_case(count, paths.input_key, options.grpc_encoding) for count in (3, 256)
            )
            paths.check_answers(small)
            paths.check_answers(large)
            import grpc
            import tensorflow as tf

            print(
                f"serving_bench: seed-v1 CNN (untrained), TF {tf.__version__}, grpcio "
                f"{grpc.__version__}; REST bodies {len(small.json_body) / 1e3:.1f} KB (3 "
                f"instances) and {len(large.json_body) / 1e6:.2f} MB (256 instances); gRPC "
                f"PredictRequests ({options.grpc_encoding}) {len(small.grpc_body) / 1e3:.1f} KB "
                f"and {len(large.grpc_body) / 1e6:.2f} MB; both answers checked against the "
                "in-process call"
            )
            kernels = "Eigen" if os.environ.get("TF_ENABLE_ONEDNN_OPTS") == "0" else "oneDNN"
            print(
                f"kernels: {kernels} (TF_ENABLE_ONEDNN_OPTS="
                f"{os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'unset')}, here and in the stand-in)"
            )
            print(f"{binary.description}, pid {server.pid}: {' '.join(args[1:])}")
            if binary.kind == "docker":
                print("   (the server CPU columns measure the engine's client, not the container)")
            print(f"load average at start (1/5/15 min): {load_average()}")
            latency = latency_table(paths, small, large, options.budget)
            rates = throughput_table(paths, small, ports, server.pid or 0, options.budget)
            print_targets(latency, rates)
            print(f"load average at end (1/5/15 min): {load_average()}")
        finally:
            paths.close()
            servable.close()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark once and print its tables; returns the exit status."""
    from fashion.serving.startup.tf_env import use_eigen_kernels

    use_eigen_kernels()  # before this process imports TensorFlow
    options = _parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as workdir:
        _run(options, Path(workdir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
