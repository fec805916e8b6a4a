"""Side-by-side latency and throughput of the TF Serving stand-in (issue 3); not a test.

    python -m benchmarks.serving_bench [--small-requests 300] [--large-requests 25]
                                       [--duration 3] [--clients 1,4,8]
                                       [--server-flag=--rest_api_num_threads=8 ...]

One run exports the untrained seed-v1 CNN into a temporary directory, starts the stand-in on
127.0.0.1 through :mod:`fashion.launcher` with the flags the real server takes, loads the same
version in this process with the loader the server uses (:class:`Servable`), and prints:

* p50/p99 latency of a 3- and a 256-instance row-format predict along four paths - the
  signature called in-process, "JSON parse + signature call" (the stand-in's own decoder, then
  ``Servable.run``), the same plus the stand-in's response encoder, and the stand-in over HTTP
  (keep-alive ``http.client``). The paths take turns request by request, so a noisy shared
  machine slows them alike and the ratios hold;
* requests/s with 1, 4 and 8 concurrent clients sending 3-instance bodies. Clients are separate
  processes that import only the standard library (``http.client``: far cheaper per request
  than ``requests``). On 2 cores they compete with the server for CPU, so the CPU time of the
  server, of the clients and of everything else on the machine is measured over the same
  window and printed, with the server's CPU cost per request and the rate it implies if the
  server had both cores to itself. The in-process rows use threads in this process.

This process calls ``gc.freeze()`` once TensorFlow and the model are loaded, as the server does
after its first load, so "JSON parse + signature call" is the best an in-process path gets. It
also runs TensorFlow's Eigen kernels, as the stand-in does
(``fashion.serving.startup.tf_env``), so both sides run the same kernels.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
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
    TIMEOUT,
    p50_p99_ms,
    post,
    server_rate,
    threaded_rate,
)

if TYPE_CHECKING:
    import numpy as np

    from fashion.launcher import ServerProcess
    from fashion.serving.runtime.servable import Servable

__all__ = ["main"]

_BACKGROUND = 40  # pixels darker than this become 0: a black background, as in Fashion-MNIST
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
    server_flags: tuple[str, ...]


@dataclass(frozen=True)
class _Case:
    """One request size: the body as a client sends it and the array it decodes to."""

    body: bytes
    array: np.ndarray


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
        default=25,
        help="256-instance latency samples per path (default 25)",
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
        tuple(args.server_flag),
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


def _case(count: int) -> _Case:
    import numpy as np

    from fashion.preprocess import instances_body, scale_images
    from fashion.synthetic import make_synthetic_split

    raw, _ = make_synthetic_split(count, seed=3)
    images = scale_images(np.where(raw < _BACKGROUND, 0, raw).astype(np.uint8))
    return _Case(json.dumps(instances_body(images)).encode(), images)


class _Paths:
    """The four ways of answering one predict, each a call that raises on failure."""

    def __init__(self, servable: Servable, port: int) -> None:
        from fashion.serving.codec.predict_request import decode_inputs, read_predict_request
        from fashion.serving.codec.predict_response import encode_predict_response

        signature = servable.signatures["serving_default"]
        self._servable = servable
        self._inputs = {key: tensor.dtype for key, tensor in signature.inputs.items()}
        self._outputs = {key: tensor.dtype for key, tensor in signature.outputs.items()}
        self._input_key = next(iter(self._inputs))
        self._read, self._decode = read_predict_request, decode_inputs
        self._encode = encode_predict_response
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)

    def in_process(self, case: _Case) -> dict[str, np.ndarray]:
        return self._servable.run("serving_default", {self._input_key: case.array})

    def parse_call(self, case: _Case) -> dict[str, np.ndarray]:
        request = self._read(case.body)
        decoded = self._decode(request, self._inputs)
        return self._servable.run(request.signature_key, decoded.tensors)

    def parse_call_encode(self, case: _Case) -> bytes:
        return self._encode(self.parse_call(case), self._outputs, True)

    def http(self, case: _Case) -> bytes:
        return post(self._connection, case.body)

    def close(self) -> None:
        self._connection.close()


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


def _latency_table(paths: _Paths, small: _Case, large: _Case, options: _Options) -> dict:
    rows = {
        "signature call in-process (Servable.run)": paths.in_process,
        "JSON parse + signature call (no HTTP)": paths.parse_call,
        "parse + call + encode (handler work, no HTTP)": paths.parse_call_encode,
        "stand-in over HTTP (keep-alive http.client)": paths.http,
    }
    columns = {}
    for case, count in ((small, options.small_requests), (large, options.large_requests)):
        calls = {name: (lambda f=f, c=case: f(c)) for name, f in rows.items()}
        columns[len(case.array)] = _interleaved(calls, count, options.latency_budget)
    print(
        f"\nLatency, ms: paths interleaved request by request; {len(columns[3][next(iter(rows))])}"
        f" x 3-instance and {len(columns[256][next(iter(rows))])} x 256-instance samples per "
        "path (p99 of < 100 samples is about the max)"
    )
    print(f"{'path':<48}{'3 inst p50':>11}{'p99':>8}{'256 inst p50':>14}{'p99':>9}")
    table = {}
    for name in rows:
        small_p50, small_p99 = p50_p99_ms(columns[3][name])
        large_p50, large_p99 = p50_p99_ms(columns[256][name])
        table[name] = (small_p50, large_p50)
        print(f"{name:<48}{small_p50:>11.2f}{small_p99:>8.2f}{large_p50:>14.1f}{large_p99:>9.1f}")
    return table


def _throughput_table(
    paths: _Paths, small: _Case, port: int, pid: int, options: _Options
) -> dict[int, float]:
    print(
        f"\nThroughput, 3-instance bodies, {options.duration:g} s per cell. Stand-in clients are "
        "processes (http.client, keep-alive); 'client'/'other' = CPU cores used by the clients /"
        " by everything else on the machine in the window; 'ceiling' = 2 cores / server CPU per"
        " request. In-process columns: threads in this process, no clients to pay for."
    )
    print(
        f"{'clients':>7}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}{'srv CPU ms/req':>15}"
        f"{'client':>8}{'other':>7}{'ceiling':>9}{'in-proc call':>14}{'parse+call+enc':>16}"
    )
    rates = {}
    for clients in options.clients:
        rate = server_rate(port, pid, small.body, clients, options.duration)
        in_process = threaded_rate(lambda: paths.in_process(small), clients, options.duration)
        handler = threaded_rate(lambda: paths.parse_call_encode(small), clients, options.duration)
        ceiling = 2000 / rate.server_cpu_ms_per_request if rate.server_cpu_ms_per_request else 0
        rates[clients] = rate.requests_per_second
        print(
            f"{clients:>7}{rate.requests_per_second:>9.0f}{rate.p50_ms:>8.2f}{rate.p99_ms:>8.2f}"
            f"{rate.errors:>7}{rate.server_cpu_ms_per_request:>15.3f}{rate.client_cores:>8.2f}"
            f"{rate.other_cores:>7.2f}{ceiling:>9.0f}{in_process:>14.0f}{handler:>16.0f}"
        )
    return rates


def _check_answers(paths: _Paths, small: _Case) -> None:
    """The server and the in-process call must agree before their timings mean anything."""
    import numpy as np

    expected = paths.in_process(small)["probabilities"]
    answer = json.loads(paths.http(small))["predictions"]
    if not np.allclose(np.asarray(answer, dtype=np.float32), expected, rtol=1e-5, atol=1e-6):
        raise RuntimeError("the stand-in's predictions differ from the in-process call")


def _load_average() -> str:
    """The machine's load: the benchmark itself adds about 1-2 while it runs."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _print_targets(latency: dict, rates: dict[int, float]) -> None:
    in_process, parse_call, _, over_http = latency.values()
    gap = over_http[0] - in_process[0]
    ratio = over_http[1] / parse_call[1]
    print("\nTargets (issue 3)")
    print(
        f"  3-instance p50, HTTP - in-process call: {gap:+.2f} ms (target <= +1.50 ms): "
        f"{'met' if gap <= 1.5 else 'MISSED'}"
    )
    print(
        f"  256-instance p50, HTTP / (JSON parse + signature call): {ratio:.2f} "
        f"(target <= 1.30): {'met' if ratio <= 1.3 else 'MISSED'}"
    )
    if 8 in rates:
        rps = rates[8]
        print(f"  8 clients: {rps:.0f} req/s (target >= 600): {'met' if rps >= 600 else 'MISSED'}")


def _wait_until_serving(server: ServerProcess, port: int) -> None:
    """Version 1 AVAILABLE within 120 s; a server that exits meanwhile fails at once."""
    from fashion.client import ServingClient, ServingTimeoutError

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
    from fashion.launcher import ServerProcess, free_port, resolve_model_server, server_args

    base = workdir / MODEL_NAME
    _export_model(base)
    small, large = _case(3), _case(256)
    port = free_port()
    binary = resolve_model_server("stand-in")
    args = server_args(
        binary, rest_port=port, model_name=MODEL_NAME, base_path=base, extra=options.server_flags
    )
    with ServerProcess(args, workdir / "server.log") as server:
        from fashion.serving.runtime.servable import Servable

        servable = Servable.load(str(base / "1"))
        gc.freeze()  # as the server does once its models are loaded
        paths = _Paths(servable, port)
        try:
            _wait_until_serving(server, port)
            _check_answers(paths, small)
            import tensorflow as tf

            print(
                f"serving_bench: seed-v1 CNN (untrained), TF {tf.__version__}, "
                f"request bodies {len(small.body) / 1e3:.1f} KB (3 instances) and "
                f"{len(large.body) / 1e6:.2f} MB (256 instances)"
            )
            print(f"stand-in pid {server.pid}: {' '.join(args[1:])}")
            print(f"load average at start (1/5/15 min): {_load_average()}")
            latency = _latency_table(paths, small, large, options)
            rates = _throughput_table(paths, small, port, server.pid or 0, options)
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
