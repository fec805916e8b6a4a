"""What :mod:`benchmarks.serving_bench` measures and prints: latency, throughput, the verdicts.

Latency: p50/p99 per predict path (:mod:`benchmarks.predict_paths`) for a 3- and a 256-instance
request, the paths taking turns request by request so that a noisy shared machine slows them
alike. Throughput: requests/s per concurrent client count, over REST and gRPC from client
processes (:mod:`benchmarks.load_clients`) and in-process with threads. Then each target of
issues 3 (REST) and 10 (gRPC), met or MISSED. The server is started by the caller.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.load_clients import Rate, Transport, p50_p99_ms, server_rate, threaded_rate
from benchmarks.predict_paths import Case, Paths

__all__ = ["Budget", "latency_table", "load_average", "print_targets", "throughput_table"]

_IN_PROCESS = "signature call in-process (Servable.run)"
_JSON_CALL = "JSON parse + signature call (no HTTP)"
_JSON_HANDLER = "JSON parse + call + encode (REST handler work)"
_REST = "stand-in over REST (keep-alive http.client)"
_PROTO_HANDLER = "proto parse + call + encode (gRPC handler work)"
_GRPC = "stand-in over gRPC (pre-serialized request)"
_TRANSPORTS: tuple[Transport, ...] = ("REST", "gRPC")


@dataclass(frozen=True)
class Budget:
    """How much measuring to do.

    Attributes:
        small_requests: 3-instance latency samples per path.
        large_requests: 256-instance latency samples per path.
        latency_budget: upper bound in seconds for each latency column.
        clients: the concurrent client counts of the throughput table.
        duration: seconds per throughput cell.
    """

    small_requests: int
    large_requests: int
    latency_budget: float
    clients: tuple[int, ...]
    duration: float


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


def latency_table(
    paths: Paths, small: Case, large: Case, options: Budget
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


def throughput_table(
    paths: Paths, small: Case, ports: dict[Transport, int], pid: int, options: Budget
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


def load_average() -> str:
    """The machine's load: the benchmark itself adds about 1-2 while it runs."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def print_targets(latency: dict[str, dict[int, float]], rates: dict[str, dict[int, float]]) -> None:
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
