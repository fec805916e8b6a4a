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
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.load_clients import (
    MODEL_NAME,
    Rate,
    Transport,
    p50_p99_ms,
    server_rate,
    threaded_rate,
)
from benchmarks.predict_paths import GRPC_ENCODINGS, Case, GrpcEncoding, Paths, make_case

if TYPE_CHECKING:
    from fashion.servers import ServerProcess

__all__ = ["main"]

_IN_PROCESS = "signature call in-process (Servable.run)"
_JSON_CALL = "JSON parse + signature call (no HTTP)"
_JSON_HANDLER = "JSON parse + call + encode (REST handler work)"
_REST = "stand-in over REST (keep-alive http.client)"
_PROTO_HANDLER = "proto parse + call + encode (gRPC handler work)"
_GRPC = "stand-in over gRPC (pre-serialized request)"
_TRANSPORTS: tuple[Transport, ...] = ("REST", "gRPC")
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


def _interleaved(
    calls: dict[str, Callable[[], object]], count: int, budget: float
) -> dict[str, list[float]]:
    """Per-call seconds; the calls take turns (order rotating) so noise hits them alike."""
    for call in calls.values():
        for _ in range(3):  # warm-up: first session runs, connection, allocator
            call()
    names = list(calls)
    times: dict[str, list[float]] = {name: [] for name in names}
    deadline = time.monotonic() + budget
    for i in range(count):
        if time.monotonic() > deadline:
            break
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            calls[name]()
            times[name].append(time.perf_counter() - start)
    return times


def _latency_table(
    paths: Paths, small: Case, large: Case, options: _Options
) -> dict[str, dict[int, float]]:
    """Print p50/p99 per path and request size; return path -> instances -> p50 in ms."""
    rows: dict[str, Callable[[Case], object]] = {
        _IN_PROCESS: paths.in_process,
        _JSON_CALL: paths.json_call,
        _JSON_HANDLER: paths.json_call_encode,
        _REST: paths.rest,
        _PROTO_HANDLER: paths.proto_call_encode,
        _GRPC: paths.grpc,
    }
    columns = {}
    for case, count in ((small, options.small_requests), (large, options.large_requests)):
        calls = {name: (lambda f=f, c=case: f(c)) for name, f in rows.items()}
        columns[len(case.array)] = _interleaved(calls, count, options.latency_budget)
    print(
        f"\nLatency, ms: paths interleaved request by request; {len(columns[3][_IN_PROCESS])}"
        f" x 3-instance and {len(columns[256][_IN_PROCESS])} x 256-instance samples per "
        "path (p99 of < 100 samples is about the max)"
    )
    print(f"{'path':<50}{'3 inst p50':>11}{'p99':>8}{'256 inst p50':>14}{'p99':>9}")
    table: dict[str, dict[int, float]] = {}
    for name in rows:
        small_p50, small_p99 = p50_p99_ms(columns[3][name])
        large_p50, large_p99 = p50_p99_ms(columns[256][name])
        table[name] = {3: small_p50, 256: large_p50}
        print(f"{name:<50}{small_p50:>11.2f}{small_p99:>8.2f}{large_p50:>14.1f}{large_p99:>9.1f}")
    return table


def _rate_row(clients: int, path: str, rate: Rate) -> str:
    ceiling = 2000 / rate.server_cpu_ms_per_request if rate.server_cpu_ms_per_request else 0
    return (
        f"{clients:>7}  {path:<24}{rate.requests_per_second:>7.0f}{rate.p50_ms:>8.2f}"
        f"{rate.p99_ms:>8.2f}{rate.errors:>7}{rate.server_cpu_ms_per_request:>15.3f}"
        f"{rate.client_cores:>8.2f}{rate.other_cores:>7.2f}{ceiling:>9.0f}"
    )


def _throughput_table(
    paths: Paths, small: Case, ports: dict[Transport, int], pid: int, options: _Options
) -> dict[str, dict[int, float]]:
    """Print requests/s per path and client count; return path -> clients -> requests/s."""
    print(
        f"\nThroughput, 3-instance requests, {options.duration:g} s per cell. Stand-in clients "
        "are processes (REST: http.client, keep-alive; gRPC: grpcio, one channel, raw bytes); "
        "'client'/'other' = CPU cores used by the clients / by everything else on the machine "
        "in the window; 'ceiling' = 2 cores / server CPU per request. Handler and in-process "
        "rows: threads in this process, no clients to pay for."
    )
    print(
        f"{'clients':>7}  {'path':<24}{'req/s':>7}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}"
        f"{'srv CPU ms/req':>15}{'client':>8}{'other':>7}{'ceiling':>9}"
    )
    bodies = {"REST": small.json_body, "gRPC": small.grpc_body}
    threaded = {
        "in-process call": lambda: paths.in_process(small),
        "REST handler, no HTTP": lambda: paths.json_call_encode(small),
        "gRPC handler, no gRPC": lambda: paths.proto_call_encode(small),
    }
    rates: dict[str, dict[int, float]] = {name: {} for name in (*_TRANSPORTS, *threaded)}
    for turn, clients in enumerate(options.clients):
        order = _TRANSPORTS[turn % 2 :] + _TRANSPORTS[: turn % 2]  # who goes first alternates
        for transport in order:
            rate = server_rate(
                transport, ports[transport], pid, bodies[transport], clients, options.duration
            )
            rates[transport][clients] = rate.requests_per_second
            print(_rate_row(clients, f"stand-in over {transport}", rate))
            if rate.errors:
                print(f"{'':>9}first error: {rate.first_error[:200]}")
        for name, call in threaded.items():
            rates[name][clients] = threaded_rate(call, clients, options.duration)
            print(f"{clients:>7}  {name:<24}{rates[name][clients]:>7.0f}")
    counts = " / ".join(str(clients) for clients in options.clients)
    print(f"\nrequests/s with {counts} clients")
    for name in ("in-process call", *_TRANSPORTS, "REST handler, no HTTP", "gRPC handler, no gRPC"):
        figures = " / ".join(f"{rates[name][clients]:,.0f}" for clients in options.clients)
        print(f"  {name:<24}{figures}")
    return rates


def _load_average() -> str:
    """The machine's load: the benchmark itself adds about 1-2 while it runs."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _print_targets(
    latency: dict[str, dict[int, float]], rates: dict[str, dict[int, float]]
) -> None:
    in_process = latency[_IN_PROCESS]
    rest_gap = latency[_REST][3] - in_process[3]
    rest_ratio = latency[_REST][256] / latency[_JSON_CALL][256]
    grpc_gap = latency[_GRPC][3] - in_process[3]
    grpc_ratio = latency[_GRPC][256] / in_process[256]
    print("\nTargets (issue 3: REST; issue 10: gRPC)")
    print(
        f"  REST 3-instance p50 - in-process call: {rest_gap:+.2f} ms (target <= +1.50 ms): "
        f"{_verdict(rest_gap <= 1.5)}"
    )
    print(
        f"  REST 256-instance p50 / (JSON parse + signature call): {rest_ratio:.2f} "
        f"(target <= 1.30): {_verdict(rest_ratio <= 1.3)}"
    )
    if 8 in rates["REST"]:
        rps = rates["REST"][8]
        print(f"  REST 8 clients: {rps:.0f} req/s (target >= 600): {_verdict(rps >= 600)}")
    print(
        f"  gRPC 3-instance p50 - in-process call: {grpc_gap:+.2f} ms (target <= +1.00 ms): "
        f"{_verdict(grpc_gap <= 1.0)}"
    )
    print(
        f"  gRPC 256-instance p50 / in-process call: {grpc_ratio:.2f} (target <= 1.50): "
        f"{_verdict(grpc_ratio <= 1.5)}"
    )


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
            print(f"load average at start (1/5/15 min): {_load_average()}")
            latency = _latency_table(paths, small, large, options)
            rates = _throughput_table(paths, small, ports, server.pid or 0, options)
            _print_targets(latency, rates)
            print(f"load average at end (1/5/15 min): {_load_average()}")
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
